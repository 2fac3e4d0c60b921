"""The extraction codebook (``protocols/codebook.yaml``): fields, types, codes; validated on load."""

from __future__ import annotations

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
TRUE_WORDS = {"yes", "y", "true", "1", "x"}
FALSE_WORDS = {"no", "n", "false", "0"}


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
class Codebook:
    version: str
    title: str
    row_unit: str
    fields: tuple[Field, ...]
    source: str = ""

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
    if problems:
        raise ProtocolError(f"{origin} is not a valid codebook:\n" + "\n".join(f"  - {p}" for p in problems))
    fields: list[Field] = []
    seen: set[str] = set()
    for group in data["groups"]:
        for raw in group["fields"]:
            name = raw["name"]
            where = f"field '{name}'"
            if name in seen:
                problems.append(f"{where}: the name is used twice")
            seen.add(name)
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
            fields.append(Field(
                name=name, type=raw["type"], group=group["name"], label=raw.get("label", name),
                required=raw.get("required", False), key=raw.get("key", False), help=raw.get("help", ""),
                min=raw.get("min"), max=raw.get("max"), max_length=raw.get("max_length"),
                choices=tuple(Choice(c["code"], c["label"], c.get("definition", ""),
                                     tuple(c["period"]) if c.get("period") else None, c.get("defaults", {}),
                                     tuple(c.get("tags", [])))
                              for c in choices or []),
            ))
    by_name = {f.name: f for f in fields}
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
    if problems:
        raise ProtocolError(f"{origin} is not a valid codebook:\n" + "\n".join(f"  - {p}" for p in problems))
    return Codebook(version=str(data["version"]), title=data.get("title", "Extraction form"),
                    row_unit=data.get("row_unit", "study"), fields=tuple(fields), source=origin)


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
