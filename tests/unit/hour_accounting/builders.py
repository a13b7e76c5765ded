"""Event builders for hour accounting tests: one graduaat programme (90 ECTS × 27 h = 145,800 minutes,
3 phases of 48,600), a student's enrolment, placements, entries and mentor decisions."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from werkplek_events import (
    ContinuumPosition,
    LearningAgreement,
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
from werkplek_events.vocabulary import Decision

YEAR = "2026-2027"
AS_OF = date(2026, 10, 31)
T0 = datetime(2026, 9, 1, 8, tzinfo=UTC)
CONTINUUM = ContinuumPosition(learning_environment=5, extent=4, engagement=4, transfer=3, integration=4,
                              target_group=3)


def programme(programme_id: str = "grad-test", level: str = "graduaat", ects: int = 90,
              phases: int = 3) -> ProgrammeRegistered:
    return ProgrammeRegistered(programme_id=programme_id, institution_id="inst", name="Test programme",
                               level=level, ects=ects, hours_per_ects=27, phases=phases)


def enrolled(student: str, programme_id: str = "grad-test", phase: int = 1, dual: bool = False,
             year: str = YEAR) -> StudentEnrolled:
    return StudentEnrolled(student_id=student, programme_id=programme_id, institution_id="inst",
                           academic_year=year, phase=phase, status="regular", age_band="under_21",
                           dual_track=dual, occurred_at=T0)


def agreed(student: str, placement_id: str = "plc-1", start: date = date(2026, 10, 1),
           end: date = date(2026, 11, 30), planned: int = 36_600, phase: int = 1,
           programme_id: str = "grad-test") -> PlacementAgreed:
    return PlacementAgreed(placement_id=placement_id, student_id=student, mentor_id="mentor", start_date=start,
                           end_date=end, planned_minutes=planned, form="internship", continuum=CONTINUUM,
                           learning_agreement=LearningAgreement(), programme_id=programme_id,
                           institution_id="inst", workplace_id="wp", academic_year=YEAR, phase=phase,
                           occurred_at=T0)


def amended(student: str, placement_id: str = "plc-1", planned: int = 30_500, end: date = date(2026, 11, 30),
            start: date = date(2026, 10, 1), minutes_later: int = 1) -> PlacementAmended:
    return PlacementAmended(placement_id=placement_id, student_id=student, mentor_id="mentor", start_date=start,
                            end_date=end, planned_minutes=planned, form="internship", continuum=CONTINUUM,
                            learning_agreement=LearningAgreement(), occurred_at=T0 + timedelta(minutes=minutes_later))


def ended(student: str, placement_id: str, on: date) -> PlacementEnded:
    return PlacementEnded(placement_id=placement_id, student_id=student, ended_on=on, reason="terminated_early")


def logged(student: str, minutes: int = 480, placement_id: str = "plc-1", entry_id: uuid.UUID | None = None,
           day: date = date(2026, 10, 5)) -> TimeEntryLogged:
    return TimeEntryLogged(entry_id=entry_id or uuid.uuid4(), student_id=student, placement_id=placement_id,
                           revision=1, work_date=day, duration_minutes=minutes, activity="work")


def corrected(entry: TimeEntryLogged | TimeEntryCorrected, minutes: int) -> TimeEntryCorrected:
    return TimeEntryCorrected(entry_id=entry.entry_id, student_id=entry.student_id,
                              placement_id=entry.placement_id, revision=entry.revision + 1,
                              work_date=entry.work_date, duration_minutes=minutes, activity="work")


def withdrawn(entry: TimeEntryLogged | TimeEntryCorrected) -> TimeEntryWithdrawn:
    return TimeEntryWithdrawn(entry_id=entry.entry_id, student_id=entry.student_id,
                              placement_id=entry.placement_id, revision=entry.revision)


def confirmed(entry: TimeEntryLogged | TimeEntryCorrected) -> TimeEntryConfirmed:
    return TimeEntryConfirmed(entry_id=entry.entry_id, student_id=entry.student_id,
                              placement_id=entry.placement_id, mentor_id="mentor", entry_revision=entry.revision)


def rejected(entry: TimeEntryLogged | TimeEntryCorrected) -> TimeEntryRejected:
    return TimeEntryRejected(entry_id=entry.entry_id, student_id=entry.student_id,
                             placement_id=entry.placement_id, mentor_id="mentor", entry_revision=entry.revision,
                             reason="wrong_hours")


def reversal(entry: TimeEntryLogged | TimeEntryCorrected, of: Decision) -> TimeEntryDecisionReversed:
    return TimeEntryDecisionReversed(entry_id=entry.entry_id, student_id=entry.student_id,
                                     placement_id=entry.placement_id, mentor_id="mentor", reversed=of)
