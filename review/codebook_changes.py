"""The codebook's ``changes:`` list: what changed between versions, so that the refresh upgrades the
reviewers' workbooks and older sheets are still read (renamed fields and codes, retired ones set aside, fields
moved into a repeatable sub-record)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .fields import CHOICE_TYPES, Field

CHANGE_KINDS = ("add_field", "rename_field", "retire_field", "rename_code", "retire_code", "move_field")


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
                "retire_code": f"code {self.old} of {self.field} retired",
                "move_field": f"field {self.field} moved to the {self.new} sheet (one row per item)"}[self.kind]
        return f"{what} in version {self.version}" + (f" ({self.note})" if self.note else "")


def retired_header(name: str, version: str) -> str:
    """What a retired field's column (or code column) is renamed to: kept, readable, no longer read."""
    return f"{name} (retired in {version})"


def moved_header(name: str, repeat: str, version: str) -> str:
    """What the row's column of a field moved into a repeat is renamed to, once its values are copied there."""
    return f"{name} (moved to {repeat} in {version})"


def parse_change(raw: dict[str, Any]) -> Change:
    kind = next(k for k in CHANGE_KINDS if k in raw)
    value, version, note = raw[kind], str(raw["version"]), raw.get("note", "")
    if kind in ("add_field", "retire_field"):
        return Change(version, kind, value, note=note)
    if kind == "rename_field":
        return Change(version, kind, value["to"], value["from"], value["to"], note)
    if kind == "rename_code":
        return Change(version, kind, value["field"], value["from"], value["to"], note)
    if kind == "move_field":
        return Change(version, kind, value["field"], new=value["to"], note=note)
    return Change(version, kind, value["field"], value["code"], note=note)


def change_problems(changes: tuple[Change, ...], by_name: dict[str, Field]) -> list[str]:
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
        if c.kind == "move_field" and current.repeat != c.new:
            problems.append(f"{where}: {c.field!r} is not a field of the repeat {c.new!r}"
                            + (f" (it is in {current.repeat!r})" if current.repeat else ""))
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


def with_changes(f: Field, changes: tuple[Change, ...]) -> Field:
    """A field that reads codes renamed since older versions, and names the change that retired a code."""
    renamed = tuple(sorted(_code_renames(changes, f.name).items()))
    retired = tuple((c.old, c.describe()) for c in changes if c.kind == "retire_code" and c.field == f.name)
    return replace(f, renamed_codes=renamed, retired_codes=retired) if renamed or retired else f
