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
_C, _V, _IS, _T, _R, _ROW = (f"{{{MAIN}}}{tag}" for tag in ("c", "v", "is", "t", "r", "row"))
_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_REF = re.compile(r"([A-Z]{1,3})([0-9]+)$")
_NOT_PLAIN = re.compile(rb"<(?:\w+:)?f[\s>/]|\st=[\"'][ed][\"']|_x[0-9A-Fa-f]{4}_")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
_DECLARATIONS = re.compile(rb"<!(?:DOCTYPE|ENTITY)")  # never in a spreadsheet's parts: openpyxl refuses such a file


_NONE: Mapping[int, Any] = MappingProxyType({})


class NotPlain(Exception):
    """The workbook holds something this module would not read or write as openpyxl does."""


def _number(text: str) -> int | float:
    """A number as openpyxl reads it: a float where the text has a point or an exponent, else an int."""
    return float(text) if ("." in text or "e" in text or "E" in text) else int(text)


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
        columns: dict[str, int] = {}
        for row in data.iterchildren(_ROW):
            number = int(row.get("r") or 0)
            if number < 1:
                raise NotPlain("a row without its number")
            cells: dict[int, Any] = {}
            values: dict[int, Any] = {}
            for cell in row.iterchildren(_C):
                ref = _REF.match(cell.get("r") or "")
                if ref is None or int(ref.group(2)) != number:
                    raise NotPlain("a cell without its reference")
                letters = ref.group(1)
                column = columns.get(letters) or columns.setdefault(letters, column_index_from_string(letters))
                cells[column] = cell
                value = self._read(cell)
                if value is not None:
                    values[column] = value
            self._rows[number], self._cells[number], self._values[number] = row, cells, values
        self.changed = False

    def numbers(self) -> list[int]:
        return sorted(self._rows)

    def _read(self, cell: Any) -> Any:
        kind = cell.get("t")
        if kind == "s":  # the common cases first: a 100,000-row sheet has a million cells
            return self._strings[int(cell.findtext(_V))]
        if kind is None or kind == "n":
            text = cell.findtext(_V)
            return None if text is None else _number(text.strip())
        if kind == "inlineStr":
            node = cell.find(_IS)
            return None if node is None else "".join(t.text or "" for t in node.iter(_T)
                                                     if t.getparent().tag != f"{{{MAIN}}}rPh")
        text = cell.findtext(_V)
        if text is None:
            return None
        if kind == "str":
            return text
        if kind == "b":
            return text.strip() in ("1", "true")
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


class Workbook:
    """The parts of an .xlsx file, with the sheets asked for parsed."""

    def __init__(self, data: bytes) -> None:
        self._zip = zipfile.ZipFile(io.BytesIO(data))
        self._parts = {info.filename: self._zip.read(info.filename) for info in self._zip.infolist()}
        self._infos = self._zip.infolist()
        for name, part in self._parts.items():
            if (name.startswith("xl/worksheets/") or name == "xl/sharedStrings.xml") and _NOT_PLAIN.search(part):
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
                out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
        return buffer.getvalue()
