"""The pipeline's own files: CSV tables (cells a spreadsheet would run neutralised, read back restored), YAML read
without letting its aliases blow up, deterministic JSON, Office files with fixed dates, and a cache of arrays.
Every file is written atomically (``review.atomic``)."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import yaml

from .atomic import atomic_write_bytes, write_stream
from .errors import WriteError

log = logging.getLogger(__name__)


# A cell a spreadsheet would run as a formula (OWASP, CSV injection): = + - @ tab or carriage return first.
# Such a cell is written with a leading apostrophe, which Excel and Calc show as text and hide; so is a cell
# that already starts with an apostrophe and one of those, so that ``restore`` gives back every value
# exactly. A number (-0.1, +3) is no formula and is left alone.
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_FIRST = frozenset(_TRIGGERS + ("'",))  # the first characters that may need a look: most cells pass at once


def _apostrophe_first(value: str) -> bool:
    """An apostrophe followed by a trigger or another apostrophe: the mark ``neutralise`` adds."""
    return value.startswith("'") and len(value) > 1 and (value[1] in _TRIGGERS or value[1] == "'")


def neutralise(value: Any) -> Any:
    """A CSV cell as written for people: text a spreadsheet would run gets a leading apostrophe."""
    if not isinstance(value, str) or not value or value[0] not in _FIRST:
        return value
    if (value.startswith(_TRIGGERS) and not _NUMBER.fullmatch(value)) or _apostrophe_first(value):
        return "'" + value
    return value


def restore(value: str) -> str:
    """The value ``neutralise`` was given: the project reads its own CSV outputs back unchanged."""
    return value[1:] if _apostrophe_first(value) else value


def csv_bytes(columns: Sequence[str], rows: Iterable[Mapping[str, Any]], header: bool = True) -> bytes:
    """Rows as UTF-8 CSV (``write_rows``) in memory; without the header row where ``header`` is off (a part
    of a table written elsewhere)."""
    buffer = io.BytesIO()
    _write_utf8(buffer, columns, rows, header)
    return buffer.getvalue()


def _write_utf8(handle: BinaryIO, columns: Sequence[str], rows: Iterable[Mapping[str, Any]], header: bool = True
                ) -> None:
    """``write_rows`` into a binary file or buffer, as UTF-8."""
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
    write_rows(text, columns, rows, header)
    text.flush()
    text.detach()  # the file is the caller's to close


def write_rows(handle: TextIO, columns: Sequence[str], rows: Iterable[Mapping[str, Any]], header: bool = True) -> None:
    """Rows as CSV with a fixed column order (a key not in ``columns`` is left out) and ``\\n`` line ends,
    every cell neutralised (``neutralise``): the pipeline's CSV files are opened in spreadsheets."""
    plain = csv.writer(handle, lineterminator="\n")
    # the csv module quotes only the line terminator's characters: a lone \r (an abstract pasted from an
    # old Mac or a CRLF export) would end the row for every reader, so such a row is quoted whole
    quoted = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_ALL)
    if header:
        plain.writerow(columns)
    for row in rows:
        cells = ["" if (value := row.get(name)) is None else neutralise(value) for name in columns]
        try:
            lone_cr = "\r" in "".join(cells)
        except TypeError:  # a number among the cells
            lone_cr = any(isinstance(cell, str) and "\r" in cell for cell in cells)
        (quoted if lone_cr else plain).writerow(cells)


def read_frame(path: str | os.PathLike[str], columns: Sequence[str] | None = None) -> Any:
    """One of the pipeline's CSV files as a data frame of text, every cell restored (``restore``); only
    ``columns`` where given (records.csv is mostly abstracts and original values a stage may not need), a
    column the file lacks read as empty."""
    import pandas as pd

    wanted = set(columns or ())
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=(lambda c: c in wanted) if columns else None)
    for name in columns or ():
        if name not in frame.columns:
            frame[name] = ""
    for column in frame.columns:
        # each cell's first character, compared in numpy: pandas' str.startswith took five times as long
        # (a quarter of a second for the 35 columns of 50,000 unique records)
        if (frame[column].to_numpy(dtype=object).astype("U1") == "'").any():
            frame[column] = frame[column].map(restore)
    return frame


def frame_rows(frame: Any) -> list[dict[str, Any]]:
    """A data frame's rows as dicts by column name. pandas' ``to_dict("records")`` boxes each value on its
    own: 8 s for the 50,000 unique records of a 100,000-record review, against half a second column by column."""
    names = [str(c) for c in frame.columns]
    return [dict(zip(names, values)) for values in zip(*(frame[c].tolist() for c in frame.columns))]


def write_csv(path: str | os.PathLike[str], columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> bool:
    """Rows as CSV (``write_rows``) written to ``path`` as ``write_stream`` writes."""
    return write_stream(path, lambda handle: _write_utf8(handle, columns, rows))


def append_csv(path: str | os.PathLike[str], columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Add rows at the end of a CSV file (created with its header the first time), atomically: the rows
    already there stay byte for byte (the ledger and the log of changed cells are only ever appended to)."""
    rows = list(rows)
    if not rows:
        return
    path = Path(path)
    if path.exists():
        old = path.read_bytes()
        if old and not old.endswith(b"\n"):
            old += b"\n"
        new = old + csv_bytes(columns, rows, header=False)
    else:
        new = csv_bytes(columns, rows)
    atomic_write_bytes(path, new)


# a protocol or codebook is a few thousand values; YAML aliases (& and *) can multiply that without end
MAX_YAML_VALUES = 100_000


class YamlTooLarge(ValueError):
    """A YAML document whose aliases expand to more than ``MAX_YAML_VALUES`` values."""


def _expanded(node: Any, memo: dict[int, int]) -> int:
    """How many values ``node`` stands for once every alias is expanded (counted without expanding)."""
    if id(node) in memo:
        return memo[id(node)]
    memo[id(node)] = 1  # a node that contains itself counts once
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded(n, memo) for n in node.value)
    elif isinstance(node, yaml.MappingNode):
        _refuse_duplicate_keys(node)
        size = 1 + sum(_expanded(k, memo) + _expanded(v, memo) for k, v in node.value)
    else:
        size = 1
    memo[id(node)] = size
    return size


def _refuse_duplicate_keys(node: yaml.MappingNode) -> None:
    """A key given twice in one mapping: YAML loaders keep the last silently (``reviewers:`` twice would
    drop the first team's work), so it is an error at the second key's line."""
    first: dict[tuple[str, str], Any] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        seen = first.setdefault((key.tag, key.value), key)
        if seen is not key:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key.value!r} is given twice (first at line {seen.start_mark.line + 1}); "
                "give each key once", key.start_mark)


def safe_yaml(text: str, limit: int = MAX_YAML_VALUES) -> Any:
    """``yaml.safe_load`` that refuses a document whose aliases expand beyond ``limit`` values (a "billion
    laughs" of anchors) before building it: composing shares an aliased node, so this costs little."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # libyaml's parser where installed
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        size = _expanded(node, {})
        if size > limit:
            raise YamlTooLarge(f"its aliases (& and *) expand it to {size:,} values; at most {limit:,} are allowed")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def json_bytes(data: Any) -> bytes:
    """Deterministic JSON: sorted keys, UTF-8, trailing newline."""
    return (json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode("utf-8")


def read_json(path: str | os.PathLike[str]) -> Any:
    """The JSON in ``path``, or ``None`` if the file is missing or not valid JSON (e.g. never written)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, RecursionError):  # bad JSON or UTF-8, an endless number, deep nesting
        return None



_CORE_TIMES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def stable_zip(data: bytes, dated: str | None = None) -> bytes:
    """An Office file (a zip) with fixed entry times and document dates, so that the same content gives
    the same bytes: zip writers stamp the current time on every entry, Office libraries on the document.
    ``dated`` (an ISO time, e.g. the report's date from the protocol) is the document's created and
    modified time; without one, 1 January 2000."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            blob = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                blob = _CORE_TIMES.sub(rb"\g<1>" + (dated or "2000-01-01T00:00:00Z").encode("ascii") + rb"\g<2>",
                                       blob)
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, blob)
    return out.getvalue()


def kept_arrays(cache: str | os.PathLike[str], key: str, compute: Callable[[], Mapping[str, Any]]) -> dict[str, Any]:
    """Named numpy arrays kept in ``cache`` (an .npz file) under ``key``, a digest of what they are computed
    from: the kept ones when the key matches, else ``compute()``'s, kept for the next time. A cache is
    nobody's work: one that cannot be read is computed again, one that cannot be written is logged."""
    import numpy as np

    try:
        with np.load(cache, allow_pickle=False) as held:
            if str(held["key"]) == key:
                return {name: held[name] for name in held.files if name != "key"}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        pass
    arrays = dict(compute())
    buffer = io.BytesIO()
    np.savez(buffer, key=np.array(key), **arrays)
    try:
        atomic_write_bytes(cache, buffer.getvalue())
    except WriteError as exc:  # costs time at the next refresh, nothing else
        log.info("%s was not kept (%s)", cache, exc)
    return arrays
