"""The extraction codebook (``protocols/codebook.yaml``): fields, types, codes; validated on load."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from . import certainty
from .codebook_changes import Change, change_problems, moved_header, parse_change, retired_header, with_changes
from .errors import ProtocolError
from .fields import (  # noqa: F401  (re-exported: what a field is, for the modules that read codebooks)
    CHOICE_TYPES,
    FALSE_WORDS,
    MULTI_SEPARATOR,
    TICK_SEPARATOR,
    TRUE_WORDS,
    TYPES,
    Choice,
    Field,
    fold,
    truth,
)
from .fileio import YamlTooLarge, safe_yaml


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
class Repeat:
    """A repeatable sub-record (a group declared with ``repeat:``): several per study x key, each a row of its own
    sheet with its own values (a lesson with its own audience, stance, quote and locator)."""

    name: str  # the sheet's name in every workbook, and the sub-record's name in the evidence
    label: str
    help: str
    fields: tuple[Field, ...]
    # fields whose same passage in two reviewers' items makes them one item (a quote, then the wording)
    pair_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Codebook:
    version: str
    title: str
    row_unit: str
    fields: tuple[Field, ...]  # the fields of the study x key row (a repeat's fields are in ``repeats``)
    source: str = ""
    checks: tuple[Check, ...] = ()
    tables: tuple[TableSpec, ...] = ()
    report: dict[str, Any] = field(default_factory=dict)
    changes: tuple[Change, ...] = ()
    repeats: tuple[Repeat, ...] = ()

    def __getitem__(self, name: str) -> Field:
        for f in self.all_fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def all_fields(self) -> tuple[Field, ...]:
        """The row's fields, then each repeat's."""
        return (*self.fields, *(f for r in self.repeats for f in r.fields))

    def repeat_form(self, repeat: Repeat) -> Codebook:
        """A repeat's rows as a form of their own: the key field(s), then the repeat's fields (no checks across
        fields, no tables), so that its sheet is laid out, read and checked as the row's sheet is."""
        return replace(self, fields=(*self.key_fields, *repeat.fields), row_unit=repeat.label, checks=(), tables=(),
                       report={}, repeats=())

    def repeat_of(self, name: str) -> Repeat | None:
        """The repeat a field belongs to (``None`` for a field of the row, or no such field)."""
        return next((r for r in self.repeats if any(f.name == name for f in r.fields)), None)

    @property
    def key_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.key)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def all_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.all_fields)

    def renamed_headers(self) -> dict[str, str]:
        """Column headers of older versions -> the header now: renamed fields (their own column and code
        columns) and renamed codes' columns, each followed to the end of the chain of renames."""
        out: dict[str, str] = {}
        for c in self.changes:
            if c.kind == "rename_field":
                out[c.old] = c.new
                for code in self[c.new].codes if c.new in self.all_names else ():
                    out[f"{c.old}{TICK_SEPARATOR}{code}"] = f"{c.new}{TICK_SEPARATOR}{code}"
            elif c.kind == "rename_code":
                out[f"{c.field}{TICK_SEPARATOR}{c.old}"] = f"{c.field}{TICK_SEPARATOR}{c.new}"
        for old in list(out):
            seen = {old}
            while out[old] in out and out[old] not in seen:
                seen.add(out[old])
                out[old] = out[out[old]]
        return {old: new for old, new in out.items() if old != new}

    def retired_headers(self) -> dict[str, str]:
        """Headers of retired fields and retired codes' columns -> what their column is renamed to."""
        out = {}
        for c in self.changes:
            if c.kind == "retire_field":
                out[c.field] = retired_header(c.field, c.version)
            elif c.kind == "retire_code" and c.field in self.all_names and self[c.field].type == "multiple":
                column = f"{c.field}{TICK_SEPARATOR}{c.old}"
                out[column] = retired_header(column, c.version)
        return out

    def moved_headers(self) -> dict[str, tuple[str, str]]:
        """Headers of the row's sheet whose field moved into a repeat (``move_field``) -> (what the column is
        renamed to, the repeat): the values are copied to the repeat's sheet, the column kept aside."""
        out = {}
        for c in self.changes:
            if c.kind == "move_field" and c.field in {f.name for f in self.all_fields}:
                for column in (c.field, *self[c.field].tick_columns()):
                    out[column] = (moved_header(column, c.new, c.version), c.new)
        return out


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
    repeats: dict[str, Repeat] = {}
    for k, group in enumerate(data["groups"]):
        repeat = group.get("repeat", "")
        if repeat in RESERVED_SHEETS:
            problems.append(f"groups[{k}].repeat: {repeat!r} is a sheet the workbooks already have (choose another "
                            f"name than {', '.join(RESERVED_SHEETS)})")
        for raw in group["fields"]:
            if raw["name"] in seen:
                problems.append(f"field '{raw['name']}': the name is used twice")
            seen.add(raw["name"])
            problems += _field_problems(raw)
            if repeat and raw.get("key"):
                problems.append(f"field '{raw['name']}': a key field identifies the row; it cannot be in a repeat "
                                f"({repeat!r}), whose rows take the row's key")
            fields.append(replace(_field(raw, group["name"]), repeat=repeat))
        if repeat:
            was = repeats.get(repeat)
            own = tuple(f for f in fields if f.repeat == repeat and f.group == group["name"])
            members = (*(was.fields if was else ()), *own)
            pair_by = tuple(group.get("pair_by", [])) or (was.pair_by if was else ()) or tuple(
                f.name for f in members if f.type == "text")
            problems += [f"groups[{k}].pair_by: {name!r} is not a field of the repeat {repeat!r}"
                         for name in pair_by if name not in {f.name for f in members}]
            repeats[repeat] = Repeat(repeat, was.label if was else group["name"],
                                     (was.help if was else "") or group.get("help", ""), members, pair_by)
    by_name = {f.name: f for f in fields}
    problems += _default_problems(fields, by_name)
    problems += [f"checks[{k}]: field {name!r} is in the repeat {by_name[name].repeat!r}; a check compares the "
                 "fields of one study x key row" for k, c in enumerate(data.get("checks", []))
                 for name in (c["first"], c["last"]) if name in by_name and by_name[name].repeat]
    checks = tuple(Check(c["kind"], c["first"], c["last"], c.get("slack", 2)) for c in data.get("checks", []))
    tables = tuple(TableSpec(t["name"], t["caption"], t["kind"],
                             {k: v for k, v in t.items() if k not in ("name", "caption", "kind")})
                   for t in data.get("tables", []))
    report = data.get("report", {})
    problems += _check_declarations(by_name, checks, tables, report)
    changes = tuple(parse_change(raw) for raw in data.get("changes", []))
    problems += change_problems(changes, by_name)
    _raise(origin, problems)
    fields = [with_changes(f, changes) for f in fields]
    changed = {f.name: f for f in fields}
    return Codebook(version=str(data["version"]), title=data.get("title", "Extraction form"),
                    row_unit=data.get("row_unit", "study"), fields=tuple(f for f in fields if not f.repeat),
                    source=origin, checks=checks, tables=tables, report=report, changes=changes,
                    repeats=tuple(replace(r, fields=tuple(changed[f.name] for f in r.fields))
                                  for r in repeats.values()))


# the sheets every extraction workbook has: a repeat's sheet takes another name
RESERVED_SHEETS = ("extraction", "lists", "codebook", "about")


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
                             tuple(c.get("tags", [])), bool(c.get("catch_all", False)))
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
                if by_name[target].repeat:
                    problems.append(f"field '{f.name}', code {choice.code!r}: default for {target!r}, a field of the "
                                    f"repeat {by_name[target].repeat!r}; suggestions fill the row's own fields")
                    continue
                values = value if isinstance(value, list) else [value]
                unknown = [v for v in values if by_name[target].choices and v not in by_name[target].codes]
                if unknown:
                    problems.append(f"field '{f.name}', code {choice.code!r}: default {unknown[0]!r} "
                                    f"is not a code of '{target}'")
    return problems


def _synthesis_problems(synthesis: dict[str, Any], names: list[str], known: Any) -> list[str]:
    """The fields and table the synthesis workbook's evidence sheet names exist (``known`` reports a field)."""
    for k, fields in enumerate(synthesis.get("questions", [])):
        for name in fields:
            known(name, f"report.synthesis.questions[{k}]")
    for name in synthesis.get("summary", []):
        known(name, "report.synthesis.summary")
    if "locator" in synthesis:
        known(synthesis["locator"], "report.synthesis.locator")
    table = synthesis.get("enablers_barriers_table")
    problems = [f"report.synthesis.enablers_barriers_table: no table named {table!r}"] if table and table not in names else []
    framework = synthesis.get("certainty", certainty.DEFAULT)
    if framework not in certainty.FRAMEWORKS:
        guess = difflib.get_close_matches(str(framework).lower(), list(certainty.FRAMEWORKS), n=1, cutoff=0.4)
        problems.append(f"report.synthesis.certainty: {framework!r} is not a framework this package knows; allowed: "
                        f"{', '.join(certainty.FRAMEWORKS)}" + (f" (did you mean {guess[0]!r}?)" if guess else ""))
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
    problems += _synthesis_problems(report.get("synthesis", {}), names, known)
    if "evidence_map" in report:
        known(report["evidence_map"]["field"], "report.evidence_map.field", CHOICE_TYPES)
        if report["evidence_map"]["table"] not in names:
            problems.append(f"report.evidence_map.table: no table named {report['evidence_map']['table']!r}")
    problems += _timeline_problems(report.get("timeline", {}), by_name)
    return problems


def _timeline_problems(timeline: dict[str, Any], by_name: dict[str, Field]) -> list[str]:
    """The timeline's panels name codes of the key field that have a period."""
    key = next((f for f in by_name.values() if f.key), None)
    dated = {c.code for c in key.choices if c.period} if key else set()
    return [f"report.timeline.panels[{k}].codes: {code!r} is not a code of the key field with a period"
            + (f" (codes with one: {', '.join(sorted(dated))})" if dated else "")
            for k, panel in enumerate(timeline.get("panels", [])) for code in panel["codes"] if code not in dated]


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
        data = safe_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ProtocolError(f"{path}: codebook not found") from exc
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"{path}: byte {exc.start} is not UTF-8 text; save the codebook as UTF-8") from exc
    except OSError as exc:  # a folder named as the codebook, a file nobody may read
        raise ProtocolError(f"{path}: cannot read the codebook ({exc.strerror or exc}); "
                            "extraction.codebook names a YAML file") from exc
    except YamlTooLarge as exc:
        raise ProtocolError(f"{path}: refused: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ProtocolError(f"{path}:{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    return parse(data, origin=str(path))
