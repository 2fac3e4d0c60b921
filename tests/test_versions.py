"""The version that last refreshed a review, kept in its state: recorded, an older one refused, a newer said."""

from __future__ import annotations

import pytest

from review import versions
from review.errors import ReviewError


@pytest.fixture
def config(tmp_path):
    return {"extraction": {"folder": str(tmp_path / "extracts")}}


def test_the_first_refresh_records_its_version_and_the_same_version_says_nothing(config, tmp_path):
    assert versions.check(config, "0.3.0") is None and versions.recorded(config) is None
    versions.record(config, "0.3.0")
    path = tmp_path / "extracts/.state/tool.json"
    assert versions.recorded(config) == "0.3.0"
    before = path.stat()
    versions.record(config, "0.3.0")  # unchanged: not written again
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == (before.st_mtime_ns, before.st_ino)
    assert versions.check(config, "0.3.0") is None


def test_an_older_version_than_the_last_refresh_stops_and_a_newer_one_says_so(config):
    versions.record(config, "0.10.0")
    with pytest.raises(ReviewError, match=r"last refreshed by review 0\.10\.0, newer than the installed 0\.9\.1; "
                                          r"upgrade the package"):
        versions.check(config, "0.9.1")
    assert versions.check(config, "0.11.0") == ("review 0.11.0 refreshes a review last refreshed by review 0.10.0: "
                                                "every stage reruns once")
    versions.record(config, "0.11.0")
    assert versions.recorded(config) == "0.11.0"


def test_the_state_is_found_before_the_protocol_is_validated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    versions.record({"extraction": "not a mapping"}, "2.0")  # a protocol this version cannot validate yet
    assert (tmp_path / "extracts/.state/tool.json").exists()
    with pytest.raises(ReviewError, match="last refreshed by review 2.0"):
        versions.check({"extraction": {"folder": 5}}, "1.0")
