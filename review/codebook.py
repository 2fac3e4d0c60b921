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
    checks = tuple(Check(c["kind"], c["first"], c["last"], c.get("slack", 2)) for c in data.get("checks", []))
    tables = tuple(TableSpec(t["name"], t["caption"], t["kind"],
                             {k: v for k, v in t.items() if k not in ("name", "caption", "kind")})
                   for t in data.get("tables", []))
    report = data.get("report", {})
    problems += _check_declarations(by_name, checks, tables, report)
    if problems:
        raise ProtocolError(f"{origin} is not a valid codebook:\n" + "\n".join(f"  - {p}" for p in problems))
    return Codebook(version=str(data["version"]), title=data.get("title", "Extraction form"),
                    row_unit=data.get("row_unit", "study"), fields=tuple(fields), source=origin,
                    checks=checks, tables=tables, report=report)


def _check_declarations(by_name: dict[str, Field], checks: tuple[Check, ...], tables: tuple[TableSpec, ...],
                        report: dict[str, Any]) -> list[str]:
    """Every field a check, a table or the report names exists (and has the type its use needs)."""
    problems = []

    def known(name: str, where: str, types: tuple[str, ...] = ()) -> None:
        if name not in by_name:
            guess = difflib.get_close_matches(name, list(by_name), n=1)
            problems.append(f"{where}: unknown field {name!r}" + (f" (did you mean {guess[0]!r}?)" if guess else ""))
        elif types and by_name[name].type not in types:
            problems.append(f"{where}: field {name!r} is {by_name[name].type}, expected {' or '.join(types)}")

    for k, check in enumerate(checks):
        known(check.first, f"checks[{k}].first")
        known(check.last, f"checks[{k}].last")
    needs_key = {"by_key", "key_summary", "key_periods"}
    has_key = any(f.key for f in by_name.values())
    names = [t.name for t in tables]
    for k, table in enumerate(tables):
        where = f"tables[{k}] ({table.name})"
        if names.count(table.name) > 1:
            problems.append(f"{where}: the name is used twice")
        for name in table.fields():
            known(name, where)
        if table.kind in needs_key and not has_key:
            problems.append(f"{where}: a {table.kind} table needs a key field (key: true)")
        for option in {"by_key": ("field",), "code_groups": ("field", "groups"), "key_summary": ("fields",),
                       "statements": ("text", "group"), "ratings": ("by", "rating", "levels"),
                       "studies": ("columns",)}.get(table.kind, ()):
            if option not in table.options:
                problems.append(f"{where}: a {table.kind} table needs '{option}'")
        for option in ("field", "group"):  # tabulated by code: a choice field
            if option in table.options:
                known(table.options[option], f"{where}.{option}", CHOICE_TYPES)
    if "findings_field" in report:
        known(report["findings_field"], "report.findings_field", CHOICE_TYPES)
    if "low_quality" in report:
        known(report["low_quality"]["field"], "report.low_quality.field")
    for option in ("lessons_table",):
        if option in report and report[option] not in names:
            problems.append(f"report.{option}: no table named {report[option]!r} (tables: {', '.join(names)})")
    if "evidence_map" in report:
        known(report["evidence_map"]["field"], "report.evidence_map.field", CHOICE_TYPES)
        if report["evidence_map"]["table"] not in names:
            problems.append(f"report.evidence_map.table: no table named {report['evidence_map']['table']!r}")
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
