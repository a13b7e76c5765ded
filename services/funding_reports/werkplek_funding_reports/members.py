"""Stage one of funding reports: per student, its facts, sent to the institutions and years whose
reports need them. A processor of the stream runtime over the student-keyed input topics
(co-partitioned like every student consumer). Its state is the student's own cohort
(`domain.state.Cohort` holding only this student's events). Whenever a new event changes it, the
student's facts go, as a `ReportMemberChanged` keyed by institution, to every institution the
student is enrolled at (and a removal to one it left): the repartition that puts every student of an
institution's reports with one owner (reports.py). The unit is the institution, not a year: a
cohort's success is reported in the year it closes, after the student's last enrolment, and pilots
cross years. No reference data here: stage two has it.

A student erased with full removal (`SubjectErased` on the privacy topic, keyed by the student like
the other inputs, so on the same partition) leaves every institution: their facts are dropped, a
removal goes to each institution they were sent to (whose reports are recomputed without them), and
the state keeps only that they were removed (`Cohort.removed`), so any later record of theirs, a
replay or a rebuild from the topics (the privacy topic keeps its records) keeps them out. An erasure
that keeps the figures, or of a mentor, is not this stage's concern."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from werkplek_common.runtime import Context, GlobalTable, Processor
from werkplek_common.runtime.tables import Dlq
from werkplek_events import (
    Event,
    MentorRegistered,
    PilotRegistered,
    ProgrammeRegistered,
    ReportMemberChanged,
    SubjectErased,
    WorkplaceRegistered,
    topic_for,
)

from . import codec
from .domain.state import INPUTS, Cohort, newer

REFERENCE = (ProgrammeRegistered, WorkplaceRegistered, MentorRegistered, PilotRegistered)
REFERENCE_FACTS = ("programmes", "workplaces", "mentors", "pilots")  # the Cohort's attributes of reference data
# facts this stage keeps to itself: stage two needs only what they decide (`Cohort.confirmed`), and sending
# every entry's revisions and decisions would make each member change grow with the student's entries
OWN_FACTS = ("entries", "removed")  # and whether the student was removed from the figures (stage two: no facts)
STUDENT_TOPICS = [topic_for(e).name for e in INPUTS if e not in REFERENCE]
SOURCE = "/werkplek/funding-reports"
_NS = uuid.UUID("0c8f3a52-9d4e-4d2b-8f61-2a7b5e9c1d34")
Unit = str  # institution


class Reference:
    """Programmes, workplaces, mentors and pilots, latest state, read whole by every worker."""

    def __init__(self) -> None:
        self.programmes: dict[str, ProgrammeRegistered] = {}
        self.workplaces: dict[str, WorkplaceRegistered] = {}
        self.mentors: dict[str, MentorRegistered] = {}
        self.pilots: dict[str, PilotRegistered] = {}

    def table(self, dlq: Dlq | None = None) -> GlobalTable:
        return GlobalTable("reference data", [topic_for(e).name for e in REFERENCE], self.apply, dlq)

    def apply(self, event: Event) -> set[str]:
        """Record one fact; the tag of the units it concerns, when it changed anything."""
        if isinstance(event, ProgrammeRegistered):
            return _put(self.programmes, event.programme_id, event, "programme")
        if isinstance(event, WorkplaceRegistered):
            return _put(self.workplaces, event.workplace_id, event, "workplace")
        if isinstance(event, PilotRegistered):  # the latest registration wins, in any arrival order
            if not newer(self.pilots.get(event.pilot_id), event) or self.pilots.get(event.pilot_id) == event:
                return set()
            self.pilots[event.pilot_id] = event
            return {f"institution:{event.institution_id}"}
        assert isinstance(event, MentorRegistered)
        return _put(self.mentors, event.mentor_id, event, "mentor")

    def bind(self, cohort: Cohort) -> Cohort:
        cohort.programmes, cohort.workplaces, cohort.mentors = self.programmes, self.workplaces, self.mentors
        cohort.pilots = self.pilots
        return cohort


def _put(table: dict[str, Any], key: str, event: Event, kind: str) -> set[str]:
    if table.get(key) == event:
        return set()  # read again (a new reader session): nothing changed
    table[key] = event
    return {f"{kind}:{key}"}


def facts_of(cohort: Cohort) -> dict[str, Any]:
    """What a student's cohort holds about the student for stage two (no reference data, no applied
    event ids, none of this stage's own facts)."""
    return {k: v for k, v in vars(cohort).items() if k not in (*REFERENCE_FACTS, *OWN_FACTS, "seen")}


@dataclass
class MemberState:
    cohort: Cohort
    version: int = 0  # of the facts last sent
    units: frozenset[Unit] = frozenset()  # where they were sent
    positions: dict[str, int] = field(default_factory=dict)  # of every input record applied
    last_event_time: datetime | None = None


class Members(Processor[MemberState]):
    topics = STUDENT_TOPICS
    source = SOURCE
    positions = True

    def __init__(self, group: str) -> None:
        self.name = group

    def initial(self, key: str) -> MemberState:
        return MemberState(Cohort())

    def handle(self, state: MemberState, events: Sequence[Event], ctx: Context) -> tuple[MemberState, list[Event]]:
        """Applies the events to the student's cohort in place (the runtime drops a state whose step
        or commit failed, and loads it again from the store)."""
        if state.cohort.removed:  # removed from the figures: nothing of theirs counts again
            return state, []
        fresh = [e for e in events if e.event_id not in state.cohort.seen and _concerns(e)]
        if not fresh:
            return state, []
        for event in fresh:
            state.cohort.apply(event)
        positions = {**state.positions, **{k: max(v, state.positions.get(k, 0)) for k, v in ctx.positions.items()}}
        newest = max(e.occurred_at for e in fresh)
        last = newest if state.last_event_time is None else max(state.last_event_time, newest)
        units = frozenset(e.institution_id for e in state.cohort.enrolments.values())
        new = MemberState(state.cohort, state.version + 1, units, positions, last)
        student = _student(fresh[0])
        facts = codec.encode(facts_of(state.cohort))
        out: list[Event] = [self._member(student, u, new, facts) for u in sorted(units)]
        out += [self._member(student, u, new, None) for u in sorted(state.units - units)]  # left it
        return new, out

    def _member(self, student: str, unit: Unit, s: MemberState, facts: dict[str, Any] | None) -> ReportMemberChanged:
        return ReportMemberChanged(
            event_id=uuid.uuid5(_NS, f"{student}:{unit}:{s.version}"), institution_id=unit,
            student_id=student, version=s.version, facts=facts,
            last_event_time=s.last_event_time, offsets=s.positions)

    def dump(self, state: MemberState) -> bytes:
        own = {k: getattr(state.cohort, k) for k in OWN_FACTS}
        return codec.dumps({"cohort": {**facts_of(state.cohort), **own, "seen": state.cohort.seen},
                            "version": state.version, "units": state.units, "positions": state.positions,
                            "last": state.last_event_time})

    def load(self, key: str, blob: bytes) -> MemberState:
        data: dict[str, Any] = codec.loads(blob)
        return MemberState(restore(Cohort(), data["cohort"]), data["version"], data["units"], data["positions"],
                           data["last"])


def _concerns(event: Event) -> bool:
    """Whether the event is this stage's: every input, but of the erasures only full removals."""
    return not isinstance(event, SubjectErased) or event.removed_student() is not None


def _student(event: Event) -> str:
    student = event.subject()  # the student of every input (of an erasure: its subject)
    assert student is not None
    return student


def restore(cohort: Cohort, facts: dict[str, Any]) -> Cohort:
    """Put stored facts into a cohort; an attribute this code no longer has is dropped, one it added
    keeps its initial value."""
    for name, value in facts.items():
        if hasattr(cohort, name):
            setattr(cohort, name, value)
    return cohort
