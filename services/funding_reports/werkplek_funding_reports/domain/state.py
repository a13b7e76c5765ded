"""The cohort: every input event folded into the latest facts, idempotently (an event id applied
twice changes nothing; versioned read models keep their highest version). No I/O: the worker feeds
it, `views` reads it. `apply` answers which reports the event may change."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from werkplek_events import (
    AssessmentRecorded,
    EnrolmentEnded,
    Event,
    LearningAgreementSigned,
    MentorRegistered,
    OutcomeProgressUpdated,
    PlacementAgreed,
    PlacementAmended,
    PlacementEnded,
    ProgrammeRegistered,
    ShareUpdated,
    StudentEnrolled,
    StudentRiskStatusChanged,
    TimeEntryConfirmed,
    TimeEntryDecisionReversed,
    WorkplaceRegistered,
)
from werkplek_events.vocabulary import Decision, ShareStatus, SigningParty

from .keys import ReportKey, keys_of

EnrolKey = tuple[str, str, str]  # student, programme, academic year
INPUTS: tuple[type[Event], ...] = (
    ProgrammeRegistered, StudentEnrolled, EnrolmentEnded, WorkplaceRegistered, MentorRegistered,
    PlacementAgreed, PlacementAmended, PlacementEnded, LearningAgreementSigned, ShareUpdated,
    StudentRiskStatusChanged, OutcomeProgressUpdated, AssessmentRecorded, TimeEntryConfirmed,
    TimeEntryDecisionReversed,
)


class Cohort:
    def __init__(self) -> None:
        self.seen: set[uuid.UUID] = set()
        self.programmes: dict[str, ProgrammeRegistered] = {}
        self.enrolments: dict[EnrolKey, StudentEnrolled] = {}
        self.ended: dict[EnrolKey, EnrolmentEnded] = {}
        self.workplaces: dict[str, WorkplaceRegistered] = {}
        self.mentors: dict[str, MentorRegistered] = {}
        self.placements: dict[str, PlacementAgreed] = {}
        self.amended: dict[str, PlacementAmended] = {}
        self.placement_ended: dict[str, PlacementEnded] = {}
        self.signatures: dict[str, set[SigningParty]] = {}
        self.shares: dict[tuple[str, str, str | None], ShareUpdated] = {}
        self.risk: dict[tuple[str, str], StudentRiskStatusChanged] = {}
        self.progress: dict[str, OutcomeProgressUpdated] = {}
        self.assessments: dict[str, dict[str, AssessmentRecorded]] = {}
        # entry id -> (last confirmed at, last reversal of a confirmation at), per student
        self.decisions: dict[str, dict[uuid.UUID, tuple[datetime | None, datetime | None]]] = {}
        self.by_student: dict[str, set[EnrolKey]] = {}
        self.reports: set[ReportKey] = set()

    def apply(self, event: Event) -> set[ReportKey]:
        """Fold one event in; the reports whose figures may have changed."""
        if event.event_id in self.seen:
            return set()
        self.seen.add(event.event_id)
        handler = _HANDLERS.get(type(event))
        return handler(self, event) if handler else set()

    def student_reports(self, student_id: str) -> set[ReportKey]:
        out: set[ReportKey] = set()
        for key in self.by_student.get(student_id, ()):
            out |= keys_of(self.enrolments[key].institution_id, key[1], key[2])
        return out

    def placement_terms(self, placement_id: str) -> PlacementAgreed | PlacementAmended:
        return self.amended.get(placement_id) or self.placements[placement_id]

    def confirmed_entries(self, student_id: str) -> list[uuid.UUID]:
        return sorted(e for e, (conf, rev) in self.decisions.get(student_id, {}).items()
                      if conf is not None and (rev is None or conf > rev))

    def programme_reports(self, programme_id: str) -> set[ReportKey]:
        return {k for k in self.reports if k.programme_id == programme_id} | {
            ReportKey(k.institution_id, None, k.academic_year) for k in self.reports if k.programme_id == programme_id}


def _enrolled(c: Cohort, e: StudentEnrolled) -> set[ReportKey]:
    key = (e.student_id, e.programme_id, e.academic_year)
    old = c.enrolments.get(key)
    if old is None or old.occurred_at <= e.occurred_at:
        c.enrolments[key] = e
    c.by_student.setdefault(e.student_id, set()).add(key)
    new = keys_of(e.institution_id, e.programme_id, e.academic_year)
    c.reports |= new
    return new


def _ended(c: Cohort, e: EnrolmentEnded) -> set[ReportKey]:
    c.ended[(e.student_id, e.programme_id, e.academic_year)] = e
    return c.student_reports(e.student_id)


def _programme(c: Cohort, e: ProgrammeRegistered) -> set[ReportKey]:
    c.programmes[e.programme_id] = e
    return c.programme_reports(e.programme_id)


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
    return c.student_reports(e.student_id)


def _amended(c: Cohort, e: PlacementAmended) -> set[ReportKey]:
    old = c.amended.get(e.placement_id)
    if old is None or old.occurred_at <= e.occurred_at:
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


def _confirmed(c: Cohort, e: TimeEntryConfirmed) -> set[ReportKey]:
    entries = c.decisions.setdefault(e.student_id, {})
    conf, rev = entries.get(e.entry_id, (None, None))
    entries[e.entry_id] = (max(conf, e.occurred_at) if conf else e.occurred_at, rev)
    return set()  # lineage only: the hours reach the report through ShareUpdated


def _reversed(c: Cohort, e: TimeEntryDecisionReversed) -> set[ReportKey]:
    if e.reversed == Decision.CONFIRMED:
        entries = c.decisions.setdefault(e.student_id, {})
        conf, rev = entries.get(e.entry_id, (None, None))
        entries[e.entry_id] = (conf, max(rev, e.occurred_at) if rev else e.occurred_at)
    return set()


_HANDLERS: dict[type[Event], Callable[[Cohort, Any], set[ReportKey]]] = {
    ProgrammeRegistered: _programme, StudentEnrolled: _enrolled, EnrolmentEnded: _ended,
    WorkplaceRegistered: _workplace, MentorRegistered: _mentor, PlacementAgreed: _agreed,
    PlacementAmended: _amended, PlacementEnded: _placement_ended, LearningAgreementSigned: _signed,
    ShareUpdated: _share, StudentRiskStatusChanged: _risk, OutcomeProgressUpdated: _progress,
    AssessmentRecorded: _assessed, TimeEntryConfirmed: _confirmed, TimeEntryDecisionReversed: _reversed,
}


def latest_status(share: ShareUpdated | None, risk: StudentRiskStatusChanged | None) -> ShareStatus | None:
    """Both carry the student's accounting version; the newer one knows the status."""
    if share is None or (risk is not None and risk.version > share.version):
        return risk.status if risk is not None else None
    return share.status
