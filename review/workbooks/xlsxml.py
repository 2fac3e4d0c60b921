"""An .xlsx workbook edited at the level of its XML, for the one edit openpyxl is too slow for at scale:
setting the values of cells of a sheet that has 100,000 rows (re-sorting a screening sheet).

openpyxl builds an object for every cell and style to load a workbook and again to save it: 17 s and 25 s
for a 100,000-row screening sheet. Here the sheet's XML is parsed once with lxml, the cells that change are
edited in place and every other part of the file (styles, shared strings, dropdowns, protection, the other
sheets) is copied byte for byte. Text is written as inline strings, which every spreadsheet program reads
(openpyxl turns them back into shared strings at its next save).

It reads values as openpyxl does (shared and inline strings, numbers as int or float, booleans). A workbook
it would not read the same way is refused with ``NotPlain`` and the caller uses openpyxl: a formula, an
error value, an ``_xHHHH_`` escape, a date cell, a cell or row without its reference. A test compares the
two ways of writing on the same workbooks, cell by cell and style by style.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from posixpath import join, normpath
from types import MappingProxyType
from typing import Any

from lxml import etree
from openpyxl.utils import column_index_from_string, get_column_letter

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
# deflate's fastest level for every workbook the pipeline writes: a 78 MB sheet in 0.7 s where level 6 takes
# 2.9 s, for a file 22% larger
DEFLATE_LEVEL = 1
_C, _V, _IS, _T, _R, _ROW, _RPH = (f"{{{MAIN}}}{tag}" for tag in ("c", "v", "is", "t", "r", "row", "rPh"))
_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_LETTERS = re.compile(r"[A-Z]{1,3}")
_DIGITS = "0123456789"
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_ERROR_OR_DATE = re.compile(rb"\st=[\"'][ed][\"']")
_ERROR = re.compile(rb"\st=[\"']e[\"']")
_ESCAPE = re.compile(rb"_x[0-9A-Fa-f]{4}_")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
_DECLARATIONS = re.compile(rb"<!(?:DOCTYPE|ENTITY)")  # never in a spreadsheet's parts: openpyxl refuses such a file


_NONE: Mapping[int, Any] = MappingProxyType({})


class NotPlain(Exception):
    """The workbook holds something this module would not read or write as openpyxl does."""


def unlike_openpyxl(part: bytes, dates: bool = True) -> bool:
    """Whether a sheet's XML holds a formula, an error cell (or a date cell, with ``dates``), or an
    ``_xHHHH_`` escape: what a fast reader would not read as openpyxl does. The patterns are searched apart,
    the one that starts with a character class only where a plain substring finds a candidate: as one regex
    of three alternatives they took 1.7 s on a 78 MB sheet, so 0.3 s."""
    kinds = (b't="e"', b"t='e'", b't="d"', b"t='d'") if dates else (b't="e"', b"t='e'")
    return bool(_ESCAPE.search(part) or _FORMULA.search(part)
                or (any(t in part for t in kinds) and (_ERROR_OR_DATE if dates else _ERROR).search(part)))


def _number(text: str) -> int | float:
    """A number as openpyxl reads it: a float where the text has a point or an exponent, else an int."""
    return float(text) if ("." in text or "e" in text or "E" in text) else int(text)


def _column(ref: str, digits: str, known: dict[str, int]) -> int:
    """The column number of a cell reference (``AB12`` -> 28) of the row numbered ``digits``."""
    letters = ref.rstrip(_DIGITS)
    if ref[len(letters):] != digits:
        raise NotPlain("a cell without its reference")
    column = known.get(letters)
    if column is None:
        if not _LETTERS.fullmatch(letters):
            raise NotPlain("a cell without its reference")
        column = known[letters] = column_index_from_string(letters)
    return column


class Sheet:
    """One worksheet's cells: read by (row, column) number, set in place."""

    def __init__(self, root: Any, strings: list[str], locked: list[bool]) -> None:
        self.root = root
        self._strings = strings
        self._locked = locked
        data = root.find(f"{{{MAIN}}}sheetData")
        if data is None:
            raise NotPlain("no sheetData")
        self._data = data
        self._rows: dict[int, Any] = {}
        self._cells: dict[int, dict[int, Any]] = {}
        self._values: dict[int, dict[int, Any]] = {}  # the cells' values, read once (None left out)
        self._scan(data)
        self.changed = False

    def _scan(self, data: Any) -> None:
        """Every row's cells and values, in one walk of the sheet's elements in document order: a call to
        find a cell's value element took twice as long as the walk (a 100,000-row sheet has a million cells)."""
        columns: dict[str, int] = {}
        digits = ""
        cells: dict[int, Any] = {}
        values: dict[int, Any] = {}
        cell: Any = None
        column = 0
        kind = value = None
        texts: list[str] | None = None  # an inline string's pieces; None when the cell has no <is>
        phonetic = False
        for node in data.iter(_ROW, _C, _V, _IS, _T, _RPH):
            tag = node.tag
            if tag in (_C, _ROW):
                if cell is not None and (found := self._value(kind, value, texts)) is not None:
                    values[column] = found
                if tag == _ROW:
                    digits, cell = self._row(node), None
                    cells, values = self._cells[int(digits)], self._values[int(digits)]
                else:
                    column = _column(node.get("r") or "", digits, columns)
                    cell, kind, value, texts, phonetic = node, node.get("t"), None, None, False
                    cells[column] = cell
            elif cell is None:
                continue  # not in a cell
            elif tag == _V:
                value = node.text or "" if value is None else value
            elif tag == _IS:
                texts = [] if texts is None else texts
            elif tag == _RPH:
                phonetic = True
            elif texts is not None and not (phonetic and node.getparent().tag == _RPH):
                texts.append(node.text or "")
        if cell is not None and (found := self._value(kind, value, texts)) is not None:
            values[column] = found

    def _row(self, row: Any) -> str:
        """Start a row: its number as written."""
        digits = row.get("r") or ""
        if not digits.isdigit() or int(digits) < 1:
            raise NotPlain("a row without its number")
        number = int(digits)
        self._rows[number], self._cells[number], self._values[number] = row, {}, {}
        return digits

    def numbers(self) -> list[int]:
        return sorted(self._rows)

    def _value(self, kind: str | None, value: str | None, texts: list[str] | None) -> Any:
        """A cell's value as openpyxl reads it, from its type, the text of its <v> and its inline string."""
        if kind == "s":  # the common cases first
            if value is None:
                raise NotPlain("a shared string cell without its index")
            return self._strings[int(value)]
        if kind is None or kind == "n":
            return None if value is None else _number(value.strip())
        if kind == "inlineStr":
            return None if texts is None else "".join(texts)
        if value is None:
            return None
        if kind == "str":
            return value
        if kind == "b":
            return value.strip() in ("1", "true")
        raise NotPlain(f"a cell of type {kind}")

    def row_values(self, number: int) -> Mapping[int, Any]:
        """{column number: value} of the cells of a row that have one (a view: ``set`` changes it)."""
        return self._values.get(number, _NONE)

    def style(self, number: int, column: int) -> int | None:
        cell = self._cells.get(number, {}).get(column)
        return None if cell is None else int(cell.get("s", "0"))

    def locked(self, number: int, column: int) -> bool:
        """Whether a cell is locked (on a protected sheet, nobody can type in it); a missing cell is style 0."""
        style = self.style(number, column) or 0
        return self._locked[style] if style < len(self._locked) else True

    def set(self, number: int, column: int, value: Any, style: int | None = None) -> None:
        """Give a cell ``value`` (``None`` empties it), creating the row and cell where missing; ``style``
        for a created cell (or to restyle one). Empty text empties the cell, as openpyxl writes it."""
        if value == "" and isinstance(value, str):
            value = None
        if style is None:  # the usual call of a re-sort: most cells keep their value
            current = self._values.get(number, _NONE).get(column)
            if current == value and type(current) is type(value):
                return
        cell = self._cells.get(number, {}).get(column)
        if cell is None:
            if value is None and style is None:
                return  # an empty cell that is not there
            cell = self._new_cell(number, column)
        if style is not None and cell.get("s") != str(style):
            cell.set("s", str(style))
            self.changed = True
        current = self._values[number].get(column)
        if current == value and type(current) is type(value):
            return
        if value is None:
            self._values[number].pop(column, None)
        else:
            self._values[number][column] = value
        for child in list(cell):
            cell.remove(child)
        cell.attrib.pop("t", None)
        self.changed = True
        if value is None:
            return
        if isinstance(value, bool):
            cell.set("t", "b")
            etree.SubElement(cell, _V).text = "1" if value else "0"
        elif isinstance(value, (int, float)):
            etree.SubElement(cell, _V).text = repr(value) if isinstance(value, float) else str(value)
        else:
            cell.set("t", "inlineStr")
            t = etree.SubElement(etree.SubElement(cell, _IS), _T)
            t.text = str(value)  # lxml refuses characters XML cannot hold: the caller falls back to openpyxl
            if t.text != t.text.strip():
                t.set(_SPACE, "preserve")

    def _new_cell(self, number: int, column: int) -> Any:
        row = self._rows.get(number)
        if row is None:
            row = etree.Element(_ROW, r=str(number))
            later = [n for n in self._rows if n > number]
            if later:
                self._rows[min(later)].addprevious(row)
            else:
                self._data.append(row)
            self._rows[number], self._cells[number], self._values[number] = row, {}, {}
        row.attrib.pop("spans", None)  # a hint of the row's first and last columns, no longer true
        cell = etree.Element(_C, r=f"{get_column_letter(column)}{number}")
        after = [k for k in self._cells[number] if k > column]
        if after:
            self._cells[number][min(after)].addprevious(cell)
        else:
            row.append(cell)
        self._cells[number][column] = cell
        return cell

    def replace_text_rows(self, lines: Sequence[str]) -> None:
        """Column A holds ``lines``, one a row, and nothing is below them; each row kept keeps its style."""
        for number in [n for n in self._rows if n > len(lines)]:
            self._data.remove(self._rows.pop(number))
            del self._cells[number], self._values[number]
        for number, line in enumerate(lines, start=1):
            self.set(number, 1, line)
        self.changed = True

    def fix_dimension(self) -> None:
        node = self.root.find(f"{{{MAIN}}}dimension")
        if node is None or not self._rows:
            return
        width = max((max(cells) for cells in self._cells.values() if cells), default=1)
        node.set("ref", f"A1:{get_column_letter(width)}{max(self._rows)}")


# what one part of a workbook may hold once inflated, and how much smaller than that it may be stored: a 100,000-row
# screening sheet is some tens of MB of XML stored at 10:1; a "zip bomb" is a few MB inflating to gigabytes
MAX_PART = 1 << 30
MAX_RATIO = 200
_RATIO_FROM = 16 << 20  # small parts may be stored at any ratio (a sheet of empty styled rows)


class PartTooLarge(ValueError):
    """A part of the zip that would inflate beyond what any workbook holds; nothing was inflated."""


def check_parts(archive: zipfile.ZipFile) -> None:
    """``PartTooLarge`` for a part whose declared size is beyond ``MAX_PART``, or stored more than ``MAX_RATIO``
    times smaller, before any part is inflated (zipfile inflates no more than the size a part declares)."""
    total = 0
    for info in archive.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_PART or (info.file_size > _RATIO_FROM and ratio > MAX_RATIO) or total > 2 * MAX_PART:
            raise PartTooLarge(f"its part {info.filename} would inflate to {info.file_size:,} bytes from "
                               f"{info.compress_size:,} (a zip bomb?); no workbook holds that much")


class Workbook:
    """The parts of an .xlsx file, with the sheets asked for parsed."""

    def __init__(self, data: bytes) -> None:
        self._zip = zipfile.ZipFile(io.BytesIO(data))
        check_parts(self._zip)
        self._parts = {info.filename: self._zip.read(info.filename) for info in self._zip.infolist()}
        self._infos = self._zip.infolist()
        for name, part in self._parts.items():
            if (name.startswith("xl/worksheets/") or name == "xl/sharedStrings.xml") and unlike_openpyxl(part):
                raise NotPlain(f"{name} holds a formula, an error, a date cell or an escape")
        self._paths = self._sheet_paths()
        self._strings = self._shared_strings()
        self._locked = self._locked_styles()
        self._sheets: dict[str, Sheet] = {}

    @classmethod
    def open(cls, path: Path) -> Workbook:
        return cls(path.read_bytes())

    def _xml(self, name: str) -> Any:
        if _DECLARATIONS.search(self._parts[name]):
            raise NotPlain(f"{name} declares a DTD or entities")
        return etree.fromstring(self._parts[name], _PARSER)

    def _sheet_paths(self) -> dict[str, str]:
        book = self._xml("xl/workbook.xml")
        rels = self._xml("xl/_rels/workbook.xml.rels")
        target = {r.get("Id"): r.get("Target") for r in rels.iter(f"{{{PACKAGE_REL}}}Relationship")}
        out = {}
        for sheet in book.iter(f"{{{MAIN}}}sheet"):
            where = target.get(sheet.get(f"{{{REL}}}id"), "")
            out[sheet.get("name")] = where.lstrip("/") if where.startswith("/") else normpath(join("xl", where))
        return out

    def _shared_strings(self) -> list[str]:
        if "xl/sharedStrings.xml" not in self._parts:
            return []
        out = []
        for si in self._xml("xl/sharedStrings.xml").iterchildren(f"{{{MAIN}}}si"):
            out.append("".join(t.text or "" for t in si.iter(_T) if t.getparent().tag != f"{{{MAIN}}}rPh"))
        return out

    def _locked_styles(self) -> list[bool]:
        if "xl/styles.xml" not in self._parts:
            return []
        xfs = self._xml("xl/styles.xml").find(f"{{{MAIN}}}cellXfs")
        out = []
        for xf in [] if xfs is None else xfs.iterchildren(f"{{{MAIN}}}xf"):
            protection = xf.find(f"{{{MAIN}}}protection")
            out.append(protection is None or protection.get("locked", "1") not in ("0", "false"))
        return out

    @property
    def sheetnames(self) -> list[str]:
        return list(self._paths)

    def sheet(self, name: str) -> Sheet:
        if name not in self._sheets:
            self._sheets[name] = Sheet(self._xml(self._paths[name]), self._strings, self._locked)
        return self._sheets[name]

    def to_bytes(self) -> bytes:
        """The workbook with its edited sheets; every other part as it was, in the same order."""
        edited = {self._paths[name]: sheet for name, sheet in self._sheets.items() if sheet.changed}
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
            for info in self._infos:
                data = self._parts[info.filename]
                if info.filename in edited:
                    edited[info.filename].fix_dimension()
                    data = etree.tostring(edited[info.filename].root, xml_declaration=True, encoding="UTF-8",
                                          standalone=True)
                out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=DEFLATE_LEVEL)
        return buffer.getvalue()
