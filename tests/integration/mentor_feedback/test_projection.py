"""The reference-data consumer on the real broker (a runtime worker in the test's loop): mentors,
placements and entries arrive from placement logging's topics, once each, however often a record
is delivered."""

from __future__ import annotations

import asyncio
import uuid

from werkplek_common.kafka import publish
from werkplek_common.runtime import Options, Worker
from werkplek_events import TimeEntryWithdrawn
from werkplek_mentor_feedback.projection import TOPICS, Projection

from tests.support import dsn_of, eventually, start_groups_at_end
from tests.unit.mentor_feedback import factories as f


async def test_projection_consumes_placement_logging_topics_idempotently(stack, producer, pool):
    mentor, student, pl = f.uid("m"), f.uid("s"), f.uid("pl")
    logged, withdrawn_first = f.entry(student, pl), f.entry(student, pl)
    withdrawal = TimeEntryWithdrawn(entry_id=withdrawn_first.entry_id, student_id=student, placement_id=pl, revision=1)
    events = [f.mentor(mentor, "src-x"), f.placement(pl, student, mentor), logged, withdrawal, withdrawn_first]
    group = f"test-{uuid.uuid4()}"
    await start_groups_at_end(stack.kafka_bootstrap, [group], TOPICS)  # only this test's records
    worker = Worker(group, kafka_bootstrap=stack.kafka_bootstrap, pg_dsn=dsn_of(stack, "mentor_feedback"))
    worker.consumer(Projection(group), Options(group=group, batch_max=2000), outbox_producer=group)
    await publish(producer, events + events[:3], source="/test")  # some records twice
    task = asyncio.create_task(worker.run(signals=False))
    try:
        async def arrived() -> bool:
            return await pool.fetchval(
                "SELECT (SELECT count(*) FROM mf_entries WHERE placement_id = $1 AND work_date IS NOT NULL) = 2"
                " AND EXISTS (SELECT 1 FROM mf_mentors WHERE mentor_id = $2)"
                " AND EXISTS (SELECT 1 FROM mf_placements WHERE placement_id = $1)", pl, mentor)

        await eventually(arrived, timeout=30, what="mentor, placement and both entries projected")
    finally:
        worker.stop.set()
        assert await asyncio.wait_for(task, 30) == 0
    assert await pool.fetchval("SELECT webhook_source FROM mf_mentors WHERE mentor_id = $1", mentor) == "src-x"
    assert await pool.fetchval("SELECT mentor_id FROM mf_placements WHERE placement_id = $1", pl) == mentor
    rows = {r["entry_id"]: r for r in await pool.fetch("SELECT * FROM mf_entries WHERE placement_id = $1", pl)}
    assert rows[logged.entry_id]["minutes"] == 240 and not rows[logged.entry_id]["withdrawn"]
    assert rows[withdrawn_first.entry_id]["withdrawn"]  # stays withdrawn whatever the arrival order
    applied = await pool.fetchval("SELECT count(*) FROM mf_applied_events WHERE event_id = ANY($1::uuid[])",
                                  [e.event_id for e in events])
    assert applied == len(events)
