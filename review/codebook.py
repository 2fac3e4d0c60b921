"""The extraction codebook (``protocols/codebook.yaml``): fields, types, codes; validated on load."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .errors import ProtocolError

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
    period: tuple[int, int] | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


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

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.choices)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(c.label for c in self.choices)

    def code_for(self, text: str) -> str | None:
        """The code a reviewer meant: the code or the label, whatever the case and spacing (``None`` if neither)."""
        wanted = fold(text)
        return next((c.code for c in self.choices if wanted in (fold(c.code), fold(c.label))), None)

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


@dataclass(frozen=True)
class Check:
    """A check across the fields of one row (``checks:`` in the codebook)."""

    kind: str
    first: str
    last: str
    slack: int = 2


@dataclass(frozen=True)
class TableSpec:
    """An evidence table the report shows (``tables:`` in the codebook); ``options`` as declared."""

    name: str
    caption: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)

    def fields(self) -> list[str]:
        """Every codebook field the table reads."""
        o = self.options
        names = [o[k] for k in ("field", "text", "qualifier", "group", "by", "rating") if k in o]
        names += list(o.get("fields", {}).values())
        for column in o.get("columns", []):
            names += ([column["field"]] if "field" in column else []) + list(column.get("span", []))
        return names


@dataclass(frozen=True)
class Codebook:
    version: str
    title: str
    row_unit: str
    fields: tuple[Field, ...]
    source: str = ""
    checks: tuple[Check, ...] = ()
    tables: tuple[TableSpec, ...] = ()
    report: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def key_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.key)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


@cache
def schema() -> dict[str, Any]:
    return json.loads(resources.files("review").joinpath("schemas/codebook.schema.json").read_text("utf-8"))


def parse(data: Any, origin: str = "codebook") -> Codebook:
    """Validate a codebook mapping (schema, then meaning) and build it; ``ProtocolError`` naming the field."""
    if not isinstance(data, dict):
        raise ProtocolError(f"{origin}: a codebook must be a mapping with version and groups")
    problems = []
    for error in sorted(jsonschema.Draft202012Validator(schema()).iter_errors(data), key=lambda e: list(map(str, e.path))):
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        problems.append(f"{where}: {error.message}")
    _raise(origin, problems)
    fields: list[Field] = []
    seen: set[str] = set()
    for group in data["groups"]:
        for raw in group["fields"]:
            if raw["name"] in seen:
                problems.append(f"field '{raw['name']}': the name is used twice")
            seen.add(raw["name"])
            problems += _field_problems(raw)
            fields.append(_field(raw, group["name"]))
    by_name = {f.name: f for f in fields}
    problems += _default_problems(fields, by_name)
    checks = tuple(Check(c["kind"], c["first"], c["last"], c.get("slack", 2)) for c in data.get("checks", []))
    tables = tuple(TableSpec(t["name"], t["caption"], t["kind"],
                             {k: v for k, v in t.items() if k not in ("name", "caption", "kind")})
                   for t in data.get("tables", []))
    report = data.get("report", {})
    problems += _check_declarations(by_name, checks, tables, report)
    _raise(origin, problems)
    return Codebook(version=str(data["version"]), title=data.get("title", "Extraction form"),
                    row_unit=data.get("row_unit", "study"), fields=tuple(fields), source=origin,
                    checks=checks, tables=tables, report=report)


def _raise(origin: str, problems: list[str]) -> None:
    if problems:
        raise ProtocolError(f"{origin} is not a valid codebook:\n" + "\n".join(f"  - {p}" for p in problems))


def _field(raw: dict[str, Any], group: str) -> Field:
    return Field(
        name=raw["name"], type=raw["type"], group=group, label=raw.get("label", raw["name"]),
        required=raw.get("required", False), key=raw.get("key", False), help=raw.get("help", ""),
        min=raw.get("min"), max=raw.get("max"), max_length=raw.get("max_length"),
        choices=tuple(Choice(c["code"], c["label"], c.get("definition", ""),
                             tuple(c["period"]) if c.get("period") else None, c.get("defaults", {}),
                             tuple(c.get("tags", [])))
                      for c in raw.get("choices") or []),
    )


def _field_problems(raw: dict[str, Any]) -> list[str]:
    """A field's type, choices and codes make sense."""
    where = f"field '{raw['name']}'"
    problems = []
    if raw["type"] not in TYPES:
        problems.append(f"{where}: unknown type {raw['type']!r} (allowed: {', '.join(TYPES)})")
    choices = raw.get("choices")
    if raw["type"] in CHOICE_TYPES and not choices:
        problems.append(f"{where}: a {raw['type']} choice field needs a non-empty list of choices")
    if choices and raw["type"] not in CHOICE_TYPES:
        problems.append(f"{where}: only single and multiple choice fields take choices")
    codes = [c["code"] for c in choices or []]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        problems.append(f"{where}: duplicate code {code!r}")
    for code in codes:
        if ";" in code or code != code.strip():
            problems.append(f"{where}: code {code!r} may not contain ';' or surrounding spaces")
    # a dropdown shows labels and a cell may hold a label or a code: each must name one choice only
    seen: dict[str, str] = {fold(c): c for c in codes}
    for choice in choices or []:
        label = fold(choice["label"])
        other = seen.get(label)
        if other is not None and other != choice["code"]:
            problems.append(f"{where}: label {choice['label']!r} of {choice['code']!r} is also the code or label of "
                            f"{other!r}; a dropdown could not tell them apart")
        seen.setdefault(label, choice["code"])
    return problems


def _default_problems(fields: list[Field], by_name: dict[str, Field]) -> list[str]:
    """Each code's defaults name a field and, for a choice field, its codes."""
    problems = []
    for f in fields:
        for choice in f.choices:
            for target, value in choice.defaults.items():
                if target not in by_name:
                    problems.append(f"field '{f.name}', code {choice.code!r}: default for unknown field {target!r}")
                    continue
                values = value if isinstance(value, list) else [value]
                unknown = [v for v in values if by_name[target].choices and v not in by_name[target].codes]
                if unknown:
                    problems.append(f"field '{f.name}', code {choice.code!r}: default {unknown[0]!r} "
                                    f"is not a code of '{target}'")
    return problems


def _check_declarations(by_name: dict[str, Field], checks: tuple[Check, ...], tables: tuple[TableSpec, ...],
                        report: dict[str, Any]) -> list[str]:
    """Every field a check, a table or the report names exists (and has the type its use needs)."""
    problems: list[str] = []

    def known(name: str, where: str, types: tuple[str, ...] = ()) -> None:
        if name not in by_name:
            guess = difflib.get_close_matches(name, list(by_name), n=1)
            problems.append(f"{where}: unknown field {name!r}" + (f" (did you mean {guess[0]!r}?)" if guess else ""))
        elif types and by_name[name].type not in types:
            problems.append(f"{where}: field {name!r} is {by_name[name].type}, expected {' or '.join(types)}")

    for k, check in enumerate(checks):
        known(check.first, f"checks[{k}].first")
        known(check.last, f"checks[{k}].last")
    has_key = any(f.key for f in by_name.values())
    names = [t.name for t in tables]
    for k, table in enumerate(tables):
        problems += _table_problems(table, f"tables[{k}] ({table.name})", names, has_key, known)
    if "findings_field" in report:
        known(report["findings_field"], "report.findings_field", CHOICE_TYPES)
    if "low_quality" in report:
        known(report["low_quality"]["field"], "report.low_quality.field")
    if "lessons_table" in report and report["lessons_table"] not in names:
        problems.append(f"report.lessons_table: no table named {report['lessons_table']!r} (tables: {', '.join(names)})")
    if "evidence_map" in report:
        known(report["evidence_map"]["field"], "report.evidence_map.field", CHOICE_TYPES)
        if report["evidence_map"]["table"] not in names:
            problems.append(f"report.evidence_map.table: no table named {report['evidence_map']['table']!r}")
    return problems


# what each kind of table must declare
TABLE_NEEDS = {"by_key": ("field",), "code_groups": ("field", "groups"), "key_summary": ("fields",),
               "statements": ("text", "group"), "ratings": ("by", "rating", "levels"), "studies": ("columns",)}


def _table_problems(table: TableSpec, where: str, names: list[str], has_key: bool, known: Any) -> list[str]:
    problems = []
    if names.count(table.name) > 1:
        problems.append(f"{where}: the name is used twice")
    typed = {table.options.get(option) for option in ("field", "group")}  # checked with their type below
    for name in table.fields():
        if name not in typed:
            known(name, where)
    if table.kind in ("by_key", "key_summary", "key_periods") and not has_key:
        problems.append(f"{where}: a {table.kind} table needs a key field (key: true)")
    for option in TABLE_NEEDS.get(table.kind, ()):
        if option not in table.options:
            problems.append(f"{where}: a {table.kind} table needs '{option}'")
    for option in ("field", "group"):  # tabulated by code: a choice field
        if option in table.options:
            known(table.options[option], f"{where}.{option}", CHOICE_TYPES)
    return problems


def load(path: str | Path) -> Codebook:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ProtocolError(f"{path}: codebook not found") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ProtocolError(f"{path}:{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    return parse(data, origin=str(path))
