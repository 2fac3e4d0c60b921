"""Zotero sync through real pyzotero against a loopback server speaking the Zotero Web API."""

from __future__ import annotations

import json
import logging

import pytest
from conftest import ZoteroLibrary, ZoteroServer, outputs_in, zotero_protocol

from review.errors import ZoteroError
from review.stages import records
from review.zotero import snapshot_path, state_path, sync_all

REGULAR = {"X7KQ2M9P", "H2SPACE7", "C9ACCT13", "K8YEAR18", "L5PRU019", "W1DEVO16", "R6ORGS22"}


def snapshot(tmp_path):
    return json.loads(snapshot_path(tmp_path, "team").read_text(encoding="utf-8"))


def item_requests(server, route="/items/top"):
    return [r for r in server.library.requests if r["path"].endswith(route)]


def test_full_fetch_pages_through_every_item_and_keeps_only_records(zotero_server, api_env, tmp_path):
    outcomes, problems = sync_all(zotero_protocol(zotero_server), tmp_path, environ=api_env, page_size=3)

    assert problems == []
    assert set(snapshot(tmp_path)["items"]) == REGULAR  # no notes, attachments or trashed items
    starts = [r["query"].get("start", "0") for r in item_requests(zotero_server)]
    assert starts == ["0", "3", "6"]  # followed the Link rel="next" headers to the end
    assert outcomes[0].mode == "full" and outcomes[0].version == zotero_server.library.version
    assert all(r["headers"]["Authorization"] == f"Bearer {api_env['ZOTERO_API_KEY']}"
               for r in zotero_server.library.requests)


def test_refresh_with_no_change_asks_once_and_leaves_the_snapshot_untouched(zotero_server, api_env, tmp_path):
    config = zotero_protocol(zotero_server)
    sync_all(config, tmp_path, environ=api_env)
    snap = snapshot_path(tmp_path, "team")
    before = (snap.read_bytes(), snap.stat().st_mtime_ns)
    zotero_server.library.requests.clear()

    outcomes, _ = sync_all(config, tmp_path, environ=api_env)

    assert outcomes[0].mode == "unchanged" and not outcomes[0].changed
    assert len(zotero_server.library.requests) == 1
    assert zotero_server.library.requests[0]["headers"]["If-Modified-Since-Version"] == str(
        zotero_server.library.version)
    assert (snap.read_bytes(), snap.stat().st_mtime_ns) == before


def test_second_refresh_asks_since_last_version_and_applies_edits_and_deletions(zotero_server, api_env, tmp_path):
    config = zotero_protocol(zotero_server)
    sync_all(config, tmp_path, environ=api_env)
    first_version = zotero_server.library.version
    library = zotero_server.library
    library.edit("H2SPACE7", title="The spatial politics of place and health policy (corrected)")
    library.delete("C9ACCT13")
    library.requests.clear()

    outcomes, _ = sync_all(config, tmp_path, environ=api_env)

    items = snapshot(tmp_path)["items"]
    assert "C9ACCT13" not in items
    assert items["H2SPACE7"]["title"].endswith("(corrected)")
    assert [r["query"]["since"] for r in item_requests(zotero_server)] == [str(first_version)]
    assert [r["query"]["since"] for r in item_requests(zotero_server, "/deleted")] == [str(first_version)]
    assert outcomes[0].mode == "incremental" and outcomes[0].deleted == 1 and outcomes[0].changed
    assert json.loads(state_path(tmp_path, "team").read_text())["version"] == library.version


def test_item_moved_to_trash_leaves_the_snapshot(zotero_server, api_env, tmp_path):
    config = zotero_protocol(zotero_server)
    sync_all(config, tmp_path, environ=api_env)
    zotero_server.library.edit("K8YEAR18", deleted=1)

    sync_all(config, tmp_path, environ=api_env)

    assert "K8YEAR18" not in snapshot(tmp_path)["items"]


def test_full_refetch_when_asked_ignores_the_saved_version(zotero_server, api_env, tmp_path):
    config = zotero_protocol(zotero_server)
    sync_all(config, tmp_path, environ=api_env)
    zotero_server.library.requests.clear()

    outcomes, _ = sync_all({**config, "zotero_full": True}, tmp_path, environ=api_env)

    assert outcomes[0].mode == "full"
    assert all("since" not in r["query"] for r in zotero_server.library.requests)


def test_429_is_retried_after_the_backoff(zotero_server, api_env, tmp_path):
    zotero_server.library.fail("/items/top", "429")
    outcomes, problems = sync_all(zotero_protocol(zotero_server), tmp_path, environ=api_env)

    assert problems == [] and outcomes[0].mode == "full"
    assert len(item_requests(zotero_server)) == 2  # the refused request, then the same one again
    assert set(snapshot(tmp_path)["items"]) == REGULAR


def test_5xx_and_dropped_connections_are_retried_with_growing_waits(zotero_server, api_env, tmp_path):
    zotero_server.library.fail("/items/top", "503")
    zotero_server.library.fail("/items/top", "drop")
    waits = []
    config = zotero_protocol(zotero_server)

    sync_all(config, tmp_path, environ=api_env, sleep=waits.append)

    assert set(snapshot(tmp_path)["items"]) == REGULAR
    assert len(waits) == 2
    assert waits[0] >= 0.1  # the 503's Retry-After is honoured (above the 0.01 s first backoff)
    assert waits[1] == pytest.approx(0.02)  # then exponential: 0.01 * 2


def test_attack_a_200_answer_that_is_not_json_is_retried_then_one_clear_error(zotero_server, api_env, tmp_path):
    zotero_server.library.fail("/items/top", "not-json")
    sync_all(zotero_protocol(zotero_server), tmp_path, environ=api_env, sleep=lambda s: None)
    assert set(snapshot(tmp_path)["items"]) == REGULAR  # once, then the real answer
    zotero_server.library.fail("/items", "not-json", times=20)
    with pytest.raises(ZoteroError, match="not JSON"):
        sync_all(zotero_protocol(zotero_server), tmp_path / "again", environ=api_env, sleep=lambda s: None)


def test_interrupted_fetch_keeps_the_previous_snapshot_and_says_so(zotero_server, api_env, tmp_path, caplog):
    config = zotero_protocol(zotero_server)
    sync_all(config, tmp_path, environ=api_env, page_size=3)
    snap = snapshot_path(tmp_path, "team")
    state = state_path(tmp_path, "team")
    before = (snap.read_bytes(), state.read_bytes())
    library = zotero_server.library
    library.edit("H2SPACE7", title="changed")
    library.edit("K8YEAR18", title="changed too")
    library.edit("L5PRU019", title="and this")
    library.edit("W1DEVO16", title="and that")  # four changed items: two pages of three
    library.fail("/deleted", "drop", times=10)  # the connection drops on every try

    with caplog.at_level(logging.ERROR, logger="review"):
        outcomes, problems = sync_all(config, tmp_path, environ=api_env, sleep=lambda s: None, page_size=3)

    assert outcomes[0].mode == "failed"
    assert [p.code for p in problems] == ["zotero-unavailable"]
    assert "previous snapshot" in caplog.text
    assert (snap.read_bytes(), state.read_bytes()) == before  # nothing half-written


def test_failed_first_fetch_is_a_clear_error(zotero_server, api_env, tmp_path):
    zotero_server.library.fail("/items/top", "drop", times=10)
    with pytest.raises(ZoteroError, match="no earlier snapshot"):
        sync_all(zotero_protocol(zotero_server), tmp_path, environ=api_env, sleep=lambda s: None)
    assert not snapshot_path(tmp_path, "team").exists()


def test_library_changing_during_paging_restarts_the_fetch(zotero_server, api_env, tmp_path):
    library = zotero_server.library
    library.faults.append(("/items/top", "none"))  # a no-op fault: the first page is served normally
    library.faults.append(("/items/top", "bump"))  # someone edits the library before page 2
    sync_all(zotero_protocol(zotero_server), tmp_path, environ=api_env, page_size=3)

    snap = snapshot(tmp_path)
    assert set(snap["items"]) == REGULAR
    first_key = sorted(library.items)[0]
    assert snap["items"][first_key]["extra"] == "edited meanwhile"
    assert json.loads(state_path(tmp_path, "team").read_text())["version"] == library.version


def test_missing_api_key_names_the_variable(zotero_server, tmp_path):
    with pytest.raises(ZoteroError, match="ZOTERO_API_KEY"):
        sync_all(zotero_protocol(zotero_server), tmp_path, environ={})


def test_wrong_api_key_is_reported_as_refused_access(zotero_server, tmp_path):
    with pytest.raises(ZoteroError, match=r"refused access \(403\)"):
        sync_all(zotero_protocol(zotero_server), tmp_path, environ={"ZOTERO_API_KEY": "wrong"})


def test_api_key_never_reaches_logs_or_outputs(zotero_server, api_env, tmp_path, caplog):
    config = zotero_protocol(zotero_server)
    zotero_server.library.fail("/items/top", "503")
    with caplog.at_level(logging.DEBUG):
        sync_all(config, tmp_path, environ=api_env, sleep=lambda s: None)
        records.run(config, {}, outputs_in(records, tmp_path / "records"), results=tmp_path)
    key = api_env["ZOTERO_API_KEY"]
    assert key not in caplog.text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert key not in path.read_text(encoding="utf-8", errors="replace"), path


def test_local_api_takes_a_full_snapshot_and_diffs_it(tmp_path):
    library = ZoteroLibrary(library_id="0", api_key=None)
    with ZoteroServer(library) as server:
        config = zotero_protocol(server, local=True, api_url=f"{server.url}/api")
        sync_all(config, tmp_path, environ={}, page_size=4)
        library.delete("W1DEVO16")
        library.requests.clear()

        outcomes, _ = sync_all(config, tmp_path, environ={}, page_size=4)

    assert outcomes[0].mode == "local" and outcomes[0].deleted == 1
    assert set(snapshot(tmp_path)["items"]) == REGULAR - {"W1DEVO16"}
    assert all(r["path"].startswith("/api/users/0/") for r in library.requests)
    assert not any(r["path"].endswith("/deleted") for r in library.requests)  # the local API has none


def test_collection_with_subcollections_and_tag_filters_select_records(zotero_server, api_env, tmp_path):
    config = zotero_protocol(zotero_server, collection="ICS4TIER")
    sync_all(config, tmp_path, environ=api_env)

    keys = {r.source_key for r in records.build(config, results=tmp_path).records}
    assert keys == {"X7KQ2M9P", "K8YEAR18", "L5PRU019", "R6ORGS22", "H2SPACE7"}  # H2SPACE7 via subcollection

    flat = zotero_protocol(zotero_server, collection="ICS4TIER", include_subcollections=False, tags=["seed"])
    keys = {r.source_key for r in records.build(flat, results=tmp_path).records}
    assert keys == {"K8YEAR18", "L5PRU019"}


def test_zotero_items_map_to_canonical_records(zotero_server, api_env, tmp_path):
    config = zotero_protocol(zotero_server)
    sync_all(config, tmp_path, environ=api_env)
    by_key = {r.source_key: r for r in records.build(config, results=tmp_path).records}

    article = by_key["X7KQ2M9P"]
    assert article.record_id == "team:X7KQ2M9P"
    assert article.zotero_key == "users/4815162:X7KQ2M9P"
    assert (article.item_type, article.year, article.container, article.volume, article.issue, article.pages) == (
        "article-journal", "2023", "BMJ Open", "13", "2", "e065993")
    assert article.doi == "10.1136/bmjopen-2022-065993"
    assert article.collections == ["Intermediate tiers review"]
    assert article.date_added == "2024-01-15T10:12:03Z" and article.version == "101"
    assert by_key["W1DEVO16"].doi == "10.1136/bmj.i1495"  # from the extra field
    assert by_key["R6ORGS22"].creators[0].name == "The King's Fund"
    assert by_key["L5PRU019"].institution.startswith("Policy Research Unit")
    assert by_key["L5PRU019"].creators[3].family == "Osipovič"
    assert by_key["H2SPACE7"].tags == ["tier-stp"]


# --- hostile answers (issue 29): a clear error, the previous snapshot kept, no wait above its cap ----------------

@pytest.mark.parametrize("fault, expected", [
    ("no-key", "it has no key"), ("null-data", "its data is NoneType"),
    ("wrong-type", "field 'title' is dict"), ("not-a-list", "not a list of objects"),
    ("next-self", "a page with nothing new")])
def test_attack_a_broken_answer_is_one_clear_error_and_never_enters_the_snapshot(zotero_server, api_env, tmp_path,
                                                                                   fault, expected):
    config = zotero_protocol(zotero_server)
    with pytest.raises(ZoteroError, match=expected):  # a first sync: nothing to fall back on
        zotero_server.library.fail("/items/top", fault)
        sync_all(config, tmp_path, environ=api_env, page_size=3)
    assert not snapshot_path(tmp_path, "team").exists()
    assert len(item_requests(zotero_server)) <= 2  # a next link to the same page is not followed again
    sync_all(config, tmp_path, environ=api_env)
    before = snapshot_path(tmp_path, "team").read_bytes()
    zotero_server.library.edit("H2SPACE7", title="changed")
    zotero_server.library.fail("/items/top", fault)
    outcomes, problems = sync_all(config, tmp_path, environ=api_env, page_size=3)
    assert outcomes[0].mode == "failed" and [p.code for p in problems] == ["zotero-unavailable"]
    assert expected in problems[0].value
    assert snapshot_path(tmp_path, "team").read_bytes() == before
    sync_all(config, tmp_path, environ=api_env)  # the next run is not stuck on a bad snapshot
    assert snapshot(tmp_path)["items"]["H2SPACE7"]["title"] == "changed"


def test_a_bad_total_results_header_is_only_a_progress_hint(zotero_server, api_env, tmp_path):
    zotero_server.library.fail("/items/top", "bad-total")
    outcomes, problems = sync_all(zotero_protocol(zotero_server), tmp_path, environ=api_env, page_size=3)
    assert problems == [] and set(snapshot(tmp_path)["items"]) == REGULAR


@pytest.mark.parametrize("fault, asked", [("429-hour", "3600"), ("503-day", "86400")])
def test_attack_a_server_asking_for_an_hour_or_a_day_is_not_waited_for(zotero_server, api_env, tmp_path, caplog,
                                                                       fault, asked):
    config = zotero_protocol(zotero_server)
    sync_all(config, tmp_path, environ=api_env)
    zotero_server.library.edit("H2SPACE7", title="changed")
    zotero_server.library.fail("/items/top", fault, times=5)
    waits: list[float] = []
    with caplog.at_level(logging.WARNING, logger="review"):
        outcomes, problems = sync_all(config, tmp_path, environ=api_env, sleep=waits.append)
    assert sum(waits) <= 60 and outcomes[0].mode == "failed"
    assert f"a wait of {asked} s is more than" in problems[0].value and "max_wait_seconds" in problems[0].value
    assert "keeping the previous snapshot" in caplog.text
    assert snapshot(tmp_path)["items"]["H2SPACE7"]["title"] != "changed"


def test_waits_add_up_to_at_most_max_wait_seconds(zotero_server, api_env, tmp_path):
    config = zotero_protocol(zotero_server)
    config["network"] = {"max_retries": 10, "backoff_seconds": 1, "max_backoff_seconds": 8, "max_wait_seconds": 10}
    zotero_server.library.fail("/items/top", "drop", times=20)
    waits: list[float] = []
    with pytest.raises(ZoteroError, match="more than the 3 s left of network.max_wait_seconds"):
        sync_all(config, tmp_path, environ=api_env, sleep=waits.append)
    assert waits == [1, 2, 4]


def test_attack_a_snapshot_with_a_broken_item_fails_its_source_by_name(zotero_server, api_env, tmp_path):
    config = zotero_protocol(zotero_server)
    sync_all(config, tmp_path, environ=api_env)
    snap = snapshot(tmp_path)
    snap["items"]["H2SPACE7"] = None
    snapshot_path(tmp_path, "team").write_text(json.dumps(snap), encoding="utf-8")
    from review.errors import SourceError
    from review.protocol import sources
    with pytest.raises(SourceError, match="item 'H2SPACE7': its data is NoneType"):
        records.read_source(sources(config)[0], tmp_path, tmp_path)
    outcomes, _ = sync_all(config, tmp_path, environ=api_env)  # not carried on: the next sync fetches it all
    assert outcomes[0].mode == "full" and snapshot(tmp_path)["items"]["H2SPACE7"] is not None


@pytest.mark.parametrize("text, expected", [("[1, 2]", "is not a Zotero snapshot"),
                                            ('{"items": ' + "9" * 5000 + "}", "no Zotero snapshot"),
                                            ("[" * 100_000, "no Zotero snapshot")])
def test_attack_a_snapshot_that_is_not_one_fails_its_source_by_name_and_the_next_sync_replaces_it(
        zotero_server, api_env, tmp_path, text, expected):
    from review.errors import SourceError
    from review.protocol import sources

    config = zotero_protocol(zotero_server)
    snapshot_path(tmp_path, "team").parent.mkdir(parents=True)
    snapshot_path(tmp_path, "team").write_text(text, encoding="utf-8")
    with pytest.raises(SourceError, match=expected):
        records.read_source(sources(config)[0], tmp_path, tmp_path)
    outcomes, problems = sync_all(config, tmp_path, environ=api_env)
    assert problems == [] and set(snapshot(tmp_path)["items"]) == REGULAR
