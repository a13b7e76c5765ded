"""The outbox relay publishes what was committed, once, in order, and only what was committed."""

from __future__ import annotations

import uuid

from werkplek_common.db import create_pool
from werkplek_common.outbox import OutboxRelay, stage
from werkplek_events import StudentEnrolled, topic_for

from tests.support import COMMON_TABLES_IN, dsn_of, read_until, relay_until_drained

PG_SERVICE = COMMON_TABLES_IN  # the schema whose tables the `pg` fixture reads (docs/adr/0009)

PRODUCER = "outbox-test"


def _events(student: str, n: int) -> list[StudentEnrolled]:
    return [StudentEnrolled(student_id=student, programme_id=f"prog-{i}", institution_id="inst-1",
                            academic_year="2026-2027", phase=1, status="regular", age_band="over_25")
            for i in range(n)]


async def test_relay_publishes_committed_events_once_in_order(stack, producer, pg):
    student = f"ob-{uuid.uuid4().hex[:8]}"
    committed, rolled_back = _events(student, 25), _events(student, 3)
    pool = await create_pool(dsn_of(stack, COMMON_TABLES_IN))
    try:
        async with pool.acquire() as conn:
            async with conn.transaction():
                await stage(conn, committed, producer=PRODUCER, source="/t")
            tx = conn.transaction()
            await tx.start()
            await stage(conn, rolled_back, producer=PRODUCER, source="/t")
            await tx.rollback()
        await relay_until_drained(OutboxRelay(pool, producer, PRODUCER, batch_size=10), pool, PRODUCER)
    finally:
        await pool.close()
    topic = topic_for(StudentEnrolled).name
    recs = await read_until(stack.kafka_bootstrap, [topic],
                            lambda rs: len([r for r in rs if r.key == student.encode()]) >= 25)
    ids = [uuid.UUID(dict(r.headers)["ce_id"].decode()) for r in recs if r.key == student.encode()]
    assert ids == [e.event_id for e in committed]  # all committed, once each, in order; none rolled back
