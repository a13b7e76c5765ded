"""Events of placement logging: the registry (programmes, enrolments, workplaces, mentors, placements)
and the students' time ledger. Durations are whole minutes, so sums are exact."""

from __future__ import annotations

import uuid
from datetime import date, time
from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import Field, model_validator

from .base import AwareDatetime, Event, Minutes, Model
from .limits import AcademicYear, Email, Id, Name, Sector, Text
from .vocabulary import (
    AcquiredAt,
    ActivityKind,
    AgeBand,
    EnrolmentEndReason,
    EnrolmentStatus,
    Language,
    LearningEnvironment,
    Level,
    NaceSection,
    OutcomeKind,
    PartnerKind,
    PlacementEndReason,
    PlacementForm,
)

Share = Annotated[Decimal, Field(ge=0, le=1, max_digits=7, decimal_places=6)]
Scale = Annotated[int, Field(ge=1, le=5)]


class StatusThresholds(Model):
    """Status of a student = confirmed hours ÷ pro-rata target to date (see hour accounting).
    Below `at_risk_below` the student is at risk, below `behind_below` behind."""

    at_risk_below: Share = Decimal("0.9")
    behind_below: Share = Decimal("0.7")


class ProgrammeRegistered(Event):
    EVENT_TYPE: ClassVar[str] = "placement.programme.registered"

    programme_id: Id
    institution_id: Id
    name: Name
    level: Level
    ects: Annotated[int, Field(ge=1, le=400)]
    hours_per_ects: Annotated[int, Field(ge=25, le=30)] = 27
    phases: Annotated[int, Field(ge=1, le=6)]
    required_share: Share | None = None  # graduaat: 1/3 by decree when not given
    dual_min_share: Share | None = None
    thresholds: StatusThresholds = StatusThresholds()


class StudentEnrolled(Event):
    EVENT_TYPE: ClassVar[str] = "placement.student.enrolled"

    student_id: Id
    programme_id: Id
    institution_id: Id
    academic_year: AcademicYear
    phase: Annotated[int, Field(ge=1, le=6)]
    status: EnrolmentStatus
    age_band: AgeBand
    dual_track: bool = False
    # the academic year the student first enrolled in this programme (success per cohort of entry);
    # None: the earliest enrolment in the programme that consumers know of
    entry_year: AcademicYear | None = None
    pilot_id: Id | None = None  # this year's trajectory belongs to that pilot (proeftuin)

    @model_validator(mode="after")
    def _entered_before(self) -> StudentEnrolled:
        if self.entry_year is not None and self.entry_year > self.academic_year:
            raise ValueError("entry_year is after academic_year")
        return self


class EnrolmentEnded(Event):
    EVENT_TYPE: ClassVar[str] = "placement.enrolment.ended"

    student_id: Id
    programme_id: Id
    academic_year: AcademicYear
    ended_on: date
    reason: EnrolmentEndReason


class WorkplaceRegistered(Event):
    EVENT_TYPE: ClassVar[str] = "placement.workplace.registered"

    workplace_id: Id
    institution_id: Id
    name: Name
    sector: Sector
    environment: LearningEnvironment
    sector_code: NaceSection | None = None  # the NACE section, for breakdowns by sector


class MentorRegistered(Event):
    EVENT_TYPE: ClassVar[str] = "placement.mentor.registered"

    mentor_id: Id
    workplace_id: Id
    institution_id: Id
    trained: bool
    webhook_source: Id | None = None  # the sending tool this mentor is bound to, if any


class MentorContactChanged(Event):
    """A mentor's contact data: where mentor feedback mails confirmation requests, and in which
    language. Personal data (`email`), kept on its own compacted topic so it lives in one place and
    can be erased; `email` None: the address was removed (the mentor can no longer be mailed)."""

    EVENT_TYPE: ClassVar[str] = "placement.mentor.contact_changed"

    mentor_id: Id
    institution_id: Id
    email: Email | None = None
    language: Language = Language.NL

    def subject(self) -> str | None:
        return self.mentor_id


class InstitutionContactChanged(Event):
    """The address an institution's coordinators are notified at (daily digest, undeliverable mails)
    and its language. `email` None: removed."""

    EVENT_TYPE: ClassVar[str] = "placement.institution.contact_changed"

    institution_id: Id
    email: Email | None = None
    language: Language = Language.NL

    def subject(self) -> str | None:
        return self.institution_id


Credits = Annotated[int, Field(ge=0, le=200)]  # ECTS credits (studiepunten) of one academic year


class CreditsRecorded(Event):
    """The credits a student took and earned in an academic year (study efficiency = earned ÷ taken).
    The latest record of a student and year replaces earlier ones; it counts only for the programme
    it names, so credits of an enrolment that moved to another programme must be recorded again."""

    EVENT_TYPE: ClassVar[str] = "placement.credits.recorded"

    student_id: Id
    programme_id: Id
    institution_id: Id
    academic_year: AcademicYear
    credits_taken: Credits
    credits_earned: Credits

    @model_validator(mode="after")
    def _earned_within_taken(self) -> CreditsRecorded:
        if self.credits_earned > self.credits_taken:
            raise ValueError("credits_earned is above credits_taken")
        return self


Euros = Annotated[Decimal, Field(gt=0, le=1_000_000_000, decimal_places=2)]


class PilotPartner(Model):
    name: Name
    kind: PartnerKind
    workplace_id: Id | None = None  # when the partner is one of the institution's workplaces


class BudgetLine(Model):
    academic_year: AcademicYear
    amount_eur: Euros


class PilotRegistered(Event):
    """A pilot (proeftuin) of dual trajectories: its programmes, partners, period and budget per academic
    year. Trajectories join it through their enrolment (`StudentEnrolled.pilot_id`). Latest state wins."""

    EVENT_TYPE: ClassVar[str] = "placement.pilot.registered"

    pilot_id: Id
    institution_id: Id
    name: Name
    programme_ids: Annotated[list[Id], Field(min_length=1, max_length=50)]
    partners: Annotated[list[PilotPartner], Field(min_length=1, max_length=100)]
    start_date: date
    end_date: date
    budget: Annotated[list[BudgetLine], Field(min_length=1, max_length=20)]

    @model_validator(mode="after")
    def _consistent(self) -> PilotRegistered:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        years = [b.academic_year for b in self.budget]
        if len(years) != len(set(years)):
            raise ValueError("budget names an academic year twice")
        first, last = academic_year_of(self.start_date), academic_year_of(self.end_date)
        if any(not first <= y <= last for y in years):
            raise ValueError("budget names an academic year outside the pilot's period")
        return self


def academic_year_of(day: date) -> str:
    """The academic year a day falls in: it starts on September 1 ("2026-2027" from 2026-09-01)."""
    first = day.year if day.month >= 9 else day.year - 1
    return f"{first}-{first + 1}"


class ContinuumPosition(Model):
    """Where a placement sits on the six continuum dimensions, 1 (left pole) … 5 (right pole)."""

    learning_environment: Scale  # simulated/realistic … real/authentic workplace
    extent: Scale  # limited … extensive share of WPL
    engagement: Scale  # little engagement … far-reaching co-creation
    transfer: Scale  # applying what was learned … acquiring new competences at work
    integration: Scale  # limited … strong alignment with the curriculum
    target_group: Scale  # limited … very broad access


class LearningOutcome(Model):
    outcome_id: Id
    title: Name
    kind: OutcomeKind
    acquired_at: AcquiredAt


class LearningAgreement(Model):
    """Which outcomes are acquired at the workplace and which at the institution (co-creation)."""

    outcomes: Annotated[list[LearningOutcome], Field(max_length=200)] = []
    signed_by_institution_at: AwareDatetime | None = None
    signed_by_workplace_at: AwareDatetime | None = None


class _PlacementTerms(Event):
    placement_id: Id
    student_id: Id
    mentor_id: Id
    start_date: date
    end_date: date
    planned_minutes: Minutes
    form: PlacementForm
    continuum: ContinuumPosition
    learning_agreement: LearningAgreement

    @model_validator(mode="after")
    def _period(self) -> _PlacementTerms:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class PlacementAgreed(_PlacementTerms):
    EVENT_TYPE: ClassVar[str] = "placement.placement.agreed"

    programme_id: Id
    institution_id: Id
    workplace_id: Id
    academic_year: AcademicYear
    phase: Annotated[int, Field(ge=1, le=6)]


class PlacementAmended(_PlacementTerms):
    """Carries the complete new terms, so a consumer never needs the amendment history."""

    EVENT_TYPE: ClassVar[str] = "placement.placement.amended"

    reason: Text | None = None


class PlacementEnded(Event):
    EVENT_TYPE: ClassVar[str] = "placement.placement.ended"

    placement_id: Id
    student_id: Id
    ended_on: date
    reason: PlacementEndReason


class _EntryFacts(Event):
    entry_id: uuid.UUID  # client-generated (UUIDv7); one entry however often the phone resends it
    student_id: Id
    placement_id: Id
    revision: Annotated[int, Field(ge=1)]
    work_date: date
    start_time: time | None = None
    end_time: time | None = None
    duration_minutes: Annotated[int, Field(gt=0, le=24 * 60)]
    activity: ActivityKind
    outcome_ids: Annotated[list[Id], Field(max_length=50)] = []
    description: Text = ""


class TimeEntryLogged(_EntryFacts):
    EVENT_TYPE: ClassVar[str] = "placement.time_entry.logged"


class TimeEntryCorrected(_EntryFacts):
    """A correction is a new revision of the entry, never an update in place."""

    EVENT_TYPE: ClassVar[str] = "placement.time_entry.corrected"


class TimeEntryWithdrawn(Event):
    EVENT_TYPE: ClassVar[str] = "placement.time_entry.withdrawn"

    entry_id: uuid.UUID
    student_id: Id
    placement_id: Id
    revision: Annotated[int, Field(ge=1)]
    reason: Text | None = None
