"""When to stop screening: the hypergeometric test of Callaghan & Müller-Hansen (2020, Systematic Reviews
9:273), implemented from the paper. Pure.

Null hypothesis: fewer than ``target`` of the relevant records have been found. Each run of the last k
records screened is taken as a sample drawn at random from what was unscreened before it (conservative
when the ranking works: the ranking puts relevant records first). Under the null there would be at least
K = floor(found / target + 1) - (found - found_in_sample) relevant records among the sample and the records
never screened; the chance of seeing no more than the sample's relevant records is the hypergeometric
CDF. The smallest p over every k is the p-value: below 1 - confidence, the target is reached with that
confidence.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np


def _tails(screened: Sequence[int], total: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """For every sample (the last k records screened, k = 1..n): its size, its relevant records, the
    population it is taken from (the sample plus every record never screened); and the relevant found."""
    labels = np.asarray(screened, dtype=int)
    n = len(labels)
    sizes = np.arange(1, n + 1)
    return sizes, np.cumsum(labels[::-1]), total - (n - sizes), int(labels.sum())


def _p_remaining(screened: Sequence[int], total: int, remaining: int) -> float:
    """p-value of "at least ``remaining`` relevant records were never screened": the smallest over every
    sample of the chance of seeing no more relevant records in it than were seen."""
    from scipy.stats import hypergeom  # here, not above: 0.6 s to import, and a review's first run decides nothing

    sizes, in_sample, population, _ = _tails(screened, total)
    needed = in_sample + remaining  # relevant records among the sample and the records never screened
    p = np.where(needed > population, 0.0, hypergeom.cdf(in_sample, population, np.minimum(needed, population), sizes))
    return float(np.nanmin(p))


def p_missed(screened: Sequence[int], total: int, target: float = 0.95) -> float:
    """p-value of "recall is below ``target``", from the decisions in the order screened (1 included, 0 not)
    and the number of records in all (``total``, screened or not)."""
    if len(screened) == 0:
        return 1.0
    found = int(np.sum(screened))
    # recall below target means at least K = floor(found / target + 1) relevant records in all
    return _p_remaining(screened, total, int(np.floor(found / target + 1)) - found)


def most_remaining(screened: Sequence[int], total: int, confidence: float = 0.95) -> int:
    """The most relevant records that may remain unscreened at ``confidence``: the largest number m for which
    "at least m remain" is not rejected at 1 - confidence by the same test (its p-value falls as m grows)."""
    unscreened = total - len(screened)
    if unscreened <= 0:
        return 0
    if len(screened) == 0:
        return unscreened
    low, high = 0, unscreened  # "at least 0 remain" is never rejected; find the largest m not rejected
    while low < high:
        m = (low + high + 1) // 2
        if _p_remaining(screened, total, m) >= 1 - confidence:
            low = m
        else:
            high = m - 1
    return low


def stop_at(screened: Sequence[int], total: int, target: float, confidence: float, checks: Iterable[int]) -> int:
    """The number of records screened at the first of ``checks`` (counts of records screened, in increasing
    order: the refreshes) where the test says stop; ``total`` when it never does."""
    for n in checks:
        if p_missed(screened[:n], total, target) < 1 - confidence:
            return n
    return total


def remaining_words(remaining: int, unscreened: int, confidence: float) -> str:
    """How many more relevant studies may remain, with what confidence, in plain words: the one sentence the
    screening workbooks' instructions and the report's methods both give (``Estimate.sentence``)."""
    if unscreened <= 0:
        return "Every record has been screened, so no relevant study remains unscreened."
    # records, as the PRISMA flow counts what is screened (each a study once duplicates are merged)
    among = f"among the {unscreened:,} {'record' if unscreened == 1 else 'records'} not yet screened"
    if remaining == 0:
        return f"With {confidence:.0%} confidence, no relevant study remains {among}."
    if remaining >= unscreened:  # "at most 3 among 3" says nothing: say it plainly
        return ("The 1 record not yet screened may still be relevant." if unscreened == 1 else
                f"Any of the {unscreened:,} records not yet screened may still be relevant.")
    more = "1 more relevant study remains" if remaining == 1 else f"{remaining:,} more relevant studies remain"
    return f"With {confidence:.0%} confidence, at most {more} {among}."


@dataclass(frozen=True)
class Estimate:
    screened: int
    total: int
    found: int
    target: float
    confidence: float
    p: float
    remaining: int  # the most relevant studies that may remain unscreened, at ``confidence``

    @property
    def safe_to_stop(self) -> bool:
        return self.p < 1 - self.confidence

    def sentence(self) -> str:
        p = "p < 0.001" if self.p < 0.001 else f"p = {self.p:.3f}"
        unscreened = self.total - self.screened
        said = remaining_words(self.remaining, unscreened, self.confidence)
        if self.safe_to_stop and 0 < unscreened <= self.remaining:
            # the bound says nothing ("any may be relevant"), yet the test says stop: because even then the target is
            # met; said as that worst case, not as a "so" that does not follow
            worst = self.found / (self.found + unscreened) if self.found + unscreened else 1.0
            return (f"{said} Even if {'it were' if unscreened == 1 else f'all {unscreened:,} were'}, {worst:.1%} of "
                    f"the relevant studies would have been found, at least {self.target:.0%} ({p}): screening may stop.")
        if self.safe_to_stop:
            return f"{said} So at least {self.target:.0%} of the relevant studies have been found ({p}): screening may stop."
        return (f"{said} So it is not yet shown that {self.target:.0%} of the relevant studies have been found ({p}): "
                "keep screening from the top.")


def estimate(screened: Sequence[int], total: int, target: float = 0.95, confidence: float = 0.95) -> Estimate:
    labels = list(screened)
    return Estimate(len(labels), total, int(sum(labels)), target, confidence, p_missed(labels, total, target),
                    most_remaining(labels, total, confidence))


def extend_order(logged: Sequence[str], decided: Iterable[str], presented: Mapping[str, int]) -> list[str]:
    """The studies decided since the order was last logged, in the order they were most likely screened:
    by the rank their row showed when it was decided (rows are presented in rank order), then by id."""
    seen = set(logged)
    new = {s for s in decided if s not in seen}
    return sorted(new, key=lambda s: (s not in presented, presented.get(s, 0), s))


def exact_p(in_sample: int, sample: int, population: int, relevant: int) -> float:
    """P(X <= in_sample) for X hypergeometric, by counting (for tests of ``p_missed``)."""
    if relevant > population:
        return 0.0
    return sum(math.comb(relevant, i) * math.comb(population - relevant, sample - i)
               for i in range(0, in_sample + 1)) / math.comb(population, sample)
