"""Outcome progress under kill -9: the progress worker (a real subprocess) is killed in the middle of
a stream of assessments, restarted, and every student's progress must end equal to the pure fold of
all their events (`progress.step`) — in the read model and as the latest OutcomeProgressUpdated on
the topic. Every assessment assesses an outcome nobody assessed before, so an event lost by the crash
shows as a missing outcome. Agreements and assessments travel on different topics, so their relative
order (and with it how many versions a student's progress went through) is not fixed: versions are
checked to be consistent (the read model holds the newest one published, and no version was published
with two different contents), not counted."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import orjson
from werkplek_common.kafka import publish
from werkplek_events import AssessmentRecorded, Event, OutcomeAssessment, OutcomeProgressUpdated, topic_for
from werkplek_events.vocabulary import AssessmentLevel, AssessmentMoment, OutcomeKind
from werkplek_mentor_feedback.progress import State, step

from tests.support import end_offsets, eventually, read_until
from tests.unit.mentor_feedback import factories as f

from ..crash import Worker, progress_worker

STUDENTS, OUTCOMES = 100, 20  # 100 × (1 agreement + 20 assessments) = 2,100 events
T0 = datetime(2026, 10, 1, tzinfo=UTC)


def stream(prefix: str) -> tuple[list[Event], dict[str, dict]]:
    """Per student: an agreement of OUTCOMES outcomes, then one assessment per outcome (ACHIEVED for
    even ones, DEVELOPING for odd ones). Returns the events in publishing order and each student's
    expected progress (the fold of `step`, minus the time it was computed)."""
    outcomes = tuple((f"lo-{k}", OutcomeKind.SKILL) for k in range(OUTCOMES))
    per_student: list[list[Event]] = []
    expected: dict[str, dict] = {}
    for i in range(STUDENTS):
        s, pl = f"{prefix}-{i}", f"{prefix}-pl-{i}"
        events: list[Event] = [f.placement(pl, s, "m-1", outcomes=outcomes)]
        for k, (o, kind) in enumerate(outcomes):
            level = AssessmentLevel.ACHIEVED if k % 2 == 0 else AssessmentLevel.DEVELOPING
            events.append(AssessmentRecorded(
                assessment_id=f"{prefix}-as-{i}-{k}", student_id=s, placement_id=pl, mentor_id="m-1",
                moment=AssessmentMoment.MID_TERM, assessed_on=date(2026, 11, 1) + timedelta(days=k),
                occurred_at=T0 + timedelta(minutes=k),
                outcomes=[OutcomeAssessment(outcome_id=o, kind=kind, level=level)]))
        state, last = State(student_id=s), None
        for e in events:
            state, update = step(state, e)
            last = update or last
        assert last is not None
        expected[s] = _comparable(orjson.loads(last.model_dump_json()))
        per_student.append(events)
    # interleave the students, as mentors assess in parallel
    return [e for k in range(1 + OUTCOMES) for events in per_student for e in events[k:k + 1]], expected


def _comparable(doc: dict) -> dict:
    """The progress itself: what a student sees, without the id, time and version of its computation."""
    return {k: v for k, v in doc.items() if k not in ("event_id", "occurred_at", "version")}


async def read_model(pg, students: list[str]) -> dict[str, dict]:
    rows = await pg.fetch("SELECT student_id, body::text AS body FROM outcome_progress_read_model"
                          " WHERE student_id = ANY($1)", students)
    return {r["student_id"]: _comparable(orjson.loads(r["body"])) for r in rows}


async def versions(pg, students: list[str]) -> dict[str, int]:
    rows = await pg.fetch("SELECT student_id, version FROM outcome_progress_read_model WHERE student_id = ANY($1)",
                          students)
    return {r["student_id"]: r["version"] for r in rows}


async def test_kill_9_mid_stream_then_restart_every_progress_equals_the_fold(stack, producer, pg, tmp_path):
    prefix = f"opcrash-{uuid.uuid4().hex[:8]}"
    events, expected = stream(prefix)
    with await progress_worker(stack, tmp_path) as worker:
        await _crash_and_recover(worker, producer, pg, events, expected)
        assert worker.proc is not None and worker.proc.poll() is None, worker.output()
        producer_id = worker.env["WERKPLEK_PROGRESS_OUTBOX_PRODUCER"]

        async def relayed() -> bool:  # stopped before, the rows wait for its next start: not on the topic yet
            return await pg.fetchval("SELECT count(*) FROM outbox WHERE producer = $1", producer_id) == 0

        # the restarted relay first waits out the killed one's lease (WERKPLEK_OUTBOX_LEASE_S)
        await eventually(relayed, timeout=120, what="every output relayed from the outbox")
    await _latest_on_the_topic_equal(stack.kafka_bootstrap, await versions(pg, list(expected)), expected)


async def _crash_and_recover(worker: Worker, producer, pg, events: list[Event], expected: dict[str, dict]) -> None:
    students = list(expected)
    half = len(events) // 2
    await publish(producer, events[:half], source="/test")
    worker.start()

    async def some_progress() -> bool:
        return len(await read_model(pg, students)) >= STUDENTS // 2

    await eventually(some_progress, timeout=120, what="the progress worker working through the stream")
    rest = [events[i:i + 100] for i in range(half, len(events), 100)]
    await publish(producer, rest[0], source="/test")
    worker.kill9()  # in the middle: half the stream and more arriving
    for chunk in rest[1:]:
        await publish(producer, chunk, source="/test")
    assert await read_model(pg, students) != expected
    ends = await end_offsets(worker.bootstrap, worker.inputs)
    worker.start()
    await eventually(lambda: worker.caught_up(ends), timeout=300,
                     what=f"the restarted worker consuming the whole stream; log:\n{worker.output()}")
    got = await read_model(pg, students)
    wrong = {s: (got[s]["coverage"] if s in got else None) for s in students if got.get(s) != expected[s]}
    assert not wrong, (f"{len(wrong)} of {STUDENTS} students' progress differs from the fold of their events"
                       f" (expected {OUTCOMES} assessed, {OUTCOMES // 2} achieved): {dict(list(wrong.items())[:3])}")


async def _latest_on_the_topic_equal(bootstrap: str, final: dict[str, int], expected: dict[str, dict]) -> None:
    """The read model's version of every student reaches the topic, with the expected progress, and no
    version was published with two different contents (a replay publishes the same event again)."""
    topic = topic_for(OutcomeProgressUpdated).name

    def mine(rs: list) -> list[OutcomeProgressUpdated]:
        return [OutcomeProgressUpdated.model_validate_json(r.value) for r in rs
                if r.key is not None and r.key.decode() in expected]

    def done(rs: list) -> bool:
        return {(u.student_id, u.version) for u in mine(rs)} >= set(final.items())

    updates = mine(await read_until(bootstrap, [topic], done, timeout=60))
    by_version: dict[tuple[str, int], set[bytes]] = {}
    for u in updates:
        by_version.setdefault((u.student_id, u.version), set()).add(orjson.dumps(_comparable(orjson.loads(
            u.model_dump_json()))))
    assert [k for k, v in by_version.items() if len(v) > 1] == []
    assert {s: max(u.version for u in updates if u.student_id == s) for s in final} == final
    latest = {u.student_id: _comparable(orjson.loads(u.model_dump_json())) for u in updates
              if u.version == final[u.student_id]}
    assert latest == expected
