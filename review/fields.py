"""A codebook's fields and codes: their types, what a reviewer may type, and how a cell is compared with a
code or a label. Pure values (``review.codebook`` reads the YAML into them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TYPES = ("text", "integer", "year", "single", "multiple", "boolean")
CHOICE_TYPES = ("single", "multiple")
MULTI_SEPARATOR = "; "
TRUE_WORDS = {"yes", "y", "true", "1", "x", "\u2713", "\u2714"}  # ticks as typed or pasted
FALSE_WORDS = {"no", "n", "false", "0"}
# a multiple choice field may be entered one column per code, headed "<field>:<code>", ticked with x
TICK_SEPARATOR = ":"


def fold(text: Any) -> str:
    """Text as compared with a code or a label: spacing and case do not count."""
    return " ".join(str(text).split()).casefold()


def truth(value: Any) -> str | None:
    """A yes/no or tick cell as ``"yes"``, ``"no"`` or ``""`` (blank); ``None`` when it is none of these."""
    if value is None or value is False or value is True:
        return "" if value is None else "yes" if value else "no"
    word = fold(value)
    return "" if not word else "yes" if word in TRUE_WORDS else "no" if word in FALSE_WORDS else None


@dataclass(frozen=True)
class Choice:
    code: str
    label: str
    definition: str = ""
    period: tuple[int, int | None] | None = None  # (first, last); last None: the tier still exists
    defaults: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    catch_all: bool = False  # "Other": whatever the list lacks; its empty cells are no gap in the evidence


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    group: str
    label: str = ""
    required: bool = False
    key: bool = False
    help: str = ""
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    choices: tuple[Choice, ...] = ()
    renamed_codes: tuple[tuple[str, str], ...] = ()  # (old code, code now), from the codebook's changes
    retired_codes: tuple[tuple[str, str], ...] = ()  # (code, the change that retired it, as a hint)
    repeat: str = ""  # the repeatable sub-record the field belongs to ("": the study x key row itself)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.choices)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(c.label for c in self.choices)

    def code_for(self, text: str) -> str | None:
        """The code a reviewer meant: the code or the label, whatever the case and spacing (``None`` if neither)."""
        wanted = fold(text)
        code = next((c.code for c in self.choices if wanted in (fold(c.code), fold(c.label))), None)
        if code is None:  # a code typed under an older codebook version, renamed since
            code = next((new for old, new in self.renamed_codes if fold(old) == wanted), None)
        return code

    def retired(self, text: str) -> str:
        """Why ``text`` is no longer a code of this field ("" when it never was, or still is)."""
        return next((why for code, why in self.retired_codes if fold(code) == fold(text)), "")

    def label_of(self, code: str) -> str:
        """What a reviewer reads for ``code`` (the code itself if the field has no such choice)."""
        return next((c.label for c in self.choices if c.code == code), code)

    def tick_columns(self) -> tuple[str, ...]:
        """The headers of the one-column-per-code entry of a multiple choice field (none for other types)."""
        return tuple(f"{self.name}{TICK_SEPARATOR}{code}" for code in self.codes) if self.type == "multiple" else ()

    def describe_allowed(self) -> str:
        if self.type in CHOICE_TYPES:
            joined = ", ".join(self.codes)
            return f"one of: {joined}" if self.type == "single" else f"codes separated by ';' from: {joined}"
        if self.type in ("integer", "year"):
            low = f"{self.min:g}" if self.min is not None else ""
            high = f"{self.max:g}" if self.max is not None else ""
            span = f" from {low} to {high}" if low and high else f" of at least {low}" if low else ""
            return f"a whole number{span}" if self.type == "integer" else f"a four-digit year{span}"
        if self.type == "boolean":
            return "yes or no"
        return f"text of at most {self.max_length} characters" if self.max_length else "text"
