"""Hour accounting's functional core, part 1: the facts known about one student and how each event
changes them (`apply`, `apply_all`). Pure: no Kafka, HTTP or database here.

Rules implemented (docs/domain.md, "Hours and shares"):
- every applied `event_id` is remembered, so a redelivered or replayed event changes nothing;
- the state is a set of *facts*, combined so that the result does not depend on arrival order.
  Our inputs come from several topics, and Kafka orders records only within one partition of one
  topic, so a confirmation may overtake its entry and an amendment its agreement. Hence:
  * a time entry's facts are those of its highest revision (a correction is a new revision);
  * a placement's terms are those of its latest agreement/amendment by (`occurred_at`, `event_id`);
  * an enrolment per academic year is the latest by (`occurred_at`, `event_id`);
  * decisions are counted per entry revision, and reversals are counted per decision kind
    (`werkplek_events.rules.Decisions`; `werkplek_events.rules.entry_status` combines them);
- an event whose reference has not arrived yet (a decision before its entry, an entry before its
  placement, anything before the enrolment or the programme) is *held*: its fact is stored but it
  counts only once the reference arrives (`projection.figures` skips it until then).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from fractions import Fraction
from typing import Any, NamedTuple

from werkplek_events import (
    EnrolmentEnded,
    Event,
    PlacementAgreed,
    PlacementAmended,
    PlacementEnded,
    ProgrammeRegistered,
    StudentEnrolled,
    TimeEntryConfirmed,
    TimeEntryCorrected,
    TimeEntryDecisionReversed,
    TimeEntryLogged,
    TimeEntryRejected,
    TimeEntryWithdrawn,
)
from werkplek_events.rules import Decisions
from werkplek_events.vocabulary import Level

GRADUAAT_REQUIRED_SHARE = Fraction(1, 3)  # by decree, one third of a graduaat curriculum is WPL
Stamp = tuple[datetime, int]  # (occurred_at, event id): a total order for "latest fact wins"


@dataclass(frozen=True, slots=True)
class Programme:
    """What accounting needs of a programme. Study load minutes = ECTS × hours per ECTS × 60."""

    programme_id: str
    level: Level
    study_load_minutes: int
    phases: int
    required_share: Fraction | None
    at_risk_below: Fraction
    behind_below: Fraction

    @property
    def phase_load_minutes(self) -> int:
        """Study load of one phase: the programme's load spread evenly over its phases. Exact, since
        60 minutes divide by every allowed phase count (1-6)."""
        return self.study_load_minutes // self.phases


def programme_from(event: ProgrammeRegistered) -> Programme:
    required = event.required_share
    if required is None and event.level == Level.GRADUAAT:
        share: Fraction | None = GRADUAAT_REQUIRED_SHARE
    else:
        share = Fraction(required) if required is not None else None
    return Programme(event.programme_id, event.level, event.ects * event.hours_per_ects * 60, event.phases,
                     share, Fraction(event.thresholds.at_risk_below), Fraction(event.thresholds.behind_below))


@dataclass(frozen=True, slots=True)
class Enrolment:
    programme_id: str
    academic_year: str
    phase: int
    dual_track: bool
    stamp: Stamp


@dataclass(frozen=True, slots=True)
class Placement:
    """Agreement facts (`phase`, `academic_year`) arrive with the agreement; terms with the latest of
    agreement and amendments. A placement counts only once it is agreed (`phase` known)."""

    phase: int | None = None
    academic_year: str | None = None
    start: date | None = None
    end: date | None = None
    planned_minutes: int = 0
    terms_stamp: Stamp | None = None
    ended_on: date | None = None


class Entry(NamedTuple):
    """The highest revision seen; `withdrawn_rev` is the highest withdrawn revision (0: none). The
    entry is active when its revision is above the withdrawn one (a later correction revives it).
    A named tuple, not a frozen dataclass like the other facts: a student holds hundreds of entries
    and a batch makes one per event; a tuple is built in a third of the time and is as immutable."""

    revision: int = 0
    placement_id: str = ""
    work_date: date | None = None
    minutes: int = 0
    withdrawn_rev: int = 0

    @property
    def active(self) -> bool:
        return self.revision > self.withdrawn_rev


@dataclass(frozen=True, slots=True)
class Emitted:
    """What was last published for the student, to emit only changes."""

    version: int
    values: tuple[Any, ...]
    status: str


@dataclass(frozen=True, slots=True)
class StudentState:
    student_id: str
    applied: frozenset[int] = frozenset()
    enrolments: dict[str, Enrolment] = field(default_factory=dict)  # by academic year
    enrolment_ended: dict[str, date] = field(default_factory=dict)  # by academic year
    placements: dict[str, Placement] = field(default_factory=dict)
    entries: dict[int, Entry] = field(default_factory=dict)  # by entry_id.int
    decisions: dict[int, Decisions] = field(default_factory=dict)
    emitted: Emitted | None = None

    @property
    def events_applied(self) -> int:
        return len(self.applied)

    def current_enrolment(self) -> Enrolment | None:
        """The enrolment of the latest academic year (its latest version)."""
        if not self.enrolments:
            return None
        return self.enrolments[max(self.enrolments)]


def new_state(student_id: str) -> StudentState:
    return StudentState(student_id)


def apply(state: StudentState, event: Event) -> StudentState:
    """The state after `event`; the same state if the event was applied before or is not ours."""
    return apply_all(state, [event])


def apply_all(state: StudentState, events: Iterable[Event]) -> StudentState:
    """The state after `events` in order: the same as applying them one by one, but the state's maps
    are copied once for the batch instead of once per event (a student with hundreds of entries made
    per-event copies the worker's largest cost). Pure: `state` is not changed."""
    new = [e for e in events if e.event_id.int not in state.applied and type(e) in _RULES]
    if not new:
        return state
    d = _Draft(set(), dict(state.enrolments), dict(state.enrolment_ended), dict(state.placements),
               dict(state.entries), dict(state.decisions))
    applied, rules = d.applied, _RULES
    for event in new:
        key = event.event_id.int
        if key not in applied:  # d.applied: this batch's ids (a duplicate within it)
            rules[type(event)](d, event)
            applied.add(key)
    # one copy of the (growing) applied set per batch, not two
    return StudentState(state.student_id, state.applied | d.applied, d.enrolments, d.enrolment_ended,
                        d.placements, d.entries, d.decisions, state.emitted)


@dataclass(slots=True)
class _Draft:
    """The maps of a state while a batch of events is applied (private to `apply_all`)."""

    applied: set[int]
    enrolments: dict[str, Enrolment]
    enrolment_ended: dict[str, date]
    placements: dict[str, Placement]
    entries: dict[int, Entry]
    decisions: dict[int, Decisions]


def _stamp(event: Event) -> Stamp:
    return (event.occurred_at, event.event_id.int)


def _enrolled(d: _Draft, e: StudentEnrolled) -> None:
    new = Enrolment(e.programme_id, e.academic_year, e.phase, e.dual_track, _stamp(e))
    old = d.enrolments.get(e.academic_year)
    if old is None or old.stamp <= new.stamp:
        d.enrolments[e.academic_year] = new


def _enrolment_ended(d: _Draft, e: EnrolmentEnded) -> None:
    old = d.enrolment_ended.get(e.academic_year)
    d.enrolment_ended[e.academic_year] = e.ended_on if old is None else min(old, e.ended_on)


def _terms(d: _Draft, e: PlacementAgreed | PlacementAmended) -> Placement:
    old = d.placements.get(e.placement_id, Placement())
    if old.terms_stamp is not None and old.terms_stamp > _stamp(e):
        return old
    return replace(old, start=e.start_date, end=e.end_date, planned_minutes=e.planned_minutes,
                   terms_stamp=_stamp(e))


def _placement_agreed(d: _Draft, e: PlacementAgreed) -> None:
    d.placements[e.placement_id] = replace(_terms(d, e), phase=e.phase, academic_year=e.academic_year)


def _placement_amended(d: _Draft, e: PlacementAmended) -> None:
    d.placements[e.placement_id] = _terms(d, e)


def _placement_ended(d: _Draft, e: PlacementEnded) -> None:
    old = d.placements.get(e.placement_id, Placement())
    ended = e.ended_on if old.ended_on is None else min(old.ended_on, e.ended_on)
    d.placements[e.placement_id] = replace(old, ended_on=ended)


_new_entry = tuple.__new__  # Entry(...) without the named tuple's Python-level __new__ (one per event)


def _entry_revised(d: _Draft, e: TimeEntryLogged | TimeEntryCorrected) -> None:
    key = e.entry_id.int
    old = d.entries.get(key)  # the common case: a new entry (no default Entry built for it)
    if old is None:
        d.entries[key] = _new_entry(Entry, (e.revision, e.placement_id, e.work_date, e.duration_minutes, 0))
    elif old.revision < e.revision:
        d.entries[key] = _new_entry(Entry, (e.revision, e.placement_id, e.work_date, e.duration_minutes,
                                            old.withdrawn_rev))


def _entry_withdrawn(d: _Draft, e: TimeEntryWithdrawn) -> None:
    old = d.entries.get(e.entry_id.int, Entry())
    d.entries[e.entry_id.int] = old._replace(withdrawn_rev=max(old.withdrawn_rev, e.revision))


def _decided(d: _Draft, e: TimeEntryConfirmed | TimeEntryRejected) -> None:
    old = d.decisions.get(e.entry_id.int, Decisions())
    d.decisions[e.entry_id.int] = old.decided(e.DECISION, e.entry_revision)


def _reversed(d: _Draft, e: TimeEntryDecisionReversed) -> None:
    old = d.decisions.get(e.entry_id.int, Decisions())
    d.decisions[e.entry_id.int] = old.reversed(e.reversed)


_RULES: dict[type[Event], Callable[[_Draft, Any], None]] = {
    StudentEnrolled: _enrolled,
    EnrolmentEnded: _enrolment_ended,
    PlacementAgreed: _placement_agreed,
    PlacementAmended: _placement_amended,
    PlacementEnded: _placement_ended,
    TimeEntryLogged: _entry_revised,
    TimeEntryCorrected: _entry_revised,
    TimeEntryWithdrawn: _entry_withdrawn,
    TimeEntryConfirmed: _decided,
    TimeEntryRejected: _decided,
    TimeEntryDecisionReversed: _reversed,
}
STUDENT_EVENTS: tuple[type[Event], ...] = tuple(_RULES)
