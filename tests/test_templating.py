from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from review.templating import render


def test_a_team_template_overrides_the_packaged_default(tmp_path):
    (tmp_path / "prisma_flow.svg.j2").write_text("<svg>{{ flow.included }} studies</svg>\n", encoding="utf-8")
    assert render("prisma_flow.svg.j2", str(tmp_path), flow={"included": 7}) == "<svg>7 studies</svg>\n"


def test_a_misspelt_variable_is_an_error_naming_it(tmp_path):
    (tmp_path / "typo.html.j2").write_text("<p>{{ flow.inclded }}</p>", encoding="utf-8")
    with pytest.raises(UndefinedError, match="inclded"):
        render("typo.html.j2", str(tmp_path), flow={"included": 1})


def test_markup_is_autoescaped_markdown_is_escaped_as_markdown_and_plain_text_is_not(tmp_path):
    (tmp_path / "page.html.j2").write_text("<h1>{{ title }}</h1>", encoding="utf-8")
    (tmp_path / "page.md.j2").write_text("# {{ title }}", encoding="utf-8")
    (tmp_path / "page.txt.j2").write_text("{{ title }}", encoding="utf-8")
    title = "Tiers <script>alert(1)</script>"
    assert render("page.html.j2", str(tmp_path), title=title) == "<h1>Tiers &lt;script&gt;alert(1)&lt;/script&gt;</h1>"
    assert render("page.md.j2", str(tmp_path), title=title) == "# Tiers &lt;script&gt;alert(1)&lt;/script&gt;"
    assert render("page.txt.j2", str(tmp_path), title=title) == title


@pytest.mark.parametrize("value, shown", [
    ("[x](javascript:alert(1))", "\\[x\\](javascript:alert(1))"),
    ("![p](http://tracker.example/p.png)", "!\\[p\\](http://tracker.example/p.png)"),
    ("\\input{/etc/passwd} $x^2$", "\\\\input{/etc/passwd} \\$x^2\\$"),
    ("<b>bold</b> &amp; **strong** `code` ~~gone~~", "&lt;b&gt;bold&lt;/b&gt; &amp;amp; \\*\\*strong\\*\\* \\`code\\` \\~\\~gone\\~\\~"),
    ("# heading", "\\# heading"), ("1. first", "1\\. first"), ("- item", "\\- item"),
    ("study_design and _emphasis_", "study_design and \\_emphasis\\_"),
])
def test_attack_every_slot_of_a_markdown_template_is_escaped_by_the_environment(tmp_path, value, shown):
    (tmp_path / "page.md.j2").write_text("{{ v }}\n{{ v | md }}\n{% macro m(x) %}- {{ x }}{% endmacro %}{{ m(v) | safe }}",
                                         encoding="utf-8")
    assert render("page.md.j2", str(tmp_path), v=value) == f"{shown}\n{shown}\n- {shown}"
    (tmp_path / "page.html.j2").write_text("<p>{{ v | md }}</p>", encoding="utf-8")  # never unescaped in HTML
    assert "<b>" not in render("page.html.j2", str(tmp_path), v=value)
