"""Fill the bundled sample's extraction sheets as two reviewers would (illustrative values).

Run after `make review` has created extracts/reviewer_a.xlsx and reviewer_b.xlsx, and again after the
next `make review` has listed the disputes in extracts/consensus.xlsx (it then settles one of them):

    python scripts/fill_sample_extractions.py

Eight studies (eleven study x tier rows) are extracted by reviewer_a; nine of those rows also by
reviewer_b, who writes the free text in their own words. Running it again corrects the rows it fills (a
multiple choice's earlier ticks are cleared first); it never touches the rest of a sheet. The values
follow the review's domain notes, but they are ILLUSTRATIVE, not a real appraisal: they exist so that
the pipeline shows validation, agreement and consensus working. reviewer_b disagrees on a few fields
and makes a few typical mistakes (a word instead of a code, a period ending before it starts, text
in a number column), which the evidence stage reports.
"""

from __future__ import annotations

import sys
from pathlib import Path

from openpyxl import load_workbook

from review import codebook

FORM = codebook.load("protocols/codebook.yaml")
NOTE = "Illustrative sample extraction, not a real appraisal."

# (title fragment, tier) -> values; the tier row is the one the pipeline pre-filled from the tags. Quotes are
# word for word from the sources as the review's domain notes give them; where no quote was seen, none is typed.
LORNE = dict(evidence_type="academic_unit_report", study_design="narrative_scoping_review", data_sources="literature",
             relevance="core", qa_tool="SANRA", qa_overall="moderate", conflict_of_interest="no")
A = {
    ("What can current reforms learn from past research", "RHB"): dict(
        LORNE, period_start=1948, period_end=1974, spatial_level="regional", coterminosity_lg="none",
        era="E1_1948_73", statutory_status="statutory_body",
        tier_change="Set up under the NHS Act 1946; replaced by RHAs in the 1974 reorganisation.",
        functions="F1_strategic_planning; F2_resource_allocation; F7_capital_estates", functions_basis="formal_remit",
        national_role="direction", involvement="clinicians",
        governance_form="appointed_board_with_neds", decision_mode="hierarchical_directive",
        accountability_direction="upward_centre", accountability_clarity="clear", autonomy="moderate",
        lg_mechanisms="lg_members_on_board", lg_strength="weak",
        lg_notes="Boards usually included elected members of local authorities, which kept community health services.",
        themes="H_context_history; H_meso_oversight", outcomes_reported="process",
        findings_summary="RHBs planned hospital services, ran the building programme and allocated budgets to "
                         "hospital management committees.",
        lessons_for_ics="A regional tier with planning and capital powers gave the NHS a manageable span of control.",
        lesson_audience="national_bodies", lesson_stance="supports_current_design", evidence_locator="Section 3"),
    ("What can current reforms learn from past research", "RHA"): dict(
        LORNE, period_start=1974, period_end=1996, spatial_level="regional", coterminosity_lg="none",
        era="E2_1974_81; E3_1982_90; E4_1991_96", statutory_status="statutory_body",
        tier_change="Created by the NHS Reorganisation Act 1973; cut from 14 to 8 in 1994; abolished in 1996 and "
                    "replaced by NHS Executive regional offices.",
        functions="F1_strategic_planning; F2_resource_allocation; F3_market_management; F4_performance_oversight",
        functions_basis="both", national_role="direction; performance_management", involvement="none_reported",
        governance_form="appointed_board_with_neds", decision_mode="hierarchical_directive",
        accountability_direction="upward_centre", accountability_clarity="clear", autonomy="low",
        lg_mechanisms="lg_members_on_board", lg_strength="weak",
        lg_notes="Local authority members sat on RHAs after 1974 but boundaries never matched.",
        themes="H_clarity_of_purpose; H_reorganisation_costs; H_meso_oversight", outcomes_reported="process",
        findings_summary="RHAs planned and allocated resources and, after 1991, acted as market umpires; their "
                         "purpose shifted with each reform.",
        lessons_for_ics="A tier needs a stable, clearly stated purpose.", lesson_audience="national_bodies",
        key_quote="responsible variously for long-term strategic planning, allocating resources, acting as market "
                  "umpires, and overseeing delivery of local health services",
        lesson_stance="cautions", evidence_locator="Section 3"),
    ("What can current reforms learn from past research", "SHA"): dict(
        LORNE, period_start=2002, period_end=2013, spatial_level="regional", era="E6_2002_06; E7_2006_13",
        accept_suggested="yes",  # the SHA's suggested statutory status and coterminosity, taken in one step
        tier_change="28 SHAs from 2002, merged to 10 in 2006 after Commissioning a patient-led NHS; abolished by "
                    "the Health and Social Care Act 2012 in 2013.",
        functions="F1_strategic_planning; F4_performance_oversight; F10_system_leadership_convening",
        functions_basis="formal_remit", national_role="direction; performance_management",
        governance_form="appointed_board_with_neds", decision_mode="hierarchical_directive",
        accountability_direction="upward_centre", accountability_clarity="clear", autonomy="low",
        lg_mechanisms="none_reported", lg_strength="weak", themes="H_meso_oversight; H_vertical_crowds_horizontal",
        outcomes_reported="process",
        findings_summary="SHAs performance-managed PCTs and trusts and brokered disputes, without commissioning.",
        lessons_for_ics="Performance management from above can crowd out system working.",
        lesson_audience="national_bodies; systems", lesson_stance="cautions", evidence_locator="Section 3"),
    ("What can current reforms learn from past research", "ICS_NONSTAT"): dict(
        LORNE, period_start=2016, period_end=2019, spatial_level="system", coterminosity_lg="partial",
        era="E9_2016_22", statutory_status="non_statutory_partnership",
        tier_change="Non-statutory partnerships filling the vacuum left by the abolition of SHAs in 2013.",
        functions="F1_strategic_planning; F2_resource_allocation; F10_system_leadership_convening",
        functions_basis="observed_practice", national_role="direction; support_development",
        governance_form="partnership_board", decision_mode="consensual_collective",
        accountability_direction="upward_centre; horizontal_partners", accountability_clarity="unclear",
        autonomy="moderate", lg_mechanisms="joint_consultative_or_planning_body", lg_strength="moderate",
        themes="H_context_history; H_clarity_of_purpose; S23_competition", outcomes_reported="none",
        findings_summary="ICSs revive a tier that has existed for most of the NHS's history, this time as "
                         "partnerships rather than statutory authorities.",
        lessons_for_ics="Earlier tiers show that purpose, context and relations with local government decide "
                        "whether a tier adds value.",
        lesson_audience="national_bodies; systems; local_government",
        key_quote="despite undergoing continuous reinvention", lesson_stance="cautions",
        evidence_locator="Executive summary"),
    ("Developing architecture of system management", "ICS_NONSTAT"): dict(
        evidence_type="peer_empirical", study_design="comparative_case_study",
        data_sources="interviews; observation; documents", n_interviews=64, n_sites=3, relevance="core",
        period_start=2019, period_end=2022, spatial_level="system", coterminosity_lg="partial", era="E9_2016_22",
        statutory_status="non_statutory_partnership",
        functions="F1_strategic_planning; F2_resource_allocation; F10_system_leadership_convening",
        functions_basis="observed_practice", national_role="performance_management; regulation",
        governance_form="partnership_board", decision_mode="consensual_collective",
        accountability_direction="upward_centre; horizontal_partners", accountability_clarity="overlapping_contested",
        autonomy="moderate", lg_mechanisms="joint_consultative_or_planning_body", lg_strength="moderate",
        themes="S23_competition; S23_context; S23_governance_clarity; S23_consensus_limits; S23_accountability; "
               "S23_conflicts_of_interest; P_subsidiarity",
        outcomes_reported="process; financial",
        findings_summary="Collaboration was welcomed, but agreeing governance was ongoing and challenging; conflicts "
                         "of interest were seen as inherent, and statutory accountabilities let organisations "
                         "retreat from difficult issues such as financial sustainability.",
        lessons_for_ics="Statutory ICBs need explicit rules for decisions consensus cannot reach.",
        lesson_audience="systems; national_bodies", key_quote="could run counter to organisational interests",
        lesson_stance="recommends_change", qa_tool="CASP_qual", qa_overall="high", conflict_of_interest="no",
        evidence_locator="Abstract; Results"),
    ("A year of integrated care systems", "ICS_NONSTAT"): dict(
        evidence_type="think_tank_report", study_design="qual_case_study", data_sources="interviews; documents",
        n_interviews=72, n_sites=8, relevance="core", period_start=2017, period_end=2018, spatial_level="system",
        coterminosity_lg="partial", era="E9_2016_22", statutory_status="non_statutory_partnership",
        functions="F1_strategic_planning; F2_resource_allocation; F4_performance_oversight; "
                  "F10_system_leadership_convening",
        functions_basis="observed_practice", national_role="direction; support_development",
        involvement="clinicians; public_patients",
        governance_form="partnership_board", decision_mode="consensual_collective",
        accountability_direction="upward_centre; horizontal_partners", accountability_clarity="unclear",
        autonomy="moderate", lg_mechanisms="lg_led_or_co_led; joint_posts", lg_strength="moderate",
        # the report's own ten enablers and six barriers, all discussed in it, and the principle it names
        themes="KF_E_relationships; KF_E_shared_vision; KF_E_system_leadership; KF_E_clinical_leadership; "
               "KF_E_local_authorities; KF_E_local_identity; KF_E_integrated_models; KF_E_stable_finances; "
               "KF_E_transformation_funding; KF_E_national_programme; KF_B_legislation; KF_B_competitive_legacy; "
               "KF_B_regulation; KF_B_changing_language; KF_B_competing_demands; KF_B_funding_pressures; "
               "P_subsidiarity",
        outcomes_reported="process; service_change",
        findings_summary="Organisations in the first ICSs managed finances and performance together in a way that "
                         "was not happening before; early service change was in primary care, integrated teams "
                         "and specialist services.",
        lessons_for_ics="Invest in relationships at every level and build governance in an evolutionary way.",
        lesson_audience="systems; national_bodies",
        key_quote="Having willed the ends, national bodies must provide the means.",
        lesson_stance="recommends_change", qa_tool="AACODS", qa_overall="moderate", conflict_of_interest="no",
        evidence_locator="Key messages; Chapters 3-5"),
    ("The spatial politics of place and health policy", "STP"): dict(
        evidence_type="peer_empirical", study_design="qual_case_study", data_sources="interviews; documents",
        relevance="core", period_start=2016, period_end=2017, spatial_level="system", coterminosity_lg="partial",
        era="E9_2016_22", statutory_status="non_statutory_partnership",
        functions="F1_strategic_planning; F10_system_leadership_convening", functions_basis="observed_practice",
        governance_form="partnership_board", decision_mode="negotiated", accountability_direction="upward_centre",
        accountability_clarity="unclear", autonomy="low", lg_mechanisms="joint_consultative_or_planning_body",
        lg_strength="weak", themes="H_context_history; H_consensus_avoids_hard_decisions",
        outcomes_reported="none",
        findings_summary="STP footprints were a 'post-political' consensus over cuts, shaped by earlier reorganisations.",
        lessons_for_ics="Place-based consensus can hide hard choices about money.", lesson_audience="places; systems",
        lesson_stance="cautions", qa_tool="CASP_qual", qa_overall="high", conflict_of_interest="no",
        evidence_locator="pp. 220-224"),
    ("Accountable to whom, for what", "CCG"): dict(
        evidence_type="peer_empirical", study_design="qual_case_study", data_sources="interviews; observation",
        relevance="supporting", period_start=2011, period_end=2012, spatial_level="district_place",
        coterminosity_lg="partial", era="E7_2006_13", statutory_status="statutory_body",
        functions="F5_commissioning_purchasing", functions_basis="observed_practice", involvement="clinicians",
        governance_form="membership_body", decision_mode="mixed",
        accountability_direction="upward_centre; professional", accountability_clarity="overlapping_contested",
        autonomy="moderate", lg_mechanisms="joint_consultative_or_planning_body", lg_strength="weak",
        themes="S23_accountability; H_vertical_crowds_horizontal", outcomes_reported="process",
        findings_summary="Early CCGs faced multiple, overlapping accountabilities upwards and to member practices.",
        lessons_for_ics="Clarify to whom system bodies answer before adding new duties.",
        lesson_audience="national_bodies", lesson_stance="cautions",
        qa_tool="CASP_qual", qa_overall="high", conflict_of_interest="no", evidence_locator="Findings"),
    ("Challenges of maintaining accountability in networks", "STP"): dict(
        evidence_type="peer_empirical", study_design="qual_case_study", data_sources="interviews",
        n_interviews=22, n_sites=3, relevance="core", period_start=2017, period_end=2018, spatial_level="system",
        coterminosity_lg="partial", era="E9_2016_22", statutory_status="non_statutory_partnership",
        functions="F1_strategic_planning; F10_system_leadership_convening", functions_basis="observed_practice",
        national_role="regulation; performance_management", governance_form="partnership_board",
        decision_mode="consensual_collective", accountability_direction="upward_centre; to_regulators",
        accountability_clarity="overlapping_contested", autonomy="low", lg_mechanisms="none_reported",
        lg_strength="weak", themes="S23_accountability; H_vertical_crowds_horizontal", outcomes_reported="process",
        findings_summary="Organisations kept their vertical accountabilities and resisted answering for the STP.",
        lessons_for_ics="Horizontal accountability needs formal backing.", lesson_audience="national_bodies; systems",
        lesson_stance="recommends_change",
        qa_tool="CASP_qual", qa_overall="high", conflict_of_interest="no", evidence_locator="Results"),
    ("Agreeing the allocation of scarce resources", "STP"): dict(
        evidence_type="peer_empirical", study_design="qual_case_study", data_sources="interviews; observation",
        relevance="core", period_start=2017, period_end=2018, spatial_level="system", coterminosity_lg="partial",
        era="E9_2016_22", statutory_status="non_statutory_partnership", functions="F2_resource_allocation",
        functions_basis="contested_or_absent", national_role="direction",
        governance_form="partnership_board", decision_mode="consensual_collective",
        accountability_direction="upward_centre", accountability_clarity="unclear", autonomy="low",
        lg_mechanisms="none_reported", lg_strength="absent",
        themes="S23_consensus_limits; P_consensus; H_consensus_avoids_hard_decisions",
        outcomes_reported="financial",
        findings_summary="STPs would not agree collective rules for allocating resources; state influence was "
                         "seen as coercive and necessary.",
        lessons_for_ics="Collective resource allocation needs agreed rules and a backstop.",
        lesson_audience="systems", lesson_stance="recommends_change", qa_tool="CASP_qual", qa_overall="high",
        conflict_of_interest="no", evidence_locator="pp. 4-7"),
    ("Health and social care devolution", "DEVO_GM"): dict(
        evidence_type="peer_commentary", study_design="policy_analysis_commentary", data_sources="documents",
        relevance="supporting", period_start=2015, period_end=2016, spatial_level="system", coterminosity_lg="full",
        era="E8_2013_16; E9_2016_22", statutory_status="non_statutory_partnership",
        functions="F1_strategic_planning; F2_resource_allocation", functions_basis="formal_remit",
        governance_form="partnership_board", decision_mode="negotiated",
        accountability_direction="upward_centre; downward_public_local_democracy", accountability_clarity="unclear",
        autonomy="moderate", lg_mechanisms="lg_led_or_co_led; pooled_budgets_s75_bcf", lg_strength="strong",
        themes="KF_E_local_authorities; H_context_history", ics_purposes="outcomes; social_economic",
        outcomes_reported="none",
        findings_summary="Devolution joined NHS and local government budgets under a city-region partnership.",
        lessons_for_ics="Coterminous local government partners can carry system working.",
        lesson_audience="local_government; systems",
        lesson_stance="supports_current_design", qa_tool="JBI_text_opinion", qa_overall="moderate",
        conflict_of_interest="no", evidence_locator="p. 1"),
}

# reviewer_b: nine of the eleven rows, written in their own words, with some different judgements (where
# agreement statistics and the consensus workbook have something to show) and some typical mistakes
B_CHANGES = {
    ("What can current reforms learn from past research", "RHB"): dict(
        functions="F1_strategic_planning; F2_resource_allocation; F7_capital_estates; F8_workforce_education",
        functions_basis="both",
        findings_summary="Hospital planning, capital building and budgets for the hospital management committees "
                         "sat with the regional boards.",
        lessons_for_ics="Regions with real planning powers kept the hospital service governable."),
    ("What can current reforms learn from past research", "RHA"): dict(
        qa_overall="high", lg_strength="absent", era="E2_1974_81; E3_1982_90; E4_1991_96",
        findings_summary="Regional authorities allocated resources and planned services; from 1991 they umpired "
                         "the internal market, so their role changed with every reform.",
        lessons_for_ics="Repeated changes of purpose weakened the regional tier; ICBs need a settled remit."),
    ("What can current reforms learn from past research", "SHA"): dict(
        period_start=2002, period_end=1995,  # a typing slip: the period ends before it starts
        functions="F1_strategic_planning; F4_performance_oversight; F7_capital_estates; F8_workforce_education",
        era="E6_2002_06; E7_2006_13", functions_basis="both",
        findings_summary="SHAs held PCTs and trusts to account and settled disputes; they did not commission.",
        lessons_for_ics="A tier that manages performance from above leaves little room for partnership."),
    ("Developing architecture of system management", "ICS_NONSTAT"): dict(
        decision_mode="consensus", n_interviews="about 60",  # a word for a code, text for a number
        themes="S23_competition; S23_context; S23_governance_clarity; S23_consensus_limits; S23_accountability; "
               "S23_conflicts_of_interest",
        findings_summary="Partners welcomed collaboration, yet governance stayed unsettled, conflicts of interest "
                         "were inherent and hard financial issues were avoided.",
        lessons_for_ics="Decision rules must say what happens when partners cannot agree."),
    ("A year of integrated care systems", "ICS_NONSTAT"): dict(
        qa_overall="moderate", functions_basis="both",
        findings_summary="Early ICSs began managing money and performance collectively; change came first in "
                         "primary care and integrated community teams.",
        lessons_for_ics="National bodies must back local systems with time, support and funding."),
    ("The spatial politics of place and health policy", "STP"): dict(
        lg_strength="moderate", qa_overall="moderate",
        findings_summary="The STP's footprint rested on a consensus that kept cuts off the political agenda.",
        lessons_for_ics="Consensus about place can mask disagreement over money."),
    ("Accountable to whom, for what", "CCG"): dict(
        relevance="core",
        findings_summary="CCGs answered to NHS England and to their member practices at once.",
        lessons_for_ics="Settle lines of accountability before giving system bodies new duties."),
    ("Challenges of maintaining accountability in networks", "STP"): {
        "functions:F1_strategic_planning": "planning",  # a word where a tick (x) belongs
        "findings_summary": "Member organisations put their own accountabilities before the partnership's.",
        "lessons_for_ics": "Accountability across a partnership has to be written down to hold."},
    ("Agreeing the allocation of scarce resources", "STP"): dict(
        functions_basis="observed_practice",
        findings_summary="Partners could not agree rules for sharing scarce money; some saw central pressure as "
                         "both coercive and needed.",
        lessons_for_ics="Give systems a backstop for allocation decisions partners cannot agree."),
}


def type_in(ws, number: int, header: dict, name: str, value) -> None:
    """Enter a value as a reviewer does: a label chosen from a dropdown, an x in each code's column."""
    if name in FORM.names and FORM[name].type == "single" and FORM[name].code_for(str(value)):
        value = FORM[name].label_of(FORM[name].code_for(str(value)))
    if name in header:
        ws.cell(row=number, column=header[name], value=value)
        return
    for column in (c for h, c in header.items() if h.startswith(f"{name}:")):
        # a corrected choice replaces the earlier ticks (ws.cell(..., value=None) would leave the cell as it is)
        ws.cell(row=number, column=column).value = None
    for code in (c.strip() for c in str(value).split(";")):  # a multiple choice field: one column per code
        ws.cell(row=number, column=header[f"{name}:{code}"], value="x")


def fill(path: Path, plan: dict, notes: str) -> int:
    wb = load_workbook(path)
    ws = wb["extraction"]
    header = {c.value: c.column for c in ws[1] if c.value}
    filled = 0
    for row in ws.iter_rows(min_row=2):
        title = str(row[header["title"] - 1].value or "")
        tier = FORM["tier"].code_for(str(row[header["tier"] - 1].value or "")) or ""
        for (fragment, wanted_tier), values in plan.items():
            if fragment.lower() in title.lower() and tier in (wanted_tier, ""):
                type_in(ws, row[0].row, header, "tier", wanted_tier)  # a study with no tier tag
                for name, value in values.items():
                    type_in(ws, row[0].row, header, name, value)
                ws.cell(row=row[0].row, column=header["notes"], value=notes)
                filled += 1
    wb.save(path)
    return filled


# the team meeting's decisions on some disputed study x tier rows, typed in extracts/consensus.xlsx once the
# evidence stage has listed the disputes there (run this script again after the second `make review`); the
# other disputes stay open, as they would between two meetings
CONSENSUS = {
    ("What can current reforms learn from past research", "RHA"): dict(lg_strength="weak", qa_overall="moderate"),
    ("Developing architecture of system management", "ICS_NONSTAT"): dict(
        themes=A[("Developing architecture of system management", "ICS_NONSTAT")]["themes"]),
    ("What can current reforms learn from past research", "RHB"): dict(
        functions="F1_strategic_planning; F2_resource_allocation; F7_capital_estates", functions_basis="formal_remit"),
}


def main() -> int:
    a = fill(Path("extracts/reviewer_a.xlsx"), A, NOTE)
    b_plan = {key: {**A[key], **changes} for key, changes in B_CHANGES.items()}
    b = fill(Path("extracts/reviewer_b.xlsx"), b_plan, NOTE)
    print(f"reviewer_a: {a} rows filled; reviewer_b: {b} rows filled")
    if Path("extracts/consensus.xlsx").exists():
        c = fill(Path("extracts/consensus.xlsx"), CONSENSUS, "Illustrative consensus: agreed at the team meeting.")
        print(f"consensus: {c} rows settled")
    return 0 if a == len(A) and b == len(b_plan) else 1


if __name__ == "__main__":
    sys.exit(main())
