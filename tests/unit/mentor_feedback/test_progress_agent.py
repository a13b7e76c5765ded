"""The progress agent with `agent.test_context()`: records decoded from CloudEvents headers, progress
emitted per change, duplicates ignored, undecodable records dead-lettered."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from werkplek_events import encode
from werkplek_events.vocabulary import AssessmentLevel
from werkplek_mentor_feedback.config import MentorFeedbackSettings
from werkplek_mentor_feedback.progress_agent import build

from . import factories as f
from .test_progress import assessment


class FakeSink:
    def __init__(self) -> None:
        self.updates: list = []
        self.dead: list = []

    async def progress(self, update) -> None:
        self.updates.append(update)

    async def dead_letter(self, record) -> None:
        self.dead.append(record)


@pytest.fixture
def agent_and_sink():
    sink = FakeSink()
    built = build(MentorFeedbackSettings(), sink, app_id=f"test-progress-{uuid.uuid4().hex[:8]}")
    return built, sink


async def _put(agent, event) -> None:
    rec = encode(event, source="/test")
    await agent.put(rec.value, key=rec.key, headers=rec.headers)


async def test_agent_emits_progress_per_change_and_ignores_duplicates(agent_and_sink):
    built, sink = agent_and_sink
    agreed = f.placement("pl-1", "s-1", "m-1")
    assessed = assessment({"lo-1": AssessmentLevel.ACHIEVED, "lo-3": AssessmentLevel.EXCEEDS})
    async with built.agent.test_context() as agent:
        for event in (assessed, agreed, agreed, assessed):  # assessment first: held until the placement
            await _put(agent, event)
        state = built.table["s-1"]
    assert [u.version for u in sink.updates] == [1]
    assert sink.updates[0].achieved_share == Decimal("0.6667")
    assert sink.updates[0].never_assessed == ["lo-2"]
    assert '"version":1' in state


async def test_agent_dead_letters_an_undecodable_record_and_keeps_going(agent_and_sink):
    built, sink = agent_and_sink
    good = encode(f.placement("pl-1", "s-2", "m-1"), source="/test")
    async with built.agent.test_context() as agent:
        await agent.put(b'{"placement_id": ', key=good.key, headers=good.headers)
        await agent.put(good.value, key=good.key, headers=good.headers)
    assert len(sink.dead) == 1 and sink.dead[0].topic == "placement.placement.agreed.v1.dlq"
    assert dict(sink.dead[0].headers)["dlq_field"] == b"value"
    assert [u.student_id for u in sink.updates] == ["s-2"]
