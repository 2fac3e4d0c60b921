"""Readers of reference formats, registered by format name.

Each reader turns a file's text into ``Entry`` objects (raw fields in the canonical names, with
line and key) and ``Problem`` rows; ``review.readers.base.build_record`` then cleans an entry into
a ``Record``. Reading is read -> clean -> records for every format.
"""

from __future__ import annotations

from . import bibtex, csljson, csvfile, endnote_xml, ris, zotero_json  # noqa: F401  (registration)
from .base import READERS, Entry, ReadResult, read_file, read_text

__all__ = ["READERS", "Entry", "ReadResult", "read_file", "read_text"]
