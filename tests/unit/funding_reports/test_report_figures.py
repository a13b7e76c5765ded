"""Exact figures of the hand-made cohort (cohort.py), before suppression."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from werkplek_funding_reports.domain.figures import Draft
from werkplek_funding_reports.domain.report import build_draft

from .cohort import cohort


@pytest.fixture(scope="module")
def draft() -> Draft:
    return build_draft(cohort())


def values(draft: Draft, section: str, column: str) -> dict[str, D | None]:
    sec = next(s for s in draft.sections if s.name == section)
    return {row: cells[column].value for row, cells in sec.rows.items() if column in cells}


def test_target_groups(draft):
    assert values(draft, "target_groups", "students") == {
        "regular": 6, "working_student": 2, "side_entrant": 3, "other": 1, "all": 12, "over_25": 5}
    assert values(draft, "target_groups", "dual_track") == {
        "regular": 3, "working_student": 1, "side_entrant": 1, "other": 0, "all": 5, "over_25": 2}


def test_share_distribution_real_is_exact_on_minutes(draft):
    # sorted real shares: 0, .0257, .0514, .1029, .1543, .2058, .2572, .3333, .3333, .5144
    # the median .18005 rounds half-even to .1800; 64 799 minutes is below ⅓ although it shows as .3333
    assert values(draft, "share_distribution", "real_share") == {
        "students": 10, "q1": D("0.0643"), "median": D("0.1800"), "q3": D("0.3143"),
        "<10%": 3, "10% to <20%": 2, "20% to <1/3": 3, "1/3 to <50%": 1, ">=50%": 1}


def test_share_distribution_projected_uses_published_places(draft):
    # 0.3333 is in the ⅓ band, 0.3332 is not; the median .33325 rounds half-even to .3332
    assert values(draft, "share_distribution", "projected_share") == {
        "students": 10, "q1": D("0.2250"), "median": D("0.3332"), "q3": D("0.3875"),
        "<10%": 1, "10% to <20%": 1, "20% to <1/3": 3, "1/3 to <50%": 3, ">=50%": 2}


def test_required_share_one_third_on_both_sides_of_the_boundary(draft):
    got = values(draft, "required_share", "value")
    assert got == {
        "required_share": D("0.3333"), "students": 12,
        "on_course": 6, "not_on_course": 4, "no_share_data": 2, "no_required_share": 0,
        "required_share_reached": 2,
        "on_track": 6, "at_risk": 2, "behind": 2, "status_unknown": 2,
    }
    sec = next(s for s in draft.sections if s.name == "required_share")
    assert sec.rows["on_course"]["value"].members == {"s01", "s02", "s05", "s06", "s07", "s09"}  # s02: .3333
    assert "s03" in sec.rows["not_on_course"]["value"].members  # .3332
    assert sec.rows["required_share_reached"]["value"].members == {"s01", "s09"}  # s02 is one minute short


CRITERIA_TABLE = {
    # trajectory: min_share, co_creation, two_components, build_up, competences, outcomes, all_six
    "t-s01": ["minimum_reached", "signed_by_both", "both_components", "built_up", "all_kinds",
              "outcomes_assessed", "all_met"],
    "t-s02": ["minimum_reached", "not_signed_by_workplace", "both_components", "share_fell", "missing_attitude",
              "never_assessed", "4_not_met"],
    "t-s03": ["below_minimum", "signed_by_both", "no_institution_component", "not_started_in_phase_1",
              "all_kinds", "outcomes_assessed", "3_not_met"],
    "t-s07": ["minimum_reached", "no_placement", "no_learning_agreement", "built_up",
              "missing_knowledge_skill_attitude", "no_outcomes_agreed", "4_not_met"],
    "t-s09": ["minimum_reached", "signed_by_both", "both_components", "no_phase_data", "all_kinds",
              "outcomes_assessed", "1_not_met"],
}
PASSING = {"minimum_reached", "signed_by_both", "both_components", "built_up", "all_kinds", "outcomes_assessed",
           "all_met"}


def test_dual_criteria_per_trajectory_with_reasons(draft):
    sec = next(s for s in draft.sections if s.name == "dual_criteria")
    assert list(sec.rows) == sorted(CRITERIA_TABLE)
    for row, reasons in CRITERIA_TABLE.items():
        cells = sec.rows[row]
        assert [cells[c].reason for c in sec.columns] == reasons, row
        assert [cells[c].value for c in sec.columns] == [D(int(r in PASSING)) for r in reasons], row
    for column in sec.columns:  # each criterion passes and fails at least once
        assert {sec.rows[r][column].value for r in sec.rows} == {D(0), D(1)}, column


def test_dual_criteria_summary(draft):
    assert values(draft, "dual_criteria_summary", "met") == {
        "min_share": 4, "co_creation": 3, "two_components": 3, "build_up": 2, "competences": 3, "outcomes": 3,
        "all_six": 1}
    assert values(draft, "dual_criteria_summary", "not_met") == {
        "min_share": 1, "co_creation": 2, "two_components": 2, "build_up": 3, "competences": 2, "outcomes": 2,
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
        "attitude": [2, 1, 0, D("0.0000")],
        "all": [9, 6, 4, D("0.4444")],
    }


def test_pilot_evaluation(draft):
    assert values(draft, "pilot_evaluation", "value") == {
        "inflow_regular": 3, "inflow_working_student": 1, "inflow_side_entrant": 1, "inflow_other": 0,
        "inflow_all": 5, "inflow_over_25": 2,
        "confirmed_hours_per_student": D("998.6633"),  # 299 599 minutes / 60 / 5
        "outcomes_achieved": 4, "outcomes_achieved_share": D("0.4444"),
        "drop_outs": 1, "graduated": 0, "transferred": 0, "still_enrolled": 4,
    }


def test_every_sum_the_draft_declares_holds(draft):
    for rule in draft.sums:
        assert draft.figure(rule.total).value == sum(draft.figure(p).value for p in rule.parts), rule
