"""BibTeX syntax, one entry at a time: fields as bibtexparser 1.4 reads them, at the speed of a scanner.

bibtexparser 1.4 (the version pyzotero allows) builds a pyparsing grammar per parser, about 2.5 ms per
entry even for a whole file: a 145,000-entry export took over an hour. This scanner reads the same
syntax (``@type{key, name = {value} # "value" # macro, ...}``, parentheses for braces, ``@string``
macros and the month abbreviations) into the same strings: values verbatim inside their outer braces
or quotes, inner braces kept, the indentation after a line break dropped; field names in lower case.
Pure: text in, fields or a ``BibSyntaxError`` with the offset of the fault out. Where it departs from
bibtexparser, on purpose: a field given twice keeps its first value, as BibTeX does (bibtexparser keeps the
last), and the later one is noted; a name that is no ``@string`` macro is noted (both pasted in the value
silently before); a value that macros expand beyond ``MAX_VALUE`` characters is an error (a file of macros
each ten copies of the one before fills the memory).
"""

from __future__ import annotations

import re

MONTHS = {"jan": "January", "feb": "February", "mar": "March", "apr": "April", "may": "May", "jun": "June",
          "jul": "July", "aug": "August", "sep": "September", "oct": "October", "nov": "November",
          "dec": "December"}

_NAME = re.compile(r"[^\s\"#%'(),={}]+")
_SPACE = re.compile(r"\s*")
_OPEN = re.compile(r"\s*@\s*([A-Za-z]+)\s*([{(])")
_KEY = re.compile(r"\s*([^,\s}]*)\s*")
_INDENT = re.compile(r"\n[ \t]+")


# a value longer than this is macros inside macros, not a reference: an abstract is some thousands of characters
MAX_VALUE = 100_000


class Note:
    """What an entry's reading noticed without failing: a field given twice, a name that is no macro."""

    def __init__(self, kind: str, field: str, value: str, offset: int):
        self.kind, self.field, self.value, self.offset = kind, field, value, offset


class BibSyntaxError(ValueError):
    """What is wrong, and where in the entry's text (``offset``)."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


def _skip(text: str, i: int) -> int:
    match = _SPACE.match(text, i)
    return match.end() if match else i


_BRACES = re.compile(r"[{}\\]")


def _braced(text: str, i: int) -> tuple[str, int]:
    """``text[i]`` is ``{``: what is inside up to the brace that closes it, and the index after that."""
    depth, j = 0, i
    while True:
        found = _BRACES.search(text, j)
        if not found:
            raise BibSyntaxError("a { that is never closed", i)
        j, c = found.start(), found.group()
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1:j], j + 1
        else:
            j += 1  # \{ and \} are characters, not braces
        j += 1


def _quoted(text: str, i: int) -> tuple[str, int]:
    """``text[i]`` is ``"``: what is inside up to the closing quote outside braces."""
    depth, j, n = 0, i + 1, len(text)
    while j < n:
        c = text[j]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                raise BibSyntaxError("a } inside a quoted value that closes no {", j)
        elif c == '"' and depth == 0:
            return text[i + 1:j], j + 1
        elif c == "\\":
            j += 1
        j += 1
    raise BibSyntaxError('a " that is never closed', i)


def _value(text: str, i: int, strings: dict[str, str], notes: list[Note] | None = None, field: str = ""
           ) -> tuple[str, int]:
    """A value: braced, quoted, a number or a macro, joined by ``#``."""
    parts, size, start = [], 0, i
    while True:
        i = _skip(text, i)
        if i >= len(text):
            raise BibSyntaxError("the entry ends where a value should be", i)
        c = text[i]
        if c == "{":
            part, i = _braced(text, i)
        elif c == '"':
            part, i = _quoted(text, i)
        else:
            match = _NAME.match(text, i)
            if not match:
                raise BibSyntaxError(f"{c!r} where a value should be", i)
            word, i = match.group(0), match.end()
            part = word if word.isdigit() else strings.get(word.lower(), MONTHS.get(word.lower(), word))
            if part is word and not word.isdigit() and notes is not None:
                notes.append(Note("undefined-macro", field, word, match.start()))
        size += len(part)
        if size > MAX_VALUE:
            raise BibSyntaxError(f"the value expands to more than {MAX_VALUE:,} characters (@string macros "
                                 "inside one another)", start)
        parts.append(part)
        i = _skip(text, i)
        if i < len(text) and text[i] == "#":
            i += 1
            continue
        return _INDENT.sub("\n", "".join(parts)), i


def entry(text: str, strings: dict[str, str], notes: list[Note] | None = None) -> tuple[dict[str, str], int]:
    """``@type{key, name = value, ...}`` at the start of ``text``: its fields (``ENTRYTYPE`` in lower
    case, ``ID``, then each field) and the index just after its closing brace; what it noticed on the way
    (a field given twice, a name that is no macro) is added to ``notes``."""
    opening = _OPEN.match(text)
    if not opening:
        raise BibSyntaxError("not an entry (@type{key, ...})", 0)
    close = "}" if opening.group(2) == "{" else ")"
    key = _KEY.match(text, opening.end())
    assert key is not None  # the pattern matches the empty string
    fields = {"ENTRYTYPE": opening.group(1).lower(), "ID": key.group(1)}
    i = key.end()
    if i < len(text) and text[i] == close:
        return fields, i + 1
    if i >= len(text) or text[i] != ",":
        raise BibSyntaxError("no comma after the citation key", i)
    i += 1
    while True:
        i = _skip(text, i)
        if i >= len(text):
            raise BibSyntaxError(f"the entry is never closed with {close}", i)
        if text[i] == close:
            return fields, i + 1
        name = _NAME.match(text, i)
        if not name:
            raise BibSyntaxError(f"{text[i]!r} where a field name should be", i)
        i = _skip(text, name.end())
        if i >= len(text) or text[i] != "=":
            raise BibSyntaxError(f"no = after the field name {name.group(0)!r}", i)
        field = name.group(0).lower()
        value, i = _value(text, i + 1, strings, notes, field)
        if field not in fields:
            fields[field] = value
        elif notes is not None:  # BibTeX keeps the first and ignores the rest
            notes.append(Note("duplicate-field", field, value, name.start()))
        i = _skip(text, i)
        if i < len(text) and text[i] == ",":
            i += 1
        elif i < len(text) and text[i] != close:
            raise BibSyntaxError(f"{text[i]!r} after the value of {name.group(0)!r} (a comma missing?)", i)


def string(text: str, strings: dict[str, str], notes: list[Note] | None = None) -> tuple[str, str]:
    """``@string{name = value}``: the macro's name (lower case) and its value."""
    opening = _OPEN.match(text)
    if not opening or opening.group(1).lower() != "string":
        raise BibSyntaxError("not an @string", 0)
    i = _skip(text, opening.end())
    name = _NAME.match(text, i)
    if not name:
        raise BibSyntaxError("an @string without a name", i)
    i = _skip(text, name.end())
    if i >= len(text) or text[i] != "=":
        raise BibSyntaxError("an @string without =", i)
    value, _ = _value(text, i + 1, strings, notes, f"@string {name.group(0)}")
    return name.group(0).lower(), value


def trailing(text: str) -> int | None:
    """Where text that is neither space nor a ``%`` comment line starts in what follows an entry (``None``
    if there is none): typically the fields after an extra ``}`` that closed the entry early."""
    offset = 0
    for line in text.splitlines(keepends=True):
        content = line.strip()
        if content and not content.startswith("%"):
            return offset + len(line) - len(line.lstrip())
        offset += len(line)
    return None
