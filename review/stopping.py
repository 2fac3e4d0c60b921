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


def p_missed(screened: Sequence[int], total: int, target: float = 0.95) -> float:
    """p-value of "recall is below ``target``", from the decisions in the order screened (1 included, 0 not)
    and the number of records in all (``total``, screened or not)."""
    labels = np.asarray(screened, dtype=int)
    n, found = len(labels), int(labels.sum())
    if n == 0:
        return 1.0
    from scipy.stats import hypergeom  # here, not above: 0.6 s to import, and a review's first run decides nothing

    sizes = np.arange(1, n + 1)  # the sample: the last k records screened
    in_sample = np.cumsum(labels[::-1])
    population = total - (n - sizes)  # the sample plus every record never screened
    needed = np.floor(found / target + 1) - (found - in_sample)  # relevant records there under the null
    p = np.where(needed > population, 0.0, hypergeom.cdf(in_sample, population, np.minimum(needed, population), sizes))
    return float(np.nanmin(p))


@dataclass(frozen=True)
class Estimate:
    screened: int
    total: int
    found: int
    target: float
    confidence: float
    p: float

    @property
    def safe_to_stop(self) -> bool:
        return self.p < 1 - self.confidence

    def sentence(self) -> str:
        p = "p < 0.001" if self.p < 0.001 else f"p = {self.p:.3f}"
        if self.safe_to_stop:
            return (f"At least {self.target:.0%} of the relevant records have been found, with {self.confidence:.0%} "
                    f"confidence ({p}): screening may stop.")
        return (f"It is not yet shown with {self.confidence:.0%} confidence that {self.target:.0%} of the relevant "
                f"records have been found ({p}): keep screening from the top.")


def estimate(screened: Sequence[int], total: int, target: float = 0.95, confidence: float = 0.95) -> Estimate:
    labels = list(screened)
    return Estimate(len(labels), total, int(sum(labels)), target, confidence, p_missed(labels, total, target))


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
