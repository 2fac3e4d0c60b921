"""Agreement between two raters: percent agreement and Cohen's kappa.

Pure functions of label pairs, used alike for screening decisions and extraction values, so both
stages report agreement computed the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence

Pair = tuple[Hashable, Hashable]


def percent_agreement(pairs: Sequence[Pair]) -> float | None:
    """Share of items on which the two raters gave the same label (``None`` for no items)."""
    if not pairs:
        return None
    return sum(a == b for a, b in pairs) / len(pairs)


def cohen_kappa(pairs: Sequence[Pair]) -> float | None:
    """Cohen's kappa for two raters' labels (``None`` when undefined: no items, or one label only)."""
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(a == b for a, b in pairs) / n
    counts_a = Counter(a for a, _ in pairs)
    counts_b = Counter(b for _, b in pairs)
    expected = sum(counts_a[k] * counts_b.get(k, 0) for k in counts_a) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def summary(pairs: Sequence[Pair], kappa_pairs: Sequence[Pair] | None = None) -> dict[str, str]:
    """``items_compared``, ``agreement`` and ``kappa`` as the agreement tables print them (3 decimals).

    ``kappa_pairs`` replaces ``pairs`` for kappa alone: multiple-choice fields compare whole answers
    for agreement but each code chosen-or-not for kappa."""
    kappa = cohen_kappa(pairs if kappa_pairs is None else kappa_pairs)
    share = percent_agreement(pairs)
    return {"items_compared": str(len(pairs)), "agreement": "" if share is None else f"{share:.3f}",
            "kappa": "" if kappa is None else f"{kappa:.3f}"}
