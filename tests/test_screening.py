"""Screening decisions (review.screening and its stage): tags, workbooks, groups, conflicts, consensus."""

from __future__ import annotations

import csv

import pytest
from conftest import SCREENING_CONFIG, outputs_in
from openpyxl import load_workbook
from openpyxl.styles import Protection

from review import screening
from review.errors import ReviewError
from review.fileio import write_csv
from review.model import RECORD_COLUMNS
from review.stages import screening as screening_stage

CONFIG = SCREENING_CONFIG


@pytest.fixture
def settings_(tmp_path):
    return screening.Settings.from_config({**CONFIG, "extraction": {"folder": str(tmp_path / "extracts")}})


@pytest.mark.parametrize(("tag", "parsed"), [
    ("screen:include", ("title_abstract", "include", "")),
    ("screen:exclude:not-tier", ("title_abstract", "exclude", "not-tier")),
    ("Screen:Exclude:NOT-TIER", ("title_abstract", "exclude", "not-tier")),
    ("fulltext:not-retrieved", ("full_text", "not-retrieved", "")),
    ("screen:maybe", ("title_abstract", "maybe", "")),
    ("tier-sha", None),
])
def test_parse_tag(tag, parsed, settings_):
    assert screening.parse_tag(tag, settings_) == parsed


def test_bad_screening_tags_are_explained(settings_):
    assert screening.parse_tag("screen:exclude", settings_)[1] is None
    stage, decision, why = screening.parse_tag("screen:exclude:not-teir", settings_)
    assert decision is None and "did you mean 'not-tier'" in why
    assert "not one of" in screening.parse_tag("screen:not-retrieved", settings_)[2]  # only at full text


def decision(study, stage, value, reviewer, reason=""):
    return screening.Decision(study, stage, value, reason, reviewer, "test")


TA, FT = screening.TA, screening.FT


def test_resolution_rules():
    assert screening.resolve([]).basis == "awaiting"
    assert screening.resolve([decision("s", TA, "maybe", "alice")]).basis == "awaiting"
    agreed = screening.resolve([decision("s", TA, "exclude", "alice", "opinion"),
                                decision("s", TA, "exclude", "bob", "opinion")])
    assert (agreed.decision, agreed.reason, agreed.basis) == ("exclude", "opinion", "agreed")
    clash = [decision("s", TA, "include", "alice"), decision("s", TA, "exclude", "bob", "opinion")]
    assert screening.resolve(clash).decision == "conflict"
    settled = screening.resolve(clash + [decision("s", TA, "include", "consensus")])
    assert (settled.decision, settled.basis) == ("include", "consensus")


def test_full_text_counts_only_after_title_abstract_inclusion():
    decisions = [decision("a", TA, "include", "alice"), decision("a", FT, "exclude", "alice", "not-tier"),
                 decision("b", TA, "exclude", "alice", "opinion"), decision("b", FT, "include", "alice"),
                 decision("c", TA, "include", "alice")]
    table, conflicts = screening.screen(["a", "b", "c"], decisions)
    assert {r["study_id"]: r["status"] for r in table} == {
        "a": "excluded at full text", "b": "excluded at title/abstract", "c": "awaiting full text"}
    assert conflicts == []


def write_inputs(tmp_path, tags_by_record, groups):
    records = [{c: "" for c in RECORD_COLUMNS} | {"record_id": rid, "tags": "; ".join(tags), "title": f"T {rid}"}
               for rid, tags in tags_by_record.items()]
    write_csv(tmp_path / "records.csv", RECORD_COLUMNS, records)
    write_csv(tmp_path / "groups.csv", ["record_id", "study_id"], [{"record_id": r, "study_id": g} for r, g in groups.items()])
    unique = sorted(set(groups.values()))
    write_csv(tmp_path / "unique.csv", [*RECORD_COLUMNS, "study_id", "record_ids", "n_records"],
              [{"study_id": g, "title": f"Title of {g}: integrated care", "authors": "Smith, Ann", "year": "2020",
                "n_records": str(sum(v == g for v in groups.values()))} for g in unique])


def run(tmp_path):
    config = {**CONFIG, "extraction": {"folder": str(tmp_path / "extracts")}}
    inputs = {"records": tmp_path / "records.csv", "groups": tmp_path / "groups.csv", "unique": tmp_path / "unique.csv"}
    return screening_stage.run(config, inputs, outputs_in(screening_stage, tmp_path / "out"))


def rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_decision_on_any_copy_counts_for_the_study_and_contradicting_copies_conflict(tmp_path):
    write_inputs(tmp_path, {"z:1": ["screen:include"], "h:1": [], "z:2": ["screen:include"],
                            "h:2": ["screen:exclude:opinion"]},
                 {"z:1": "g1", "h:1": "g1", "z:2": "g2", "h:2": "g2"})
    outcome = run(tmp_path)
    status = {r["study_id"]: r["ta_decision"] for r in outcome.table}
    assert status == {"g1": "include", "g2": "conflict"}
    assert [c["study_id"] for c in outcome.conflicts] == ["g2"]
    consensus = load_workbook(tmp_path / "extracts/screening-consensus.xlsx")["title-abstract"]
    assert [c.value for c in consensus["A"][1:]] == ["g2"]  # the conflict goes to the team


def test_workbook_round_trip_with_dual_screening_and_kappa(tmp_path):
    write_inputs(tmp_path, {f"r:{k}": [] for k in range(4)}, {f"r:{k}": f"g{k}" for k in range(4)})
    run(tmp_path)
    answers = {"alice": ["include", "include", "exclude", "exclude"], "bob": ["include", "exclude", "exclude", "exclude"]}
    for reviewer, values in answers.items():
        path = tmp_path / f"extracts/screening-{reviewer}.xlsx"
        wb = load_workbook(path)
        ws = wb["title-abstract"]
        assert ws.protection.sheet and ws.conditional_formatting  # key terms highlighted
        # on the protected sheet the reviewer's cells of every appended row are open, the study's locked
        assert not any(ws.cell(row=r, column=c).protection.locked for r in range(2, 6) for c in (7, 8, 9))
        assert all(ws.cell(row=r, column=4).protection.locked for r in range(2, 6))
        for row, value in zip(range(2, 6), values):
            ws.cell(row=row, column=7, value=value)
            if value == "exclude":
                ws.cell(row=row, column=8, value="not-tier")
        wb.save(path)

    outcome = run(tmp_path)

    agreement = rows(tmp_path / "out/agreement.csv")[0]
    # hand-computed: po = 3/4; alice include 2/4, bob include 1/4; pe = .5*.25 + .5*.75 = .5; kappa = .5
    assert (agreement["items_compared"], agreement["agreement"], agreement["kappa"]) == ("4", "0.750", "0.500")
    assert [c["study_id"] for c in outcome.conflicts] == ["g1"]
    full_text = load_workbook(tmp_path / "extracts/screening-alice.xlsx")["full-text"]
    assert [c.value for c in full_text["A"][1:]] == ["g0"]  # only the agreed inclusion reaches full text


def test_bad_workbook_values_are_reported_with_row(tmp_path):
    write_inputs(tmp_path, {"r:1": [], "r:2": []}, {"r:1": "g1", "r:2": "g2"})
    run(tmp_path)
    path = tmp_path / "extracts/screening-alice.xlsx"
    wb = load_workbook(path)
    ws = wb["title-abstract"]
    ws.cell(row=2, column=7, value="yes please")
    ws.cell(row=3, column=7, value="exclude")
    wb.save(path)
    problems = {(p.code, p.row, p.column) for p in run(tmp_path).problems}
    assert problems == {("not-a-decision", "2", "decision"), ("missing-reason", "3", "reason")}


def test_a_second_decision_column_is_reported_and_what_it_holds_is_read(tmp_path):
    write_inputs(tmp_path, {"r:1": [], "r:2": []}, {"r:1": "g1", "r:2": "g2"})
    run(tmp_path)
    path = tmp_path / "extracts/screening-alice.xlsx"
    wb = load_workbook(path)
    ws = wb["title-abstract"]
    ws.cell(row=1, column=ws.max_column + 1, value="decision")  # a reviewer's own column, headed like the pipeline's
    ws.cell(row=2, column=ws.max_column, value="include")
    wb.save(path)
    outcome = run(tmp_path)
    assert {(p.code, p.sheet, p.column) for p in outcome.problems} == {("duplicate-column", "title-abstract", "decision")}
    assert {r["study_id"]: r["ta_decision"] for r in outcome.table}["g1"] != "awaiting"


def test_attack_control_characters_in_a_title_never_stop_the_screening_workbook(tmp_path):
    write_inputs(tmp_path, {"r:1": [], "r:2": []}, {"r:1": "g1", "r:2": "g2"})
    unique = rows(tmp_path / "unique.csv")
    unique[0]["title"] = "A ti\x00tle\x1b[31m with escapes"
    write_csv(tmp_path / "unique.csv", list(unique[0]), unique)
    run(tmp_path)  # openpyxl raised IllegalCharacterError on the NUL, at every refresh
    ws = load_workbook(tmp_path / "extracts/screening-alice.xlsx")["title-abstract"]
    titles = [c.value for c in ws[ws.min_row + 1]] + [c.value for c in ws[ws.min_row + 2]]
    assert "A title[31m with escapes" in titles


def test_the_reason_dropdown_shows_labels_and_a_label_or_code_reads_as_the_code(tmp_path):
    write_inputs(tmp_path, {"r:1": [], "r:2": [], "r:3": []}, {"r:1": "g1", "r:2": "g2", "r:3": "g3"})
    run(tmp_path)
    path = tmp_path / "extracts/screening-alice.xlsx"
    wb = load_workbook(path)
    assert [c.value for (c,) in wb["lists"]["A1:A2"]] == ["Not about an intermediate tier", "Opinion, without substance"]
    ws = wb["title-abstract"]
    header = {c.value: c.column for c in ws[1]}
    for row, reason in ((2, "Not about an intermediate tier"), (3, " OPINION "), (4, "Opinon")):
        ws.cell(row=row, column=header["decision"], value="exclude")
        ws.cell(row=row, column=header["reason"], value=reason)
    wb.save(path)
    outcome = run(tmp_path)
    decisions = {d["study_id"]: d["reason"] for d in rows(tmp_path / "out/decisions.csv") if d["reviewer"] == "alice"}
    assert decisions == {"g1": "not-tier", "g2": "opinion"}
    assert [(p.code, p.row, p.value, p.hint) for p in outcome.problems] == [
        ("unknown-reason", "4", "opinon", "did you mean 'opinion'?")]


# --- prioritisation: ranked rows, the order decisions were made in, stopping -------------------------------

RELEVANT = ["Regional health authority governance and accountability", "Strategic health authority oversight of "
            "regional planning", "Integrated care board governance and regional accountability"]
OTHER = ["Protein folding in yeast cells", "Solar panel efficiency in deserts", "Bird migration over the Alps",
         "Soil bacteria and crop yields", "Deep sea vents and their fauna"]


def write_titled(tmp_path, titles, tags):
    """Studies s0, s1, ... titled ``titles``, one record each, with the Zotero tags ``tags`` ({study: tag})."""
    studies = [f"s{k}" for k in range(len(titles))]
    write_csv(tmp_path / "records.csv", RECORD_COLUMNS,
              [{c: "" for c in RECORD_COLUMNS} | {"record_id": f"r:{s}", "tags": tags.get(s, ""), "title": t}
               for s, t in zip(studies, titles)])
    write_csv(tmp_path / "groups.csv", ["record_id", "study_id"], [{"record_id": f"r:{s}", "study_id": s}
                                                                   for s in studies])
    write_csv(tmp_path / "unique.csv", [*RECORD_COLUMNS, "study_id", "record_ids", "n_records"],
              [{"study_id": s, "title": t, "authors": "Smith, Ann", "year": "2020", "n_records": "1"}
               for s, t in zip(studies, titles)])


def run_with(tmp_path, **prioritisation):
    config = {**CONFIG, "reviewers": ["alice"], "extraction": {"folder": str(tmp_path / "extracts")},
              "screening": {**CONFIG["screening"], "prioritisation": prioritisation}}
    inputs = {"records": tmp_path / "records.csv", "groups": tmp_path / "groups.csv", "unique": tmp_path / "unique.csv"}
    return screening_stage.run(config, inputs, outputs_in(screening_stage, tmp_path / "out"))


def sheet_rows(path):
    ws = load_workbook(path)["title-abstract"]
    header = [c.value for c in ws[1]]
    return header, {row[0].row: [c.value for c in row] for row in ws.iter_rows(min_row=2) if row[0].value}


def test_untyped_rows_follow_the_ranking_and_typed_rows_never_move(tmp_path):
    # s0 (relevant) included and s3 (other) excluded by tags: enough for a ranking at the first refresh
    titles = [RELEVANT[0], OTHER[0], RELEVANT[1], OTHER[1], OTHER[2], OTHER[3]]
    write_titled(tmp_path, titles, {"s0": "screen:include", "s1": "screen:exclude:opinion"})
    run_with(tmp_path, seed=1)
    path = tmp_path / "extracts/screening-alice.xlsx"
    header, before = sheet_rows(path)
    assert header[-2:] == ["rank", "score"]
    ranking = {r["study_id"]: int(r["rank"]) for r in rows(tmp_path / "out/ranking.csv")}
    shown = [row[0] for _, row in sorted(before.items())]
    assert shown == sorted(ranking, key=ranking.get)  # every row nobody typed in, in rank order
    assert shown[:2] == ["s0", "s2"]  # the relevant titles first

    # alice decides the third row and flags the fifth in a column of her own; a new relevant study arrives
    wb = load_workbook(path)
    ws = wb["title-abstract"]
    col = {c.value: c.column for c in ws[1]}
    ws.cell(row=4, column=col["decision"], value="exclude")
    ws.cell(row=4, column=col["reason"], value="opinion")
    ws.cell(row=1, column=len(header) + 1, value="my flag")
    ws.cell(row=6, column=len(header) + 1, value="ask Bob")
    wb.save(path)
    decided, flagged = before[4], before[6]
    write_titled(tmp_path, [*titles, RELEVANT[2]], {"s0": "screen:include", "s1": "screen:exclude:opinion"})
    run_with(tmp_path, seed=1)

    _, after = sheet_rows(path)
    assert after[4][:len(header)] == decided[:col["decision"] - 1] + ["exclude", "opinion", None] + decided[-2:]
    assert after[6][:len(header)] == flagged and after[6][-1] == "ask Bob"  # typed rows: cell for cell
    ids = [row[0] for row in after.values()]
    assert sorted(ids) == [f"s{k}" for k in range(7)]  # each study once, the new one added
    ranking = {r["study_id"]: int(r["rank"]) for r in rows(tmp_path / "out/ranking.csv")}
    free = [after[n][0] for n in sorted(after) if n not in (4, 6)]
    assert free == sorted(free, key=ranking.get)  # the rest re-sorted around them, the new study among them
    relevant = [s for s in free if s in ("s0", "s2", "s6")]
    assert "s6" in relevant and free[:len(relevant)] == relevant  # the new relevant study among the first
    # the decision is logged with the rank its row showed when it was decided
    logged = rows(tmp_path / "extracts/screening-order.csv")
    assert [r["study_id"] for r in logged][-1] == decided[0]
    assert logged[-1]["rank_shown"] == str(decided[-2])
    assert [r["position"] for r in logged] == [str(k) for k in range(1, len(logged) + 1)]
    # the row added below the last is dressed as the others: the reviewer's cells open, the study's locked
    ws = load_workbook(path)["title-abstract"]
    last = max(after)
    assert not ws.cell(row=last, column=col["decision"]).protection.locked
    assert ws.cell(row=last, column=col["title"]).protection.locked


def test_a_refresh_with_nothing_new_leaves_the_workbook_byte_for_byte(tmp_path):
    write_titled(tmp_path, [RELEVANT[0], OTHER[0], RELEVANT[1], OTHER[1]],
                 {"s0": "screen:include", "s1": "screen:exclude:opinion"})
    run_with(tmp_path)
    path = tmp_path / "extracts/screening-alice.xlsx"
    first = path.read_bytes()
    run_with(tmp_path)
    assert path.read_bytes() == first
    guide = [c.value for c in load_workbook(path)["instructions"]["A"] if c.value]
    when = [line for line in guide if line.startswith("When to stop: ")]
    # the estimate in plain words: how many more relevant studies may remain, with what confidence
    assert len(when) == 1 and "records not yet screened" in when[0]
    assert "confidence, at most" in when[0] or "may still be relevant" in when[0]  # the bound, or that it is all of them
    assert any("seed 0" in line for line in guide)


def test_the_features_are_kept_and_reused_only_for_the_same_texts(tmp_path):
    titles = [RELEVANT[0], OTHER[0], RELEVANT[1], OTHER[1], OTHER[2]]
    write_titled(tmp_path, titles, {"s0": "screen:include", "s1": "screen:exclude:opinion"})
    run_with(tmp_path)
    cache = tmp_path / "out" / screening_stage.FEATURES
    first = rows(tmp_path / "out/ranking.csv")
    kept, written = cache.read_bytes(), cache.stat().st_ino  # a file written again (atomically) is a new inode
    # a decision changed, the texts not: the kept matrix is reused (and the ranking is what a fresh one gives)
    write_titled(tmp_path, titles, {"s0": "screen:include", "s1": "screen:exclude:opinion", "s3": "screen:exclude:opinion"})
    run_with(tmp_path)
    assert cache.stat().st_ino == written
    reused = rows(tmp_path / "out/ranking.csv")
    cache.unlink()
    run_with(tmp_path)
    assert rows(tmp_path / "out/ranking.csv") == reused != first
    # a new study changes the texts: computed again; a damaged cache is computed again, not an error
    write_titled(tmp_path, [*titles, RELEVANT[2]], {"s0": "screen:include", "s1": "screen:exclude:opinion"})
    run_with(tmp_path)
    assert cache.read_bytes() != kept and len(rows(tmp_path / "out/ranking.csv")) == 6
    cache.write_bytes(b"not a matrix")
    run_with(tmp_path)
    assert cache.read_bytes() != b"not a matrix" and len(rows(tmp_path / "out/ranking.csv")) == 6


def test_without_both_kinds_of_decision_rows_are_appended_in_study_order(tmp_path):
    write_titled(tmp_path, [OTHER[0], RELEVANT[0], OTHER[1]], {"s1": "screen:include"})
    outcome = run_with(tmp_path)
    _, shown = sheet_rows(tmp_path / "extracts/screening-alice.xlsx")
    assert [row[0] for row in shown.values()] == ["s0", "s1", "s2"]
    assert rows(tmp_path / "out/ranking.csv") == []
    assert outcome.table  # the rest of the stage ran as before


def test_stopping_marks_the_unscreened_for_prisma_and_warns_when_the_test_does_not_support_it(tmp_path):
    titles = [RELEVANT[0], OTHER[0], RELEVANT[1], OTHER[1], OTHER[2], OTHER[3]]
    write_titled(tmp_path, titles, {"s0": "screen:include", "s1": "screen:exclude:opinion", "s4": "screen:maybe"})
    outcome = run_with(tmp_path, stopped={"date": "2026-11-20", "note": "time ran out"})
    status = {r["study_id"]: r["status"] for r in outcome.table}
    # s4 was looked at (maybe): awaiting, not the automation tool's
    assert status == {"s0": "awaiting full text", "s1": "excluded at title/abstract", "s2": screening.STOPPED,
                      "s3": screening.STOPPED, "s4": "awaiting screening", "s5": screening.STOPPED}
    summary = {r["measure"]: r["value"] for r in rows(tmp_path / "out/prioritisation.csv")}
    assert (summary["not_screened"], summary["stopped_on"], summary["safe_to_stop"]) == ("3", "2026-11-20", "no")
    [warning] = [p for p in outcome.problems if p.code == "stopped-before-target"]
    assert warning.value == "2026-11-20" and "p = " in warning.hint
    guide = [c.value for c in load_workbook(tmp_path / "extracts/screening-alice.xlsx")["instructions"]["A"]
             if c.value]
    assert any("stopped on 2026-11-20: time ran out" in line and "The 3 studies" in line for line in guide)


def test_a_damaged_order_log_stops_the_stage_and_is_left_alone(tmp_path):
    write_titled(tmp_path, [RELEVANT[0], OTHER[0]], {"s0": "screen:include", "s1": "screen:exclude:opinion"})
    (tmp_path / "extracts").mkdir()
    log = tmp_path / "extracts/screening-order.csv"
    log.write_text("position,study_id,rank_shown\n1,s0,\n3,s1,\n", encoding="utf-8")
    with pytest.raises(ReviewError, match="line 3.*does not continue the order"):
        run_with(tmp_path)
    assert log.read_text(encoding="utf-8") == "position,study_id,rank_shown\n1,s0,\n3,s1,\n"


def test_prioritisation_off_gives_no_ranking_columns(tmp_path):
    write_titled(tmp_path, [RELEVANT[0], OTHER[0]], {"s0": "screen:include", "s1": "screen:exclude:opinion"})
    run_with(tmp_path, enabled=False)
    header, _ = sheet_rows(tmp_path / "extracts/screening-alice.xlsx")
    assert "rank" not in header and not (tmp_path / "extracts/screening-order.csv").exists()


def test_rows_appended_locked_by_an_older_version_are_opened_for_typing(tmp_path):
    write_inputs(tmp_path, {"r:1": [], "r:2": []}, {"r:1": "g1", "r:2": "g2"})
    run(tmp_path)
    path = tmp_path / "extracts/screening-alice.xlsx"
    wb = load_workbook(path)
    ws = wb["title-abstract"]
    for row in (2, 3):
        for column in (7, 8, 9):
            ws.cell(row=row, column=column).protection = Protection(locked=True)
    ws.cell(row=2, column=9, value="seen")
    wb.save(path)
    run(tmp_path)
    ws = load_workbook(path)["title-abstract"]
    assert not any(ws.cell(row=r, column=c).protection.locked for r in (2, 3) for c in (7, 8, 9))
    assert ws.cell(row=2, column=9).value == "seen" and ws.cell(row=2, column=4).protection.locked


def test_the_records_screened_by_one_reviewer_are_counted_apart_from_an_open_conflict():
    from review.screening import TA, Decision, agreement, screen

    decisions = [Decision("g1", TA, "include", "", "alice", "a.xlsx row 2"),
                 Decision("g1", TA, "include", "", "bob", "b.xlsx row 2"),
                 Decision("g2", TA, "include", "", "alice", "a.xlsx row 3"),
                 Decision("g2", TA, "exclude", "not-tier", "bob", "b.xlsx row 3"),  # open conflict: compared, undecided
                 Decision("g3", TA, "exclude", "not-tier", "alice", "a.xlsx row 4"),
                 Decision("g4", TA, "include", "", "bob", "b.xlsx row 5")]
    table, _ = screen(["g1", "g2", "g3", "g4"], decisions)
    row = agreement(decisions, table)[0]
    assert (row["items_compared"], row["screened_by_one"]) == ("2", "2")  # decided 3 - compared 2 would say 1
    assert agreement(decisions)[0]["screened_by_one"] == ""  # not known without the resolved table
