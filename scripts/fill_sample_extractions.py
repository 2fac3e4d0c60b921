"""Fill the bundled sample's extraction sheets as two reviewers would (illustrative values).

Run after `make review` has created extracts/reviewer_a.xlsx and reviewer_b.xlsx, and again after the
next `make review` has listed the disputes in extracts/consensus.xlsx (it then settles one of them):

    python scripts/fill_sample_extractions.py

Ten studies of the sample are extracted by reviewer_a, eight of them also by reviewer_b. The values
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

# (title fragment, tier) -> values; the tier row is the one the pipeline pre-filled from the tags
A = {
    ("What can current reforms learn from past research", "RHA"): dict(
        evidence_type="think_tank_report", study_design="narrative_scoping_review", data_sources="literature",
        relevance="core", period_start=1974, period_end=1996, spatial_level="regional", coterminosity_lg="none",
        statutory_status="statutory_body",
        functions="F1_strategic_planning; F2_resource_allocation; F3_market_management; F4_performance_oversight",
        governance_form="appointed_board_with_neds", decision_mode="hierarchical_directive",
        accountability_direction="upward_centre", accountability_clarity="clear", autonomy="low",
        lg_mechanisms="lg_members_on_board", lg_strength="weak",
        lg_notes="Local authority members sat on RHAs after 1974 but boundaries never matched.",
        themes="H_clarity_of_purpose; H_reorganisation_costs; H_meso_oversight",
        findings_summary="RHAs planned and allocated resources and, after 1991, acted as market umpires; their "
                         "purpose shifted with each reform.",
        lessons_for_ics="A tier needs a stable, clearly stated purpose.", lesson_stance="cautions",
        qa_tool="SANRA", qa_overall="moderate", conflict_of_interest="no", evidence_locator="pp. 9-17"),
    ("What can current reforms learn from past research", "SHA"): dict(
        evidence_type="think_tank_report", study_design="narrative_scoping_review", data_sources="literature",
        relevance="core", period_start=2002, period_end=2013, spatial_level="regional",
        accept_suggested="yes",  # the SHA's suggested statutory status and coterminosity, taken in one step
        functions="F1_strategic_planning; F4_performance_oversight; F10_system_leadership_convening",
        governance_form="appointed_board_with_neds", decision_mode="hierarchical_directive",
        accountability_direction="upward_centre", accountability_clarity="clear", autonomy="low",
        lg_mechanisms="none_reported", lg_strength="weak", themes="H_meso_oversight; H_vertical_crowds_horizontal",
        findings_summary="SHAs performance-managed PCTs and trusts and brokered disputes, without commissioning.",
        lessons_for_ics="Performance management from above can crowd out system working.",
        lesson_stance="cautions", qa_tool="SANRA", qa_overall="moderate", conflict_of_interest="no",
        evidence_locator="pp. 18-24"),
    ("Developing architecture of system management", "ICS_NONSTAT"): dict(
        evidence_type="peer_empirical", study_design="comparative_case_study",
        data_sources="interviews; observation; documents", n_interviews=64, n_sites=3, relevance="core",
        period_start=2019, period_end=2022, spatial_level="system", coterminosity_lg="partial",
        statutory_status="non_statutory_partnership",
        functions="F1_strategic_planning; F2_resource_allocation; F10_system_leadership_convening",
        governance_form="partnership_board", decision_mode="consensual_collective",
        accountability_direction="upward_centre; horizontal_partners", accountability_clarity="overlapping_contested",
        autonomy="moderate", lg_mechanisms="joint_consultative_or_planning_body", lg_strength="moderate",
        themes="S23_consensus_limits; S23_governance_clarity; S23_accountability; P_subsidiarity",
        findings_summary="Consensual decision making worked for agreeable issues but avoided difficult ones.",
        lessons_for_ics="Statutory ICBs need explicit rules for decisions consensus cannot reach.",
        lesson_stance="recommends_change", qa_tool="CASP_qual", qa_overall="high", conflict_of_interest="no",
        evidence_locator="Results; Discussion"),
    ("A year of integrated care systems", "ICS_NONSTAT"): dict(
        evidence_type="think_tank_report", study_design="qual_case_study", data_sources="interviews; documents",
        n_interviews=72, n_sites=8, relevance="core", period_start=2017, period_end=2018, spatial_level="system",
        coterminosity_lg="partial", statutory_status="non_statutory_partnership",
        functions="F1_strategic_planning; F4_performance_oversight; F10_system_leadership_convening",
        governance_form="partnership_board", decision_mode="consensual_collective",
        accountability_direction="upward_centre; horizontal_partners", accountability_clarity="unclear",
        autonomy="moderate", lg_mechanisms="lg_led_or_co_led; joint_posts", lg_strength="moderate",
        themes="KF_E_relationships; KF_E_system_leadership; KF_B_legislation; KF_B_competing_demands",
        findings_summary="Relationships and system leadership enabled progress; legislation and competing "
                         "demands held it back.",
        lessons_for_ics="Invest in relationships at every level and build governance in an evolutionary way.",
        lesson_stance="recommends_change", qa_tool="AACODS", qa_overall="moderate", conflict_of_interest="no",
        evidence_locator="Chapters 3-5"),
    ("The spatial politics of place and health policy", "STP"): dict(
        evidence_type="peer_empirical", study_design="qual_case_study", data_sources="interviews; documents",
        relevance="core", period_start=2016, period_end=2017, spatial_level="system", coterminosity_lg="partial",
        statutory_status="non_statutory_partnership", functions="F1_strategic_planning; F10_system_leadership_convening",
        governance_form="partnership_board", decision_mode="negotiated", accountability_direction="upward_centre",
        accountability_clarity="unclear", autonomy="low", lg_mechanisms="joint_consultative_or_planning_body",
        lg_strength="weak", themes="H_context_history; H_consensus_avoids_hard_decisions",
        findings_summary="STP footprints were a 'post-political' consensus over cuts, shaped by earlier reorganisations.",
        lessons_for_ics="Place-based consensus can hide hard choices about money.", lesson_stance="cautions",
        qa_tool="CASP_qual", qa_overall="high", conflict_of_interest="no", evidence_locator="pp. 220-224"),
    ("Accountable to whom, for what", "CCG"): dict(
        evidence_type="peer_empirical", study_design="qual_case_study", data_sources="interviews; observation",
        relevance="supporting", period_start=2011, period_end=2012, spatial_level="district_place",
        coterminosity_lg="partial", statutory_status="statutory_body", functions="F5_commissioning_purchasing",
        governance_form="membership_body", decision_mode="mixed",
        accountability_direction="upward_centre; professional", accountability_clarity="overlapping_contested",
        autonomy="moderate", lg_mechanisms="joint_consultative_or_planning_body", lg_strength="weak",
        themes="S23_accountability; H_vertical_crowds_horizontal",
        findings_summary="Early CCGs faced multiple, overlapping accountabilities upwards and to member practices.",
        lessons_for_ics="Clarify to whom system bodies answer before adding new duties.", lesson_stance="cautions",
        qa_tool="CASP_qual", qa_overall="high", conflict_of_interest="no", evidence_locator="Findings"),
    ("Challenges of maintaining accountability in networks", "STP"): dict(
        evidence_type="peer_empirical", study_design="qual_case_study", data_sources="interviews",
        n_interviews=22, n_sites=3, relevance="core", period_start=2017, period_end=2018, spatial_level="system",
        coterminosity_lg="partial", statutory_status="non_statutory_partnership",
        functions="F1_strategic_planning; F10_system_leadership_convening", governance_form="partnership_board",
        decision_mode="consensual_collective", accountability_direction="upward_centre; to_regulators",
        accountability_clarity="overlapping_contested", autonomy="low", lg_mechanisms="none_reported",
        lg_strength="weak", themes="S23_accountability; H_vertical_crowds_horizontal",
        findings_summary="Organisations kept their vertical accountabilities and resisted answering for the STP.",
        lessons_for_ics="Horizontal accountability needs formal backing.", lesson_stance="recommends_change",
        qa_tool="CASP_qual", qa_overall="high", conflict_of_interest="no", evidence_locator="Results"),
    ("Agreeing the allocation of scarce resources", "STP"): dict(
        evidence_type="peer_empirical", study_design="qual_case_study", data_sources="interviews; observation",
        relevance="core", period_start=2017, period_end=2018, spatial_level="system", coterminosity_lg="partial",
        statutory_status="non_statutory_partnership", functions="F2_resource_allocation",
        governance_form="partnership_board", decision_mode="consensual_collective",
        accountability_direction="upward_centre", accountability_clarity="unclear", autonomy="low",
        lg_mechanisms="none_reported", lg_strength="absent", themes="S23_consensus_limits; P_consensus",
        findings_summary="STPs would not agree collective rules for allocating resources; state influence was "
                         "seen as coercive and necessary.",
        lessons_for_ics="Collective resource allocation needs agreed rules and a backstop.",
        lesson_stance="recommends_change", qa_tool="CASP_qual", qa_overall="high", conflict_of_interest="no",
        evidence_locator="pp. 4-7"),
    ("Health and social care devolution", "DEVO_GM"): dict(
        evidence_type="peer_commentary", study_design="policy_analysis_commentary", data_sources="documents",
        relevance="supporting", period_start=2015, period_end=2016, spatial_level="system", coterminosity_lg="full",
        statutory_status="non_statutory_partnership", functions="F1_strategic_planning; F2_resource_allocation",
        governance_form="partnership_board", decision_mode="negotiated",
        accountability_direction="upward_centre; downward_public_local_democracy", accountability_clarity="unclear",
        autonomy="moderate", lg_mechanisms="lg_led_or_co_led; pooled_budgets_s75_bcf", lg_strength="strong",
        themes="KF_E_local_authorities; H_context_history",
        findings_summary="Devolution joined NHS and local government budgets under a city-region partnership.",
        lessons_for_ics="Coterminous local government partners can carry system working.",
        lesson_stance="supports_current_design", qa_tool="JBI_text_opinion", qa_overall="moderate",
        conflict_of_interest="no", evidence_locator="p. 1"),
}

# reviewer_b: the same studies but two, with some different judgements and some mistakes
B_CHANGES = {
    ("What can current reforms learn from past research", "RHA"): dict(qa_overall="high", lg_strength="absent"),
    ("What can current reforms learn from past research", "SHA"): dict(
        period_start=2002, period_end=1995,  # a typing slip: the period ends before it starts
        functions="F1_strategic_planning; F4_performance_oversight; F7_capital_estates; F8_workforce_education"),
    ("Developing architecture of system management", "ICS_NONSTAT"): dict(
        decision_mode="consensus", n_interviews="about 60"),  # a word for a code, text for a number
    ("A year of integrated care systems", "ICS_NONSTAT"): dict(qa_overall="moderate"),
    ("The spatial politics of place and health policy", "STP"): dict(lg_strength="moderate", qa_overall="moderate"),
    ("Accountable to whom, for what", "CCG"): dict(relevance="core"),
    ("Challenges of maintaining accountability in networks", "STP"): {
        "functions:F1_strategic_planning": "planning"},  # a word where a tick (x) belongs
    ("Agreeing the allocation of scarce resources", "STP"): {},
}


def type_in(ws, number: int, header: dict, name: str, value) -> None:
    """Enter a value as a reviewer does: a label chosen from a dropdown, an x in each code's column."""
    if name in FORM.names and FORM[name].type == "single" and FORM[name].code_for(str(value)):
        value = FORM[name].label_of(FORM[name].code_for(str(value)))
    if name in header:
        ws.cell(row=number, column=header[name], value=value)
        return
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


# the team meeting's decision on one disputed study x tier, typed in extracts/consensus.xlsx once the
# evidence stage has listed the disputes there (run this script again after the second `make review`)
CONSENSUS = {("What can current reforms learn from past research", "RHA"): dict(lg_strength="weak", qa_overall="moderate")}


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
