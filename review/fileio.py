"""Writing files so that a crash never leaves half a file, and unchanged content keeps its mtime."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file private (0600): give it the mode a plain open() would, or the old file's
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_if_changed(path: str | os.PathLike[str], data: bytes) -> bool:
    """Atomically write ``data`` unless ``path`` already holds exactly it.

    Keeping the old file (and its mtime) when nothing changed is what lets Snakemake rerun nothing
    downstream after a refresh that brought nothing new.
    """
    path = Path(path)
    if path.exists() and path.read_bytes() == data:
        return False
    atomic_write_bytes(path, data)
    return True


def csv_bytes(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> bytes:
    """Render rows as UTF-8 CSV with a fixed column order and ``\\n`` line ends."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    return buffer.getvalue().encode("utf-8")


def write_csv(path: str | os.PathLike[str], columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> bool:
    return write_if_changed(path, csv_bytes(columns, rows))


def append_csv(path: str | os.PathLike[str], columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Add rows at the end of a CSV file (created with its header the first time), atomically: the rows
    already there stay byte for byte (the ledger and the log of changed cells are only ever appended to)."""
    rows = list(rows)
    if not rows:
        return
    path = Path(path)
    new = csv_bytes(columns, rows)
    if path.exists():
        old = path.read_bytes()
        if old and not old.endswith(b"\n"):
            old += b"\n"
        new = old + new.split(b"\n", 1)[1]  # without the header row
    atomic_write_bytes(path, new)


def json_bytes(data: Any) -> bytes:
    """Deterministic JSON: sorted keys, UTF-8, trailing newline."""
    return (json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode("utf-8")


def read_json(path: str | os.PathLike[str]) -> Any:
    """The JSON in ``path``, or ``None`` if the file is missing or not valid JSON (e.g. never written)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None



_CORE_TIMES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def stable_zip(data: bytes) -> bytes:
    """An Office file (a zip) with fixed entry times and document dates, so that the same content gives
    the same bytes: zip writers stamp the current time on every entry, Office libraries on the document."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            blob = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                blob = _CORE_TIMES.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", blob)
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, blob)
    return out.getvalue()
