"""Dual criteria 2, 4 and 6 as docs/domain.md reads them, on both sides of each boundary, fed by the
`ShareUpdated` events hour accounting's own use case computes from the trajectory's events."""

from __future__ import annotations

from decimal import Decimal as D

from werkplek_funding_reports.domain.criteria import build_up, co_creation, outcomes

from .trajectory import Trajectory


def two_years(phase_1: int, phase_2: int) -> Trajectory:
    t = Trajectory(phases=2)
    t.enrol("2025-2026", 1)
    t.place("p1", 1)
    t.work("p1", phase_1)
    t.assess("p1", "lo-s", "lo-a")
    t.enrol("2026-2027", 2)
    t.place("p2", 2)
    t.work("p2", phase_2)
    t.assess("p2", "lo-s", "lo-a")
    return t


def test_build_up_compares_exact_minutes_not_the_rounded_shares():
    short = two_years(600, 599)
    phases = {p.phase: p.share for p in short.share().per_phase}
    assert phases == {1: D("0.0062"), 2: D("0.0062")}  # 600 and 599 of 97 200 look the same when rounded
    assert build_up(short.view()).reason == "current_phase_below_previous"
    assert not build_up(short.view()).passed
    assert build_up(two_years(600, 600).view()).reason == "built_up"


def test_build_up_counts_only_the_phases_reached():
    t = Trajectory(phases=3)
    t.enrol("2026-2027", 1)
    t.place("p1", 1)
    t.work("p1", 600)
    assert [p.confirmed_minutes for p in t.share().per_phase] == [600, 0, 0]  # published for every phase
    assert build_up(t.view()).reason == "built_up"  # phases 2 and 3 are not reached yet: no fall


def test_build_up_needs_minutes_in_phase_1_and_no_earlier_fall():
    t = Trajectory(phases=3)
    t.enrol("2026-2027", 1)
    t.place("p1", 1)
    t.work("p1", 600, confirmed=False)  # pending minutes do not count
    assert build_up(t.view()).reason == "not_started_in_phase_1"

    fell = Trajectory(phases=3)
    for year, phase, minutes in (("2024-2025", 1, 600), ("2025-2026", 2, 599), ("2026-2027", 3, 900)):
        fell.enrol(year, phase)
        fell.place(f"p{phase}", phase)
        fell.work(f"p{phase}", minutes)
    assert build_up(fell.view()).reason == "share_fell"  # phase 2 fell, though phase 3 is above both


def test_co_creation_looks_at_every_placement_of_the_trajectory():
    assert co_creation(two_years(600, 600).view()).reason == "developed_run_and_evaluated_together"

    t = Trajectory(phases=2)
    t.enrol("2025-2026", 1)
    t.place("p1", 1, signed_by=("institution",))  # last year's agreement: the workplace never signed
    t.work("p1", 600)
    t.assess("p1", "lo-s")
    t.enrol("2026-2027", 2)
    t.place("p2", 2)
    t.work("p2", 600)
    t.assess("p2", "lo-s")
    assert co_creation(t.view()).reason == "not_signed_by_workplace"


def test_co_creation_needs_the_workplace_to_run_and_evaluate_it():
    t = Trajectory(phases=2)
    t.enrol("2026-2027", 1)
    t.place("p1", 1)
    t.work("p1", 600, confirmed=False)
    assert co_creation(t.view()).reason == "not_run_with_workplace"  # no time confirmed by its mentor
    t.work("p1", 60)
    assert co_creation(t.view()).reason == "not_evaluated_with_workplace"
    t.assess("p1", "lo-s")
    assert co_creation(t.view()).passed


def test_outcomes_needs_every_workplace_outcome_assessed():
    t = Trajectory(phases=2)
    t.enrol("2025-2026", 1)
    t.place("p1", 1)
    t.work("p1", 600)
    t.assess("p1", "lo-s", "lo-a")
    t.enrol("2026-2027", 2)
    t.place("p2", 2, outcomes=(("lo-new", "skill", "workplace"),))
    assert outcomes(t.view()).reason == "workplace_outcomes_not_all_assessed"  # lo-new: not yet
    t.assess("p2", "lo-new")
    assert outcomes(t.view()).reason == "workplace_outcomes_assessed"


def test_outcomes_only_at_the_institution_do_not_aim_the_workplace_at_outcomes():
    t = Trajectory(phases=2)
    t.enrol("2026-2027", 1)
    t.place("p1", 1, outcomes=(("lo-k", "knowledge", "institution"),))
    t.work("p1", 600)
    t.assess("p1", "lo-k")
    assert outcomes(t.view()).reason == "no_workplace_outcomes"
    empty = Trajectory(phases=2)
    empty.enrol("2026-2027", 1)
    empty.place("p1", 1, outcomes=())
    empty.work("p1", 600)
    assert outcomes(empty.view()).reason == "no_outcomes_agreed"


def test_every_reason_given_is_in_the_closed_vocabulary():
    from werkplek_funding_reports.domain.criteria import REASONS, judge

    from .cohort import cohort

    seen: dict[str, set[str]] = {}
    for view in cohort():
        for name, verdict in judge(view).items():
            seen.setdefault(name, set()).add(verdict.reason)
    assert all(reasons <= set(REASONS[name]) for name, reasons in seen.items()), seen
