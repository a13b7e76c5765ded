"""Frozen facts per student that the report rules read. Raw student ids live here (for lineage) but
never reach a published report: rows use `pseudonym`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from werkplek_events.vocabulary import (
    AcquiredAt,
    EnrolmentEndReason,
    EnrolmentStatus,
    LearningEnvironment,
    OutcomeKind,
    PlacementForm,
    ShareStatus,
)

DIMENSIONS = ("learning_environment", "extent", "engagement", "transfer", "integration", "target_group")


@dataclass(frozen=True)
class ProgrammeTerms:
    programme_id: str
    required_share: Fraction | None  # graduaat: 1/3 by decree when the programme gives none
    dual_min_share: Fraction | None


@dataclass(frozen=True)
class ShareFacts:
    confirmed_minutes: int
    study_load_minutes: int
    real_share: Decimal
    projected_share: Decimal
    per_phase: tuple[tuple[int, Decimal], ...]  # (phase, share), as hour accounting published them
    on_course_flag: bool | None = None
    build_up_flag: bool | None = None


@dataclass(frozen=True)
class PlacementFacts:
    placement_id: str
    form: PlacementForm
    continuum: tuple[int, ...]  # in the order of DIMENSIONS
    mentor_id: str
    mentor_trained: bool | None  # None: mentor not (yet) registered
    environment: LearningEnvironment | None
    outcomes: tuple[tuple[OutcomeKind, AcquiredAt], ...]
    signed_by_institution: bool
    signed_by_workplace: bool


@dataclass(frozen=True)
class Coverage:
    agreed: int
    assessed: int
    achieved: int


@dataclass(frozen=True)
class StudentView:
    student_id: str
    pseudonym: str
    programme: ProgrammeTerms
    status: EnrolmentStatus
    over_25: bool
    dual: bool
    ended: EnrolmentEndReason | None = None
    share: ShareFacts | None = None
    risk: ShareStatus | None = None
    coverage: tuple[tuple[OutcomeKind, Coverage], ...] = ()  # from outcome progress
    assessed_outcomes: int = 0  # distinct outcomes in recorded assessments
    placements: tuple[PlacementFacts, ...] = ()
