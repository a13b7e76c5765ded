"""The six criteria of a dual trajectory (docs/domain.md), each a pass or fail with a reason code.

Reason codes are a closed vocabulary (never free text), so they may travel on report topics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from werkplek_events.vocabulary import AcquiredAt, OutcomeKind

from .records import StudentView
from .rules import reached


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str


def _ok(reason: str) -> Verdict:
    return Verdict(True, reason)


def _fail(reason: str) -> Verdict:
    return Verdict(False, reason)


def min_share(v: StudentView) -> Verdict:
    """1. A clear minimum share at the workplace, reached on confirmed hours."""
    terms = v.programme
    threshold = terms.dual_min_share if terms.dual_min_share is not None else terms.required_share
    if threshold is None:
        return _fail("no_minimum_set")
    if v.share is None:
        return _fail("no_share_data")
    return _ok("minimum_reached") if reached(v.share, threshold) else _fail("below_minimum")


def co_creation(v: StudentView) -> Verdict:
    """2. Developed together: every learning agreement signed by the institution and the workplace."""
    if not v.placements:
        return _fail("no_placement")
    by_inst = all(p.signed_by_institution for p in v.placements)
    by_work = all(p.signed_by_workplace for p in v.placements)
    if by_inst and by_work:
        return _ok("signed_by_both")
    if not by_inst and not by_work:
        return _fail("not_signed")
    return _fail("not_signed_by_workplace" if by_inst else "not_signed_by_institution")


def two_components(v: StudentView) -> Verdict:
    """3. A workplace and an institution component, agreed per outcome in the learning agreement."""
    places = {where for p in v.placements for _, where in p.outcomes}
    if not places:
        return _fail("no_learning_agreement")
    if AcquiredAt.WORKPLACE not in places:
        return _fail("no_workplace_component")
    if AcquiredAt.INSTITUTION not in places:
        return _fail("no_institution_component")
    return _ok("both_components")


def build_up(v: StudentView) -> Verdict:
    """4. Built up from phase 1: a share in phase 1, never falling to a later phase (a missing phase is 0)."""
    if v.share is None:
        return _fail("no_share_data")
    if not v.share.per_phase:
        flag = v.share.build_up_flag
        if flag is None:
            return _fail("no_phase_data")
        return _ok("built_up") if flag else _fail("build_up_not_ok")
    shares = dict(v.share.per_phase)
    series = [shares.get(p, 0) for p in range(1, max(shares) + 1)]
    if series[0] <= 0:
        return _fail("not_started_in_phase_1")
    if any(later < earlier for earlier, later in pairwise(series)):
        return _fail("share_fell")
    return _ok("built_up")


def _agreed_kinds(v: StudentView) -> set[OutcomeKind]:
    kinds = {kind for p in v.placements for kind, _ in p.outcomes}
    return kinds | {kind for kind, cov in v.coverage if cov.agreed > 0}


def competences(v: StudentView) -> Verdict:
    """5. Competence-oriented: agreed outcomes cover knowledge, skills and attitudes."""
    missing = [k.value for k in OutcomeKind if k not in _agreed_kinds(v)]
    return _fail("missing_" + "_".join(missing)) if missing else _ok("all_kinds")


def outcomes(v: StudentView) -> Verdict:
    """6. Aims at learning outcomes (more than practice): agreed outcomes are actually assessed."""
    if not _agreed_kinds(v):
        return _fail("no_outcomes_agreed")
    assessed = v.assessed_outcomes + sum(cov.assessed for _, cov in v.coverage)
    return _ok("outcomes_assessed") if assessed > 0 else _fail("never_assessed")


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
