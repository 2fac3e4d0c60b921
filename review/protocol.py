"""The review protocol: load ``protocols/review.yaml``, validate it against its schema, fill defaults."""

from __future__ import annotations

import codecs
import copy
import datetime
import difflib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .errors import ProtocolError
from .fileio import YamlTooLarge, safe_yaml

DEFAULT_PROTOCOL = Path("protocols/review.yaml")

SUFFIX_FORMATS = {
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".ris": "ris",
    ".json": "csljson",
    ".csv": "csv",
    ".xml": "endnote-xml",
}


def format_of(path: str | Path, declared: str | None = None) -> str | None:
    """The file format: as declared, else from the suffix (``None`` if neither tells)."""
    return declared or SUFFIX_FORMATS.get(Path(path).suffix.lower())


@cache
def schema() -> dict[str, Any]:
    text = resources.files("review").joinpath("schemas/protocol.schema.json").read_text("utf-8")
    return json.loads(text)


def _with_defaults(validator_class: Any) -> Any:
    """A validator that also fills in each property's ``default`` (the pattern from jsonschema's FAQ)."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, sub_schema):
        if isinstance(instance, dict):
            for name, prop in properties.items():
                if "default" in prop and name not in instance:
                    instance[name] = copy.deepcopy(prop["default"])
        yield from validate_properties(validator, properties, instance, sub_schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_Validator = _with_defaults(jsonschema.Draft202012Validator)


def _path(error: jsonschema.ValidationError) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _subschema_properties(error: jsonschema.ValidationError) -> list[str]:
    return sorted(error.schema.get("properties", {})) if isinstance(error.schema, dict) else []


def _describe(error: jsonschema.ValidationError) -> str:
    where = _path(error)
    if error.validator == "additionalProperties":
        allowed = _subschema_properties(error)
        messages = []
        for key in sorted(set(error.instance) - set(allowed)):  # type: ignore[arg-type]  # an object here
            guess = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {guess[0]!r}?)" if guess else ""
            at = f"{where}." if where != "(top level)" else ""
            messages.append(f"unknown key '{at}{key}'{hint}; allowed here: {', '.join(allowed)}")
        return "; ".join(messages)
    if error.validator == "required":
        return f"{where}: {error.message}"
    if error.validator == "enum":
        choices = ", ".join(map(str, error.validator_value))  # type: ignore[arg-type]  # an enum's list
        return f"{where}: {error.instance!r} is not one of the allowed values: {choices}"
    description = error.schema.get("description", "") if isinstance(error.schema, dict) else ""
    text = f"{where}: {error.message}"
    return f"{text} ({description})" if description else text


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref", "")
    if ref.startswith("#/$defs/"):
        return schema()["$defs"][ref.removeprefix("#/$defs/")]
    return node


def _coerced(value: Any, node: dict[str, Any]) -> Any:
    node = _resolve(node)
    if isinstance(value, dict):
        properties = node.get("properties", {})
        return {k: _coerced(v, properties[k]) if k in properties else v for k, v in value.items()}
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        return [_coerced(v, node["items"]) for v in value]
    kind = node.get("type")
    if isinstance(value, datetime.date) and kind == "string":  # YAML reads 2026-11-30 as a date: the schema wants text
        return value.isoformat()
    if not isinstance(value, str):
        return value
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value  # validation names it
    if kind == "boolean" and value.lower() in ("true", "false", "yes", "no"):
        return value.lower() in ("true", "yes")
    return value


def coerce(config: dict[str, Any]) -> dict[str, Any]:
    """Command-line overrides arrive as text (Snakemake reads ``--config`` values as strings): give each
    the type the schema wants where it reads as one (``"0.5"`` for a number, ``"true"`` for a boolean)."""
    return _coerced(config, schema())


def validate(config: dict[str, Any], origin: str = "protocol") -> dict[str, Any]:
    """Return a validated deep copy of ``config`` with defaults filled; raise ``ProtocolError``."""
    data = copy.deepcopy(config)
    if data.get("sources", []) in ([], None):  # a review just started (review new): what to add, in one line
        raise ProtocolError(f"{origin}: no sources yet; {NO_SOURCES}")
    errors = sorted(_Validator(schema()).iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    problems = [_describe(e) for e in errors]
    problems += _check_sources(data)
    problems += _check_reviewers(data)
    problems += _check_paths(data)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ProtocolError(f"{origin} is not a valid protocol:\n{lines}")
    return data


NO_SOURCES = ("put an export (RIS, BibTeX, CSV, CSL-JSON or EndNote XML) in protocols/library/ and list it under "
              "'sources:' in the protocol, as its commented example shows, or add a Zotero library there")


# files in the extracts folder that are not a reviewer's: a reviewer of one of these names would write into them
RESERVED_NAMES = ("consensus", "duplicates", "findings", "synthesis", "studies", "cell-changes")


def _check_reviewers(data: dict[str, Any]) -> list[str]:
    problems = []
    former = [f.get("name") for f in data.get("former_reviewers") or [] if isinstance(f, dict)]
    names = [*(data.get("reviewers") or []), *((data.get("screening") or {}).get("reviewers") or []), *former]
    current = {*(data.get("reviewers") or []), *((data.get("screening") or {}).get("reviewers") or [])}
    problems += [f"former_reviewers: {name!r} is also in reviewers: a reviewer is either on the team or has left"
                 for name in dict.fromkeys(n for n in former if n in current)]
    problems += [f"former_reviewers: {name!r} is listed twice" for name in
                 dict.fromkeys(n for n in former if former.count(n) > 1)]
    for name in dict.fromkeys(n for n in names if isinstance(n, str)):
        if name.lower() in RESERVED_NAMES or name.lower().startswith("screening-"):
            problems.append(f"reviewers: {name!r} is the name of a file the team shares (extracts/{name}.xlsx); "
                            f"name reviewers otherwise (reserved: {', '.join(RESERVED_NAMES)} and screening-*)")
        elif not all(ch.isalnum() or ch in "_-." for ch in name) or name.startswith("."):
            problems.append(f"reviewers: {name!r} must be usable as a file name (letters, digits, _ - .)")
    return problems


def _check_sources(data: dict[str, Any]) -> list[str]:
    problems = []
    seen: set[str] = set()
    files: dict[str, tuple[int, str]] = {}
    for i, source in enumerate(data.get("sources") or []):
        if not isinstance(source, dict):
            continue
        name = source.get("name", "")
        if name in seen:
            problems.append(f"sources[{i}].name: {name!r} is used by another source; names must be unique")
        seen.add(name)
        if isinstance(source.get("file"), str):
            same = files.setdefault(str(Path(source["file"]).resolve()), (i, name))
            if same != (i, name):
                problems.append(f"sources[{i}].file: {source['file']!r} is already sources[{same[0]}] ({same[1]}); "
                                "one file is one source (listed twice, its records would be counted twice)")
        has_file, has_zotero = "file" in source, "zotero" in source
        if has_file == has_zotero:
            problems.append(f"sources[{i}] ({name}): give exactly one of 'file' or 'zotero'")
        encoding = source.get("encoding")
        if isinstance(encoding, str):
            try:
                # rot13, base64, zlib are codecs Python knows but not text encodings: a file cannot be read in one
                known = getattr(codecs.lookup(encoding), "_is_text_encoding", True)
            except LookupError:
                known = False
            if not known:
                problems.append(f"sources[{i}].encoding: {encoding!r} is not a text encoding Python knows "
                                "(e.g. utf-8, utf-8-sig, utf-16, latin-1, cp1252)")
        if has_file and "format" not in source:
            suffix = Path(source["file"]).suffix.lower()
            if suffix not in SUFFIX_FORMATS:
                known = ", ".join(sorted(SUFFIX_FORMATS))
                problems.append(
                    f"sources[{i}].file: cannot tell the format of {source['file']!r} from its suffix "
                    f"(known: {known}); add 'format:'"
                )
    return problems


def outside(path: str, root: Path | None = None) -> bool:
    """Whether ``path`` (as the protocol gives it, relative to the project folder) leads out of the
    project folder: absolute, or climbing out with ``..`` (symbolic links followed)."""
    base = (root or Path.cwd()).resolve()
    return not (base / path).resolve().is_relative_to(base)


def _check_paths(data: dict[str, Any]) -> list[str]:
    """Every path the protocol names stays inside the project folder, bar a source's file where the team
    opted in (``outside_project: true``): a protocol from elsewhere cannot read or write any file."""
    problems = []
    for i, source in enumerate(data.get("sources") or []):
        if isinstance(source, dict) and isinstance(source.get("file"), str) and not source.get("outside_project") \
                and outside(source["file"]):
            problems.append(f"sources[{i}].file: {source['file']!r} is outside the project folder; move the export "
                            "into it (e.g. protocols/library/), or add 'outside_project: true' to this source")
    named = [("extraction.codebook", (data.get("extraction") or {}).get("codebook")),
             ("extraction.folder", (data.get("extraction") or {}).get("folder")),
             ("output.templates", (data.get("output") or {}).get("templates")),
             ("dedup.ledger", (data.get("dedup") or {}).get("ledger")),
             ("dedup.sheet", (data.get("dedup") or {}).get("sheet")),
             ("previous_version.included", (data.get("previous_version") or {}).get("included"))]
    for key, value in named:
        if isinstance(value, str) and outside(value):
            problems.append(f"{key}: {value!r} is outside the project folder; give a path inside it")
    return problems


def read(path: str | Path = DEFAULT_PROTOCOL) -> dict[str, Any]:
    """A protocol file's mapping, not yet validated: read through the guarded YAML loader (aliases bounded,
    a key given twice refused), on every path that reads it (``review check``, the stages, the Snakefile)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ProtocolError(f"{path}: protocol file not found") from exc
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"{path}: byte {exc.start} is not UTF-8 text; save the protocol as UTF-8") from exc
    except OSError as exc:
        raise ProtocolError(f"{path}: cannot read the protocol ({exc.strerror or exc})") from exc
    try:
        data = safe_yaml(text)
    except YamlTooLarge as exc:
        raise ProtocolError(f"{path}: refused: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProtocolError(f"{path}:{where}: not valid YAML: {problem}") from exc
    if data is None:
        raise ProtocolError(f"{path}: the protocol is empty; it needs at least 'title:' and 'sources:'")
    if not isinstance(data, dict):
        raise ProtocolError(f"{path}: line 1: the protocol must be a mapping of keys to values "
                            f"(it is a {type(data).__name__})")
    return data


def load(path: str | Path = DEFAULT_PROTOCOL, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read, merge command-line overrides into, and validate a protocol file."""
    data = read(path)
    data.update(overrides or {})
    return validate(coerce(data), origin=str(path))


@dataclass(frozen=True)
class Source:
    """A source of the protocol, with defaults filled and the file format resolved."""

    name: str
    database: str
    file: str | None
    format: str | None
    encoding: str
    zotero: dict[str, Any] | None

    @property
    def kind(self) -> str:
        return "zotero" if self.zotero is not None else "file"


def missing_sources(config: dict[str, Any]) -> list[str]:
    """``name: file`` of every enabled source whose file is not there (a run must not go on without it)."""
    return [f"{s.name}: {s.file}" for s in sources(config) if s.kind == "file" and s.file and not Path(s.file).is_file()]


MISSING_SOURCES_HINT = ("put it back, correct its file: in the protocol's sources:, or remove the source from sources: "
                        "(or set enabled: false) to leave its records out on purpose; the change report will then "
                        "name it as removed")


def sources(config: dict[str, Any], include_disabled: bool = False) -> list[Source]:
    out = []
    for entry in config["sources"]:
        if not entry.get("enabled", True) and not include_disabled:
            continue
        file = entry.get("file")
        fmt = format_of(file, entry.get("format")) if file else None
        out.append(
            Source(
                name=entry["name"],
                database=entry.get("database", ""),
                file=file,
                format=fmt,
                encoding=entry.get("encoding", "utf-8-sig"),
                zotero=entry.get("zotero"),
            )
        )
    return out
