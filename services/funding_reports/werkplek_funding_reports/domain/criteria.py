"""The six criteria of a dual trajectory (docs/domain.md, "Dual learning: six criteria"), each a pass or
fail with a reason code, judged over the trajectory so far: its placements in this programme up to
the report's academic year. Reason codes are a closed vocabulary (never free text).

`RULES` names the reading applied per criterion (version and code); every report says which one it
applied (section `rules_applied`), so a change of reading is visible in the figures' own document."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise

from werkplek_events.vocabulary import AcquiredAt, OutcomeKind

from .records import PlacementFacts, StudentView
from .rules import reached

RULES: dict[str, tuple[int, str]] = {
    "min_share": (1, "confirmed_minutes_reach_the_minimum"),
    "co_creation": (2, "every_placement_signed_run_and_evaluated_with_workplace"),
    "two_components": (2, "trajectory_outcomes_at_workplace_and_institution"),
    "build_up": (2, "exact_minutes_phase_1_to_current_never_falling"),
    "competences": (1, "knowledge_skills_and_attitudes_agreed"),
    "outcomes": (2, "every_workplace_outcome_assessed"),
}


# Every reason each criterion can give (met first), the closed vocabulary docs/reports.md explains.
REASONS: dict[str, tuple[str, ...]] = {
    "min_share": ("minimum_reached", "no_minimum_set", "no_share_data", "below_minimum"),
    "co_creation": ("developed_run_and_evaluated_together", "no_placement", "not_signed", "not_signed_by_workplace",
                    "not_signed_by_institution", "not_run_with_workplace", "not_evaluated_with_workplace"),
    "two_components": ("both_components", "no_learning_agreement", "no_workplace_component",
                       "no_institution_component"),
    "build_up": ("built_up", "no_share_data", "no_phase_data", "not_started_in_phase_1", "share_fell",
                 "current_phase_below_previous"),
    "competences": ("all_kinds", *(f"missing_{'_'.join(m)}" for m in (
        ("knowledge",), ("skill",), ("attitude",), ("knowledge", "skill"), ("knowledge", "attitude"),
        ("skill", "attitude"), ("knowledge", "skill", "attitude")))),
    "outcomes": ("workplace_outcomes_assessed", "no_outcomes_agreed", "no_workplace_outcomes",
                 "workplace_outcomes_not_all_assessed"),
    "all_six": ("all_met", *(f"{n}_not_met" for n in range(1, 7))),
}


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str


def _ok(reason: str) -> Verdict:
    return Verdict(True, reason)


def _fail(reason: str) -> Verdict:
    return Verdict(False, reason)


def _trajectory(v: StudentView) -> tuple[PlacementFacts, ...]:
    return v.trajectory or v.placements


def min_share(v: StudentView) -> Verdict:
    """1. A clear minimum share at the workplace, reached on confirmed minutes (exact)."""
    terms = v.programme
    threshold = terms.dual_min_share if terms.dual_min_share is not None else terms.required_share
    if threshold is None:
        return _fail("no_minimum_set")
    if v.share is None:
        return _fail("no_share_data")
    return _ok("minimum_reached") if reached(v.share, threshold) else _fail("below_minimum")


def co_creation(v: StudentView) -> Verdict:
    """2. Developed, run and evaluated together with the workplace, for every placement so far:
    its learning agreement signed by both (developed), its mentor confirmed time on it (run), its
    mentor assessed outcomes on it (evaluated)."""
    placements = _trajectory(v)
    if not placements:
        return _fail("no_placement")
    by_inst = all(p.signed_by_institution for p in placements)
    by_work = all(p.signed_by_workplace for p in placements)
    if not by_inst or not by_work:
        if not by_inst and not by_work:
            return _fail("not_signed")
        return _fail("not_signed_by_workplace" if by_inst else "not_signed_by_institution")
    if not all(p.run_with_workplace for p in placements):
        return _fail("not_run_with_workplace")
    if not all(p.evaluated_with_workplace for p in placements):
        return _fail("not_evaluated_with_workplace")
    return _ok("developed_run_and_evaluated_together")


def two_components(v: StudentView) -> Verdict:
    """3. A workplace and an institution component, agreed per outcome in the learning agreements."""
    places = {where for p in _trajectory(v) for _, _, where in p.outcomes}
    if not places:
        return _fail("no_learning_agreement")
    if AcquiredAt.WORKPLACE not in places:
        return _fail("no_workplace_component")
    if AcquiredAt.INSTITUTION not in places:
        return _fail("no_institution_component")
    return _ok("both_components")


def build_up(v: StudentView) -> Verdict:
    """4. Built up gradually from phase 1, over the phases the student has reached (1 to the
    enrolment's phase): phase 1 has confirmed minutes and no phase's share (confirmed ÷ study-load
    minutes, exact) is below the one before. A phase without minutes counts 0; phases not reached yet
    do not count. A current phase still below the previous one has its own reason."""
    if v.share is None:
        return _fail("no_share_data")
    if not v.share.per_phase:
        return _fail("no_phase_data")
    shares = {p.phase: p.share for p in v.share.per_phase}
    series = [shares.get(ph, Fraction(0)) for ph in range(1, v.phase + 1)]
    if series[0] <= 0:
        return _fail("not_started_in_phase_1")
    fell = [i for i, (earlier, later) in enumerate(pairwise(series), start=2) if later < earlier]
    if not fell:
        return _ok("built_up")
    return _fail("current_phase_below_previous" if fell == [v.phase] else "share_fell")


def _agreed_kinds(v: StudentView) -> set[OutcomeKind]:
    kinds = {kind for p in _trajectory(v) for _, kind, _ in p.outcomes}
    return kinds | {kind for kind, cov in v.coverage if cov.agreed > 0}


def competences(v: StudentView) -> Verdict:
    """5. Competence-oriented: agreed outcomes cover knowledge, skills and attitudes."""
    missing = [k.value for k in OutcomeKind if k not in _agreed_kinds(v)]
    return _fail("missing_" + "_".join(missing)) if missing else _ok("all_kinds")


def outcomes(v: StudentView) -> Verdict:
    """6. Aims at learning outcomes, more than practising as in a plain internship: outcomes are agreed
    for the workplace and every one of them has been assessed (mid-term or final), so the workplace
    part is judged on what was learned rather than on the time spent."""
    if not _agreed_kinds(v):
        return _fail("no_outcomes_agreed")
    at_work = {oid for p in _trajectory(v) for oid, _, where in p.outcomes if where == AcquiredAt.WORKPLACE}
    if not at_work:
        return _fail("no_workplace_outcomes")
    if at_work - v.assessed_outcome_ids:
        return _fail("workplace_outcomes_not_all_assessed")
    return _ok("workplace_outcomes_assessed")


CRITERIA: dict[str, Callable[[StudentView], Verdict]] = {
    "min_share": min_share,
    "co_creation": co_creation,
    "two_components": two_components,
    "build_up": build_up,
    "competences": competences,
    "outcomes": outcomes,
}


def judge(v: StudentView) -> dict[str, Verdict]:
    """Every criterion, plus `all_six`."""
    verdicts = {name: rule(v) for name, rule in CRITERIA.items()}
    failed = sum(1 for x in verdicts.values() if not x.passed)
    verdicts["all_six"] = _ok("all_met") if failed == 0 else _fail(f"{failed}_not_met")
    return verdicts
