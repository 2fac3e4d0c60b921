"""Write an illustrative synthesis into the sample's extracts/synthesis.xlsx: findings per review question with
their GRADE-CERQual assessment and quotes, key messages, and recommendations by audience.

Run after `make review` has created the workbook. The synthesis summarises the illustrative sample
extractions; it is not a real assessment. Studies are found by words of their titles, so that the script
does not depend on study ids.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from openpyxl import load_workbook

# question, id, finding, title fragments, quotes, four CERQual components, confidence, explanation. Quotes are word for
# word from the sources as the review's domain notes give them.
FINDINGS = [
    ("Q2", "F1", "Consensual decision making in system bodies works for agreeable issues but avoids hard choices, "
                 "especially over money.",
     ["developing architecture of system management", "agreeing the allocation", "spatial politics of place"],
     "\"Reticence addressing difficult issues collaboratively\" (Sanderson et al. 2023, abstract).",
     "minor concerns", "no or very minor concerns", "minor concerns", "no or very minor concerns", "moderate",
     "Three qualitative studies of STPs and ICSs agree; few sites and a short period."),
    ("Q2", "F2", "Organisations keep their vertical accountabilities, which crowd out accountability to the system.",
     ["challenges of maintaining accountability", "accountable to whom", "developing architecture of system management"],
     "Statutory accountabilities allowed \"a 'retreat' from the confrontation of difficult issues\" "
     "(Sanderson et al. 2023, abstract).",
     "minor concerns", "no or very minor concerns", "moderate concerns", "minor concerns", "moderate",
     "Three studies in different tiers (CCGs, STPs, ICSs) point the same way; thin data for statutory ICBs."),
    ("Q4", "F3", "Intermediate tiers have been reinvented repeatedly, and each reorganisation carried costs.",
     ["what can current reforms learn"],
     "An intermediate tier has existed for most of the NHS's history \"despite undergoing continuous reinvention\" "
     "(Lorne et al. 2019, executive summary).", "moderate concerns", "no or very minor concerns", "serious concerns",
     "minor concerns", "low",
     "One narrative review, covering four tiers from 1948 to 2019, supports the finding."),
]
MESSAGES = [
    ("M1", "Systems decide by consensus; that works for shared aims but not for allocating money, so statutory ICBs "
           "need explicit rules for the decisions consensus cannot reach.", "moderate", "F1"),
    ("M2", "Accountability to the system is weaker than each body's own line to its regulator.", "moderate", "F2"),
]
RECOMMENDATIONS = [
    ("R1", "Set out how an ICB decides when partners do not agree, before it has to.", "systems", "F1"),
    ("R2", "Align regulators' demands with system accountability instead of adding to them.", "national bodies", "F2"),
]


def fill(ws, rows) -> None:
    header = [c.value for c in ws[1]]
    for number, values in enumerate(rows, start=2):
        for name, value in values.items():
            ws.cell(row=number, column=header.index(name) + 1, value=value or None)


def main() -> int:
    with open("results/evidence/evidence.csv", encoding="utf-8", newline="") as handle:
        extracted = {row["study_id"] for row in csv.DictReader(handle)}
    with open("results/dedup/unique_records.csv", encoding="utf-8", newline="") as handle:
        titles = {row["study_id"]: row["title"].lower() for row in csv.DictReader(handle) if row["study_id"] in extracted}
    path = Path("extracts/synthesis.xlsx")
    wb = load_workbook(path)
    fill(wb["findings"], [
        {"question": q, "finding_id": fid, "finding": text,
         "contributing_studies": "; ".join(sid for fragment in fragments for sid, title in sorted(titles.items())
                                           if fragment in title),
         "quotes": quotes, "methodological_limitations": ml, "coherence": co, "adequacy": ad, "relevance": re_,
         "overall_confidence": conf, "explanation": why}
        for q, fid, text, fragments, quotes, ml, co, ad, re_, conf, why in FINDINGS])
    fill(wb["key messages"], [{"message_id": m, "key_message": t, "confidence": c, "finding_ids": f}
                              for m, t, c, f in MESSAGES])
    fill(wb["recommendations"], [{"recommendation_id": r, "recommendation": t, "audience": a, "finding_ids": f}
                                 for r, t, a, f in RECOMMENDATIONS])
    wb.save(path)
    print(f"{len(FINDINGS)} findings, {len(MESSAGES)} key messages, {len(RECOMMENDATIONS)} recommendations "
          f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
