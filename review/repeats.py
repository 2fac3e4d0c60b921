"""What the reviewers' items of a repeatable sub-record add up to (a study x key's lessons, each with its own
audience, stance, quote and page). Pure: ``review.stages.evidence`` reads the sheets and writes the tables.

Two reviewers' items of one study x key are one item when they quote the same passage (or are worded alike):
the quote is the evidence a lesson rests on, so two readers who lean on the same words found the same lesson,
however each paraphrased it. Such an item is printed once, in the words of the first reviewer (by name; the
other wording stays in ``extractions.csv``); its codes agree or are disputed as a row's are. Items that could
not be paired stand each as one reviewer's item, and the study x key goes to the consensus workbook's sheet of
the repeat, whose rows, once written, are that study x key's items and replace the reviewers'.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from .codebook import Codebook, Repeat
from .extraction import CONSENSUS, Row, shown

# an item one reviewer gave while the other reviewer of its study x key gave others, none quoting its passage: it
# stands, but is not agreed (the consensus workbook's question)
NOT_PAIRED = "one reviewer's, not paired with the other reviewer's items"
IN_WORDS = {"agreed": "both reviewers", "single reviewer": "one reviewer", CONSENSUS: "agreed at consensus",
            NOT_PAIRED: "one reviewer's; the other's differ (not yet reconciled)"}


def in_words(basis: str) -> str:
    """What a value's basis means to a reader of the tables ("one item (the same quote); alice's words": both
    reviewers)."""
    return IN_WORDS.get(basis, "both reviewers" if basis.startswith("one item") else basis)


# how alike two quotes (or two wordings) must be to be the same passage: a quote copied with other punctuation,
# an ellipsis or a word more is still the same passage; two passages of one report are not
SAME_PASSAGE = 90
_PUNCT = re.compile(r"[^\w\s]")


def passage(text: Any) -> str:
    """A quote as compared: case, spacing, quotation marks and punctuation do not count."""
    return " ".join(_PUNCT.sub(" ", str(text or "")).split()).casefold()


def same_passage(a: Any, b: Any) -> bool:
    """Whether two quotes (or wordings) are the same passage: alike, or one holds the other (a quote cut short)."""
    x, y = passage(a), passage(b)
    if not x or not y:
        return False
    shorter, longer = sorted((x, y), key=len)
    return (len(shorter) >= 20 and shorter in longer) or fuzz.ratio(x, y) >= SAME_PASSAGE


@dataclass
class Item:
    """One item of a study x key: the rows of the reviewers that gave it (at most one each) and why they were
    taken as one."""

    rows: dict[str, Row] = field(default_factory=dict)
    paired_by: str = ""


def pair(rows_by_reviewer: Mapping[str, Sequence[Row]], by: Sequence[str]) -> list[Item]:
    """The items of one study x key: each reviewer's rows in sheet order, joined to another reviewer's item when
    one of the fields ``by`` holds the same passage in both (the first such field names why); the first
    reviewer's order first."""
    items: list[Item] = []
    for reviewer in sorted(rows_by_reviewer):
        for row in rows_by_reviewer[reviewer]:
            match, why = None, ""
            for item in items:
                if reviewer in item.rows:
                    continue
                why = next((name for name in by for o in item.rows.values()
                            if same_passage(row.values.get(name), o.values.get(name))), "")
                if why:
                    match = item
                    break
            if match is None:
                items.append(Item({reviewer: row}))
            else:
                match.rows[reviewer] = row
                match.paired_by = f"the same {why}"
    return items


@dataclass
class Combined:
    tidy: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    disagreements: list[dict[str, str]]
    disputed: dict[tuple[str, str], list[dict[str, str]]]


def _values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def combine(codebook: Codebook, repeat: Repeat, rows: Iterable[Row], consensus: Iterable[Row]) -> Combined:
    """Reviewers' items -> the items that stand, numbered 1, 2... per study x key (the evidence's ``item``), paired
    by the repeat's ``pair_by`` fields."""
    by_key: dict[tuple[str, str], dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        by_key[row.key(codebook)][row.reviewer].append(row)
    settled: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in consensus:
        settled[row.key(codebook)].append(row)
    out = Combined([], [], [], {})

    def put(key: tuple[str, str], number: int, name: str, value: Any, basis: str) -> None:
        for v in _values(value):
            out.evidence.append({"study_id": key[0], "tier": key[1], "field": name, "value": v, "basis": basis,
                                 "codebook_version": codebook.version, "item": str(number)})

    for key in sorted(set(by_key) | set(settled)):
        reviewers = by_key.get(key, {})
        items = pair(reviewers, repeat.pair_by)
        for number, item in enumerate(items, start=1):
            for name, row in sorted(item.rows.items()):
                for f in repeat.fields:
                    for v in _values(row.values.get(f.name)):
                        out.tidy.append({"study_id": key[0], "tier": key[1], "field": f.name, "value": v,
                                         "reviewer": name, "entry": "typed", "codebook_version": codebook.version,
                                         "item": str(number)})
        # the consensus workbook's items replace the reviewers' for this study x key; what the reviewers disagreed
        # on is still listed, as settled by the consensus (the audit trail), and nothing of theirs stands
        scratch = Combined([], [], [], {}) if settled.get(key) else out
        unpaired = [i for i in items if len(i.rows) == 1]
        if len(reviewers) > 1 and unpaired:
            _not_paired(scratch, key, repeat, reviewers, unpaired)
        alone = "single reviewer" if len(reviewers) == 1 else NOT_PAIRED
        for number, item in enumerate(items, start=1):
            _stand(scratch, key, number, item, repeat, put if scratch is out else lambda *_: None, alone)
        if scratch is not out:
            out.disagreements += [{**d, "resolved_by": CONSENSUS} for d in scratch.disagreements]
            for number, row in enumerate(settled[key], start=1):
                for f in repeat.fields:
                    put(key, number, f.name, row.values.get(f.name), CONSENSUS)
    return out


def _stand(out: Combined, key: tuple[str, str], number: int, item: Item, repeat: Repeat, put: Any, alone: str) -> None:
    """An item's values that stand: agreed, one reviewer's (``alone``: the basis of an item only one reviewer gave),
    the first reviewer's words; a code two reviewers gave differently is left out and disputed."""
    names = sorted(item.rows)
    for f in repeat.fields:
        given = {name: item.rows[name].values.get(f.name) for name in names}
        present = {name: v for name, v in given.items() if v is not None}
        if not present:
            continue
        distinct = {shown(v) for v in present.values()}
        if len(names) == 1:
            put(key, number, f.name, next(iter(present.values())), alone)
        elif len(distinct) == 1:
            put(key, number, f.name, next(iter(present.values())),
                "agreed" if len(present) > 1 else f"one item ({item.paired_by}); {next(iter(present))} alone")
        elif f.type == "text":
            first = next(iter(present))
            put(key, number, f.name, present[first], f"one item ({item.paired_by}); {first}'s words")
        else:
            (ra, va), (rb, vb) = list(present.items())[:2]
            dispute = {"study_id": key[0], "tier": key[1], "field": f.name, "reviewer_a": ra, "value_a": shown(va),
                       "reviewer_b": rb, "value_b": shown(vb), "resolved_by": "", "item": str(number)}
            out.disagreements.append(dispute)
            out.disputed.setdefault(key, []).append(dispute)


def _not_paired(out: Combined, key: tuple[str, str], repeat: Repeat, reviewers: Mapping[str, Sequence[Row]],
                unpaired: list[Item]) -> None:
    """Items of two reviewers for one study x key that quote no common passage: each stands as one reviewer's
    item, and whether they are the same item is the consensus workbook's question."""
    names = sorted(reviewers)[:2]
    text = next((f.name for f in repeat.fields if f.type == "text"), repeat.fields[0].name)

    def listed(name: str) -> str:
        return " | ".join(str(i.rows[name].values.get(text, "")) for i in unpaired if name in i.rows) or "-"

    dispute = {"study_id": key[0], "tier": key[1], "field": repeat.name, "reviewer_a": names[0],
               "value_a": listed(names[0]), "reviewer_b": names[1], "value_b": listed(names[1]), "resolved_by": "",
               "item": "not paired"}
    out.disagreements.append(dispute)
    out.disputed.setdefault(key, []).append(dispute)
