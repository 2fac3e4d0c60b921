"""review.ranking (prioritisation) and review.stopping (when to stop), on small synthetic data."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from review import stopping
from review.cli import main
from review.ranking import Model, Prioritisation, metrics, rank_studies, ranked, simulate

# a small set where inclusions share words: a model that learns at all puts them first
RELEVANT = ["regional health authority planning", "strategic health authority oversight",
            "integrated care board governance", "regional tier accountability", "health authority regional planning"]
OTHER = [f"protein folding assay {k}" for k in range(15)] + [f"solar panel efficiency {k}" for k in range(15)]
TEXTS = RELEVANT + OTHER
LABELS = [1] * len(RELEVANT) + [0] * len(OTHER)


def test_the_order_lists_every_record_once_priors_first_and_is_the_same_for_a_seed():
    order = simulate(TEXTS, LABELS, [0, 5], Model(seed=3))
    assert order[:2] == [0, 5] and sorted(order) == list(range(len(TEXTS)))
    assert order == simulate(TEXTS, LABELS, [0, 5], Model(seed=3))
    # the relevant records come before the rest once the model has both classes
    assert set(order[2:6]) == {1, 2, 3, 4}
    assert metrics(order, LABELS, [0, 5])["last_inclusion"] == 4


def test_ties_are_broken_by_position_and_one_class_gives_no_ranking():
    assert ranked(np.array([0.5, 0.9, 0.5, 0.9]), [3, 2, 1, 0]) == [1, 3, 0, 2]
    model = Model()
    scores = model.scores(model.features(TEXTS), [0, 1], [1, 1])
    assert not scores.any()


def test_metrics_follow_their_definitions():
    labels = [1, 0] + [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]  # priors R1 (in), R2 (out)
    m = metrics(list(range(len(labels))), labels, [0, 1])
    assert m["records"] == 18 and m["inclusions"] == 3
    assert m["last_inclusion"] == 18 and m["wss95"] == pytest.approx((18 - 18) / 18 - 0.05)
    assert m["recall10"] == pytest.approx(2 / 3)  # 10% of 18 rounds to 2 records: both relevant


@pytest.mark.parametrize("screened, total, target", [
    ([1, 1, 0, 1, 0, 0, 0, 0, 0, 0], 40, 0.95),
    ([1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 30, 0.8),
    ([1] * 5 + [0] * 50, 60, 0.95),
])
def test_the_stopping_p_value_is_the_smallest_exact_hypergeometric_tail_over_the_last_k(screened, total, target):
    found, n = sum(screened), len(screened)
    expected = min(
        stopping.exact_p(sum(screened[n - k:]), k, total - (n - k),
                         int(np.floor(found / target + 1)) - (found - sum(screened[n - k:])))
        for k in range(1, n + 1))
    assert stopping.p_missed(screened, total, target) == pytest.approx(expected, abs=1e-12)


def test_a_long_run_without_inclusions_at_the_end_allows_stopping_and_a_short_one_does_not():
    long_run = stopping.estimate([1] * 100 + [0] * 800, total=2000, target=0.95, confidence=0.95)
    assert long_run.safe_to_stop and "screening may stop" in long_run.sentence()
    short_run = stopping.estimate([1] * 20 + [0] * 10, total=1000, target=0.95, confidence=0.95)
    assert not short_run.safe_to_stop and short_run.p > 0.05


def test_review_simulate_writes_every_record_once_in_order(tmp_path, capsys):
    data = tmp_path / "set.csv"
    with open(data, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "abstract", "label_included"])
        writer.writerows([t, "", label] for t, label in zip(TEXTS, LABELS))
    out = tmp_path / "order.csv"
    assert main(["simulate", str(data), "--prior", "R1", "--prior", "R6", "--seed", "7", "--out", str(out)]) == 0
    with open(out, encoding="utf-8") as handle:
        ids = [row["record_id"] for row in csv.DictReader(handle)]
    assert ids[:2] == ["R1", "R6"] and sorted(ids, key=lambda r: int(r[1:])) == [f"R{k}" for k in range(1, 36)]
    printed = capsys.readouterr().out.splitlines()
    assert "WSS@95" in printed[0]
    # the five relevant records come first (two priors, then four); with n of 35 screened, a sixth one missed
    # (recall below 95%) escapes the n - 6 irrelevant records screened since with chance (35 - n) / 29, below
    # 0.05 from n = 34 on; the model retrains (and the test is computed) after every record at this size
    assert ids.index("R5") < 6 and printed[1] == "stop_at=34"
    assert main(["simulate", str(data), "--prior", "R1", "--prior", "R6", "--out", str(out), "--stop-recall",
                 "0.8"]) == 0
    # floor(5 / 0.8 + 1) = 7: two missed, escaping with chance (35 - n)(34 - n) / (29 * 28), below 0.05 from n = 29
    assert capsys.readouterr().out.splitlines()[1] == "stop_at=29"
    assert main(["simulate", str(data), "--prior", "R1", "--prior", "R6", "--out", str(out), "--stop-confidence",
                 "1.5"]) == 2
    # priors of one class, or a row that does not exist, are one clear error
    assert main(["simulate", str(data), "--prior", "R1", "--prior", "R2", "--out", str(out)]) == 2
    assert main(["simulate", str(data), "--prior", "R1", "--prior", "R99", "--out", str(out)]) == 2
    assert "expected R<row> with a row from 1 to 35" in capsys.readouterr().err


def test_rank_studies_gives_every_record_a_rank_once_both_kinds_are_known_and_is_deterministic():
    model = Model(seed=4)
    assert rank_studies(TEXTS, {0: 1, 1: 1}, model) == {}  # one kind of decision only: no ranking
    ranks = rank_studies(TEXTS, {0: 1, 5: 0}, model)
    assert sorted(r for r, _ in ranks.values()) == list(range(1, len(TEXTS) + 1))
    assert ranks == rank_studies(TEXTS, {0: 1, 5: 0}, model)
    best = sorted(ranks, key=lambda i: ranks[i][0])[:len(RELEVANT)]
    assert set(best) == set(range(len(RELEVANT)))  # the relevant texts first
    scores = [ranks[i][1] for i in sorted(ranks, key=lambda i: ranks[i][0])]
    assert scores == sorted(scores, reverse=True)


def test_new_decisions_join_the_order_in_the_order_their_rows_were_shown():
    logged = ["a", "b"]
    assert stopping.extend_order(logged, ["b", "z", "c", "d", "a", "e"], {"c": 7, "d": 2, "e": 2}) == ["d", "e", "c", "z"]
    assert stopping.extend_order(logged, ["a", "b"], {}) == []


def test_the_protocol_names_the_seed_targets_and_the_stop():
    plan = Prioritisation.from_config({"prioritisation": {"seed": 7, "target_recall": 0.9, "confidence": 0.99,
                                                          "stopped": {"date": "2026-11-20", "note": "budget"}}})
    assert (plan.model.seed, plan.target, plan.confidence, plan.stopped, plan.note) == (7, 0.9, 0.99, "2026-11-20",
                                                                                         "budget")
    default = Prioritisation.from_config({})
    assert default.enabled and default.stopped == "" and "seed 0" in default.model.describe()


def test_the_model_reads_each_title_as_many_times_as_it_says():
    assert Model(titles=1).document("Regional boards", "An abstract.") == "Regional boards An abstract."
    assert Model(titles=3).document("Regional boards", "") == "Regional boards Regional boards Regional boards "
    assert "title (counted 3 times)" in Model(titles=3).describe() and "TF-IDF of title and" in Model(titles=1).describe()
