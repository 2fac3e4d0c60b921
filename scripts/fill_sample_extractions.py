"""Fill the bundled sample's extraction sheets as two reviewers would.

Run after `make review` has created extracts/reviewer_a.xlsx and reviewer_b.xlsx, and again after the
next `make review` has listed the disputes in extracts/consensus.xlsx (it then settles some of them):

    python scripts/fill_sample_extractions.py

Thirteen studies (nineteen study x tier rows) are extracted by reviewer_a: the five source texts' studies
(Lorne et al. 2019 across five tiers, Sanderson et al. 2023 with its study page, the King's Fund 2018,
the PRUComm blog of 2024 for ICBs and ICPs) and the studies the review's domain notes lean on for the
lessons (Checkland et al. 2017, Edwards and Buckingham 2020, the Hewitt review and the Health and Social
Care Committee's report of 2023, Hammond et al. 2017, Moran et al. 2021, Sanderson et al. 2020, Walshe et al.
2016, the 1972 White Paper). reviewer_b extracts all but one of those rows in their own words. Running it
again corrects the rows it fills (a multiple choice's earlier ticks are cleared first); it never touches the
rest of a sheet.

Every value is taken from the source texts in ../shared/domain/sources/ or from the review's domain notes
(../shared/domain/README.md), and is credited only to the study that supports it; quotes are word for word
with a locator (tests/test_sample.py checks those from the source texts). Where no source settles a value
(a period's exact years, an appraisal rating, a code the text only implies) the value is the reviewers'
illustrative judgement. reviewer_b disagrees on a few judgements, as two readers of the same text do, and
makes four typical slips (a word instead of a code, a period ending before it starts, text in a number
column, a word where a tick belongs), which the evidence stage reports.
"""

from __future__ import annotations

import sys
from pathlib import Path

from openpyxl import load_workbook

from review import codebook

FORM = codebook.load("protocols/codebook.yaml")
NOTE = "Sample extraction from the source texts and domain notes; appraisal ratings are illustrative."

# title fragments that find the studies (study ids are the pipeline's, titles are the records')
LORNE = "What can current reforms learn from past research"
SANDERSON23 = "Developing architecture of system management"
KINGS_FUND = "A year of integrated care systems"
BLOG = "Still early days? The development of Integrated Care Systems"
CHECKLAND17 = "Being autonomous and having space in which to act"
EDWARDS = "Strategic health authorities and regions: lessons from history"
HEWITT = "The Hewitt Review"
HSCC = "Integrated Care Systems: autonomy and accountability"
HAMMOND = "The spatial politics of place and health policy"
MORAN = "Challenges of maintaining accountability in networks"
SANDERSON20 = "Agreeing the allocation of scarce resources"
WALSHE = "Health and social care devolution"
WHITE_PAPER = "National Health Service Reorganisation: England"

# the executive summary of the PRUComm literature review (lorne_2019_prucomm_review_exec_summary.txt)
LORNE_STUDY = dict(evidence_type="academic_unit_report", study_design="narrative_scoping_review",
                   data_sources="literature", relevance="core", qa_tool="SANRA", qa_overall="moderate",
                   conflict_of_interest="yes", national_role="none_reported", involvement="none_reported",
                   coterminosity_lg="not_reported", lg_strength="not_reported", lg_mechanisms="none_reported",
                   outcomes_reported="none")
FUNCTIONS_QUOTE = ("responsible variously for long-term strategic planning, allocating resources, acting as market "
                   "umpires, and overseeing delivery of local health services")
# the study page of the PRUComm ICS study (prucomm_ics_study_protocol.txt) and its BMJ Open abstract
SANDERSON_STUDY = dict(evidence_type="peer_empirical", study_design="comparative_case_study",
                       data_sources="interviews; observation; documents", n_interviews=64, n_sites=3,
                       relevance="core", qa_tool="CASP_qual", qa_overall="high", conflict_of_interest="no")
ARBITER_QUOTE = ("An arbiter who is independent of the ICS may be required to resolve disputes, along with increased "
                 "support for shaping governance arrangements.")
RETREAT_QUOTE = ("organisations’ statutory accountabilities were allowing a ‘retreat’ from the confrontation of difficult "
                 "issues facing systems, such as agreeing action to achieve financial sustainability")
# the PRU HSSC blog of 8 November 2024 (prucomm_blog_2024_still_early_days.txt)
BLOG_STUDY = dict(evidence_type="news_blog", study_design="qual_case_study", data_sources="interviews", n_sites=3,
                  relevance="core", period_start=2022, period_end=2023, era="E10_2022_25", qa_tool="AACODS",
                  qa_overall="moderate", conflict_of_interest="no", involvement="none_reported",
                  outcomes_reported="process")

A = {
    (LORNE, "RHB"): dict(
        LORNE_STUDY, period_start=1948, period_end=1974, spatial_level="regional", era="E1_1948_73",
        statutory_status="statutory_body",
        functions="F1_strategic_planning; F2_resource_allocation; F7_capital_estates", functions_basis="formal_remit",
        governance_form="not_reported", decision_mode="not_reported", accountability_clarity="not_reported",
        autonomy="not_reported", themes="H_context_history",
        findings_summary="The first intermediate tier: from 1948 the regional boards were among the statutory "
                         "authorities the review finds responsible for long-term planning and for allocating "
                         "resources.",
        evidence_locator="Executive summary, para. 4"),
    (LORNE, "RHA"): dict(
        LORNE_STUDY, period_start=1974, period_end=1996, spatial_level="regional",
        era="E2_1974_81; E3_1982_90; E4_1991_96", statutory_status="statutory_body",
        functions="F1_strategic_planning; F2_resource_allocation; F3_market_management; F4_performance_oversight",
        functions_basis="formal_remit", governance_form="not_reported", decision_mode="not_reported",
        accountability_clarity="not_reported", autonomy="not_reported", themes="H_context_history",
        findings_summary="Regional authorities planned and allocated resources, oversaw local services and, in the "
                         "internal market of the 1990s, acted as market umpires: the review's four functions of "
                         "the statutory tiers.",
        lessons_for_ics="The tier's functions have been redrawn at each reform; a new tier should say which of "
                        "planning, allocating, market rules and oversight it holds.",
        lesson_audience="national_bodies", key_quote=FUNCTIONS_QUOTE, lesson_stance="cautions",
        evidence_locator="Executive summary, para. 4"),
    (LORNE, "SHA"): dict(
        LORNE_STUDY, period_start=2002, period_end=2013, spatial_level="regional", era="E6_2002_06; E7_2006_13",
        statutory_status="statutory_body", tier_change="Abolished in 2013, leaving a vacuum that STPs and ICSs later "
                                                       "filled.",
        functions="F1_strategic_planning; F4_performance_oversight", functions_basis="formal_remit",
        governance_form="not_reported", decision_mode="not_reported", accountability_clarity="not_reported",
        autonomy="not_reported", themes="H_context_history",
        findings_summary="SHAs were the last statutory intermediate tier; their abolition in 2013 left a vacuum.",
        lessons_for_ics="Removing the tier left a gap that had to be filled again within a few years.",
        lesson_audience="national_bodies",
        key_quote="filling a vacuum left behind by the abolition of Strategic Health Authorities (SHAs) in 2013",
        lesson_stance="cautions", evidence_locator="Executive summary, para. 4"),
    (LORNE, "STP"): dict(
        LORNE_STUDY, period_start=2016, period_end=2019, spatial_level="system", era="E9_2016_22",
        statutory_status="non_statutory_partnership",
        tier_change="44 STPs of NHS commissioners and providers, local authorities and others were formed across "
                    "England after the Five Year Forward View.",
        functions="F1_strategic_planning; F10_system_leadership_convening", functions_basis="observed_practice",
        national_role="direction", governance_form="partnership_board", decision_mode="not_reported",
        accountability_clarity="not_reported", autonomy="not_reported", lg_mechanisms="lg_members_on_board",
        lg_notes="Local authorities are members of the partnerships.", themes="H_context_history",
        findings_summary="STPs are voluntary partnerships of NHS bodies, local authorities and sometimes voluntary "
                         "and private organisations, non-statutory but effectively mandated by NHS England.",
        lessons_for_ics="A partnership mandated from the centre is not the statutory authority earlier tiers were; "
                        "its powers and accountability need to be spelt out.",
        lesson_audience="national_bodies",
        key_quote="STPs and ICSs are not statutory bodies, but instead exist as non-statutory voluntary partnerships "
                  "despite being effectively mandated by NHS England",
        lesson_stance="cautions", evidence_locator="Executive summary, paras 3-4"),
    (LORNE, "ICS_NONSTAT"): dict(
        LORNE_STUDY, period_start=2018, period_end=2019, spatial_level="system", era="E9_2016_22",
        statutory_status="non_statutory_partnership",
        tier_change="Fourteen of the more mature STPs designated ICSs, with more freedom over how they manage "
                    "resources collectively.",
        functions="F2_resource_allocation; F9_public_population_health; F10_system_leadership_convening",
        functions_basis="formal_remit", national_role="direction", governance_form="partnership_board",
        decision_mode="consensual_collective", accountability_direction="upward_centre; horizontal_partners",
        accountability_clarity="not_reported", autonomy="moderate",
        themes="H_context_history; S23_competition",
        findings_summary="ICSs mark the return of an intermediate tier, a shift away from quasi-market competition "
                         "made without changing legislation; they work at neighbourhood, place and system levels.",
        lessons_for_ics="ICSs are the latest form of a tier that keeps being reinvented: read them against the "
                        "history of the earlier tiers.",
        lesson_audience="national_bodies; systems",
        key_quote="Despite undergoing continuous reinvention, an intermediate tier has existed for most of the "
                  "history of the English NHS",
        lesson_stance="cautions", evidence_locator="Executive summary, paras 2-4"),
    (SANDERSON23, "ICS_NONSTAT"): dict(
        SANDERSON_STUDY, period_start=2019, period_end=2021, spatial_level="system", coterminosity_lg="not_reported",
        era="E9_2016_22", statutory_status="non_statutory_partnership",
        functions="F1_strategic_planning; F2_resource_allocation; F10_system_leadership_convening",
        functions_basis="observed_practice", national_role="none_reported", involvement="none_reported",
        governance_form="partnership_board", decision_mode="consensual_collective",
        accountability_direction="upward_centre; horizontal_partners", accountability_clarity="overlapping_contested",
        autonomy="not_reported", lg_mechanisms="none_reported", lg_strength="not_reported",
        themes="S23_competition; S23_context; S23_governance_clarity; S23_consensus_limits; S23_accountability; "
               "S23_conflicts_of_interest",
        outcomes_reported="process",
        findings_summary="Collaboration was welcomed and resources were shared across systems and places, but "
                         "agreeing governance was ongoing and challenging, system priorities could run counter to "
                         "organisational interests, and statutory accountabilities allowed a retreat from difficult "
                         "issues such as financial sustainability. Fieldwork December 2019 to March 2020 and "
                         "January to September 2021.",
        lessons_for_ics="An arbiter independent of the ICS may be needed to resolve disputes, with more support for "
                        "shaping governance.",
        lesson_audience="national_bodies", key_quote=ARBITER_QUOTE, lesson_stance="recommends_change",
        evidence_locator="Abstract: Results, Conclusions; study page: methods (fieldwork dates), key themes"),
    (KINGS_FUND, "ICS_NONSTAT"): dict(
        evidence_type="think_tank_report", study_design="qual_case_study", data_sources="interviews",
        n_interviews=72, n_sites=8, relevance="core", period_start=2017, period_end=2018, spatial_level="system",
        coterminosity_lg="not_reported", era="E9_2016_22", statutory_status="non_statutory_partnership",
        tier_change="NHS England named ten areas to develop the first ICSs in June 2017 and four more in May 2018.",
        functions="F1_strategic_planning; F2_resource_allocation; F4_performance_oversight; "
                  "F10_system_leadership_convening",
        functions_basis="observed_practice", national_role="support_development; regulation",
        involvement="clinicians; public_patients",
        governance_form="partnership_board", decision_mode="consensual_collective",
        accountability_direction="upward_centre; to_regulators; horizontal_partners",
        accountability_clarity="overlapping_contested", autonomy="moderate",
        lg_strength="moderate",
        lg_notes="More positive progress with local authorities than with the public or the voluntary sector.",
        # the report's own ten enablers and six barriers, and the principle it names
        themes="KF_E_relationships; KF_E_shared_vision; KF_E_system_leadership; KF_E_clinical_leadership; "
               "KF_E_local_authorities; KF_E_local_identity; KF_E_integrated_models; KF_E_stable_finances; "
               "KF_E_transformation_funding; KF_E_national_programme; KF_B_legislation; KF_B_competitive_legacy; "
               "KF_B_regulation; KF_B_changing_language; KF_B_competing_demands; KF_B_funding_pressures; "
               "P_subsidiarity",
        outcomes_reported="process; service_change",
        findings_summary="Organisations in the first ICSs worked together to manage finances and performance in a "
                         "way that was not happening before; early service change was in primary care, integrated "
                         "care teams and specialist services; regulation stayed focused on single organisations.",
        lessons_for_ics="Invest in relationships at every level, which can only be done locally and takes time and "
                        "commitment, and build governance in an evolutionary way that does not conflict with "
                        "statutory accountabilities.",
        lesson_audience="systems",
        key_quote="Invest in building collaborative relationships at all levels of the system – this can only be "
                  "done locally and takes time and commitment.",
        lesson_stance="recommends_change", qa_tool="AACODS", qa_overall="moderate", conflict_of_interest="no",
        evidence_locator="Overview; Our findings; Our conclusions; Recommendations"),
    (BLOG, "ICB"): dict(
        BLOG_STUDY, spatial_level="system", coterminosity_lg="not_reported", statutory_status="statutory_body",
        tier_change="Integrated Care Systems formally established in 2022, building on partnership working since "
                    "the STPs of 2017.",
        functions="F1_strategic_planning; F2_resource_allocation; F5_commissioning_purchasing",
        functions_basis="both", national_role="performance_management",
        governance_form="not_reported", decision_mode="consensual_collective",
        accountability_direction="upward_centre; horizontal_partners", accountability_clarity="unclear",
        autonomy="not_reported", lg_mechanisms="none_reported", lg_strength="not_reported",
        themes="P_subsidiarity; P_consensus; P_local_freedom; P_best_for_system; S23_governance_clarity; "
               "S23_consensus_limits",
        ics_purposes="outcomes; inequalities; value; social_economic",
        findings_summary="ICBs hold the NHS budget. Partners in three ICSs backed the four principles (subsidiarity, "
                         "consensus, local freedom, best for system), but governance was still developing, complex "
                         "and at times confusing, it was not always clear who decided what, and organisations were "
                         "still performance managed separately for their finances.",
        lessons_for_ics="Collective decisions are harder while each organisation is still performance managed for "
                        "its own finances.",
        lesson_audience="national_bodies",
        key_quote="individual organisations are still being performance managed for their financial performance "
                  "separately",
        lesson_stance="cautions", evidence_locator="Blog, paras 2-4 and 8-13"),
    (BLOG, "ICP"): dict(
        BLOG_STUDY, spatial_level="system", coterminosity_lg="not_reported", statutory_status="statutory_committee",
        functions="F1_strategic_planning; F9_public_population_health", functions_basis="formal_remit",
        national_role="none_reported", governance_form="joint_committee", decision_mode="not_reported",
        accountability_direction="horizontal_partners", accountability_clarity="not_reported",
        autonomy="not_reported", lg_mechanisms="joint_consultative_or_planning_body", lg_strength="not_reported",
        lg_notes="The ICP brings the NHS, local authorities and other partners together on long-term strategy.",
        findings_summary="The wider integrated care partnership brings together the NHS, local authorities and other "
                         "key partners to develop long-term strategy for health and wellbeing.",
        key_quote="the wider Integrated Care Partnership (ICP) brings together the NHS, Local Authorities, and other "
                  "key local partners to develop long term strategy around health and wellbeing",
        evidence_locator="Blog, para. 2"),
    (CHECKLAND17, "CCG"): dict(
        evidence_type="peer_empirical", study_design="qual_case_study",
        relevance="core", period_start=2013, period_end=2016, spatial_level="district_place",
        coterminosity_lg="not_reported", era="E8_2013_16", statutory_status="statutory_body",
        functions="F5_commissioning_purchasing", functions_basis="observed_practice",
        national_role="direction; performance_management", governance_form="membership_body",
        decision_mode="not_reported", accountability_direction="upward_centre", accountability_clarity="not_reported",
        autonomy="low", lg_mechanisms="none_reported", lg_strength="not_reported",
        themes="H_meso_oversight", outcomes_reported="process",
        findings_summary="Analyses commissioners' room to act as vertical and horizontal 'decision space' after the "
                         "2013 reforms, and concludes that complex public services need meso-level oversight able to "
                         "hold the ring and take a regional view.",
        lessons_for_ics="Complex public services need meso-level oversight from organisations able to hold the ring "
                        "between competing interests and take a regional view.",
        lesson_audience="national_bodies",
        key_quote="complex public services require some sort of meso-level oversight from organisations able to "
                  "'hold the ring' between competing interests and to take a regional view",
        lesson_stance="recommends_change", qa_tool="CASP_qual", qa_overall="high", conflict_of_interest="no",
        evidence_locator="Conclusion"),
    (EDWARDS, "SHA"): dict(
        evidence_type="think_tank_report", study_design="documentary_historical", data_sources="documents; literature",
        relevance="core", period_start=2002, period_end=2013, spatial_level="regional", coterminosity_lg="not_reported",
        era="E6_2002_06; E7_2006_13", statutory_status="statutory_body",
        functions="F12_policy_translation", functions_basis="observed_practice",
        national_role="direction", governance_form="not_reported", decision_mode="not_reported",
        accountability_direction="upward_centre", accountability_clarity="not_reported", autonomy="not_reported",
        lg_mechanisms="none_reported", lg_strength="not_reported",
        themes="H_clarity_of_purpose; H_context_history; H_leader_fit", outcomes_reported="none",
        findings_summary="The regional tier made the NHS more manageable and translated national policy into action. "
                         "Lessons: clarity of purpose, starting points, relationships upwards, system management, "
                         "vertical programmes, other relationships, sources of power and talent.",
        lessons_for_ics="A regional tier gives the centre a manageable span of control, if its purpose is clear and "
                        "consistent, it understands local and historical context, and its leaders fit the area.",
        lesson_audience="national_bodies", lesson_stance="supports_current_design",
        qa_tool="AACODS", qa_overall="moderate", conflict_of_interest="no", evidence_locator="Key lessons"),
    (EDWARDS, "RHA"): dict(
        evidence_type="think_tank_report", study_design="documentary_historical", data_sources="documents; literature",
        relevance="supporting", period_start=1974, period_end=1996, spatial_level="regional",
        coterminosity_lg="not_reported", era="E2_1974_81; E3_1982_90; E4_1991_96", statutory_status="statutory_body",
        functions="F12_policy_translation", functions_basis="observed_practice", governance_form="not_reported",
        decision_mode="not_reported", accountability_direction="upward_centre", accountability_clarity="not_reported",
        autonomy="not_reported", lg_mechanisms="none_reported", lg_strength="not_reported",
        themes="H_clarity_of_purpose; H_context_history", outcomes_reported="none",
        findings_summary="Regions before the SHAs also turned national policy into local action; the same lessons on "
                         "purpose and context apply.",
        qa_tool="AACODS", qa_overall="moderate", conflict_of_interest="no", evidence_locator="Key lessons"),
    (HEWITT, "ICB"): dict(
        evidence_type="gov_policy", study_design="policy_analysis_commentary", data_sources="expert_witness; documents",
        relevance="core", period_start=2022, period_end=2023, spatial_level="system", coterminosity_lg="not_reported",
        era="E10_2022_25", statutory_status="statutory_body", national_role="direction",
        governance_form="not_reported", decision_mode="not_reported",
        accountability_direction="upward_centre; horizontal_partners", accountability_clarity="overlapping_contested",
        autonomy="not_reported", lg_mechanisms="none_reported", lg_strength="not_reported", outcomes_reported="none",
        findings_summary="An independent review of ICSs (April 2023, 36 recommendations) built on six principles: "
                         "collaboration; a limited number of shared priorities; space and time for local leaders; the "
                         "right support; balancing freedom with accountability; timely, transparent data.",
        lessons_for_ics="Balance freedom with accountability, and agree a few shared priorities instead of many "
                        "national targets.",
        lesson_audience="national_bodies", lesson_stance="recommends_change",
        qa_tool="AACODS", qa_overall="moderate", conflict_of_interest="yes", evidence_locator="Principles"),
    (HSCC, "ICB"): dict(
        evidence_type="parliamentary_report", study_design="policy_analysis_commentary",
        data_sources="expert_witness; documents", relevance="core", period_start=2022, period_end=2023,
        spatial_level="system", coterminosity_lg="not_reported", era="E10_2022_25", statutory_status="statutory_body",
        national_role="direction; performance_management", governance_form="not_reported",
        decision_mode="not_reported", accountability_direction="upward_centre; downward_public_local_democracy",
        accountability_clarity="unclear", autonomy="low", lg_mechanisms="none_reported", lg_strength="not_reported",
        lg_notes="Local government's accountability differs from the NHS's.",
        themes="S23_accountability; H_vertical_crowds_horizontal", outcomes_reported="none",
        findings_summary="The committee weighed ICSs' autonomy against their accountability: NHS England's command and "
                         "control sat uneasily with local autonomy, local government's accountability differs from "
                         "the NHS's, and accountability for partnership working needs to be made clear.",
        lessons_for_ics="Say who is accountable for what in partnership working, and give systems room to act.",
        lesson_audience="national_bodies", key_quote="command and control", lesson_stance="recommends_change",
        qa_tool="AACODS", qa_overall="high", conflict_of_interest="no", evidence_locator="Summary"),
    (HAMMOND, "STP"): dict(
        evidence_type="peer_empirical", study_design="qual_case_study", data_sources="interviews; documents",
        relevance="core", period_start=2016, period_end=2017, spatial_level="system", coterminosity_lg="not_reported",
        era="E9_2016_22", statutory_status="non_statutory_partnership",
        functions="F1_strategic_planning; F10_system_leadership_convening", functions_basis="observed_practice",
        national_role="direction", governance_form="partnership_board", decision_mode="negotiated",
        accountability_direction="upward_centre", accountability_clarity="not_reported", autonomy="low",
        lg_mechanisms="none_reported", lg_strength="not_reported",
        themes="H_context_history; H_consensus_avoids_hard_decisions", outcomes_reported="none",
        findings_summary="STPs worked as 'post-political' spaces: a 'local' consensus over cuts under financial "
                         "constraint, shaped by the continued influence of previous reorganisations.",
        lessons_for_ics="A consensus about place can hide hard choices about money.", lesson_audience="systems",
        key_quote="post-political", lesson_stance="cautions",
        qa_tool="CASP_qual", qa_overall="high", conflict_of_interest="no", evidence_locator="Abstract"),
    (MORAN, "STP"): dict(
        evidence_type="peer_empirical", study_design="qual_case_study", data_sources="interviews",
        n_interviews=22, n_sites=3, relevance="core", period_start=2017, period_end=2018, spatial_level="system",
        coterminosity_lg="not_reported", era="E9_2016_22", statutory_status="non_statutory_partnership",
        functions="F1_strategic_planning; F10_system_leadership_convening", functions_basis="observed_practice",
        national_role="regulation; performance_management", governance_form="partnership_board",
        decision_mode="consensual_collective", accountability_direction="upward_centre; to_regulators",
        accountability_clarity="overlapping_contested", autonomy="low", lg_mechanisms="none_reported",
        lg_strength="not_reported", themes="S23_accountability; H_vertical_crowds_horizontal",
        outcomes_reported="process",
        findings_summary="Organisations kept their vertical accountabilities to their boards and regulators and were "
                         "reluctant to be held accountable for the STP as a whole. 22 interviews in three CCG areas, "
                         "November 2017 to July 2018.",
        lessons_for_ics="Horizontal accountability to the system will not hold while vertical lines run only to "
                        "single organisations.",
        lesson_audience="national_bodies", lesson_stance="cautions",
        qa_tool="CASP_qual", qa_overall="high", conflict_of_interest="no", evidence_locator="Abstract"),
    (SANDERSON20, "STP"): dict(
        evidence_type="peer_empirical", study_design="qual_case_study", data_sources="interviews",
        relevance="core", period_start=2017, period_end=2018, spatial_level="system", coterminosity_lg="not_reported",
        era="E9_2016_22", statutory_status="non_statutory_partnership", functions="F2_resource_allocation",
        functions_basis="contested_or_absent", national_role="direction",
        governance_form="partnership_board", decision_mode="consensual_collective",
        accountability_direction="upward_centre", accountability_clarity="not_reported", autonomy="low",
        lg_mechanisms="none_reported", lg_strength="not_reported",
        themes="S23_consensus_limits; P_consensus; H_consensus_avoids_hard_decisions",
        outcomes_reported="financial",
        findings_summary="STPs were unwilling to agree collective rules for allocating resources; the state's "
                         "influence was seen as both coercive and necessary for accountability.",
        lessons_for_ics="Collective resource allocation needs agreed rules and a role for the state behind them.",
        lesson_audience="national_bodies", lesson_stance="recommends_change", qa_tool="CASP_qual", qa_overall="high",
        conflict_of_interest="no", evidence_locator="Abstract"),
    (WALSHE, "DEVO_GM"): dict(
        evidence_type="peer_commentary", study_design="policy_analysis_commentary", data_sources="documents",
        relevance="supporting", period_start=2015, period_end=2016, spatial_level="system", coterminosity_lg="full",
        era="E8_2013_16; E9_2016_22", statutory_status="non_statutory_partnership",
        tier_change="Devolution deal of February 2015, live from April 2016.",
        functions="F1_strategic_planning; F2_resource_allocation", functions_basis="formal_remit",
        governance_form="partnership_board", decision_mode="negotiated",
        accountability_direction="upward_centre; downward_public_local_democracy", accountability_clarity="unclear",
        autonomy="moderate", lg_mechanisms="lg_led_or_co_led; coterminous_boundaries", lg_strength="strong",
        lg_notes="A partnership of ten local authorities with the NHS bodies of the city-region, led by local "
                 "government.",
        outcomes_reported="none",
        findings_summary="Devolution brought ten local authorities, twelve CCGs, fifteen trusts and NHS England into "
                         "one partnership with a joint strategic plan and joint governance over about £6 billion.",
        lessons_for_ics="Where local government leads a partnership with the NHS, it can plan across health and care.",
        lesson_audience="local_government", lesson_stance="supports_current_design", qa_tool="JBI_text_opinion",
        qa_overall="moderate", conflict_of_interest="no", evidence_locator="Article"),
    (WHITE_PAPER, "AHA"): dict(
        evidence_type="gov_policy", study_design="not_applicable", data_sources="documents", relevance="supporting",
        period_start=1972, period_end=1974, spatial_level="area_county", era="E2_1974_81",
        accept_suggested="yes",  # the AHA's suggested statutory status and coterminosity, taken in one step
        tier_change="Planned the 1974 reorganisation of the NHS into regions, areas and districts.",
        functions="F1_strategic_planning; F6_direct_management_provision", functions_basis="formal_remit",
        national_role="direction", lg_mechanisms="coterminous_boundaries", lg_strength="moderate",
        lg_notes="Health stayed out of local-government control, but areas matched the new local authorities and "
                 "joint planning was stressed.",
        outcomes_reported="none",
        findings_summary="The White Paper rejected local-government control of health services but stressed joint "
                         "planning, with area health authorities coterminous with the new local authorities.",
        qa_tool="not_appraised", conflict_of_interest="no", evidence_locator="White Paper (Cmnd 5055)"),
}

# reviewer_b: every row but Edwards and Buckingham's RHA row, in their own words, with some different judgements
# (where agreement statistics and the consensus workbook have something to show) and four typical slips
B_CHANGES = {
    (LORNE, "RHB"): dict(
        functions="F1_strategic_planning; F2_resource_allocation",  # reads only the review's own four functions
        findings_summary="Regional boards, the earliest statutory tier, held planning and the allocation of money.",
    ),
    (LORNE, "RHA"): dict(
        qa_overall="high", functions_basis="both",
        findings_summary="The review's typology of the statutory tiers (planning, allocating, umpiring the market, "
                         "overseeing delivery) fits the regional authorities, the market umpire role from 1991.",
        lessons_for_ics="Each reform redrew what the tier did; ICBs need a settled list of functions.",
    ),
    (LORNE, "SHA"): dict(
        period_start=2002, period_end=1995,  # a typing slip: the period ends before it starts
        findings_summary="The strategic health authorities were abolished in 2013, which left a vacuum at the "
                         "intermediate level.",
        lessons_for_ics="Abolishing the tier did not remove the need for it.",
    ),
    (LORNE, "STP"): dict(
        lg_notes="Councils sit in the partnerships alongside NHS commissioners and providers.",
        findings_summary="Forty-four voluntary partnerships, with no statutory basis, though NHS England in effect "
                         "required them.",
        lessons_for_ics="Partnerships mandated from above lack the powers of earlier statutory authorities.",
    ),
    (LORNE, "ICS_NONSTAT"): dict(
        functions="F1_strategic_planning; F2_resource_allocation; F10_system_leadership_convening",
        themes="H_context_history",
        findings_summary="Fourteen more mature partnerships became ICSs with more freedom to manage resources "
                         "together: a return of the intermediate tier without new legislation.",
        lessons_for_ics="The history of earlier tiers is the context in which to judge ICSs.",
    ),
    (SANDERSON23, "ICS_NONSTAT"): dict(
        decision_mode="consensus", n_interviews="64 interviews",  # a word for a code, text for a number
        study_design="qual_case_study",
        findings_summary="Partners welcomed collaborative working and found its benefits outweighed the risks of "
                         "inherent conflicts of interest, yet governance was still being agreed and hard financial "
                         "issues were avoided.",
        lessons_for_ics="Disputes between partners may need an arbiter outside the ICS, and systems need help to "
                        "shape their governance.",
    ),
    (KINGS_FUND, "ICS_NONSTAT"): dict(
        functions_basis="both",
        lg_notes="Local authority involvement went further than public or voluntary-sector engagement.",
        findings_summary="First-wave ICSs began to manage money and performance collectively; regional teams were "
                         "slow to align and the regulatory relationship on the ground was largely unchanged.",
        lessons_for_ics="Leaders need dedicated time for system leadership, and governance should grow step by step "
                        "alongside statutory duties.",
        key_quote="System-wide governance must work alongside the accountabilities of statutory organisations, and "
                  "this can create tensions between system objectives and organisational accountabilities.",
    ),
    (BLOG, "ICB"): dict(
        study_design="policy_analysis_commentary",
        findings_summary="Principles of subsidiarity, consensus, local freedom and best for system were supported, "
                         "but decision making was duplicated and confusing, subsidiarity was not always honoured "
                         "and separate performance management of each organisation made joint decisions harder.",
        lessons_for_ics="Make clear who decides what, and let local groups hold commissioning and resources as "
                        "subsidiarity promises.",
        lesson_audience="systems",  # control withheld from local groups inside ICSs: theirs to give
        key_quote="it was not always clear who was responsible for making which decisions",
    ),
    (BLOG, "ICP"): dict(
        study_design="policy_analysis_commentary", lg_strength="moderate",
        lg_notes="Local authorities and the NHS set long-term strategy together in the ICP.",
        findings_summary="ICPs are where local authorities and the NHS meet to set long-term health and wellbeing "
                         "strategy.",
    ),
    (CHECKLAND17, "CCG"): dict(
        autonomy="moderate",
        findings_summary="CCGs had some decision space, bounded from above and across; the authors conclude that an "
                         "intermediate body is needed to arbitrate and take a regional view.",
        lessons_for_ics="Someone above the local level has to hold the ring between competing interests.",
    ),
    (EDWARDS, "SHA"): dict(
        findings_summary="Regional bodies made a national service more manageable and turned policy into local "
                         "action; success depended on purpose, context and leaders.",
        lessons_for_ics="Keep the purpose of the regional tier clear and stable, and choose leaders who fit their "
                        "area.",
    ),
    (HEWITT, "ICB"): dict(
        accountability_clarity="unclear",
        findings_summary="Six principles for ICSs, from collaboration and a few shared priorities to space for "
                         "local leaders and freedom balanced with accountability.",
        lessons_for_ics="Give local leaders space and time, with fewer national priorities.",
    ),
    (HSCC, "ICB"): dict(
        accountability_clarity="overlapping_contested",
        lg_notes="Councils answer to their electorate in a way NHS bodies do not.",
        findings_summary="MPs found ICS autonomy in tension with NHS England's command-and-control style and asked "
                         "for clarity on accountability for partnership working.",
        lessons_for_ics="Clarify accountability for partnership working, including local government's.",
    ),
    (HAMMOND, "STP"): dict(
        findings_summary="The STP rested on a 'local', post-political consensus over cuts, shaped by the legacy of "
                         "earlier reorganisations.",
        lessons_for_ics="Place-based consensus can mask disagreement over money.",
    ),
    (MORAN, "STP"): {
        "functions:F1_strategic_planning": "planning",  # a word where a tick (x) belongs
        "findings_summary": "Member organisations answered to their own boards and regulators first and did not "
                            "want to answer for the whole partnership.",
        "lessons_for_ics": "Accountability across a partnership needs formal backing to hold."},
    (SANDERSON20, "STP"): dict(
        functions_basis="observed_practice",
        findings_summary="Partners would not agree rules for sharing scarce money; central pressure was seen as "
                         "coercive yet needed.",
        lessons_for_ics="Give systems rules, and a backstop from the centre, for allocation decisions partners "
                        "cannot agree.",
    ),
    (WALSHE, "DEVO_GM"): dict(
        lg_strength="moderate",
        lg_notes="Ten councils lead the city-region's partnership with the NHS.",
        findings_summary="Greater Manchester's devolution joined councils and NHS bodies in one partnership with a "
                         "joint plan.",
        lessons_for_ics="Local government can lead health and care planning where the geography is shared.",
    ),
    (WHITE_PAPER, "AHA"): dict(
        lg_strength="weak",
        lg_notes="Matching boundaries and joint planning, but no local-government control of health.",
        findings_summary="Health authorities would match local-authority areas and plan jointly with them, but "
                         "health was not handed to local government.",
    ),
}
B_SKIPS = {(EDWARDS, "RHA")}  # reviewer_a alone: a single reviewer's row


def type_in(ws, number: int, header: dict, name: str, value) -> None:
    """Enter a value as a reviewer does: a label chosen from a dropdown, an x in each code's column."""
    if name in FORM.all_names and FORM[name].type == "single" and FORM[name].code_for(str(value)):
        value = FORM[name].label_of(FORM[name].code_for(str(value)))
    if name in header:
        ws.cell(row=number, column=header[name], value=value)
        return
    for column in (c for h, c in header.items() if h.startswith(f"{name}:")):
        # a corrected choice replaces the earlier ticks (ws.cell(..., value=None) would leave the cell as it is)
        ws.cell(row=number, column=column).value = None
    for code in (c.strip() for c in str(value).split(";")):  # a multiple choice field: one column per code
        ws.cell(row=number, column=header[f"{name}:{code}"], value="x")


def typed_columns(header: dict) -> list[int]:
    """The columns a reviewer types in (every field but the row's tier, accept_suggested, notes)."""
    return [column for name, column in header.items()
            if name in ("accept_suggested", "notes") or (name.split(":")[0] in FORM.names and name != "tier")]


def fill(path: Path, plan: dict, notes: str, withdrawn: tuple = ()) -> int:
    """Type ``plan`` into the rows it names, each row cleared first so that a value an earlier version of this
    script typed and the plan no longer gives does not linger; rows of ``withdrawn`` are cleared only."""
    wb = load_workbook(path)
    ws = wb["extraction"]
    header = {c.value: c.column for c in ws[1] if c.value}
    filled = 0
    for row in ws.iter_rows(min_row=2):
        title = str(row[header["title"] - 1].value or "")
        tier = FORM["tier"].code_for(str(row[header["tier"] - 1].value or "")) or ""
        for (fragment, wanted_tier), values in [*plan.items(), *((key, None) for key in withdrawn)]:
            if fragment.lower() in title.lower() and tier in (wanted_tier, ""):
                for column in typed_columns(header):
                    ws.cell(row=row[0].row, column=column).value = None
                if values is None:
                    continue
                type_in(ws, row[0].row, header, "tier", wanted_tier)  # a study with no tier tag
                for name, value in values.items():
                    type_in(ws, row[0].row, header, name, value)
                ws.cell(row=row[0].row, column=header["notes"], value=notes)
                filled += 1
    wb.save(path)
    return filled


# rows an earlier version of the sample filled from general knowledge, not from a source the review holds:
# withdrawn (Checkland et al. 2013's findings are not in the domain notes)
WITHDRAWN = (("Accountable to whom, for what", "CCG"),)


# the team meeting's decisions on some disputed study x tier rows, typed in extracts/consensus.xlsx once the
# evidence stage has listed the disputes there (run this script again after the second `make review`); the
# other disputes stay open, as they would between two meetings
CONSENSUS = {
    # the executive summary names planning and allocating; the building programme is not in it
    (LORNE, "RHB"): dict(functions="F1_strategic_planning; F2_resource_allocation"),
    (LORNE, "RHA"): dict(qa_overall="moderate", functions_basis="formal_remit"),
    # competition's ongoing influence is Sanderson et al.'s theme; the review reports a shift away from it
    (LORNE, "ICS_NONSTAT"): dict(themes="H_context_history",
                                 functions=A[(LORNE, "ICS_NONSTAT")]["functions"]),
    (SANDERSON23, "ICS_NONSTAT"): dict(study_design="qual_case_study"),
    # the blog reports the unit's case studies of three ICSs: coded by the study it reports
    (BLOG, "ICB"): dict(study_design="qual_case_study"),
    (BLOG, "ICP"): dict(study_design="qual_case_study", lg_strength="not_reported"),
}


# --- lessons: one row each on the workbook's lessons sheet, with its own audience, stance, quote and page ------

LESSON_FIELDS = ("lessons_for_ics", "lesson_audience", "lesson_stance", "key_quote")
# lessons beyond the one a plan row gives: Sanderson et al. 2023's 'retreat' passage is a lesson of its own, for
# systems, which only reviewer_a draws
MORE_LESSONS_A = {
    (SANDERSON23, "ICS_NONSTAT"): [dict(
        lessons_for_ics="Statutory accountabilities can let partners retreat from hard financial decisions; a system "
                        "should plan how it will face them.",
        lesson_audience="systems", lesson_stance="cautions", key_quote=RETREAT_QUOTE,
        lesson_locator="Abstract: Results")],
}


def lessons_of(plan: dict, more: dict) -> dict:
    """(study, tier) -> its lessons: the plan row's lesson (its locator the row's), then any more."""
    out = {}
    for key, values in plan.items():
        lessons = [{**{k: values[k] for k in LESSON_FIELDS if k in values},
                    "lesson_locator": values.get("evidence_locator", "")}] if values.get("lessons_for_ics") else []
        out[key] = lessons + more.get(key, [])
    return out


def without_lessons(plan: dict) -> dict:
    return {key: {k: v for k, v in values.items() if k not in LESSON_FIELDS} for key, values in plan.items()}


def fill_lessons(path: Path, plan: dict, notes: str) -> int:
    """Type each study x tier's lessons on the lessons sheet: into the rows of that study the pipeline wrote (or
    the upgrade moved there), then into spare rows below as a reviewer does (study id and tier typed); every row of
    a planned study is cleared first, so that running the script again gives the same sheet."""
    wb = load_workbook(path)
    ws = wb["lessons"]
    main = load_workbook("extracts/reviewer_a.xlsx", read_only=True)["extraction"]  # every study's id, by title
    head = {c.value: c.column for c in next(main.iter_rows(max_row=1)) if c.value}
    ids = {}
    for row in main.iter_rows(min_row=2, values_only=True):
        title, sid = str(row[head["title"] - 1] or ""), row[head["study_id"] - 1]
        for fragment, _ in plan:
            if sid and title and fragment.lower() in title.lower():
                ids[fragment] = str(sid)
    header = {c.value: c.column for c in ws[1] if c.value}
    typed = [c for n, c in header.items() if n == "notes" or (n.split(":")[0] in FORM.all_names and n != "tier")]
    free: dict[str, list[int]] = {}
    for row in ws.iter_rows(min_row=2):
        sid = row[header["study_id"] - 1].value
        if sid not in ids.values():
            continue
        for column in typed:
            ws.cell(row=row[0].row, column=column).value = None
        if row[header["title"] - 1].value:  # a row the pipeline wrote: reused
            free.setdefault(str(sid), []).append(row[0].row)
        else:  # a spare row this script typed before: emptied
            ws.cell(row=row[0].row, column=header["study_id"]).value = None
            ws.cell(row=row[0].row, column=header["tier"]).value = None
    spare = max(r[0].row for r in ws.iter_rows(min_row=1) if any(c.value for c in r)) + 1
    filled = 0
    for (fragment, tier), lessons in plan.items():
        sid = ids.get(fragment)
        for lesson in lessons if sid else ():
            if free.get(sid):
                number = free[sid].pop(0)
            else:
                number, spare = spare, spare + 1
                ws.cell(row=number, column=header["study_id"], value=sid)
            type_in(ws, number, header, "tier", tier)
            for name, value in lesson.items():
                if value:
                    type_in(ws, number, header, name, value)
            ws.cell(row=number, column=header["notes"], value=notes)
            filled += 1
    wb.save(path)
    return filled


# the team meeting's lessons for study x tiers whose two reviewers' lessons quote no common passage: written on the
# consensus workbook's lessons sheet, they are that study x tier's lessons
CONSENSUS_LESSONS = {
    (SANDERSON23, "ICS_NONSTAT"): [
        dict(lessons_for_ics="An arbiter independent of the ICS may be needed to resolve disputes, with more support "
                             "for shaping governance.", lesson_audience="national_bodies",
             lesson_stance="recommends_change", key_quote=ARBITER_QUOTE, lesson_locator="Abstract: Conclusions"),
        *MORE_LESSONS_A[(SANDERSON23, "ICS_NONSTAT")]],
    (EDWARDS, "SHA"): [dict(
        lessons_for_ics="Keep the purpose of the regional tier clear and consistent, and choose leaders who fit "
                        "their area.", lesson_audience="national_bodies", lesson_stance="recommends_change",
        lesson_locator="Key lessons; prerequisites")],
    (HEWITT, "ICB"): [dict(
        lessons_for_ics="Balance freedom with accountability, and agree a few shared priorities instead of many "
                        "national targets.", lesson_audience="national_bodies", lesson_stance="recommends_change",
        lesson_locator="Principles")],
    (MORAN, "STP"): [dict(
        lessons_for_ics="Horizontal accountability to the system will not hold while vertical lines run only to "
                        "single organisations.", lesson_audience="national_bodies", lesson_stance="cautions",
        lesson_locator="Abstract")],
    (SANDERSON20, "STP"): [dict(
        lessons_for_ics="Collective resource allocation needs agreed rules and a role for the state behind them.",
        lesson_audience="national_bodies", lesson_stance="recommends_change", lesson_locator="Abstract")],
    (WALSHE, "DEVO_GM"): [dict(
        lessons_for_ics="Where local government leads a partnership with the NHS, it can plan across health and care.",
        lesson_audience="local_government", lesson_stance="supports_current_design", lesson_locator="Article")],
}


def main() -> int:
    a_plan = without_lessons(A)
    a = fill(Path("extracts/reviewer_a.xlsx"), a_plan, NOTE, WITHDRAWN)
    # reviewer_b's free text is their own (B_CHANGES); they leave the optional tier_change to reviewer_a
    b_full = {key: {**{k: v for k, v in A[key].items() if k != "tier_change"}, **B_CHANGES.get(key, {})}
              for key in A if key not in B_SKIPS}
    b = fill(Path("extracts/reviewer_b.xlsx"), without_lessons(b_full), NOTE, WITHDRAWN)
    la = fill_lessons(Path("extracts/reviewer_a.xlsx"), lessons_of(A, MORE_LESSONS_A), NOTE)
    lb = fill_lessons(Path("extracts/reviewer_b.xlsx"), lessons_of(b_full, {}), NOTE)
    print(f"reviewer_a: {a} rows and {la} lessons filled; reviewer_b: {b} rows and {lb} lessons filled")
    if Path("extracts/consensus.xlsx").exists():
        c = fill(Path("extracts/consensus.xlsx"), CONSENSUS, "Consensus agreed at the team meeting.")
        wb = load_workbook("extracts/consensus.xlsx")
        lc = fill_lessons(Path("extracts/consensus.xlsx"), CONSENSUS_LESSONS,
                          "Agreed at the team meeting.") if "lessons" in wb.sheetnames else 0
        print(f"consensus: {c} rows settled, {lc} lessons agreed")
    return 0 if a == len(A) and b == len(b_full) else 1


if __name__ == "__main__":
    sys.exit(main())
