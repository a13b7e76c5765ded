"""Learning-outcome progress per student, pure. The state keeps each placement's newest agreed
terms and, per placement and outcome, the latest assessment. Every update is a maximum (newest terms,
latest assessment), so applying events in any order, or applying one twice, gives the same state:
that is what makes the progress worker safe under at-least-once delivery. An assessment whose placement
(or outcome) is not known yet is kept and counts as soon as the agreement arrives."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from fractions import Fraction

from pydantic import BaseModel, ConfigDict
from werkplek_events import (
    AssessmentRecorded,
    Event,
    KindCoverage,
    OutcomeProgressUpdated,
    OutcomeStatus,
    PlacementAgreed,
    PlacementAmended,
)
from werkplek_events.rules import rounded
from werkplek_events.vocabulary import AssessmentLevel, AssessmentMoment, OutcomeKind

REACHED = frozenset({AssessmentLevel.ACHIEVED, AssessmentLevel.EXCEEDS})
_MOMENT_RANK = {AssessmentMoment.MID_TERM: 0, AssessmentMoment.FINAL: 1}
_NS = uuid.UUID("5b0f6b3e-7a53-4a55-9c1e-6f0e2f6c9a11")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Terms(_Frozen):
    at: datetime
    event_id: uuid.UUID
    outcomes: dict[str, OutcomeKind]


class Assessed(_Frozen):
    level: AssessmentLevel
    kind: OutcomeKind
    moment: AssessmentMoment
    assessed_on: date
    at: datetime
    event_id: uuid.UUID

    def rank(self) -> tuple[date, int, datetime, str]:
        """Later assessment date wins; on the same day a final beats a mid-term; then the later message."""
        return self.assessed_on, _MOMENT_RANK[self.moment], self.at, str(self.event_id)


class State(_Frozen):
    student_id: str
    version: int = 0
    placements: dict[str, Terms] = {}
    assessments: dict[str, dict[str, Assessed]] = {}  # placement id -> outcome id -> latest


def apply(state: State, event: Event) -> State:
    """The state after one event; the same state when the event changes nothing (e.g. a duplicate)."""
    if isinstance(event, PlacementAgreed | PlacementAmended):
        return _with_terms(state, event)
    if isinstance(event, AssessmentRecorded):
        return _with_assessment(state, event)
    return state


def _with_terms(state: State, e: PlacementAgreed | PlacementAmended) -> State:
    new = Terms(at=e.occurred_at, event_id=e.event_id,
                outcomes={o.outcome_id: o.kind for o in e.learning_agreement.outcomes})
    old = state.placements.get(e.placement_id)
    if old is not None and (old.at, str(old.event_id)) >= (new.at, str(new.event_id)):
        return state
    return state.model_copy(update={"placements": {**state.placements, e.placement_id: new}})


def _with_assessment(state: State, e: AssessmentRecorded) -> State:
    current = dict(state.assessments.get(e.placement_id, {}))
    for o in e.outcomes:
        candidate = Assessed(level=o.level, kind=o.kind, moment=e.moment, assessed_on=e.assessed_on,
                             at=e.occurred_at, event_id=e.event_id)
        held = current.get(o.outcome_id)
        if held is None or candidate.rank() > held.rank():
            current[o.outcome_id] = candidate
    if current == state.assessments.get(e.placement_id, {}):
        return state
    return state.model_copy(update={"assessments": {**state.assessments, e.placement_id: current}})


def agreed_outcomes(state: State) -> dict[str, OutcomeKind]:
    """Every outcome of the student's learning agreements; the newest terms decide an outcome's kind."""
    out: dict[str, OutcomeKind] = {}
    for terms in sorted(state.placements.values(), key=lambda t: (t.at, str(t.event_id))):
        out.update(terms.outcomes)
    return out


def latest(state: State) -> dict[str, Assessed]:
    """Per agreed outcome, its latest assessment from a placement whose agreement contains it."""
    best: dict[str, Assessed] = {}
    for placement_id, by_outcome in state.assessments.items():
        terms = state.placements.get(placement_id)
        if terms is None:
            continue  # held until the placement is known
        for outcome_id, a in by_outcome.items():
            if outcome_id in terms.outcomes and (outcome_id not in best or a.rank() > best[outcome_id].rank()):
                best[outcome_id] = a
    return best


def body(state: State) -> dict:
    """The progress a student sees (everything of the event except id, time and version)."""
    agreed, last = agreed_outcomes(state), latest(state)
    outcomes = [OutcomeStatus(outcome_id=o, kind=k, latest_level=last[o].level if o in last else None,
                              latest_moment=last[o].moment if o in last else None,
                              assessed_on=last[o].assessed_on if o in last else None)
                for o, k in sorted(agreed.items())]
    coverage = {kind: KindCoverage(agreed=sum(1 for s in outcomes if s.kind is kind),
                                   assessed=sum(1 for s in outcomes if s.kind is kind and s.latest_level),
                                   achieved=sum(1 for s in outcomes if s.kind is kind and s.latest_level in REACHED))
                for kind in OutcomeKind}
    reached = sum(1 for s in outcomes if s.latest_level in REACHED)
    share = Fraction(reached, len(outcomes)) if outcomes else Fraction(0)
    return {"student_id": state.student_id, "outcomes": outcomes, "coverage": coverage,
            "achieved_share": rounded(share),  # the contract's 4 places, half-even
            "never_assessed": [s.outcome_id for s in outcomes if s.latest_level is None]}


def step(state: State, event: Event, *, now: datetime | None = None) -> tuple[State, OutcomeProgressUpdated | None]:
    """Apply an event; when the student's progress changed, bump the version and describe it. The
    event id is derived from student and version, so a re-emission after a crash is a duplicate."""
    after = apply(state, event)
    if after == state:
        return state, None
    progress = body(after)
    if progress == body(state):
        return after, None
    after = after.model_copy(update={"version": state.version + 1})
    update = OutcomeProgressUpdated(**progress, version=after.version, occurred_at=now or datetime.now(UTC),
                                    event_id=uuid.uuid5(_NS, f"{state.student_id}:{after.version}"))
    return after, update
