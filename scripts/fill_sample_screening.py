"""Fill the bundled sample's screening workbooks as two reviewers would (illustrative decisions).

Most of the sample is screened through Zotero tags (see build_sample_library.py). The records that
came only from HMIC and Scopus carry no tags (and four tagged screen:maybe are undecided): reviewer_a
screens them in extracts/screening-reviewer_a.xlsx (leaving two for later, so the flow shows records
awaiting screening); reviewer_b double-screens ten and disagrees on two, which the pipeline lists as
conflicts; the consensus workbook settles one of them. Run from the project folder after `make review`:

    python scripts/fill_sample_screening.py

It runs snakemake between the title/abstract and full-text rounds, since full-text rows appear only
for studies included at title/abstract.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

FOLDER = Path("extracts")
NOTE = "Illustrative sample decision."
# studies scripts/fill_sample_extractions.py fills that only HMIC supplies (no Zotero tags): always included here
EXTRACTED = {"Checkland2017", "HCHSCC2023"}


def rows(path: Path, sheet: str) -> tuple:
    wb = load_workbook(path)
    ws = wb[sheet]
    header = {c.value: c.column for c in ws[1] if c.value}
    return wb, ws, header


def decide(path: Path, sheet: str, choose) -> int:
    """Write decision, reason and note where ``choose(row values)`` returns (decision, reason)."""
    wb, ws, header = rows(path, sheet)
    done = 0
    for row in ws.iter_rows(min_row=2):
        values = {name: row[col - 1].value for name, col in header.items()}
        if not values.get("study_id") or values.get("decision"):
            continue
        choice = choose(values)
        if choice:
            decision, reason = choice
            ws.cell(row=row[0].row, column=header["decision"], value=decision)
            if reason:
                ws.cell(row=row[0].row, column=header["reason"], value=reason)
            ws.cell(row=row[0].row, column=header["notes"], value=NOTE)
            done += 1
    wb.save(path)
    return done


def statuses() -> dict[str, str]:
    with open("results/screening/screening.csv", encoding="utf-8", newline="") as handle:
        return {row["study_id"]: row["status"] for row in csv.DictReader(handle)}


def main() -> int:
    a, b = FOLDER / "screening-reviewer_a.xlsx", FOLDER / "screening-reviewer_b.xlsx"
    awaiting = sorted(s for s, status in statuses().items() if status == "awaiting screening")
    # reviewer_a leaves two for later (the flow shows them as awaiting), never one the extraction sheets fill
    later = set([s for s in awaiting if s not in EXTRACTED][-2:])

    def reviewer_a_ta(values):
        sid, title = values["study_id"], str(values["title"] or "")
        if sid not in awaiting or sid in later:
            return None
        return ("exclude", "no-evidence") if title == "Patients First" else ("include", "")

    double = [s for s in awaiting if s not in later][:10]
    disputed = double[1]

    def reviewer_b_ta(values):
        sid, title = values["study_id"], str(values["title"] or "")
        if sid not in double and title != "Patients First":
            return None
        if title == "Patients First":
            return ("include", "")  # disagrees with reviewer_a: a conflict the consensus settles
        if sid == disputed:
            return ("exclude", "not-tier")  # a conflict left open
        return ("include", "")

    n_a = decide(a, "title-abstract", reviewer_a_ta)
    n_b = decide(b, "title-abstract", reviewer_b_ta)
    subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "--quiet"], check=True)

    consensus = FOLDER / "screening-consensus.xlsx"
    decide(consensus, "title-abstract",
           lambda values: ("exclude", "no-evidence") if values["title"] == "Patients First" else None)
    waiting_ft = {s for s, status in statuses().items() if status == "awaiting full text"}
    n_ft = decide(a, "full-text", lambda values: ("include", "") if values["study_id"] in waiting_ft else None)
    subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "--quiet"], check=True)
    print(f"reviewer_a: {n_a} title/abstract and {n_ft} full-text decisions; reviewer_b: {n_b} decisions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
