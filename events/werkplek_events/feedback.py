"""Events of mentor feedback: decisions on time entries, assessments, signatures, notifications,
and the learning-outcome progress read model."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import Field

from .base import AwareDatetime, Event, Id, Minutes, Model, Text
from .vocabulary import (
    AssessmentLevel,
    AssessmentMoment,
    ConfirmationChannel,
    Decision,
    OutcomeKind,
    RejectionReason,
    RequestPurpose,
    SigningParty,
)


class _Decision(Event):
    DECISION: ClassVar[Decision]

    entry_id: uuid.UUID
    student_id: Id
    placement_id: Id
    mentor_id: Id
    entry_revision: Annotated[int, Field(ge=1)]  # the revision the mentor saw
    channel: ConfirmationChannel = ConfirmationChannel.WEBHOOK


class TimeEntryConfirmed(_Decision):
    EVENT_TYPE: ClassVar[str] = "feedback.time_entry.confirmed"
    DECISION: ClassVar[Decision] = Decision.CONFIRMED  # what it decides (not on the wire)


class TimeEntryRejected(_Decision):
    EVENT_TYPE: ClassVar[str] = "feedback.time_entry.rejected"
    DECISION: ClassVar[Decision] = Decision.REJECTED

    reason: RejectionReason
    comment: Text = ""


class TimeEntryDecisionReversed(Event):
    """The explicit reversal that must precede confirming a rejected entry or rejecting a confirmed one."""

    EVENT_TYPE: ClassVar[str] = "feedback.time_entry.decision_reversed"

    entry_id: uuid.UUID
    student_id: Id
    placement_id: Id
    mentor_id: Id
    reversed: Decision
    comment: Text = ""


class OutcomeAssessment(Model):
    outcome_id: Id
    kind: OutcomeKind
    level: AssessmentLevel
    comment: Text = ""


class AssessmentRecorded(Event):
    EVENT_TYPE: ClassVar[str] = "feedback.assessment.recorded"

    assessment_id: Id
    student_id: Id
    placement_id: Id
    mentor_id: Id
    moment: AssessmentMoment
    assessed_on: date
    outcomes: Annotated[list[OutcomeAssessment], Field(min_length=1, max_length=200)]


class LearningAgreementSigned(Event):
    """Co-creation evidence: one party's signature of a placement's learning agreement."""

    EVENT_TYPE: ClassVar[str] = "feedback.learning_agreement.signed"

    placement_id: Id
    student_id: Id
    party: SigningParty
    signed_by: Id  # mentor id for the workplace, coordinator id for the institution
    signed_at: AwareDatetime


class ConfirmationRequested(Event):
    """Entries of a mentor await confirmation; `link_url` is the signed single-use link, if any. A fresh
    link a mentor asked for may carry no entries (its page still offers assessments and signing)."""

    EVENT_TYPE: ClassVar[str] = "feedback.confirmation.requested"

    request_id: Id
    mentor_id: Id
    entry_ids: Annotated[list[uuid.UUID], Field(max_length=500)]
    pending_minutes: Minutes
    channel: ConfirmationChannel
    link_url: Annotated[str, Field(max_length=2000)] | None = None
    expires_at: AwareDatetime | None = None
    purpose: RequestPurpose = RequestPurpose.BATCH  # a reminder and a fresh link are mailed differently

    def subject(self) -> str | None:
        return self.mentor_id


class KindCoverage(Model):
    agreed: Annotated[int, Field(ge=0)]
    assessed: Annotated[int, Field(ge=0)]
    achieved: Annotated[int, Field(ge=0)]


class OutcomeStatus(Model):
    outcome_id: Id
    kind: OutcomeKind
    latest_level: AssessmentLevel | None = None
    latest_moment: AssessmentMoment | None = None
    assessed_on: date | None = None


class OutcomeProgressUpdated(Event):
    EVENT_TYPE: ClassVar[str] = "feedback.outcome_progress.updated"

    student_id: Id
    version: Annotated[int, Field(ge=1)]
    outcomes: list[OutcomeStatus]
    coverage: dict[OutcomeKind, KindCoverage]
    achieved_share: Annotated[Decimal, Field(ge=0, le=1, decimal_places=4)]
    never_assessed: list[Id]
