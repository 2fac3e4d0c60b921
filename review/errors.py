"""Errors and collected problems.

Two kinds of trouble, kept apart on purpose:

* ``ReviewError`` (and subclasses) stop the step: the protocol is invalid, a file is not what it
  claims to be, Zotero cannot be reached and there is nothing to fall back on. The CLI turns them
  into ``Error: ...`` and an exit code; nothing below the CLI prints a traceback for them.
* ``Problem`` rows are bad user data found while reading: one malformed entry, one field that
  cannot be understood. They are collected, written to an ``issues.csv`` report, and the rest of the
  input goes on. Tests assert their stable ``code``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


class ReviewError(Exception):
    """Root of every error the pipeline reports to the user."""


class ProtocolError(ReviewError):
    """The protocol (``protocols/review.yaml``) is missing or invalid."""


class SourceError(ReviewError):
    """A source as a whole cannot be read (wrong format, unreadable file)."""


class ZoteroError(ReviewError):
    """Zotero could not be reached or refused the request."""


class WriteError(ReviewError):
    """A file could not be written (read-only, immutable, no space, no permission); the file that was there
    is as it was: every write goes to a temporary file first (``review.atomic``)."""


ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One problem found in the user's data, as a reviewer reads it in the report."""

    code: str
    severity: str
    file: str = ""
    sheet: str = ""
    row: str = ""  # line number in a text file, row as the spreadsheet shows it, or a Zotero key
    column: str = ""  # field or column
    value: str = ""
    expected: str = ""
    hint: str = ""
    record_id: str = ""

    @classmethod
    def columns(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def as_row(self) -> dict[str, str]:
        return {k: "" if v is None else str(v) for k, v in asdict(self).items()}

    def describe(self) -> str:
        """A one-line human description, e.g. for a log."""
        where = ":".join(p for p in (self.file, self.sheet, str(self.row)) if p)
        parts = [f"{self.severity} {self.code}"]
        if where:
            parts.append(f"at {where}")
        if self.column:
            parts.append(f"field {self.column!r}")
        if self.value:
            parts.append(f"value {self.value[:80]!r}")
        if self.expected:
            parts.append(f"expected {self.expected}")
        text = " ".join(parts)
        return f"{text} ({self.hint})" if self.hint else text

