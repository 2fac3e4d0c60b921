"""Write the sample's synthesis into extracts/synthesis.xlsx: findings per review question with their
GRADE-CERQual assessment and quotes, key messages, and recommendations for every audience.

Run after `make review` has created the workbook. The synthesis says what the sample's extracted studies
say, as the source texts (../shared/domain/sources/) and the review's domain notes give them: each finding
names the studies it rests on, each quote is word for word with its study and locator, in the form
"quote" (Citation, locator), which tests/test_sample.py checks against the source texts. The key
messages follow the sources' own wording; the recommendations are the King's Fund 2018's two lists (for
local systems, for national leaders) and Sanderson et al. 2023's conclusion, each linked to the findings
it answers. The GRADE-CERQual judgements are the reviewers' illustrative judgements. Studies are found by
words of their titles, so that the script does not depend on study ids.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from openpyxl import load_workbook

LORNE_FUNCTIONS = ('"responsible variously for long-term strategic planning, allocating resources, acting as market '
                   'umpires, and overseeing delivery of local health services" (Lorne et al. 2019, executive summary)')
RETREAT = ('"organisations’ statutory accountabilities were allowing a ‘retreat’ from the confrontation of difficult '
           'issues facing systems, such as agreeing action to achieve financial sustainability" (Sanderson et al. '
           '2023, abstract: results)')

# question, id, finding, title fragments of the contributing studies, quotes, four CERQual components,
# confidence, explanation
FINDINGS = [
    ("Q1", "F1",
     "For most of the NHS's history the intermediate tier was a statutory authority, responsible variously for "
     "long-term strategic planning, allocating resources, acting as market umpire and overseeing delivery of local "
     "services. The mix changed with each reform: planning and allocating for the regional boards and authorities, "
     "market umpiring for the regional authorities of the internal market, performance oversight for the strategic "
     "health authorities; regional bodies also translated national policy into local action.",
     ["what can current reforms learn", "strategic health authorities and regions"],
     LORNE_FUNCTIONS,
     "moderate concerns", "no or very minor concerns", "moderate concerns", "no or very minor concerns", "moderate",
     "A literature review's executive summary and a historical review of regions agree on the functions; which tier "
     "held which function rests on the reviewers' reading of the summary."),
    ("Q1", "F2",
     "From 2016 the tier came back as non-statutory partnerships: 44 STPs, then ICSs with more freedom to manage "
     "resources collectively, effectively mandated by NHS England but with no statutory basis. In the first ICSs "
     "partners began to manage finances and performance together and to share resources and change resource "
     "allocation across systems and places.",
     ["what can current reforms learn", "a year of integrated care systems", "developing architecture of system"],
     '"STPs and ICSs are not statutory bodies, but instead exist as non-statutory voluntary partnerships despite '
     'being effectively mandated by NHS England" (Lorne et al. 2019, executive summary); '
     '"organisations are working more collaboratively to manage finances and performance in a way that was not '
     'happening previously" (Charles et al. 2018, overview)',
     "minor concerns", "no or very minor concerns", "minor concerns", "no or very minor concerns", "moderate",
     "Three sources (a review, interviews with 72 leaders in eight ICSs, case studies of three ICSs) agree."),
    ("Q1", "F3",
     "Since July 2022 the tier is statutory again: integrated care boards hold formal responsibility for the NHS "
     "budget and for planning integrated services with partners, and the Health and Care Act 2022 gave ICSs "
     "allocative functions for most health resources. ICSs have four core responsibilities: improving population "
     "health and healthcare; reducing health inequalities; enhancing productivity and value for money; helping the "
     "NHS support wider social and economic development. The 2025 reforms reshape the tier again (ICBs as strategic "
     "commissioners with running costs halved, merged into larger systems, with performance management moving to "
     "the regions); no included study covers them yet.",
     ["still early days", "developing architecture of system"],
     '"Formal responsibility for managing the NHS budget and working with local partners to plan and deliver '
     'integrated services sits with Integrated Care Boards (ICBs)" (Sanderson 2024, blog); '
     '"the recent Health and Care Act 2022 which gave ICSs allocative functions for the majority of health resources '
     'for local populations" (Sanderson et al. 2023, abstract: conclusions)',
     "minor concerns", "no or very minor concerns", "moderate concerns", "minor concerns", "moderate",
     "The ICB era rests on a blog and an abstract. The 2025 changes (Model ICB Blueprint, "
     "May 2025; Written Ministerial Statement, 9 September 2025) are not yet in the review's library, so no study "
     "speaks to them."),
    ("Q2", "F4",
     "ICS decision making rests on four principles: subsidiarity (decisions made closest to those they affect), "
     "consensus (decisions agreed by everyone), local freedom (ICSs structure decision making in a way that works "
     "locally) and best for system. Partners support them, but agreeing governance has been ongoing and "
     "challenging: arrangements were complex and at times confusing, it was not always clear who was responsible "
     "for which decisions, and subsidiarity was not always honoured in commissioning and resource allocation.",
     ["still early days", "developing architecture of system", "a year of integrated care systems"],
     '"it was not always clear who was responsible for making which decisions" (Sanderson 2024, blog); '
     '"The agreement of local governance arrangements was ongoing and challenging." (Sanderson et al. 2023, '
     'abstract: results)',
     "minor concerns", "no or very minor concerns", "minor concerns", "no or very minor concerns", "moderate",
     "Two phases of the same research unit's case studies (2019-21 and 2022-23) and the King's Fund's interviews "
     "agree that governance was still being built."),
    ("Q2", "F5",
     "Collaborative decision making is welcomed and its benefits are thought to outweigh the risks of inherent "
     "conflicts of interest, but the difficult issues, such as agreeing action to achieve financial sustainability, "
     "were avoided: statutory accountabilities allowed a retreat from them, STPs would not agree collective rules for "
     "allocating resources, and STPs rested on a 'post-political' local consensus over cuts under financial "
     "constraint.",
     ["developing architecture of system", "agreeing the allocation", "spatial politics of place", "still early days"],
     RETREAT,
     "minor concerns", "no or very minor concerns", "minor concerns", "no or very minor concerns", "moderate",
     "Four qualitative studies of STPs and ICSs from 2016 to 2023 agree; few sites in each."),
    ("Q2", "F6",
     "Accountability still runs vertically. Organisations keep their accountabilities to their own boards and "
     "regulators and are reluctant to answer for the system; they are still performance managed separately for their "
     "finances, which makes joint decisions harder; regulation and oversight were not aligned behind ICSs. Parliament's "
     "committee found NHS England's command and control in tension with ICS autonomy, and the Hewitt review asked for "
     "freedom balanced with accountability.",
     ["challenges of maintaining accountability", "still early days", "a year of integrated care systems",
      "autonomy and accountability", "the hewitt review"],
     '"individual organisations are still being performance managed for their financial performance separately" '
     '(Sanderson 2024, blog); '
     '"the experience on the ground remains largely unchanged, with a focus on organisational performance and '
     'accountabilities and conflicting messages from the two bodies" (Charles et al. 2018, the role of national NHS '
     'bodies)',
     "minor concerns", "no or very minor concerns", "no or very minor concerns", "no or very minor concerns", "high",
     "Five sources of different kinds (interviews, case studies, a select committee, a government review) from "
     "2017 to 2023 point the same way."),
    ("Q3", "F7",
     "Alignment with local government was designed in once: the 1974 reorganisation kept health services out of "
     "local-government control but made area health authorities coterminous with the new local authorities and "
     "stressed joint planning. Since 2013 health and wellbeing boards, statutory committees of local authorities, "
     "have been the meeting point, and since 2022 integrated care partnerships bring together the NHS, local "
     "authorities and other partners to develop long-term strategy for health and wellbeing.",
     ["national health service reorganisation: england", "still early days"],
     '"the wider Integrated Care Partnership (ICP) brings together the NHS, Local Authorities, and other key local '
     'partners to develop long term strategy around health and wellbeing" (Sanderson 2024, blog)',
     "moderate concerns", "no or very minor concerns", "serious concerns", "minor concerns", "low",
     "A White Paper and a blog; no study of health and wellbeing boards is extracted yet, and the evidence on how "
     "coterminosity worked in practice is still to be extracted."),
    ("Q3", "F8",
     "In the first ICSs the involvement of local authorities made more progress than that of the public or the "
     "voluntary sector, with a stronger connection with local communities, closer working across health and social "
     "care and openings to act on the wider determinants of health. Where local government led, as in Greater "
     "Manchester's devolution, one partnership planned across health and care; but local government's "
     "accountability differs from the NHS's.",
     ["a year of integrated care systems", "health and social care devolution", "autonomy and accountability"],
     '"More positive progress has been made regarding the involvement of local authorities, with benefits including '
     'a stronger connection with local communities, closer working across health and social care, and opportunities '
     'to act on the wider determinants of health." (Charles et al. 2018, involving key partners)',
     "minor concerns", "minor concerns", "moderate concerns", "minor concerns", "moderate",
     "Interviews in eight ICSs, a commentary on one devolution deal and a select committee report; the reviewers "
     "disagree on how strong Greater Manchester's relations were."),
    ("Q4", "F9",
     "An intermediate tier keeps coming back, despite continuous reinvention: the abolition of strategic health "
     "authorities in 2013 left a vacuum that STPs and ICSs filled. Complex public services need meso-level oversight "
     "from organisations able to hold the ring between competing interests and take a regional view.",
     ["what can current reforms learn", "being autonomous and having space"],
     '"Despite undergoing continuous reinvention, an intermediate tier has existed for most of the history of the '
     'English NHS" (Lorne et al. 2019, executive summary); '
     '"filling a vacuum left behind by the abolition of Strategic Health Authorities (SHAs) in 2013" (Lorne et al. '
     '2019, executive summary); '
     '"complex public services require some sort of meso-level oversight from organisations able to \'hold the '
     'ring\' between competing interests and to take a regional view" (Checkland et al. 2017, conclusion)',
     "minor concerns", "no or very minor concerns", "moderate concerns", "minor concerns", "moderate",
     "A literature review of the earlier tiers and a study of commissioning after 2013 agree."),
    ("Q4", "F10",
     "Earlier regional tiers made the NHS more manageable and translated national policy into action where their "
     "purpose was clear and consistent, they understood local and historical context, and their leaders fitted the "
     "area; earlier reorganisations go on shaping the partnerships that follow them.",
     ["strategic health authorities and regions", "spatial politics of place"],
     '"continued influence of previous reorganizations" (Hammond et al. 2017, abstract)',
     "moderate concerns", "no or very minor concerns", "moderate concerns", "moderate concerns", "low",
     "One historical review of regions and one study of STPs; the lessons are drawn from tiers with more formal "
     "power than ICBs."),
    ("Q4", "F11",
     "The first ICSs that got furthest were already working as systems and gave priority to relationships and trust; "
     "governance was built iteratively alongside the accountabilities of statutory organisations, which creates "
     "tensions; national bodies need to remove barriers and give time and support, with realism about the scale and "
     "complexity of the change. Collaborative decision making in ICSs is still under development.",
     ["a year of integrated care systems", "still early days", "the hewitt review"],
     '"System-wide governance must work alongside the accountabilities of statutory organisations, and this can '
     'create tensions between system objectives and organisational accountabilities." (Charles et al. 2018, our '
     'findings); '
     '"the understandable desire to see change happen quickly needs to be married with realism about the scale and '
     'complexity of what is being attempted" (Charles et al. 2018, overview); '
     '"collaborative decision making arrangements in ICSs are still under development" (Sanderson 2024, blog)',
     "minor concerns", "no or very minor concerns", "minor concerns", "minor concerns", "moderate",
     "Interviews with 72 leaders (2018) and case studies of three statutory ICSs (2022-23) agree across six years."),
]

MESSAGES = [
    ("M1", "Partners welcome collaboration and have begun to share resources and manage finances and performance "
           "together, but the difficult issues, such as agreeing action to achieve financial sustainability, were "
           "avoided: statutory accountabilities allowed a retreat from them.", "moderate", "F2; F5"),
    ("M2", "Accountability still runs to single organisations: each is performance managed separately for its "
           "finances and regulation is not aligned behind systems, which makes decisions taken together harder.",
     "high", "F6"),
    ("M3", "ICSs decide by subsidiarity, consensus, local freedom and best for system, but it is not always clear who "
           "decides what; disputes may need an arbiter independent of the ICS, with support for governance.",
     "moderate", "F4; F5"),
    ("M4", "The tier has been reinvented again and again, from statutory authorities that planned, allocated, umpired "
           "the market and oversaw delivery to partnerships and statutory ICBs; complex services need a body that can "
           "hold the ring, with a clear and stable purpose.", "moderate", "F1; F3; F9; F10"),
    ("M5", "Ties with local government were designed in once (coterminous area authorities in 1974) and now run "
           "through health and wellbeing boards and integrated care partnerships; local authorities' involvement in "
           "ICSs has progressed further than the public's or the voluntary sector's.", "low", "F7; F8"),
]

# the King's Fund 2018's recommendations for local systems (KF-L1..9) and for national leaders (KF-N1..9), and
# Sanderson et al. 2023's conclusion, for the audiences the review declares
RECOMMENDATIONS = [
    ("R1", "Provide an arbiter independent of the ICS to resolve disputes between partners, with more support for "
           "shaping governance arrangements (Sanderson et al. 2023).", "national bodies", "F4; F5"),
    ("R2", "Reform regulation to align with local systems, and model collective leadership with a proportionate "
           "approach to regulation, so that organisations are no longer held to account only one by one (King's "
           "Fund 2018, national leaders 5 and 7).", "national bodies", "F6"),
    ("R3", "Redesign the financial architecture to incentivise integration (King's Fund 2018, national leaders 8).",
     "national bodies", "F5; F6"),
    ("R4", "Back locally led change with central guidance and support, and make a long-term commitment to ICSs "
           "backed by dedicated funding (King's Fund 2018, national leaders 1 and 3).", "national bodies", "F2; F11"),
    ("R5", "Clarify the size of ICSs and how they fit into the regional architecture without destabilising existing "
           "systems or creating an additional tier of bureaucracy (King's Fund 2018, national leaders 2 and 6).",
     "national bodies", "F3; F9; F10"),
    ("R6", "Make population health the centrepiece of plans to transform services, with realistic and measurable "
           "objectives (King's Fund 2018, national leaders 4).", "national bodies", "F3"),
    ("R7", "Invest in building collaborative relationships at all levels of the system, and promote and value "
           "system leadership, with dedicated time for leaders (King's Fund 2018, local systems 1 and 2).", "systems",
     "F2; F11"),
    ("R8", "Build governance in an evolutionary way that does not conflict with the accountabilities of statutory "
           "organisations (King's Fund 2018, local systems 5).", "systems", "F4; F11"),
    ("R9", "Develop system-wide capabilities to gather, share and act on public insights, and build robust "
           "evaluation into the ICS programme (King's Fund 2018, local systems 6 and 8).", "systems", "F8; F11"),
    ("R10", "Integrate at different levels, building up from places and neighbourhoods in line with subsidiarity "
            "(King's Fund 2018, local systems 3).", "places", "F4"),
    ("R11", "Draw on the skills and leadership of frontline staff, and develop active strategies for wider adoption "
            "of new care models through peer-to-peer learning (King's Fund 2018, local systems 4 and 7).", "places",
     "F2; F11"),
    ("R12", "Look beyond the health and care system to improve population health, with deeper local authority "
            "involvement and closer working with the voluntary and community sector (King's Fund 2018, local systems "
            "9).", "local government", "F7; F8"),
]


def fill(ws, rows) -> None:
    header = [c.value for c in ws[1]]
    for number in range(2, ws.max_row + 1):  # rows an earlier version wrote and this one does not
        for column, name in enumerate(header, start=1):
            if name:
                ws.cell(row=number, column=column).value = None
    for number, values in enumerate(rows, start=2):
        for name, value in values.items():
            ws.cell(row=number, column=header.index(name) + 1, value=value or None)


def main() -> int:
    with open("results/evidence/evidence.csv", encoding="utf-8", newline="") as handle:
        extracted = {row["study_id"] for row in csv.DictReader(handle)}
    with open("results/dedup/unique_records.csv", encoding="utf-8", newline="") as handle:
        titles = {row["study_id"]: row["title"].lower() for row in csv.DictReader(handle) if row["study_id"] in extracted}
    missing = sorted({f for finding in FINDINGS for f in finding[3]} - {f for f in {f for finding in FINDINGS
                     for f in finding[3]} if any(f in t for t in titles.values())})
    if missing:
        print(f"no extracted study matches: {missing}")
        return 1
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
