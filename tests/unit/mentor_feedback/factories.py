"""Events and webhook messages for mentor-feedback tests, with unique ids per call."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

from werkplek_events import (
    ContinuumPosition,
    LearningAgreement,
    LearningOutcome,
    MentorRegistered,
    PlacementAgreed,
    TimeEntryLogged,
)
from werkplek_events.vocabulary import AcquiredAt, ActivityKind, OutcomeKind, PlacementForm
from werkplek_mentor_feedback.signing import signed_headers

OUTCOMES = (("lo-1", OutcomeKind.KNOWLEDGE), ("lo-2", OutcomeKind.SKILL), ("lo-3", OutcomeKind.ATTITUDE))


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def mentor(mentor_id: str, source: str | None, at: datetime | None = None) -> MentorRegistered:
    return MentorRegistered(mentor_id=mentor_id, workplace_id="wp-1", institution_id="inst-1", trained=True,
                            webhook_source=source, occurred_at=at or datetime.now(UTC))


def placement(placement_id: str, student_id: str, mentor_id: str, institution: str = "inst-1",
              outcomes: tuple[tuple[str, OutcomeKind], ...] = OUTCOMES) -> PlacementAgreed:
    return PlacementAgreed(
        placement_id=placement_id, student_id=student_id, mentor_id=mentor_id, start_date=date(2026, 9, 1),
        end_date=date(2027, 6, 30), planned_minutes=600 * 60, form=PlacementForm.DUAL,
        continuum=ContinuumPosition(learning_environment=5, extent=4, engagement=4, transfer=3, integration=4,
                                    target_group=3),
        learning_agreement=LearningAgreement(outcomes=[
            LearningOutcome(outcome_id=o, title=f"Outcome {o}", kind=k, acquired_at=AcquiredAt.WORKPLACE)
            for o, k in outcomes]),
        programme_id="prog-1", institution_id=institution, workplace_id="wp-1", academic_year="2026-2027", phase=1)


def entry(student_id: str, placement_id: str, minutes: int = 240, age: timedelta = timedelta(hours=1),
          revision: int = 1) -> TimeEntryLogged:
    return TimeEntryLogged(entry_id=uuid.uuid4(), student_id=student_id, placement_id=placement_id, revision=revision,
                           work_date=date(2026, 10, 5), duration_minutes=minutes, activity=ActivityKind.WORK,
                           description="ward rounds", occurred_at=datetime.now(UTC) - age)


def message(kind: str, data: dict) -> bytes:
    return json.dumps({"type": kind, "timestamp": datetime.now(UTC).isoformat(), "data": data}).encode()


def signed(secrets: list[str], body: bytes, *, ts: int, webhook_id: str | None = None) -> dict[str, str]:
    return {**signed_headers(secrets, webhook_id or f"msg_{uuid.uuid4().hex}", ts, body),
            "content-type": "application/json"}
