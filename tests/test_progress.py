"""review.progress: a bar on a terminal, nothing in a log."""

from __future__ import annotations

import io
import sys

from review import progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_no_terminal_no_bar(capsys):
    with progress.bar("reading", 50_000) as shown:
        shown.update(10)
    assert capsys.readouterr().err == ""


def test_a_long_job_on_a_terminal_shows_a_bar_and_a_short_one_does_not(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with progress.bar("short", 10) as shown:
        assert shown._progress is None
    with progress.bar("records", 50_000) as shown:
        assert shown._progress is not None
        shown.update(25_000)
        assert shown._progress.tasks[0].completed == 25_000
    with progress.bar("zotero", 120, long=True) as shown:  # slow steps: the caller says it is long
        assert shown._progress is not None
