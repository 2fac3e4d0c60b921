"""Write three illustrative GRADE-CERQual findings into the sample's extracts/findings.xlsx.

Run after `make review` has created the workbook. The findings summarise the illustrative sample
extractions; they are not a real assessment.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from openpyxl import load_workbook

FINDINGS = [
    ("F1", "Consensual decision making in system bodies works for agreeable issues but avoids hard choices, "
           "especially over money.", ["developing architecture of system management", "agreeing the allocation",
                                      "spatial politics of place"],
     "minor concerns", "no or very minor concerns", "minor concerns", "no or very minor concerns", "moderate",
     "Three qualitative studies of STPs and ICSs agree; few sites and a short period."),
    ("F2", "Organisations keep their vertical accountabilities, which crowd out accountability to the system.",
     ["challenges of maintaining accountability", "accountable to whom"],
     "minor concerns", "no or very minor concerns", "moderate concerns", "minor concerns", "moderate",
     "Two studies in different tiers (CCGs, STPs) point the same way; thin data for statutory ICBs."),
    ("F3", "Intermediate tiers have been reinvented repeatedly, and each reorganisation carried costs.",
     ["what can current reforms learn"], "moderate concerns", "no or very minor concerns", "serious concerns",
     "minor concerns", "low", "One narrative review supports the finding."),
]


def main() -> int:
    with open("results/evidence/evidence.csv", encoding="utf-8", newline="") as handle:
        extracted = {row["study_id"] for row in csv.DictReader(handle)}
    with open("results/dedup/unique_records.csv", encoding="utf-8", newline="") as handle:
        titles = {row["study_id"]: row["title"].lower() for row in csv.DictReader(handle) if row["study_id"] in extracted}
    path = Path("extracts/findings.xlsx")
    wb = load_workbook(path)
    ws = wb["findings"]
    for number, (fid, text, fragments, *ratings, explanation) in enumerate(FINDINGS, start=2):
        ids = [sid for fragment in fragments for sid, title in sorted(titles.items()) if fragment in title]
        values = [fid, text, "; ".join(ids), *ratings, explanation]
        for column, value in enumerate(values, start=1):
            ws.cell(row=number, column=column, value=value)
    wb.save(path)
    print(f"{len(FINDINGS)} findings written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
