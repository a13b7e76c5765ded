"""The cohort: every input event folded into the latest facts, idempotently (an event id applied
twice changes nothing; versioned read models keep their highest version; registry facts keep the
latest by (`occurred_at`, `event_id`), so the arrival order across topics does not matter). No I/O:
the worker and the as-of replay feed it, `views` reads it. `apply` answers which reports the event
may change.

Facts that refer to something not known yet are kept and count once it arrives (as hour accounting
does): an enrolment in a programme not registered yet is in no report until the programme is.

A student erased with full removal (`SubjectErased.removed_student`, docs/adr/0072) leaves the cohort:
every fact of theirs is dropped and every later event of theirs ignored, so the figures are those of
the cohort without them whichever of their records came first."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from werkplek_events import (
    AssessmentRecorded,
    CreditsRecorded,
    EnrolmentEnded,
    Event,
    LearningAgreementSigned,
    MentorRegistered,
    OutcomeProgressUpdated,
    PilotRegistered,
    PlacementAgreed,
    PlacementAmended,
    PlacementEnded,
    ProgrammeRegistered,
    ShareUpdated,
    StudentEnrolled,
    StudentRiskStatusChanged,
    SubjectErased,
    TimeEntryConfirmed,
    TimeEntryCorrected,
    TimeEntryDecisionReversed,
    TimeEntryLogged,
    TimeEntryRejected,
    TimeEntryWithdrawn,
    WorkplaceRegistered,
)
from werkplek_events.placement import academic_year_of
from werkplek_events.vocabulary import ShareStatus, SigningParty

from .keys import ReportKey, keys_of, pilot_keys
from .records import EntryFacts

StudentYear = tuple[str, str]  # student, academic year: one enrolment (the registry keeps one per year)
INPUTS: tuple[type[Event], ...] = (
    ProgrammeRegistered, StudentEnrolled, EnrolmentEnded, WorkplaceRegistered, MentorRegistered,
    PlacementAgreed, PlacementAmended, PlacementEnded, LearningAgreementSigned, ShareUpdated,
    StudentRiskStatusChanged, OutcomeProgressUpdated, AssessmentRecorded, TimeEntryLogged, TimeEntryCorrected,
    TimeEntryWithdrawn, TimeEntryConfirmed, TimeEntryRejected, TimeEntryDecisionReversed, CreditsRecorded,
    PilotRegistered, SubjectErased,
)
Stamped = StudentEnrolled | CreditsRecorded | PilotRegistered | PlacementAmended


def newer(old: Stamped | None, new: Stamped) -> bool:
    """The latest fact wins, by (occurred_at, event_id): the same answer in any arrival order."""
    return old is None or (old.occurred_at, old.event_id.int) <= (new.occurred_at, new.event_id.int)


class Cohort:
    def __init__(self) -> None:
        self.seen: set[uuid.UUID] = set()
        self.programmes: dict[str, ProgrammeRegistered] = {}
        self.enrolments: dict[StudentYear, StudentEnrolled] = {}
        self.ended: dict[tuple[str, str, str], EnrolmentEnded] = {}  # student, programme, year
        self.credits: dict[StudentYear, CreditsRecorded] = {}
        self.pilots: dict[str, PilotRegistered] = {}
        self.workplaces: dict[str, WorkplaceRegistered] = {}
        self.mentors: dict[str, MentorRegistered] = {}
        self.placements: dict[str, PlacementAgreed] = {}
        self.placements_of: dict[str, set[str]] = {}  # student -> placement ids
        self.amended: dict[str, PlacementAmended] = {}
        self.placement_ended: dict[str, PlacementEnded] = {}
        self.signatures: dict[str, set[SigningParty]] = {}
        self.shares: dict[tuple[str, str, str | None], ShareUpdated] = {}
        self.risk: dict[tuple[str, str], StudentRiskStatusChanged] = {}
        self.progress: dict[str, OutcomeProgressUpdated] = {}
        self.assessments: dict[str, dict[str, AssessmentRecorded]] = {}
        # student -> entry id -> its revision, withdrawal and decisions (the members stage's own facts)
        self.entries: dict[str, dict[uuid.UUID, EntryFacts]] = {}
        # student -> entry id -> placement: the entries confirmed on their current revision (from `entries`)
        self.confirmed: dict[str, dict[uuid.UUID, str]] = {}
        self.by_student: dict[str, set[str]] = {}  # student -> academic years enrolled
        self.removed: set[str] = set()  # students erased with full removal: in no figure, ever

    def apply(self, event: Event) -> set[ReportKey]:
        """Fold one event in; the reports whose figures may have changed."""
        if event.event_id in self.seen:
            return set()
        self.seen.add(event.event_id)
        if self.removed and getattr(event, "student_id", None) in self.removed:
            return set()
        handler = _HANDLERS.get(type(event))
        return handler(self, event) if handler else set()

    def institution_of(self, programme_id: str) -> str | None:
        p = self.programmes.get(programme_id)
        return p.institution_id if p else None

    def enrolment_keys(self, student_id: str, year: str) -> set[ReportKey]:
        e = self.enrolments.get((student_id, year))
        inst = self.institution_of(e.programme_id) if e else None
        if e is None or inst is None:
            return set()
        return keys_of(inst, e.programme_id, year) | (pilot_keys(inst, e.pilot_id, year) if e.pilot_id else set())

    def student_reports(self, student_id: str) -> set[ReportKey]:
        out: set[ReportKey] = set()
        for year in self.by_student.get(student_id, ()):
            out |= self.enrolment_keys(student_id, year)
        return out

    def placement_terms(self, placement_id: str) -> PlacementAgreed | PlacementAmended:
        return self.amended.get(placement_id) or self.placements[placement_id]

    def confirmed_entries(self, student_id: str, placement_id: str | None = None) -> list[uuid.UUID]:
        """The student's entries that count as confirmed on their current revision (of one placement)."""
        return sorted(e for e, pid in self.confirmed.get(student_id, {}).items() if placement_id in (None, pid))

    def programme_reports(self, programme_id: str) -> set[ReportKey]:
        students = {s for (s, _), e in self.enrolments.items() if e.programme_id == programme_id}
        return set().union(*(self.student_reports(s) for s in students))

    def report_keys(self) -> set[ReportKey]:
        """Every report there is: a programme's in each year it has enrolments or a cohort whose nominal
        duration plus one year ends (its success is reported then), their roll-ups, pilots in their years."""
        keys: set[ReportKey] = set()
        entered: dict[tuple[str, str], str] = {}
        for (student, year), e in self.enrolments.items():
            keys |= self.enrolment_keys(student, year)
            first = min(year, e.entry_year or year)
            entered[(student, e.programme_id)] = min(entered.get((student, e.programme_id), first), first)
        for (_, programme), first in entered.items():
            p = self.programmes.get(programme)
            if p is not None:
                closing = int(first[:4]) + p.phases
                keys |= keys_of(p.institution_id, programme, f"{closing}-{closing + 1}")
        for pilot in self.pilots.values():
            keys |= set().union(*(pilot_keys(pilot.institution_id, pilot.pilot_id, y) for y in pilot_years(pilot)))
        return keys


def pilot_years(p: PilotRegistered) -> list[str]:
    """The academic years the pilot's period touches: it has a report in each."""
    first, last = (int(academic_year_of(d)[:4]) for d in (p.start_date, p.end_date))
    return [f"{y}-{y + 1}" for y in range(first, last + 1)]


def _enrolled(c: Cohort, e: StudentEnrolled) -> set[ReportKey]:
    key = (e.student_id, e.academic_year)
    before = c.enrolment_keys(*key)  # an enrolment moved to another programme leaves the old report
    if newer(c.enrolments.get(key), e):
        c.enrolments[key] = e
    c.by_student.setdefault(e.student_id, set()).add(e.academic_year)
    return before | c.enrolment_keys(*key)


def _ended(c: Cohort, e: EnrolmentEnded) -> set[ReportKey]:
    c.ended[(e.student_id, e.programme_id, e.academic_year)] = e
    return c.student_reports(e.student_id)


def _credits(c: Cohort, e: CreditsRecorded) -> set[ReportKey]:
    if newer(c.credits.get((e.student_id, e.academic_year)), e):
        c.credits[(e.student_id, e.academic_year)] = e
    return c.enrolment_keys(e.student_id, e.academic_year)


def _pilot(c: Cohort, e: PilotRegistered) -> set[ReportKey]:
    old = c.pilots.get(e.pilot_id)
    if newer(old, e):
        c.pilots[e.pilot_id] = e
    years = set(pilot_years(e)) | (set(pilot_years(old)) if old else set())
    return set().union(*(pilot_keys(e.institution_id, e.pilot_id, y) for y in years))


def _programme(c: Cohort, e: ProgrammeRegistered) -> set[ReportKey]:
    before = c.programme_reports(e.programme_id)
    c.programmes[e.programme_id] = e
    return before | c.programme_reports(e.programme_id)


def _by_placement(c: Cohort, keep: Callable[[PlacementAgreed | PlacementAmended], bool]) -> set[ReportKey]:
    students = {p.student_id for pid, p in c.placements.items() if keep(c.placement_terms(pid))}
    return set().union(*(c.student_reports(s) for s in students))


def _workplace(c: Cohort, e: WorkplaceRegistered) -> set[ReportKey]:
    c.workplaces[e.workplace_id] = e
    students = {p.student_id for p in c.placements.values() if p.workplace_id == e.workplace_id}
    return set().union(*(c.student_reports(s) for s in students))


def _mentor(c: Cohort, e: MentorRegistered) -> set[ReportKey]:
    c.mentors[e.mentor_id] = e
    return _by_placement(c, lambda t: t.mentor_id == e.mentor_id)


def _agreed(c: Cohort, e: PlacementAgreed) -> set[ReportKey]:
    c.placements[e.placement_id] = e
    c.placements_of.setdefault(e.student_id, set()).add(e.placement_id)
    return c.student_reports(e.student_id)


def _amended(c: Cohort, e: PlacementAmended) -> set[ReportKey]:
    if newer(c.amended.get(e.placement_id), e):
        c.amended[e.placement_id] = e
    return c.student_reports(e.student_id)


def _placement_ended(c: Cohort, e: PlacementEnded) -> set[ReportKey]:
    c.placement_ended[e.placement_id] = e
    return c.student_reports(e.student_id)


def _signed(c: Cohort, e: LearningAgreementSigned) -> set[ReportKey]:
    c.signatures.setdefault(e.placement_id, set()).add(e.party)
    return c.student_reports(e.student_id)


def _share(c: Cohort, e: ShareUpdated) -> set[ReportKey]:
    key = (e.student_id, e.programme_id, e.academic_year)
    old = c.shares.get(key)
    if old is None or old.version < e.version:
        c.shares[key] = e
    return c.student_reports(e.student_id)


def _risk(c: Cohort, e: StudentRiskStatusChanged) -> set[ReportKey]:
    old = c.risk.get((e.student_id, e.programme_id))
    if old is None or old.version < e.version:
        c.risk[(e.student_id, e.programme_id)] = e
    return c.student_reports(e.student_id)


def _progress(c: Cohort, e: OutcomeProgressUpdated) -> set[ReportKey]:
    old = c.progress.get(e.student_id)
    if old is None or old.version < e.version:
        c.progress[e.student_id] = e
    return c.student_reports(e.student_id)


def _assessed(c: Cohort, e: AssessmentRecorded) -> set[ReportKey]:
    c.assessments.setdefault(e.student_id, {})[e.assessment_id] = e
    return c.student_reports(e.student_id)


def _entry(c: Cohort, student_id: str, entry_id: uuid.UUID, placement_id: str,
           change: Callable[[EntryFacts], EntryFacts]) -> set[ReportKey]:
    """Change one entry's facts; the student's reports when whether it counts as confirmed changed
    (co-creation: the workplace takes part in running a placement it confirmed time on)."""
    entries = c.entries.setdefault(student_id, {})
    facts = entries[entry_id] = change(entries.get(entry_id) or EntryFacts(placement_id))
    confirmed = c.confirmed.setdefault(student_id, {})
    was = entry_id in confirmed
    if facts.confirmed:
        confirmed[entry_id] = facts.placement_id
    else:
        confirmed.pop(entry_id, None)
    return c.student_reports(student_id) if was != facts.confirmed else set()


def _revised(c: Cohort, e: TimeEntryLogged | TimeEntryCorrected) -> set[ReportKey]:
    return _entry(c, e.student_id, e.entry_id, e.placement_id,
                  lambda f: f if f.revision >= e.revision else replace(f, placement_id=e.placement_id,
                                                                        revision=e.revision))


def _withdrawn(c: Cohort, e: TimeEntryWithdrawn) -> set[ReportKey]:
    return _entry(c, e.student_id, e.entry_id, e.placement_id,
                  lambda f: replace(f, withdrawn_rev=max(f.withdrawn_rev, e.revision)))


def _decided(c: Cohort, e: TimeEntryConfirmed | TimeEntryRejected) -> set[ReportKey]:
    return _entry(c, e.student_id, e.entry_id, e.placement_id,
                  lambda f: replace(f, decisions=f.decisions.decided(e.DECISION, e.entry_revision)))


def _reversed(c: Cohort, e: TimeEntryDecisionReversed) -> set[ReportKey]:
    return _entry(c, e.student_id, e.entry_id, e.placement_id,
                  lambda f: replace(f, decisions=f.decisions.reversed(e.reversed)))


def _erased(c: Cohort, e: SubjectErased) -> set[ReportKey]:
    """Full removal: every fact of the student goes (an erasure that keeps the figures changes none)."""
    student = e.removed_student()
    if student is None or student in c.removed:
        return set()
    touched = c.student_reports(student)
    c.removed.add(student)
    keyed: tuple[dict[Any, Any], ...] = (c.enrolments, c.credits, c.shares, c.risk, c.ended)  # (student, ...)
    for table in keyed:
        for key in [k for k in table if k[0] == student]:
            del table[key]
    for pid in c.placements_of.pop(student, set()):
        c.placements.pop(pid, None)
        c.signatures.pop(pid, None)
    by_placements: tuple[dict[str, Any], ...] = (c.amended, c.placement_ended)
    for by_placement in by_placements:
        for pid in [p for p, fact in by_placement.items() if fact.student_id == student]:
            del by_placement[pid]
    per_students: tuple[dict[str, Any], ...] = (c.progress, c.assessments, c.entries, c.confirmed, c.by_student)
    for per_student in per_students:
        per_student.pop(student, None)
    return touched


_HANDLERS: dict[type[Event], Callable[[Cohort, Any], set[ReportKey]]] = {
    ProgrammeRegistered: _programme, StudentEnrolled: _enrolled, EnrolmentEnded: _ended,
    WorkplaceRegistered: _workplace, MentorRegistered: _mentor, PlacementAgreed: _agreed,
    PlacementAmended: _amended, PlacementEnded: _placement_ended, LearningAgreementSigned: _signed,
    ShareUpdated: _share, StudentRiskStatusChanged: _risk, OutcomeProgressUpdated: _progress,
    AssessmentRecorded: _assessed, TimeEntryLogged: _revised, TimeEntryCorrected: _revised,
    TimeEntryWithdrawn: _withdrawn, TimeEntryConfirmed: _decided, TimeEntryRejected: _decided,
    TimeEntryDecisionReversed: _reversed,
    CreditsRecorded: _credits, PilotRegistered: _pilot, SubjectErased: _erased,
}


def latest_status(share: ShareUpdated | None, risk: StudentRiskStatusChanged | None) -> ShareStatus | None:
    """Both carry the student's accounting version; the newer one knows the status."""
    if share is None or (risk is not None and risk.version > share.version):
        return risk.status if risk is not None else None
    return share.status
