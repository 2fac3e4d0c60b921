"""Progress on a terminal, silence in logs: a rich progress bar when standard error is a terminal and the
work is long enough to wait for, nothing otherwise (Snakemake jobs write to their log, so they stay quiet)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# below this many steps the work is over before a bar would be read
MIN_STEPS = 2_000
_quiet = False


def quiet() -> None:
    """No bar from this process (a worker: several processes drawing on one terminal garble it)."""
    global _quiet
    _quiet = True


class Bar:
    """Advance with ``update(done)``; a no-op when there is no terminal."""

    def __init__(self, progress: Any = None, task: Any = None):
        self._progress, self._task = progress, task

    def update(self, done: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=done)


@contextmanager
def bar(label: str, total: int | None, long: bool | None = None) -> Iterator[Bar]:
    """A transient bar for ``total`` steps (``None``: a count without an end), shown on a terminal only, for
    work that is ``long`` (left out: at least ``MIN_STEPS`` steps)."""
    if long is None:
        long = total is not None and total >= MIN_STEPS
    if _quiet or not sys.stderr.isatty() or not long:
        yield Bar()
        return
    from rich.progress import Progress

    progress = Progress(transient=True)
    progress.start()
    try:
        yield Bar(progress, progress.add_task(label, total=total))
    finally:
        progress.stop()
