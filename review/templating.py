"""The one Jinja environment: templates from the team's folder first, then the package's defaults.

``StrictUndefined`` turns a typo in a template into an error naming the variable; markup outputs
(HTML, SVG, XML) are autoescaped, so a title with ``<script>`` is shown as text. Markdown outputs
(``.md.j2``) are escaped as Markdown the same way, by the environment rather than slot by slot: every
``{{ value }}`` is shown as the text it is (a title ``[x](javascript:...)`` is no link, ``![p](http://...)``
no image, ``\\input{...}`` no TeX, ``<b>`` no HTML), unless it is already Markdown: what the ``md`` filter
gave, or ``| safe`` (a macro's output, which is Markdown the template wrote).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

MARKUP = (".html.j2", ".svg.j2", ".xml.j2", ".html", ".svg", ".xml")
MARKDOWN = (".md.j2", ".md")


def _autoescape(name: str | None) -> bool:
    return name is not None and name.endswith(MARKUP)


@cache
def environment(team_templates: str | None = "templates") -> Environment:
    loaders: list[BaseLoader] = [FileSystemLoader(team_templates)] if team_templates and Path(team_templates).is_dir() else []
    loaders.append(PackageLoader("review", "templates"))
    env = Environment(loader=ChoiceLoader(loaders), undefined=StrictUndefined, autoescape=_autoescape,
                      finalize=_markdown_autoescape, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["md"] = _md_filter
    return env


@pass_context
def _md_filter(context: Context, value: Any) -> Any:
    """``| md``: Markdown-escaped text, taken as Markdown in a Markdown template; elsewhere (an HTML template)
    plain text again, so that the template's own escaping still applies to it."""
    text = markdown_text(value)
    return text if (context.name or "").endswith(MARKDOWN) else str(text)


@pass_context
def _markdown_autoescape(context: Context, value: Any) -> Any:
    """Every ``{{ value }}`` of a Markdown template, escaped unless already Markdown (``Markup``)."""
    name = context.name or ""
    if not name.endswith(MARKDOWN) or isinstance(value, Markup) or value is None:
        return value
    return markdown_text(value)


def markdown_text(value: object) -> Markup:
    """Data as Markdown text, shown as it is: Markdown's syntax escaped with backslashes (links, images,
    emphasis, code, TeX, a heading or list marker that would start a line), HTML shown not run, a table cell's
    bar and line breaks kept in the cell. ``Markup``: escaped once, never again."""
    if isinstance(value, Markup):
        return value
    text = _ENTITY.sub(r"&amp;\1", str(value))  # a bare & reads as itself; only an entity-like & is escaped
    text = _SYNTAX.sub(r"\\\g<0>", text)
    text = _LINE_START.sub(_unmarked, text)
    return Markup(text.replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|").replace("\n", " "))


_ENTITY = re.compile(r"&(#?\w+;)")
# backslash, code, emphasis, links and images, TeX maths, strikethrough; an underscore inside a word
# (study_design) is no emphasis in Markdown and is left as it is
_SYNTAX = re.compile(r"[\\`*\[\]$~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# what makes a line a heading or a list item when a value starts one ("# x", "- x", "1. x"; "> x" is a quote
# no more once > is &gt;)
_LINE_START = re.compile(r"^(\s*)(#+|[-+]|\d+[.)])(?=\s|$)")


def _unmarked(match: re.Match[str]) -> str:
    """The backslash goes before the marker's punctuation (``\\#``, ``1\\.``): before a digit it would show."""
    space, marker = match.groups()
    return f"{space}{marker[:-1]}\\{marker[-1]}" if marker[0].isdigit() else f"{space}\\{marker}"


def render(name: str, team_templates: str | None = "templates", **context) -> str:
    return environment(team_templates).get_template(name).render(**context)
