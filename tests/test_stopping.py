"""review.stopping: where the stopping rule first says stop, the most relevant records that may remain, and the
sentence that states it in the workbooks' instructions and the report's methods."""

from __future__ import annotations

import pytest

from review import stopping

# ten relevant records found first, then only irrelevant ones, out of 220: at n screened, U = 220 - n never
# screened. Under "recall below 95%" one relevant record is missed (floor(10 / 0.95 + 1) = 11); the sample of the
# last n - 10 records (none relevant) misses it with chance U / (n - 10 + U) = U / 210, below 0.05 once U <= 10.
FOUND_FIRST = [1] * 10 + [0] * 210


def test_stop_at_is_the_first_check_where_the_test_says_stop():
    assert stopping.stop_at(FOUND_FIRST, 220, 0.95, 0.95, range(1, 221)) == 210
    assert stopping.stop_at(FOUND_FIRST, 220, 0.95, 0.95, [50, 100, 150, 200, 205, 215, 220]) == 215
    # never said within the checks: the total
    assert stopping.stop_at(FOUND_FIRST, 220, 0.95, 0.95, [50, 100, 200]) == 220
    # a relevant record among the last ones screened puts the stop later
    late = [1] * 9 + [0] * 150 + [1] + [0] * 60
    assert stopping.stop_at(late, 220, 0.95, 0.95, range(1, 221)) > 210


def test_the_most_that_may_remain_agrees_with_the_test():
    at_209, at_210 = FOUND_FIRST[:209], FOUND_FIRST[:210]
    # at 209 screened: one missed record has p = 11 / 210 = 0.052 (not rejected), two have p < 0.003
    assert stopping.most_remaining(at_209, 220, 0.95) == 1
    assert stopping.most_remaining(at_210, 220, 0.95) == 0
    assert not stopping.estimate(at_209, 220).safe_to_stop and stopping.estimate(at_210, 220).safe_to_stop
    assert stopping.most_remaining([], 220, 0.95) == 220 and stopping.most_remaining(FOUND_FIRST, 220, 0.95) == 0
    # more confidence allows more missed records: at 99%, one (p = 0.048) but not two (p = 0.002)
    assert stopping.most_remaining(at_210, 220, 0.99) == 1


@pytest.mark.parametrize("remaining, unscreened, expected", [
    (0, 9, "With 95% confidence, no relevant study remains among the 9 records not yet screened."),
    (1, 10, "With 95% confidence, at most 1 more relevant study remains among the 10 records not yet screened."),
    (12, 1500, "With 95% confidence, at most 12 more relevant studies remain among the 1,500 records not yet screened."),
    (0, 1, "With 95% confidence, no relevant study remains among the 1 record not yet screened."),
    (0, 0, "Every record has been screened, so no relevant study remains unscreened."),
])
def test_the_estimate_in_plain_words(remaining, unscreened, expected):
    assert stopping.remaining_words(remaining, unscreened, 0.95) == expected


def test_the_sentence_says_what_may_remain_and_whether_to_stop():
    go_on = stopping.estimate(FOUND_FIRST[:209], 220).sentence()
    assert go_on.startswith("With 95% confidence, at most 1 more relevant study remains among the 11 records")
    assert go_on.endswith("(p = 0.052): keep screening from the top.")
    stop = stopping.estimate(FOUND_FIRST[:210], 220).sentence()
    assert stop.startswith("With 95% confidence, no relevant study remains among the 10 records not yet screened.")
    assert stop.endswith("(p = 0.048): screening may stop.")


def test_a_bound_as_large_as_what_is_left_is_said_plainly():
    # "at most 3 more among the 3 not yet screened" says nothing: the sentence says any may still be relevant
    assert stopping.remaining_words(3, 3, 0.95) == "Any of the 3 records not yet screened may still be relevant."
    assert stopping.remaining_words(5, 1, 0.95) == "The 1 record not yet screened may still be relevant."
    assert stopping.remaining_words(2, 10, 0.95).startswith("With 95% confidence, at most 2 more")


def test_a_stop_whose_bound_says_nothing_is_said_as_the_worst_case_it_rests_on():
    # 69 relevant among 77 screened of 80 (the sample): even if the 3 left were all relevant, 69 of 72 (95.8%) were
    # found; "So at least 95% ... have been found" after "any may still be relevant" did not follow
    estimate = stopping.Estimate(screened=77, total=80, found=69, target=0.95, confidence=0.95, p=0.0, remaining=3)
    assert estimate.safe_to_stop
    sentence = estimate.sentence()
    assert sentence.startswith("Any of the 3 records not yet screened may still be relevant. Even if all 3 were, "
                               "95.8% of the relevant studies would have been found, at least 95%")
    assert sentence.endswith("screening may stop.") and " So at least" not in sentence
