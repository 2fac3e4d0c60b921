"""Real file-system refusals for tests: a small tmpfs that fills up or is made read-only, an immutable file.

They need root (mount, chattr); where that is not allowed the test that asks is skipped, saying why."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def tmpfs(folder: Path, size: str = "1m") -> Iterator[Path]:
    """``folder`` as a tmpfs of ``size``, holding what it held before (copied in), unmounted afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    held = folder.with_name(folder.name + ".held")
    shutil.copytree(folder, held)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode:
        shutil.rmtree(held)
        pytest.skip(f"a tmpfs cannot be mounted here ({mounted.stderr.strip()})")
    try:
        shutil.copytree(held, folder, dirs_exist_ok=True)
        shutil.rmtree(held)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(folder: Path, leave: int = 0) -> Path:
    """Fill the disk ``folder`` is on, leaving about ``leave`` bytes free; the file that fills it."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 65536)
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def read_only_mount(folder: Path) -> None:
    """Make the tmpfs at ``folder`` read-only (EROFS on every write)."""
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[Path]:
    """``path`` made immutable (chattr +i: not even root may change, rename or remove it), then freed."""
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if made.returncode:
        pytest.skip(f"chattr +i is not allowed here ({made.stderr.strip()})")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)
