"""review.atomic: a write goes through a link, never replaces a read-only file, and a write the file system
refuses is an error naming the file, the old file as it was."""

from __future__ import annotations

import contextlib

import pytest
from filesystems import fill, immutable, read_only_mount, tmpfs

from review.atomic import atomic_write_bytes
from review.errors import WriteError
from review.fileio import write_csv

# --- writes the file system refuses, and links (issues 24 and 29) -------------------------------------------


def test_a_file_that_is_a_link_is_written_through_it_and_stays_a_link(tmp_path):
    synced = tmp_path / "synced" / "alice.csv"
    synced.parent.mkdir()
    synced.write_text("old\n", encoding="utf-8")
    link = tmp_path / "extracts" / "alice.csv"
    link.parent.mkdir()
    link.symlink_to(synced)
    atomic_write_bytes(link, b"new\n")
    assert write_csv(link, ["a"], [{"a": "streamed"}])
    assert link.is_symlink() and synced.read_text(encoding="utf-8") == "a\nstreamed\n"
    assert sorted(p.name for p in link.parent.iterdir()) == ["alice.csv"]  # no temporary left beside either
    assert sorted(p.name for p in synced.parent.iterdir()) == ["alice.csv"]


def test_a_link_whose_folder_is_gone_is_an_error_and_nothing_is_made_there(tmp_path):
    link = tmp_path / "alice.csv"
    link.symlink_to(tmp_path / "unmounted" / "alice.csv")
    with pytest.raises(WriteError, match=r"alice\.csv: it is a link to .*unmounted.*whose folder does not exist"):
        atomic_write_bytes(link, b"new\n")
    assert link.is_symlink() and not (tmp_path / "unmounted").exists()


@pytest.mark.parametrize("how", ["chmod a-w", "chattr +i"])
def test_a_read_only_or_immutable_file_is_never_replaced_and_the_error_says_what_to_do(tmp_path, how):
    path = tmp_path / "alice.csv"
    path.write_text("typed\n", encoding="utf-8")
    if how == "chmod a-w":
        path.chmod(0o444)
        held = contextlib.nullcontext(path)
    else:
        held = immutable(path)
    with held, pytest.raises(WriteError) as refused:
        atomic_write_bytes(path, b"new\n")
    assert f"cannot write {path}: it is read-only; it was left as it was. Make it writable" in str(refused.value)
    assert path.read_text(encoding="utf-8") == "typed\n" and sorted(p.name for p in tmp_path.iterdir()) == ["alice.csv"]


@pytest.mark.parametrize("refusal", ["disk full", "read-only file system"])
def test_a_full_or_read_only_disk_is_an_error_naming_the_file_and_the_old_file_stays(tmp_path, refusal):
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "t.csv").write_text("a\nold\n", encoding="utf-8")
    with tmpfs(folder, "256k"):
        if refusal == "disk full":
            fill(folder)
        else:
            read_only_mount(folder)
        with pytest.raises(WriteError) as refused:
            write_csv(folder / "t.csv", ["a"], [{"a": "new " * 10_000}])
        cause = "no space is left on its disk" if refusal == "disk full" else "its file system is read-only"
        assert str(refused.value).startswith(f"cannot write {folder / 't.csv'}: {cause}; the file was left as it was")
        assert (folder / "t.csv").read_text(encoding="utf-8") == "a\nold\n"
        assert not list(folder.glob(".t.csv.*"))  # no temporary file left
