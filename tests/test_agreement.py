"""Percent agreement and Cohen's kappa (review.agreement), on hand-computed cases and their laws."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from review.agreement import cohen_kappa, percent_agreement, summary

labels = st.sampled_from(["include", "exclude", "maybe"])
ratings = st.lists(st.tuples(labels, labels), min_size=1, max_size=60)


@pytest.mark.parametrize(("pairs", "kappa"), [
    # hand-computed: po = 0.8; pe = 0.6*0.6 + 0.4*0.4 = 0.52; kappa = (0.8 - 0.52) / 0.48 = 0.5833
    ([("a", "a")] * 5 + [("b", "b")] * 3 + [("a", "b"), ("b", "a")], 0.5833),
    ([("x", "x"), ("y", "y")], 1.0),
    ([("x", "y"), ("y", "x")], -1.0),
])
def test_cohen_kappa_on_hand_computed_cases(pairs, kappa):
    assert cohen_kappa(pairs) == pytest.approx(kappa, abs=1e-4)


def test_cohen_kappa_is_undefined_without_variation():
    assert cohen_kappa([("x", "x")] * 3) is None
    assert cohen_kappa([]) is None
    assert percent_agreement([]) is None


@given(st.lists(labels, min_size=2, max_size=60).filter(lambda xs: len(set(xs)) > 1))
def test_kappa_of_identical_ratings_is_one(values):
    assert cohen_kappa([(v, v) for v in values]) == pytest.approx(1.0)
    assert percent_agreement([(v, v) for v in values]) == 1.0


@given(ratings)
def test_kappa_does_not_depend_on_which_rater_is_first(pairs):
    swapped = [(b, a) for a, b in pairs]
    k1, k2 = cohen_kappa(pairs), cohen_kappa(swapped)
    assert (k1 is None and k2 is None) or k1 == pytest.approx(k2)


@given(ratings)
def test_kappa_never_exceeds_one_and_agreement_is_a_share(pairs):
    kappa = cohen_kappa(pairs)
    assert kappa is None or -1.0 - 1e-9 <= kappa <= 1.0 + 1e-9
    assert 0.0 <= percent_agreement(pairs) <= 1.0


def test_summary_prints_three_decimals_and_can_take_kappa_from_other_pairs():
    pairs = [("a", "a"), ("a", "b"), ("b", "b"), ("b", "b")]
    assert summary(pairs) == {"items_compared": "4", "agreement": "0.750", "kappa": "0.500"}
    per_code = [(1, 1)] * 3 + [(0, 0)] * 3
    assert summary(pairs, per_code)["kappa"] == "1.000"
