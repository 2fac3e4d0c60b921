"""``review new DIR``: a folder for a new review holding only the team's things.

The protocol and the team's README are written from templates in ``review/scaffold/`` (``string.Template``:
the protocol is YAML whose comments are the team's guide, so values are put in as JSON scalars, which YAML
reads as written); the Snakefile, codebook, ``.gitignore`` and the templates' README are copied as they are.
The Snakefile includes the installed package's workflow, so the folder holds no copy of the tool.
Everything is checked before the first file is written: a bad name or a missing export leaves nothing behind.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

import yaml

from . import protocol
from .errors import ReviewError

LIBRARY = Path("protocols/library")
# copied as they are: (file in review/scaffold/, path in the new review)
COPIED = (("Snakefile", "Snakefile"), ("codebook.yaml", "protocols/codebook.yaml"), ("gitignore", ".gitignore"),
          ("templates/README.md", "templates/README.md"))
EMPTY = ("extracts/.gitkeep", "protocols/library/.gitkeep")


def _scaffold(name: str) -> str:
    return resources.files("review").joinpath("scaffold", name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Export:
    """A file given with ``--source``: where it is, and the source it becomes in the protocol."""

    path: Path
    name: str

    @property
    def target(self) -> Path:
        return LIBRARY / self.path.name


def source_name(path: Path, taken: set[str]) -> str:
    """A source name the protocol accepts (lower case, digits, - and _), from the file's name, unique."""
    base = re.sub(r"[^a-z0-9_-]+", "-", path.stem.lower()).strip("-_") or "source"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def exports(paths: list[str]) -> list[Export]:
    """The exports given, each checked: a file, of a format the pipeline reads, not named twice."""
    out: list[Export] = []
    for given in paths:
        path = Path(given).expanduser()
        if not path.is_file():
            raise ReviewError(f"--source {given}: no such file")
        if protocol.format_of(path) is None:
            known = ", ".join(sorted(protocol.SUFFIX_FORMATS))
            raise ReviewError(f"--source {given}: cannot tell the format from the suffix {path.suffix!r} "
                              f"(known: {known}); rename the export or add it to the protocol by hand with 'format:'")
        if any(e.path.name == path.name for e in out):
            raise ReviewError(f"--source {given}: another export is also named {path.name}; rename one")
        out.append(Export(path, source_name(path, {e.name for e in out})))
    return out


def _sources_yaml(found: list[Export]) -> str:
    if not found:
        return " []"
    lines = []
    for export in found:
        lines += [f"\n  - name: {export.name}",
                  f"\n    database: {json.dumps(export.path.stem, ensure_ascii=False)}   # the database, as PRISMA-S names it",
                  f"\n    file: {json.dumps(export.target.as_posix(), ensure_ascii=False)}",
                  "\n    prisma: databases",
                  "\n    search: {interface: \"\", date: \"\", search_string: \"\", records: null}"]
    return "".join(lines)


def protocol_text(title: str, reviewers: list[str], found: list[Export]) -> str:
    """The commented protocol for a new review."""
    return Template(_scaffold("review.yaml.tmpl")).substitute(
        title=json.dumps(title, ensure_ascii=False), reviewers=json.dumps(reviewers), sources=_sources_yaml(found))


def check(text: str, found: list[Export]) -> None:
    """The new protocol as the pipeline will read it: valid, or an error naming what to change (no sources
    is not an error here: the first refresh says what to add)."""
    data = yaml.safe_load(text)
    if not found:
        data["sources"] = [{"name": "placeholder", "file": "protocols/library/placeholder.ris"}]
    protocol.validate(data, origin="the new protocol")


def create(folder: Path, title: str, reviewers: list[str], sources: list[str]) -> list[Path]:
    """Write a new review into ``folder`` (new or empty); return the files written, relative to it."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ReviewError(f"{folder} is not an empty folder: review new starts a review in a new or empty folder, "
                          "so that no file of another review is overwritten")
    found = exports(sources)
    text = protocol_text(title, reviewers, found)
    check(text, found)
    files = {Path("protocols/review.yaml"): text,
             Path("README.md"): Template(_scaffold("README.md.tmpl")).substitute(title=title)}
    files.update({Path(target): _scaffold(name) for name, target in COPIED})
    files.update({Path(name): "" for name in EMPTY})
    try:
        for relative, content in files.items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_text(content, encoding="utf-8")
        for export in found:
            shutil.copyfile(export.path, folder / export.target)
    except OSError as exc:
        raise ReviewError(f"{folder}: cannot write the new review ({exc.strerror or exc})") from exc
    return sorted([*files, *(e.target for e in found)])
