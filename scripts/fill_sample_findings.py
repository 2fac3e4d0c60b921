"""Write the sample's synthesis into extracts/synthesis.xlsx: findings per review question with their
GRADE-CERQual assessment and quotes, key messages, and recommendations for the audiences the sources address.

Run after `make review` has created the workbook. The synthesis says what the sample's extracted studies
say, as the source texts (../shared/domain/sources/) and the review's domain notes give them: each finding
names the studies it rests on, each quote is word for word with its study and locator, in the form
"quote" (Citation, locator), which tests/test_sample.py checks against the source texts. The key
messages follow the sources' own wording; the recommendations are the King's Fund 2018's two lists (for
local systems, that is ICSs, and for national leaders), Sanderson et al. 2023's conclusion and the 2023 national
reviews' lessons, each linked to the findings whose studies stand behind it (the report lists those studies as its
support); those drawn from 2018 say so where later reforms may have overtaken them. The GRADE-CERQual judgements are the reviewers' illustrative judgements. Studies are found by
words of their titles, so that the script does not depend on study ids.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from openpyxl import load_workbook

LORNE_FUNCTIONS = ('"responsible variously for long-term strategic planning, allocating resources, acting as market '
                   'umpires, and overseeing delivery of local health services" (Lorne et al. 2019a, executive summary)')
RETREAT = ('"Some interviewees reported reticence addressing difficult issues collaboratively, and that organisations’ '
           'statutory accountabilities were allowing a ‘retreat’ from the confrontation of difficult issues facing '
           'systems, such as agreeing action to achieve financial sustainability" (Sanderson et al. 2023, abstract: '
           'results)')
ARBITER = ('"An arbiter who is independent of the ICS may be required to resolve disputes, along with increased support '
           'for shaping governance arrangements." (Sanderson et al. 2023, abstract: conclusions)')

# question, id, finding, title fragments of the contributing studies, quotes, four CERQual components,
# confidence, explanation. A key message or recommendation is linked to the findings whose studies are the ones
# behind it (the report lists those findings' studies as its support), so a finding holds one point where its
# studies differ: F12 holds Sanderson et al. 2023's conclusion alone, F13 the two national reviews of 2023.
FINDINGS = [
    ("Q1", "F1",
     "For most of the NHS's history the intermediate tier was a statutory authority, responsible variously for "
     "long-term strategic planning, allocating resources, acting as market umpire and overseeing delivery of local "
     "services. The mix changed with each reform: planning and allocating for the regional boards and authorities, "
     "market umpiring for the regional authorities of the internal market, performance oversight for the regional "
     "and strategic health authorities; regional bodies also translated national policy into local action.",
     ["what can current reforms learn", "strategic health authorities and regions"],
     LORNE_FUNCTIONS,
     "moderate concerns", "no or very minor concerns", "moderate concerns", "no or very minor concerns", "moderate",
     "A literature review's executive summary and a historical review of regions agree on the functions; which tier "
     "held which function rests on the reviewers' reading of the summary."),
    ("Q1", "F2",
     "From 2016 the tier came back as non-statutory partnerships: 44 STPs, then ICSs with more freedom to manage "
     "resources collectively, effectively mandated by NHS England but with no statutory basis, beside seven new "
     "regional teams of NHS England and NHS Improvement. The first ICSs varied widely in size and complexity; in them "
     "partners began to manage finances and performance together and to share resources and change resource "
     "allocation across systems and places.",
     ["what can current reforms learn", "a year of integrated care systems", "developing architecture of system"],
     '"STPs and ICSs are not statutory bodies, but instead exist as non-statutory voluntary partnerships despite '
     'being effectively mandated by NHS England" (Lorne et al. 2019a, executive summary); '
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
     "the regions); no extracted study covers them yet.",
     ["still early days", "developing architecture of system"],
     '"Formal responsibility for managing the NHS budget and working with local partners to plan and deliver '
     'integrated services sits with Integrated Care Boards (ICBs)" (Sanderson 2024, blog); '
     '"the recent Health and Care Act 2022 which gave ICSs allocative functions for the majority of health resources '
     'for local populations" (Sanderson et al. 2023, abstract: conclusions)',
     "minor concerns", "no or very minor concerns", "moderate concerns", "minor concerns", "moderate",
     "The ICB era rests on a blog and an abstract. No extracted study covers the 2025 changes yet (Model ICB "
     "Blueprint, May 2025; Written Ministerial Statement, 9 September 2025): the 10 Year Health Plan (Department of "
     "Health and Social Care 2025) is included but not yet extracted."),
    ("Q2", "F4",
     "Subsidiarity (decisions made closest to those they affect), consensus (decisions agreed by everyone), local "
     "freedom (ICSs structure decision making in a way that works for them locally) and best for system are "
     "principles that underlie ICSs' co-ordination of decision making; larger ICSs already emphasised subsidiarity "
     "in 2018. Partners favour the collaborative approach, but agreeing governance has been ongoing and challenging: "
     "arrangements were complex and at times confusing, it was not always clear who was responsible for which "
     "decisions, and some interviewees were concerned that subsidiarity was not being adhered to, control over "
     "commissioning and resource allocation not being given to local decision-making groups.",
     ["still early days", "developing architecture of system", "a year of integrated care systems"],
     '"it was not always clear who was responsible for making which decisions" (Sanderson 2024, blog); '
     '"Some interviewees were concerned that in practice the principle of subsidiarity was not being adhered to" '
     '(Sanderson 2024, blog); '
     '"The agreement of local governance arrangements was ongoing and challenging." (Sanderson et al. 2023, '
     'abstract: results)',
     "minor concerns", "no or very minor concerns", "minor concerns", "no or very minor concerns", "moderate",
     "Two phases of the same research unit's case studies (2019-21 and 2022-23) and the King's Fund's interviews "
     "agree that governance was still being built; that subsidiarity was not adhered to is what some interviewees "
     "were concerned about, not a finding of every site."),
    ("Q2", "F5",
     "Collaborative working is welcomed, the benefits of collaborative decision making are thought to outweigh the "
     "risks of conflicts of interest seen as inherent, and partners have begun to share resources, change resource "
     "allocation and manage finances and performance together. But some interviewees reported reticence addressing "
     "difficult issues collaboratively, and that organisations' statutory accountabilities were allowing a 'retreat' "
     "from difficult issues such as agreeing action to achieve financial sustainability; in 2022-23 it was not "
     "certain that consensus would be enough for the very difficult decisions systems faced. STPs before them would "
     "not agree collective rules for allocating resources, and rested on a 'post-political' local consensus over "
     "cuts under financial constraint.",
     ["developing architecture of system", "agreeing the allocation", "spatial politics of place", "still early days",
      "a year of integrated care systems"],
     RETREAT + '; "it was not certain that this consensus approach would be sufficient to address these issues" '
               '(Sanderson 2024, blog)',
     "minor concerns", "no or very minor concerns", "minor concerns", "no or very minor concerns", "moderate",
     "Five sources on STPs and ICSs from 2016 to 2023 agree that collaboration is welcomed and that hard choices are "
     "hard to make together; few sites in each, and the retreat from difficult issues is what some interviewees of "
     "one study reported (adequacy: minor concerns)."),
    ("Q2", "F6",
     "Accountability still runs vertically. Organisations keep their accountabilities to their own boards and "
     "regulators and are reluctant to answer for the system; in 2022-23 they were still performance managed "
     "separately for their finances, which makes joint decisions harder. In 2018 the King's Fund found regulation "
     "and oversight not aligned behind ICSs. In 2023 Parliament's committee found NHS England's command and control "
     "in tension with ICS autonomy, and the Hewitt review asked for freedom balanced with accountability.",
     ["challenges of maintaining accountability", "still early days", "a year of integrated care systems",
      "autonomy and accountability", "the hewitt review"],
     '"individual organisations are still being performance managed for their financial performance separately" '
     '(Sanderson 2024, blog); '
     '"the experience on the ground remains largely unchanged, with a focus on organisational performance and '
     'accountabilities and conflicting messages from the two bodies" (Charles et al. 2018, the role of national NHS '
     'bodies)',
     "minor concerns", "minor concerns", "no or very minor concerns", "minor concerns", "moderate",
     "Five sources of different kinds (interviews, case studies, a select committee, a government review) from "
     "2017 to 2023 point the same way, but the reviewers still disagree on how clear the two 2023 reports find "
     "accountability (unclear, or overlapping and contested), so how those reports fit the finding is not settled "
     "(coherence: minor concerns); the regulation barrier is the King's Fund's of 2018, before the Health and Care "
     "Act 2022 made ICBs statutory (relevance: minor concerns)."),
    ("Q2", "F12",
     "Sanderson et al. 2023 conclude that significant challenges remain in agreeing governance, accountability and "
     "decision-making arrangements, which matter all the more since the Health and Care Act 2022 gave ICSs "
     "allocative functions for most health resources; an arbiter who is independent of the ICS may be required to "
     "resolve disputes, along with increased support for shaping governance arrangements.",
     ["developing architecture of system"],
     ARBITER,
     "minor concerns", "no or very minor concerns", "moderate concerns", "minor concerns", "moderate",
     "One qualitative study of three ICSs; the arbiter is its authors' hedged conclusion (\"may be required\"), "
     "read in the abstract (adequacy: moderate concerns); the fieldwork (2019-21) came before ICBs were statutory "
     "(relevance: minor concerns)."),
    ("Q3", "F7",
     # only what the two extracted studies say; the steps between are the timeline's, named as not yet evidence
     "The 1974 reorganisation was designed to make area health authorities coterminous with the new local "
     "authorities, while keeping health services out of local-government control and stressing joint planning; "
     "since 2022 integrated care partnerships bring together the NHS, local authorities and other partners to "
     "develop long-term strategy for health and wellbeing. The studies extracted so far of the regional and "
     "strategic health authorities and of CCGs report no mechanism of alignment with local government; district "
     "health authorities, primary care trusts, health and wellbeing boards and the 2025 plans to align ICB "
     "boundaries with strategic authorities are not yet covered by an extracted study.",
     ["national health service reorganisation: england", "still early days", "what can current reforms learn",
      "strategic health authorities and regions", "being autonomous and having space"],
     '"the wider Integrated Care Partnership (ICP) brings together the NHS, Local Authorities, and other key local '
     'partners to develop long term strategy around health and wellbeing" (Sanderson 2024, blog)',
     "moderate concerns", "no or very minor concerns", "serious concerns", "minor concerns", "low",
     "The 1974 design rests on the White Paper, a plan written before the authorities existed, and the ICPs on a "
     "blog; the reviewers disagree on how strong the 1974 alignment was, and the evidence on how coterminosity "
     "worked in practice is still to be extracted."),
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
     'English NHS" (Lorne et al. 2019a, executive summary); '
     '"filling a vacuum left behind by the abolition of Strategic Health Authorities (SHAs) in 2013" (Lorne et al. '
     '2019a, executive summary); '
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
     "One historical review of regions and one study of STPs; the lessons are drawn from earlier tiers whose "
     "powers differed from ICBs'."),
    ("Q4", "F11",
     "The first ICSs that got furthest were already working as systems and gave priority to relationships and trust; "
     "governance was built iteratively alongside the accountabilities of statutory organisations, which creates "
     "tensions; clinical leadership was central to progress in some, but engagement of frontline staff was not yet "
     "widespread; evidence of tangible improvements was still limited. In 2023 the Hewitt review asked that local "
     "leaders be given space and time, with the right support. National bodies need to remove barriers and "
     "give time and support, with realism about the scale and complexity of the change. Collaborative decision "
     "making in ICSs is still under development, and there is not much evidence about how it works in practice.",
     ["a year of integrated care systems", "still early days", "the hewitt review"],
     '"System-wide governance must work alongside the accountabilities of statutory organisations, and this can '
     'create tensions between system objectives and organisational accountabilities." (Charles et al. 2018, our '
     'findings); '
     '"the understandable desire to see change happen quickly needs to be married with realism about the scale and '
     'complexity of what is being attempted" (Charles et al. 2018, overview); '
     '"collaborative decision making arrangements in ICSs are still under development" (Sanderson 2024, blog)',
     "minor concerns", "no or very minor concerns", "minor concerns", "minor concerns", "moderate",
     "Interviews with 72 leaders (2018), case studies of three statutory ICSs (2022-23) and the Hewitt review "
     "(2023) agree across about five years."),
    ("Q4", "F13",
     "The two national reviews of 2023 turned to how the centre treats ICSs: Parliament's Health and Social Care "
     "Committee found ICS autonomy in tension with NHS England's command and control and asked for clarity on "
     "accountability for partnership working, noting that local government's accountability differs from the "
     "NHS's; the Hewitt review set six principles: collaboration, a limited number of shared priorities, space and "
     "time for local leaders, the right support, balancing freedom with accountability, and timely, transparent "
     "data.",
     ["autonomy and accountability", "the hewitt review"],
     "",
     "moderate concerns", "no or very minor concerns", "minor concerns", "no or very minor concerns", "moderate",
     "A select committee report and an independent government review, both on statutory ICSs, read through the "
     "summaries the domain notes give, not their full texts (methodological limitations: moderate concerns)."),
]

MESSAGES = [
    # short enough for the first page: each says less than its findings, nothing they do not
    ("M1", "Partners welcome collaboration and have begun to share resources and manage finances and performance "
           "together, but some interviewees reported reticence addressing difficult issues collaboratively, and in "
           "2022-23 it was not certain that consensus would be enough for the very difficult decisions systems were "
           "facing.", "moderate", "F5"),
    ("M2", "Accountability still runs to single organisations: in 2022-23 each was still performance managed "
           "separately for its finances, and in 2023 Parliament's committee found NHS England's command and control "
           "in tension with ICS autonomy.", "moderate", "F6"),
    ("M3", "Subsidiarity, consensus, local freedom and best for system underlie ICSs' decision making, but it was not "
           "always clear who was responsible for which decisions; an arbiter independent of the ICS may be required "
           "to resolve disputes.", "moderate", "F4; F12"),
    ("M4", "The tier has been reinvented again and again, from statutory authorities to partnerships and statutory "
           "ICBs; complex services need a body that can hold the ring, with a clear and stable purpose.",
     "low", "F1; F3; F9; F10"),  # low: it rests on F10 too, rated low
    ("M5", "The 1974 reorganisation was designed around area health authorities coterminous with local government, "
           "and since 2022 integrated care partnerships bring the NHS and local authorities together on strategy. In "
           "the first ICSs local authorities' involvement progressed further than the public's or the voluntary "
           "sector's.", "low", "F7; F8"),
]

# the King's Fund 2018's recommendations for local systems (KF-L1..9, addressed to ICSs: audience systems) and for
# national leaders (KF-N1..9), Sanderson et al. 2023's conclusion, and the 2023 national reviews' lessons for
# national bodies; each linked to the findings whose studies stand behind it. No source addresses places on their
# own, so none is written for them.
RECOMMENDATIONS = [
    # the study does not say who would provide the arbiter: addressed to national bodies by the review team
    ("R1", "Consider who could provide an arbiter independent of the ICS to resolve disputes between partners, and "
           "increased support for shaping governance arrangements, both of which Sanderson et al. (2023) conclude "
           "may be required.", "national bodies", "F12"),
    ("R2", "Reform regulation to align with local systems, and model collective leadership with a proportionate "
           "approach to regulation (Charles et al. 2018, recommendations for national leaders 5 and 7): in 2018 regulation and oversight "
           "were not aligned behind ICSs, and in 2022-23 organisations were still performance managed separately for their "
           "finances.",
     "national bodies", "F6"),
    ("R3", "Redesign the financial architecture to incentivise integration (Charles et al. 2018, recommendations for national leaders 8): in "
           "2022-23 organisations were still performance managed separately for their finances.", "national bodies",
     "F6"),
    ("R4", "Back locally led change with central guidance and support, and make a long-term commitment to ICSs "
           "backed by dedicated funding (Charles et al. 2018, recommendations for national leaders 1 and 3), giving local leaders space and "
           "time with the right support (Hewitt 2023).", "national bodies", "F11"),
    # R5's second sentence rests on F3's account of the 2025 reforms, which F3 says no extracted study covers yet
    ("R5", "Clarify the size of ICSs and how they fit into the regional architecture without destabilising existing "
           "systems or creating an additional tier of bureaucracy; any move to bring ICSs together should be locally "
           "led and rigorously tested (Charles et al. 2018, recommendations for national leaders 2 and 6). This was "
           "asked in 2018; the 2025 reforms, which no extracted study covers yet, plan to merge ICBs into fewer, larger "
           "boards.", "national bodies", "F2; F3"),
    # the recommendation is the King's Fund's (F2 rests on Charles et al. 2018); the core responsibility is F3's
    ("R6", "Make population health the centrepiece of plans to transform services, with realistic and measurable "
           "objectives (Charles et al. 2018, recommendations for national leaders 4); improving population health "
           "and healthcare is now one of ICSs' four core responsibilities.", "national bodies", "F2; F3"),
    ("R7", "Balance freedom with accountability: agree a limited number of shared priorities and give local leaders "
           "space and time, the right support and timely, transparent data (Hewitt 2023); and clarify accountability "
           "for partnership working, including local government's (House of Commons Health and Social Care Committee 2023).",
     "national bodies", "F13"),
    ("R8", "Invest in building collaborative relationships at all levels of the system, and promote and value "
           "system leadership, with dedicated time for leaders (Charles et al. 2018, recommendations for local systems 1 and 2).", "systems",
     "F11"),
    ("R9", "Build governance in an evolutionary way that does not conflict with the accountabilities of statutory "
           "organisations (Charles et al. 2018, recommendations for local systems 5).", "systems", "F11"),
    ("R10", "Integrate at different levels, building up from places and neighbourhoods: in line with subsidiarity, "
            "ICSs should set the overall vision, provide leadership across the system and undertake functions best "
            "performed at scale (Charles et al. 2018, recommendations for local systems 3).", "systems", "F4"),
    ("R11", "Draw on the skills and leadership of frontline staff, and develop active strategies for wider adoption "
            "of new care models through peer-to-peer learning (Charles et al. 2018, recommendations for local systems 4 and 7).", "systems",
     "F11"),
    ("R12", "Develop system-wide capabilities to gather, share and act on public insights, and build robust "
            "evaluation into the ICS programme (Charles et al. 2018, recommendations for local systems 6 and 8).", "systems", "F11"),
    ("R13", "Look beyond the health and care system to improve population health, with deeper local authority "
            "involvement and closer working with the voluntary and community sector, independent sector "
            "organisations and communities (Charles et al. 2018, recommendations for local systems 9).", "systems", "F8"),
    ("R14", "Where councils and the NHS share a geography, local government can lead a partnership that plans across "
            "health and care, as in Greater Manchester (Walshe et al. 2016); agree with NHS partners how each "
            "answers for partnership working, since councils' accountability differs from the NHS's (House of "
            "Commons Health and Social Care Committee 2023).", "local government", "F8"),
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
