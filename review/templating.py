"""The one Jinja environment: templates from the team's folder first, then the package's defaults.

``StrictUndefined`` turns a typo in a template into an error naming the variable; markup outputs
(HTML, SVG, XML) are autoescaped, so a title with ``<script>`` is shown as text.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined

MARKUP = (".html.j2", ".svg.j2", ".xml.j2", ".html", ".svg", ".xml")


def _autoescape(name: str | None) -> bool:
    return name is not None and name.endswith(MARKUP)


@cache
def environment(team_templates: str | None = "templates") -> Environment:
    loaders: list[BaseLoader] = [FileSystemLoader(team_templates)] if team_templates and Path(team_templates).is_dir() else []
    loaders.append(PackageLoader("review", "templates"))
    env = Environment(loader=ChoiceLoader(loaders), undefined=StrictUndefined, autoescape=_autoescape,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["md"] = markdown_text
    return env


def markdown_text(value: object) -> str:
    """Data as Markdown text: HTML in it is shown, not run; a table cell's bar and line breaks kept in the cell."""
    text = _ENTITY.sub(r"&amp;\1", str(value))  # a bare & reads as itself; only an entity-like & is escaped
    return text.replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|").replace("\n", " ")


_ENTITY = re.compile(r"&(#?\w+;)")


def render(name: str, team_templates: str | None = "templates", **context) -> str:
    return environment(team_templates).get_template(name).render(**context)
