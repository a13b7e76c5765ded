"""Exact figures of the hand-made cohort (cohort.py), before suppression, worked out by hand."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from werkplek_funding_reports.domain.figures import Draft
from werkplek_funding_reports.domain.report import build_draft, trajectory_draft

from .cohort import PROG, YEAR, cohort, entries


@pytest.fixture(scope="module")
def draft() -> Draft:
    return build_draft(cohort(), entries(), YEAR)


def values(draft: Draft, section: str, column: str) -> dict[str, D | None]:
    sec = next(s for s in draft.sections if s.name == section)
    return {row: cells[column].value for row, cells in sec.rows.items() if column in cells}


def members(draft: Draft, section: str, row: str, column: str) -> set[str]:
    return {sid for _, sid in draft.figure((section, row, column)).members}


def test_target_groups(draft):
    assert values(draft, "target_groups", "students") == {
        "regular": 6, "working_student": 2, "side_entrant": 3, "other": 1, "all": 12, "over_25": 5}
    assert values(draft, "target_groups", "dual_track") == {
        "regular": 3, "working_student": 1, "side_entrant": 1, "other": 0, "all": 5, "over_25": 2}
    assert draft.figure(("target_groups", "all", "students")).members == {(PROG, f"s{n:02d}") for n in range(1, 13)}


def test_share_distribution_real_is_exact_on_minutes(draft):
    # exact shares (minutes / 194 400): 0, 5000, 10 000, 20 000, 30 000, 40 000, 50 000, 64 799, 64 800, 90 000
    # q1 at position 2.25: (10 000 + .25 × 10 000) / 194 400 = .0643; median (30 000 + 40 000) / 2 = .1800;
    # q3 at 6.75: (50 000 + .75 × 14 799) / 194 400 = .3143. 64 799 is below ⅓ although it shows as .3333
    assert values(draft, "share_distribution", "real_share") == {
        "students": 10, "q1": D("0.0643"), "median": D("0.1800"), "q3": D("0.3143"),
        "<10%": 3, "10% to <20%": 2, "20% to <1/3": 3, "1/3 to <50%": 2, ">=50%": 0}


def test_share_distribution_projected_uses_published_places(draft):
    # 0.3333 is in the ⅓ band, 0.3332 is not; the median .33325 rounds half-even to .3332
    assert values(draft, "share_distribution", "projected_share") == {
        "students": 10, "q1": D("0.2250"), "median": D("0.3332"), "q3": D("0.3875"),
        "<10%": 1, "10% to <20%": 1, "20% to <1/3": 3, "1/3 to <50%": 3, ">=50%": 2}


def test_share_distribution_of_this_years_share(draft):
    # year minutes / 97 200 of the nine with a year figure: 0, 5000, 10 000, 20 000, 24 799, 30 000, 34 800,
    # 50 000, 90 000 -> q1 = 10 000 (.1029), median 24 799 (.2551), q3 34 800 (.3580)
    assert values(draft, "share_distribution", "year_share") == {
        "students": 9, "q1": D("0.1029"), "median": D("0.2551"), "q3": D("0.3580"),
        "<10%": 2, "10% to <20%": 1, "20% to <1/3": 3, "1/3 to <50%": 1, ">=50%": 2}


def test_required_share_one_third_on_both_sides_of_the_boundary(draft):
    assert values(draft, "required_share", "value") == {
        "required_share": D("0.3333"), "students": 12,
        "on_course": 6, "not_on_course": 4, "no_share_data": 2, "no_required_share": 0,
        "required_share_reached": 2,
        "on_track": 6, "at_risk": 2, "behind": 2, "status_unknown": 2,
    }
    assert members(draft, "required_share", "on_course", "value") == {"s01", "s02", "s05", "s06", "s07", "s09"}
    assert "s03" in members(draft, "required_share", "not_on_course", "value")  # .3332
    assert members(draft, "required_share", "required_share_reached", "value") == {"s01", "s09"}  # s02: a minute short


CRITERIA_TABLE = {
    # trajectory: min_share, co_creation, two_components, build_up, competences, outcomes, all_six
    "t-s01": ["minimum_reached", "developed_run_and_evaluated_together", "both_components", "built_up", "all_kinds",
              "workplace_outcomes_assessed", "all_met"],
    "t-s02": ["minimum_reached", "not_signed_by_workplace", "both_components", "current_phase_below_previous",
              "missing_attitude", "workplace_outcomes_not_all_assessed", "4_not_met"],
    "t-s03": ["below_minimum", "developed_run_and_evaluated_together", "no_institution_component",
              "not_started_in_phase_1", "all_kinds", "workplace_outcomes_not_all_assessed", "4_not_met"],
    "t-s07": ["minimum_reached", "no_placement", "no_learning_agreement", "no_phase_data",
              "missing_knowledge_skill_attitude", "no_outcomes_agreed", "5_not_met"],
    "t-s09": ["minimum_reached", "not_evaluated_with_workplace", "both_components", "built_up", "all_kinds",
              "workplace_outcomes_assessed", "1_not_met"],
}
PASSING = {"minimum_reached", "developed_run_and_evaluated_together", "both_components", "built_up", "all_kinds",
           "workplace_outcomes_assessed", "all_met"}


def test_dual_criteria_per_trajectory_with_reasons_for_the_restricted_topic():
    sec = next(s for s in trajectory_draft(cohort()).sections if s.name == "dual_criteria")
    assert list(sec.rows) == sorted(CRITERIA_TABLE)
    for row, reasons in CRITERIA_TABLE.items():
        cells = sec.rows[row]
        assert [cells[c].reason for c in sec.columns] == reasons, row
        assert [cells[c].value for c in sec.columns] == [D(int(r in PASSING)) for r in reasons], row
    for column in sec.columns:  # each criterion passes and fails at least once
        assert {sec.rows[r][column].value for r in sec.rows} == {D(0), D(1)}, column


def test_year_shares_per_trajectory_for_the_restricted_topic():
    sec = next(s for s in trajectory_draft(cohort()).sections if s.name == "year_shares")
    assert len(sec.rows) == 12
    assert {c: f.value for c, f in sec.rows["t-s01"].items()} == {
        "phase": 2, "dual": 1, "year_share": D("0.3580"), "confirmed_hours_year": D("580.0000"),
        "real_share": D("0.3333")}
    assert {c: f.value for c, f in sec.rows["t-s11"].items()} == {
        "phase": 1, "dual": 0, "year_share": None, "confirmed_hours_year": None, "real_share": None}


def test_dual_criteria_summary(draft):
    assert values(draft, "dual_criteria_summary", "met") == {
        "min_share": 4, "co_creation": 2, "two_components": 3, "build_up": 2, "competences": 3, "outcomes": 2,
        "all_six": 1}
    assert values(draft, "dual_criteria_summary", "not_met") == {
        "min_share": 1, "co_creation": 3, "two_components": 2, "build_up": 3, "competences": 2, "outcomes": 3,
        "all_six": 4}


def test_placements_and_mentors(draft):
    assert values(draft, "placements", "count") == {
        "placements": 6,
        "form_internship": 2, "form_project": 1, "form_dual": 3, "form_simulated": 0, "form_job_shadowing": 0,
        "form_other": 0,
        "environment_simulated": 1, "environment_realistic": 2, "environment_authentic": 2,
        "environment_unknown": 1,
        "mentors": 4, "mentors_trained": 2, "mentors_not_trained": 1, "mentors_training_unknown": 1,
        "mentors_trained_share": D("0.5000"),
    }


def test_sectors_list_every_nace_section(draft):
    placements = values(draft, "sectors", "placements")
    assert len(placements) == 22 and placements["A"] == 0
    assert {k: v for k, v in placements.items() if v} == {"C": 1, "P": 1, "Q": 3, "unknown": 1}
    assert {k: v for k, v in values(draft, "sectors", "students").items() if v} == {"C": 1, "P": 1, "Q": 3,
                                                                                    "unknown": 1}


def test_continuum(draft):
    sec = next(s for s in draft.sections if s.name == "continuum")
    got = {row: [cells[c].value for c in sec.columns] for row, cells in sec.rows.items()}
    assert got == {
        "learning_environment": [1, 1, 1, 1, 2, D("3.3333")],
        "extent": [1, 2, 1, 1, 1, D("2.8333")],
        "engagement": [1, 2, 1, 1, 1, D("2.8333")],
        "transfer": [1, 2, 1, 1, 1, D("2.8333")],
        "integration": [1, 2, 1, 1, 1, D("2.8333")],
        "target_group": [1, 2, 2, 1, 0, D("2.5000")],
    }


def test_learning_outcomes_by_kind(draft):
    sec = next(s for s in draft.sections if s.name == "learning_outcomes")
    got = {row: [cells[c].value for c in sec.columns] for row, cells in sec.rows.items()}
    assert got == {
        "knowledge": [4, 3, 3, D("0.7500")],
        "skill": [3, 2, 1, D("0.3333")],
        "attitude": [2, 2, 0, D("0.0000")],
        "all": [9, 7, 4, D("0.4444")],
    }


def test_study_efficiency_per_target_group(draft):
    sec = next(s for s in draft.sections if s.name == "study_efficiency")
    got = {row: [cells[c].value for c in sec.columns] for row, cells in sec.rows.items()}
    assert got == {  # students with credits, taken, earned, earned ÷ taken
        "regular": [5, 270, 205, D("0.7593")],
        "working_student": [2, 60, 24, D("0.4000")],
        "side_entrant": [2, 80, 64, D("0.8000")],
        "other": [1, 10, 10, D("1.0000")],
        "all": [10, 420, 303, D("0.7214")],
        "over_25": [4, 120, 98, D("0.8167")],
    }


def test_dual_and_non_dual_side_by_side(draft):
    sec = next(s for s in draft.sections if s.name == "dual_vs_non_dual")
    got = {row: [cells[c].value for c in sec.columns] for row, cells in sec.rows.items()}
    assert got == {  # dual, non_dual, all
        "students": [5, 7, 12],
        "real_share_median": [D("0.3333"), D("0.0514"), D("0.1800")],  # 64 799; 10 000; (30 000 + 40 000) / 2
        "year_share_median": [D("0.3580"), D("0.0772"), D("0.2551")],  # 34 800; (5000 + 10 000) / 2; 24 799
        "confirmed_hours_year": [D("3659.9833"), 750, D("4409.9833")],  # 219 599, 45 000, 264 599 minutes
        "outcomes_agreed": [9, 0, 9],
        "outcomes_achieved": [4, 0, 4],
        "outcomes_achieved_share": [D("0.4444"), None, D("0.4444")],
        "credits_taken": [270, 150, 420],
        "credits_earned": [203, 100, 303],
        "study_efficiency": [D("0.7519"), D("0.6667"), D("0.7214")],
        "drop_outs": [1, 0, 1],
        "drop_out_rate": [D("0.2000"), D("0.0000"), D("0.0833")],
    }


def test_success_of_the_cohort_whose_window_closes_this_year(draft):
    sec = next(s for s in draft.sections if s.name == "success")
    got = {row: [cells[c].value for c in sec.columns] for row, cells in sec.rows.items()}
    assert got == {  # dual, non_dual, all: the eight who entered in 2024-2025 (two years + one)
        "entry_year": [2024, 2024, 2024], "nominal_years": [2, 2, 2],
        "entered": [3, 5, 8],
        "graduated_within_nominal": [2, 1, 3],  # e01, e08 | e02 (by 2025-2026)
        "graduated_in_extra_year": [1, 1, 2],  # e04 | e03 (in 2026-2027)
        "dropped_out": [0, 1, 1], "transferred": [0, 1, 1], "no_result_yet": [0, 1, 1],
        "rate_within_nominal": [D("0.6667"), D("0.2000"), D("0.3750")],
        "rate_within_nominal_plus_one": [D("1.0000"), D("0.4000"), D("0.6250")],
    }


def test_rules_applied_name_the_readings(draft):
    sec = next(s for s in draft.sections if s.name == "rules_applied")
    assert {r: (c["version"].value, c["version"].reason) for r, c in sec.rows.items()} == {
        "min_share": (1, "confirmed_minutes_reach_the_minimum"),
        "co_creation": (2, "every_placement_signed_run_and_evaluated_with_workplace"),
        "two_components": (2, "trajectory_outcomes_at_workplace_and_institution"),
        "build_up": (2, "exact_minutes_phase_1_to_current_never_falling"),
        "competences": (1, "knowledge_skills_and_attitudes_agreed"),
        "outcomes": (2, "every_workplace_outcome_assessed"),
        "year_share": (1, "year_minutes_over_one_year_of_study_load"),
        "success": (1, "cohort_closing_after_nominal_plus_one_year"),
        "suppression": (2, "joint_over_institution_year_with_linear_audit"),
        "layout": (2, "report_layout"),
    }


def test_every_sum_the_draft_declares_holds(draft):
    for rule in draft.sums:
        total = draft.figure(rule.total)
        value = total.exact if total.exact is not None else total.value
        assert value == sum((draft.figure(p).exact if draft.figure(p).exact is not None else draft.figure(p).value)
                            for p in rule.parts), rule
