"""Writing files so that a crash never leaves half a file, and unchanged content keeps its mtime: every write
goes to a temporary file beside its target and takes the target's name by a rename; a link is written through;
a read-only file is never replaced; a write the file system refuses is a ``WriteError`` naming the file, the
cause and what to do."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import WriteError


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, verify: bool = False) -> None:
    """Write ``data`` to ``path`` (``writing``) via a temporary file beside it and a rename; with ``verify``
    the temporary file is read back and compared before it takes the name (what makes a backup one)."""
    path = Path(path)
    with writing(path) as target, _temporary(target) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if verify and tmp.read_bytes() != data:
            raise WriteError(f"cannot write {path}: the copy written reads back differently; nothing took its "
                             "name. Check the disk and run again.")
        _replace(tmp, target, path)


@contextlib.contextmanager
def writing(path: Path) -> Iterator[Path]:
    """Where a write of ``path`` goes (``destination``), and any OSError while it is written turned into a
    ``WriteError`` naming the file and the cause: a read-only or full disk is the user's to fix, not a
    traceback. The file that was there is untouched: what failed was the temporary file or the rename."""
    target = destination(path)
    try:
        yield target
    except OSError as exc:
        raise cannot_write(path, exc, target) from exc


def destination(path: Path) -> Path:
    """``path``, or the file it links to: a workbook linked into a synced folder is written through the link
    (renaming over the link itself would turn it into a plain file, and later typing in the synced copy
    would never be read). A link whose target's folder is gone (a synced folder not mounted) is an error."""
    if not path.is_symlink():
        return path
    try:
        return Path(os.path.realpath(path, strict=True))
    except FileNotFoundError:
        target = Path(os.path.realpath(path))
    except OSError as exc:  # a loop of links
        raise WriteError(f"cannot write {path}: it is a link that leads to no file ({exc.strerror}); nothing was "
                         "written. Point the link at a file or remove it, and run again.") from exc
    if not target.parent.is_dir():
        raise WriteError(f"cannot write {path}: it is a link to {target}, whose folder does not exist (a synced "
                         "folder not there?); nothing was written. Reconnect the folder or remove the link, and "
                         "run again.")
    return target


# the cause of a failed write as a user can act on it
_CAUSES = {
    errno.ENOSPC: ("no space is left on its disk", "Free some space and run again."),
    errno.EDQUOT: ("the disk quota is used up", "Free some space and run again."),
    errno.EROFS: ("its file system is read-only", "Run where the folder can be written, or mount it writable."),
    errno.EACCES: ("permission denied", "Make the file and its folder writable for you, and run again."),
    errno.EPERM: ("the file or its folder may not be changed (immutable?)",
                  "Make it writable (chattr -i, or unlock it) and run again."),
}


def cannot_write(path: Path, exc: OSError, target: Path | None = None) -> WriteError:
    """The ``WriteError`` for ``exc``, raised while ``path`` was written (to ``target``, its link's file)."""
    cause, advice = _CAUSES.get(exc.errno or 0, (exc.strerror or str(exc), "Run again when it is fixed."))
    folders = {path.parent, (target or path).parent}
    elsewhere = exc.filename and Path(os.fsdecode(exc.filename)).parent not in folders  # not it nor its temporary
    where = f" (at {os.fsdecode(exc.filename)})" if elsewhere else ""
    kept = "the file was left as it was" if (target or path).exists() else "nothing was written"
    return WriteError(f"cannot write {_named(path, target)}: {cause}{where}; {kept}. {advice}")


def _named(path: Path, target: Path | None) -> str:
    return str(path) if target is None or target == path else f"{path} (a link to {target})"


def os_error_text(exc: OSError) -> str:
    """An OSError no stage turned into a ``ReviewError``, as one line for ``Error:``."""
    cause = _CAUSES.get(exc.errno or 0, (exc.strerror or str(exc), ""))[0]
    return f"{os.fsdecode(exc.filename)}: {cause}" if exc.filename else cause


@contextlib.contextmanager
def _temporary(path: Path) -> Iterator[Path]:
    """A new empty file beside ``path`` (the same folder, so that the rename is atomic), removed unless it
    was renamed over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(name)
    finally:
        with contextlib.suppress(OSError):  # a failed write's own error says more than a failed clean-up
            Path(name).unlink(missing_ok=True)


def read_only(path: Path) -> bool:
    """Whether ``path`` exists and may not be written: no write permission bit at all (chmod a-w: the user
    said so, which root would otherwise override), or not writable for this process (an immutable file,
    someone else's file)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return False
    return not mode & 0o222 or not os.access(path, os.W_OK)


def _replace(tmp: Path, target: Path, shown: Path) -> None:
    """Rename the written ``tmp`` over ``target`` (the file ``shown`` names, ``destination``). mkstemp made
    it private (0600): it gets the mode a plain open() would give, or the old file's. A read-only file is
    never replaced (a rename needs only the folder's permission, so the file's own must be asked)."""
    if read_only(target):
        raise WriteError(f"cannot write {_named(shown, target)}: it is read-only; it was left as it was. Make it "
                         "writable (chmod u+w; chattr -i if it is immutable) and run again, or leave it so if it "
                         "must not change.")
    os.chmod(tmp, target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_umask())
    os.replace(tmp, target)


def _same_bytes(one: Path, other: Path, chunk: int = 1 << 20) -> bool:
    if one.stat().st_size != other.stat().st_size:
        return False
    with open(one, "rb") as first, open(other, "rb") as second:
        while block := first.read(chunk):
            if block != second.read(chunk):
                return False
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_if_changed(path: str | os.PathLike[str], data: bytes) -> bool:
    """Atomically write ``data`` unless ``path`` already holds exactly it.

    Keeping the old file (and its mtime) when nothing changed is what lets Snakemake rerun nothing
    downstream after a refresh that brought nothing new.
    """
    path = Path(path)
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return False
    atomic_write_bytes(path, data)
    return True


def write_stream(path: str | os.PathLike[str], write: Callable[[BinaryIO], None]) -> bool:
    """What ``write`` writes to a file, written atomically to ``path`` unless it already holds exactly those
    bytes (then it keeps its mtime, as ``write_if_changed``). Streamed to the temporary file and compared
    there: the records table of a 100,000-record review is 260 MB, and built in memory as one string and
    then as bytes it took 1.3 GB more than the records themselves."""
    path = Path(path)
    with writing(path) as target, _temporary(target) as tmp:
        with open(tmp, "wb") as handle:
            write(handle)
            handle.flush()
            if target.is_file() and _same_bytes(tmp, target):
                return False
            os.fsync(handle.fileno())
        _replace(tmp, target, path)
    return True
