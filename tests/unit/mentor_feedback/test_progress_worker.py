"""The progress processor's step (what the runtime calls per student and batch): events folded in
order, one update per batch with the batch's last change, duplicates and an unchanged batch change
nothing (the runtime then writes nothing); the state survives its storage format."""

from __future__ import annotations

from datetime import UTC, datetime

from werkplek_common.runtime import Context
from werkplek_events import OutcomeProgressUpdated
from werkplek_events.vocabulary import AssessmentLevel
from werkplek_mentor_feedback.progress_worker import OutcomeProgress

from . import factories as f
from .test_progress import assessment

NOW = datetime(2026, 11, 2, 9, tzinfo=UTC)
CTX = Context(NOW, NOW.date())


def test_a_batch_publishes_its_last_change_and_a_repeat_changes_nothing():
    p = OutcomeProgress("test-progress")
    agreed = f.placement("pl-1", "s-1", "m-1")
    assessed = assessment({"lo-1": AssessmentLevel.ACHIEVED, "lo-3": AssessmentLevel.EXCEEDS})
    state, [update] = p.handle(p.initial("s-1"), [assessed, agreed, agreed, assessed], CTX)
    assert isinstance(update, OutcomeProgressUpdated)
    assert update.version == state.version == 1 and update.occurred_at == NOW
    assert str(update.achieved_share) == "0.6667" and update.never_assessed == ["lo-2"]
    again, outputs = p.handle(state, [agreed, assessed], CTX)
    assert again is state and outputs == []
    assert p.load("s-1", p.dump(state)) == state
