"""Stage one of funding reports: per student, the facts its reports need. A processor of the stream
runtime over the student-keyed input topics (co-partitioned like every student consumer). Its state
is the student's own cohort (`domain.state.Cohort` holding only this student's events; reference
data — programmes, workplaces, mentors — bound from the tables every worker reads whole) and what it
last sent per enrolment. Whenever an enrolment's `StudentView` changes, it sends a
`ReportMemberChanged` keyed by the enrolment's institution and year: the repartition that puts every
student of an institution's reports with one owner (reports.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from werkplek_common.runtime import Context, GlobalTable, Processor
from werkplek_common.runtime.tables import Dlq
from werkplek_events import (
    Event,
    MentorRegistered,
    ProgrammeRegistered,
    ReportMemberChanged,
    WorkplaceRegistered,
    topic_for,
)

from . import codec
from .domain.pseudonym import pseudonym
from .domain.records import StudentView
from .domain.state import INPUTS, Cohort, EnrolKey
from .domain.views import student_view

REFERENCE = (ProgrammeRegistered, WorkplaceRegistered, MentorRegistered)
STUDENT_TOPICS = [topic_for(e).name for e in INPUTS if e not in REFERENCE]
SOURCE = "/werkplek/funding-reports"
_NS = uuid.UUID("0c8f3a52-9d4e-4d2b-8f61-2a7b5e9c1d34")


class Reference:
    """Programmes, workplaces and mentors, latest state, read whole by every worker."""

    def __init__(self) -> None:
        self.programmes: dict[str, ProgrammeRegistered] = {}
        self.workplaces: dict[str, WorkplaceRegistered] = {}
        self.mentors: dict[str, MentorRegistered] = {}

    def table(self, dlq: Dlq | None = None) -> GlobalTable:
        return GlobalTable("reference data", [topic_for(e).name for e in REFERENCE], self.apply, dlq)

    def apply(self, event: Event) -> set[str]:
        """Record one fact; the tag of the students it concerns, when it changed anything."""
        if isinstance(event, ProgrammeRegistered):
            return _put(self.programmes, event.programme_id, event, "programme")
        if isinstance(event, WorkplaceRegistered):
            return _put(self.workplaces, event.workplace_id, event, "workplace")
        assert isinstance(event, MentorRegistered)
        return _put(self.mentors, event.mentor_id, event, "mentor")

    def bind(self, cohort: Cohort) -> Cohort:
        cohort.programmes, cohort.workplaces, cohort.mentors = self.programmes, self.workplaces, self.mentors
        return cohort


def _put(table: dict[str, Any], key: str, event: Event, kind: str) -> set[str]:
    if table.get(key) == event:
        return set()  # read again (a new reader session): nothing changed
    table[key] = event
    return {f"{kind}:{key}"}


@dataclass(frozen=True)
class Sent:
    institution_id: str
    version: int
    view: StudentView


codec.register(Sent)


@dataclass
class MemberState:
    cohort: Cohort
    sent: dict[EnrolKey, Sent] = field(default_factory=dict)
    positions: dict[str, int] = field(default_factory=dict)  # of every input record applied
    last_event_time: datetime | None = None


class Members(Processor[MemberState]):
    topics = STUDENT_TOPICS
    source = SOURCE
    positions = True

    def __init__(self, group: str, reference: Reference, pseudonym_key: bytes) -> None:
        self.name, self.reference, self.key = group, reference, pseudonym_key

    def initial(self, key: str) -> MemberState:
        return MemberState(self.reference.bind(Cohort()))

    def handle(self, state: MemberState, events: Sequence[Event], ctx: Context) -> tuple[MemberState, list[Event]]:
        """Applies the events to the student's cohort in place (the runtime drops a state whose step
        or commit failed, and loads it again from the store)."""
        cohort = state.cohort
        fresh = [e for e in events if e.event_id not in cohort.seen]
        for event in fresh:
            cohort.apply(event)
        positions, last = state.positions, state.last_event_time
        if fresh:
            positions = {**positions, **{k: max(v, positions.get(k, 0)) for k, v in ctx.positions.items()}}
            newest = max(e.occurred_at for e in fresh)
            last = newest if last is None else max(last, newest)
        sent, outputs = dict(state.sent), []
        for enrol in sorted(cohort.enrolments):
            outputs += self._changes(cohort, enrol, sent, last, positions)
        if not fresh and not outputs:
            return state, []
        return MemberState(cohort, sent, positions, last), outputs

    def _changes(self, cohort: Cohort, enrol: EnrolKey, sent: dict[EnrolKey, Sent], last: datetime | None,
                 positions: dict[str, int]) -> list[Event]:
        view = student_view(cohort, enrol, lambda sid: pseudonym(self.key, sid))
        institution = cohort.enrolments[enrol].institution_id
        before = sent.get(enrol)
        if before is not None and before.institution_id == institution and before.view == view:
            return []
        out: list[Event] = []
        version = before.version if before else 0
        if before is not None and before.institution_id != institution:  # moved: leave the old reports
            version += 1
            out.append(self._member(before.institution_id, enrol, version, None, last, positions))
        version += 1
        sent[enrol] = Sent(institution, version, view)
        out.append(self._member(institution, enrol, version, view, last, positions))
        return out

    def _member(self, institution: str, enrol: EnrolKey, version: int, view: StudentView | None,
                last: datetime | None, positions: dict[str, int]) -> ReportMemberChanged:
        student, programme, year = enrol
        return ReportMemberChanged(
            event_id=uuid.uuid5(_NS, f"{student}:{programme}:{year}:{version}"), institution_id=institution,
            academic_year=year, programme_id=programme, student_id=student, version=version,
            view=None if view is None else codec.encode(view), last_event_time=last, offsets=positions)

    def tags(self, state: MemberState) -> Iterable[str]:
        c = state.cohort
        out = {f"programme:{p}" for _, p, _ in c.enrolments}
        for pid, agreed in c.placements.items():
            out |= {f"workplace:{agreed.workplace_id}", f"mentor:{c.placement_terms(pid).mentor_id}"}
        return sorted(out)

    def dump(self, state: MemberState) -> bytes:
        own = {k: v for k, v in vars(state.cohort).items() if k not in ("programmes", "workplaces", "mentors")}
        return codec.dumps({"cohort": own, "sent": state.sent, "positions": state.positions,
                            "last": state.last_event_time})

    def load(self, key: str, blob: bytes) -> MemberState:
        data: dict[str, Any] = codec.loads(blob)
        cohort = self.reference.bind(Cohort())
        for name, value in data["cohort"].items():
            if hasattr(cohort, name):  # an attribute this code no longer has is dropped
                setattr(cohort, name, value)
        return MemberState(cohort, data["sent"], data["positions"], data["last"])
