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


def test_markup_is_autoescaped_and_plain_text_is_not(tmp_path):
    (tmp_path / "page.html.j2").write_text("<h1>{{ title }}</h1>", encoding="utf-8")
    (tmp_path / "page.md.j2").write_text("# {{ title }}", encoding="utf-8")
    title = "Tiers <script>alert(1)</script>"
    assert render("page.html.j2", str(tmp_path), title=title) == "<h1>Tiers &lt;script&gt;alert(1)&lt;/script&gt;</h1>"
    assert render("page.md.j2", str(tmp_path), title=title) == "# Tiers <script>alert(1)</script>"
