"""The worker consumes mentor decisions from Kafka into the ledger (idempotent by event_id: the same
record twice changes nothing) and relays the outbox; a batch of decisions applies in order; old
Idempotency-Key records expire."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from werkplek_common.kafka import publish
from werkplek_events import TimeEntryConfirmed
from werkplek_placement_logging import decisions, worker
from werkplek_placement_logging.config import Settings

from tests.support import eventually, start_groups_at_end

from .conftest import entry, idem


async def test_worker_applies_a_confirmation_once(api, cohort, pg, producer, stack):
    body = entry(cohort.placement, cohort.start)
    r = await api.post("/v1/me/entries", json=body, headers={**cohort.student_auth, **idem()})
    assert r.status_code == 201
    cfg = Settings(outbox_producer=f"pl-worker-{uuid.uuid4().hex[:8]}",
                   decisions_consumer_group=f"pl-worker-test-{uuid.uuid4().hex[:8]}")
    # the shared broker holds every decision other tests published: start this group after them
    await start_groups_at_end(stack.kafka_bootstrap, [cfg.decisions_consumer_group], decisions.TOPICS)
    principal = f"test-{uuid.uuid4().hex[:8]}"
    await pg.executemany("INSERT INTO pl_idempotency (principal, key, fingerprint, status_code, headers, body,"
                         " created_at) VALUES ($1, $2, '', 201, '{}', '', now() - $3::interval)",
                         [(principal, "old", timedelta(days=8)), (principal, "recent", timedelta(days=1))])
    running = worker.build(cfg)
    task = asyncio.create_task(running.run(signals=False))
    confirmed = TimeEntryConfirmed(entry_id=body["entry_id"], student_id=cohort.student,
                                   placement_id=cohort.placement, mentor_id=cohort.mentor, entry_revision=1)
    try:
        await publish(producer, [confirmed, confirmed], source="/test")  # redelivered

        async def applied() -> bool:
            got = await api.get(f"/v1/me/entries/{body['entry_id']}", headers=cohort.student_auth)
            return got.json()["status"] == "confirmed"
        await eventually(applied, timeout=60, what="confirmation applied")
        rows = await pg.fetchval("SELECT count(*) FROM pl_entry_decision WHERE entry_id = $1::uuid", body["entry_id"])
        assert rows == 1
        version = (await api.get(f"/v1/me/entries/{body['entry_id']}", headers=cohort.student_auth)).headers["etag"]
        assert version == '"2"'  # one change, not two
        kept = await pg.fetch("SELECT key FROM pl_idempotency WHERE principal = $1", principal)
        assert [r["key"] for r in kept] == ["recent"]  # Idempotency-Key records expire after 7 days
    finally:
        running.stop.set()
        assert await asyncio.wait_for(task, 30) == 0
