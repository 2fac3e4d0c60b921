"""The review team: who is on it now, who has left and when, and whose files are read or written.

A reviewer who leaves is moved from ``reviewers:`` to ``former_reviewers:`` in the protocol. Their screening
decisions and extraction values keep counting as they stood (their files are still read, and still follow
merged studies and codebook upgrades), but their files get no new rows. Pure: the stages decide from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Former:
    name: str
    left: str  # YYYY-MM-DD
    note: str = ""


@dataclass(frozen=True)
class Team:
    current: tuple[str, ...]
    former: tuple[Former, ...] = ()

    @classmethod
    def from_config(cls, config: dict[str, Any], stage: str = "extraction") -> Team:
        """The team of one stage: screening may name its own reviewers (``screening.reviewers``)."""
        current = config.get("reviewers", []) or []
        if stage == "screening":
            own = (config.get("screening") or {}).get("reviewers")
            current = current if own is None else own
        former = tuple(Former(str(f["name"]), str(f.get("left", "")), str(f.get("note", "") or ""))
                       for f in config.get("former_reviewers", []) or [] if f.get("name") not in current)
        return cls(tuple(current), former)

    @property
    def former_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.former)

    @property
    def readers(self) -> tuple[str, ...]:
        """Everyone whose files are read: the team now, then those who left."""
        return (*self.current, *self.former_names)

    def left(self, name: str) -> str:
        """The date ``name`` left the team ("" if they are on it, or never were)."""
        return next((f.left for f in self.former if f.name == name), "")

    def describe(self) -> str:
        """Who did the work, for the methods: 'reviewer_a and reviewer_c (reviewer_b until 2026-11-30)'."""
        now = _join(list(self.current)) or "no reviewer"
        if not self.former:
            return now
        gone = _join([f"{f.name} until {f.left}" for f in self.former])
        return f"{now} ({gone}, whose work still counts)"


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}" if names else ""
