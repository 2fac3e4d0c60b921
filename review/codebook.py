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
from .errors import ProtocolError
from .fileio import YamlTooLarge, safe_yaml

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


CHANGE_KINDS = ("add_field", "rename_field", "retire_field", "rename_code", "retire_code")


@dataclass(frozen=True)
class Change:
    """One entry of the codebook's ``changes:`` list."""

    version: str
    kind: str
    field: str  # the field (its name now for renames; the old name for retire_field)
    old: str = ""  # rename: the old name or code; retire_code: the code
    new: str = ""  # rename: the new name or code
    note: str = ""

    def describe(self) -> str:
        what = {"add_field": f"field {self.field} added", "rename_field": f"field {self.old} renamed {self.new}",
                "retire_field": f"field {self.field} retired",
                "rename_code": f"code {self.old} of {self.field} renamed {self.new}",
                "retire_code": f"code {self.old} of {self.field} retired"}[self.kind]
        return f"{what} in version {self.version}" + (f" ({self.note})" if self.note else "")


def retired_header(name: str, version: str) -> str:
    """What a retired field's column (or code column) is renamed to: kept, readable, no longer read."""
    return f"{name} (retired in {version})"


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
    changes: tuple[Change, ...] = ()

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

    def renamed_headers(self) -> dict[str, str]:
        """Column headers of older versions -> the header now: renamed fields (their own column and code
        columns) and renamed codes' columns, each followed to the end of the chain of renames."""
        out: dict[str, str] = {}
        for c in self.changes:
            if c.kind == "rename_field":
                out[c.old] = c.new
                for code in self[c.new].codes if c.new in self.names else ():
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
            elif c.kind == "retire_code" and c.field in self.names and self[c.field].type == "multiple":
                column = f"{c.field}{TICK_SEPARATOR}{c.old}"
                out[column] = retired_header(column, c.version)
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
    changes = tuple(_change(raw) for raw in data.get("changes", []))
    problems += _change_problems(changes, by_name)
    _raise(origin, problems)
    fields = [_with_changes(f, changes) for f in fields]
    return Codebook(version=str(data["version"]), title=data.get("title", "Extraction form"),
                    row_unit=data.get("row_unit", "study"), fields=tuple(fields), source=origin,
                    checks=checks, tables=tables, report=report, changes=changes)


def _change(raw: dict[str, Any]) -> Change:
    kind = next(k for k in CHANGE_KINDS if k in raw)
    value, version, note = raw[kind], str(raw["version"]), raw.get("note", "")
    if kind in ("add_field", "retire_field"):
        return Change(version, kind, value, note=note)
    if kind == "rename_field":
        return Change(version, kind, value["to"], value["from"], value["to"], note)
    if kind == "rename_code":
        return Change(version, kind, value["field"], value["from"], value["to"], note)
    return Change(version, kind, value["field"], value["code"], note=note)


def _change_problems(changes: tuple[Change, ...], by_name: dict[str, Field]) -> list[str]:
    """Each change names what the codebook now has (and, for what is gone, what it no longer has)."""
    problems = []
    renames: dict[str, str] = {}
    for c in changes:
        if c.kind == "rename_field":
            renames = {old: c.new if new == c.old else new for old, new in renames.items()} | {c.old: c.new}
    for k, c in enumerate(changes):
        where = f"changes[{k}] ({c.kind})"
        # a renamed field is named as it is now in code changes; a later rename may follow a field's own change
        current = by_name.get(renames.get(c.field, c.field) if c.kind in ("add_field", "rename_field") else c.field)
        if c.kind == "retire_field":
            if c.field in by_name:
                problems.append(f"{where}: {c.field!r} is still a field of the codebook; remove it to retire it")
            continue
        if current is None:
            problems.append(f"{where}: {c.field!r} is not a field of the codebook")
            continue
        if c.kind == "rename_field" and c.old in by_name:
            problems.append(f"{where}: {c.old!r} is still a field of the codebook; it cannot also be renamed")
        if c.kind == "rename_code" and current is not None:
            if current.type not in CHOICE_TYPES or _code_renames(changes, current.name).get(c.old) not in current.codes:
                problems.append(f"{where}: {c.new!r} is not a code of {c.field!r} (nor renamed to one later)")
            if c.old in current.codes:
                problems.append(f"{where}: {c.old!r} is still a code of {c.field!r}")
        if c.kind == "retire_code" and current is not None and c.old in current.codes:
            problems.append(f"{where}: {c.old!r} is still a code of {c.field!r}; remove it to retire it")
    return problems


def _code_renames(changes: tuple[Change, ...], name: str) -> dict[str, str]:
    """Each old code of a field -> the code it became at the end of its renames (a->b, then b->c: a->c)."""
    out: dict[str, str] = {}
    for c in changes:
        if c.kind == "rename_code" and c.field == name:
            out = {old: c.new if new == c.old else new for old, new in out.items()}
            out[c.old] = c.new
    return out


def _with_changes(f: Field, changes: tuple[Change, ...]) -> Field:
    """A field that reads codes renamed since older versions, and names the change that retired a code."""
    renamed = tuple(sorted(_code_renames(changes, f.name).items()))
    retired = tuple((c.old, c.describe()) for c in changes if c.kind == "retire_code" and c.field == f.name)
    return replace(f, renamed_codes=renamed, retired_codes=retired) if renamed or retired else f


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
