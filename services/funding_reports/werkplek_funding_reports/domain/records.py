"""Frozen facts per student that the report rules read. Raw student ids live here (for lineage and for
disclosure control) but never reach a published report: trajectory rows use `pseudonym`."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cached_property

from werkplek_events.rules import Decisions, is_confirmed, real_share
from werkplek_events.vocabulary import (
    AcquiredAt,
    EnrolmentEndReason,
    EnrolmentStatus,
    LearningEnvironment,
    NaceSection,
    OutcomeKind,
    PlacementForm,
    ShareStatus,
)

DIMENSIONS = ("learning_environment", "extent", "engagement", "transfer", "integration", "target_group")
Member = tuple[str, str]  # (programme id, student id): one trajectory; a student is in one programme a year


@dataclass(frozen=True)
class ProgrammeTerms:
    programme_id: str
    required_share: Fraction | None  # graduaat: 1/3 by decree when the programme gives none
    dual_min_share: Fraction | None
    phases: int = 1  # also the nominal duration in academic years (a phase is a year of 60 ECTS)


@dataclass(frozen=True)
class PhaseMinutes:
    phase: int
    confirmed_minutes: int
    study_load_minutes: int

    @property
    def share(self) -> Fraction:
        return real_share(self.confirmed_minutes, self.study_load_minutes)


@dataclass(frozen=True)
class ShareFacts:
    confirmed_minutes: int
    study_load_minutes: int
    real_share: Decimal
    projected_share: Decimal
    per_phase: tuple[PhaseMinutes, ...] = ()  # as hour accounting published them (exact minutes)
    on_course_flag: bool | None = None
    year_minutes: int | None = None  # confirmed minutes of the report's academic year
    year_load_minutes: int | None = None  # the study load of one year of the programme

    # exact fractions, computed once per student: every section reads them
    @cached_property
    def real(self) -> Fraction:
        if self.study_load_minutes == 0:  # nothing to divide: the share as hour accounting published it
            return Fraction(self.real_share)
        return real_share(self.confirmed_minutes, self.study_load_minutes)

    @cached_property
    def year(self) -> Fraction | None:
        if self.year_minutes is None or not self.year_load_minutes:
            return None
        return real_share(self.year_minutes, self.year_load_minutes)

    @cached_property
    def projected(self) -> Fraction:
        return Fraction(self.projected_share)


@dataclass(frozen=True)
class EntryFacts:
    """What the cohort knows of one time entry to tell whether it counts as confirmed on its current
    revision (`werkplek_events.rules.entry_status`): revision 0 = not logged yet (a decision may
    overtake its entry: held until it arrives); withdrawn up to `withdrawn_rev`."""

    placement_id: str
    revision: int = 0
    withdrawn_rev: int = 0
    decisions: Decisions = field(default_factory=Decisions)

    @property
    def confirmed(self) -> bool:
        return self.revision > self.withdrawn_rev and is_confirmed(self.revision, self.decisions)


@dataclass(frozen=True)
class PlacementFacts:
    placement_id: str
    form: PlacementForm
    continuum: tuple[int, ...]  # in the order of DIMENSIONS
    mentor_id: str
    mentor_trained: bool | None  # None: mentor not (yet) registered
    environment: LearningEnvironment | None
    outcomes: tuple[tuple[str, OutcomeKind, AcquiredAt], ...]  # (outcome id, kind, where it is acquired)
    signed_by_institution: bool
    signed_by_workplace: bool
    academic_year: str = ""
    sector: NaceSection | None = None  # None: workplace unknown or without a NACE code
    run_with_workplace: bool = False  # its mentor confirmed time on it
    evaluated_with_workplace: bool = False  # its mentor recorded an assessment on it


@dataclass(frozen=True)
class Coverage:
    agreed: int
    assessed: int
    achieved: int


@dataclass(frozen=True)
class Credits:
    taken: int
    earned: int


@dataclass(frozen=True)
class StudentView:
    student_id: str
    pseudonym: str
    programme: ProgrammeTerms
    status: EnrolmentStatus
    over_25: bool
    dual: bool
    phase: int = 1  # the enrolment's current phase: the phases the student has reached are 1..phase
    ended: EnrolmentEndReason | None = None
    share: ShareFacts | None = None
    risk: ShareStatus | None = None
    coverage: tuple[tuple[OutcomeKind, Coverage], ...] = ()  # from outcome progress
    assessed_outcome_ids: frozenset[str] = frozenset()  # outcomes with at least one assessment
    placements: tuple[PlacementFacts, ...] = ()  # of this academic year
    trajectory: tuple[PlacementFacts, ...] = ()  # of the trajectory so far: this programme, up to this year
    credits: Credits | None = None
    pilot_id: str | None = None

    @cached_property
    def member(self) -> Member:  # computed once: the sections ask for it for every figure
        return (self.programme.programme_id, self.student_id)


@dataclass(frozen=True)
class EntryView:
    """A trajectory seen from its cohort of entry (for success within the nominal duration)."""

    student_id: str
    programme: ProgrammeTerms
    entry_year: str
    dual: bool  # on the dual track in its first known year
    graduated_in: str | None  # the academic year it graduated in, if it did
    left: EnrolmentEndReason | None  # dropped out / transferred in its latest year, if it did

    @property
    def member(self) -> Member:
        return (self.programme.programme_id, self.student_id)
