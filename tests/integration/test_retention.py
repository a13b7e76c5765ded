"""Bounded retention (docs/privacy.md, "Retention") on the real database and broker: each table's rule
deletes exactly the rows that are old enough and done with, and a DLQ has a retention, not forever."""

from __future__ import annotations

import uuid

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from werkplek_common.db import create_pool
from werkplek_common.retention import purge
from werkplek_events import TimeEntryLogged, topic_for
from werkplek_mentor_feedback import retention
from werkplek_mentor_feedback.config import MentorFeedbackSettings

from tests.support import dsn_of

PG_SERVICE = "mentor_feedback"  # the tables the `pg` fixture reads (docs/adr/0009)


async def test_expired_rows_go_and_the_rest_stays(stack, pg):
    cfg = MentorFeedbackSettings(mentor_webhook_replay_retention_days=7, mentor_link_retention_days=30)
    src, tag = f"ret-src-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex[:8]
    await pg.execute("INSERT INTO mf_sources (source_id) VALUES ($1)", src)
    for age, name in ((8, "old"), (6, "young")):
        await pg.execute("INSERT INTO mf_webhook_messages (source_id, webhook_id, kind, status, response, received_at)"
                         " VALUES ($1, $2, 'hours.confirmed', 202, '{}', now() - make_interval(days => $3))",
                         src, f"{name}-{tag}", age)
        for state in ("delivered", "pending"):
            did = f"{name}-{state}-{tag}"
            await pg.execute("INSERT INTO mf_outbound_deliveries (delivery_id, source_id, request_id, payload, state,"
                             " created_at) VALUES ($1, $2, 'r', 'x', $3, now() - make_interval(days => $4))",
                             did, src, state, age)
            await pg.execute("INSERT INTO mf_outbound_attempts (delivery_id, attempt, attempted_at, duration_ms,"
                             " result) VALUES ($1, 1, now(), 5, 'retry')", did)
    for age, handled in ((31, True), (31, False), (29, True)):
        await pg.execute("INSERT INTO mf_link_requests (mentor_id, requested_at, handled_at) VALUES"
                         " ($1, now() - make_interval(days => $2), CASE WHEN $3 THEN now() END)",
                         f"ret-m-{tag}-{age}-{handled}", age, handled)
    pool = await create_pool(dsn_of(stack, PG_SERVICE))
    try:
        purged = await purge(pool, retention.rules(cfg))
    finally:
        await pool.close()
    assert purged["mf_webhook_messages"] >= 1 and purged["mf_outbound_deliveries"] >= 1
    left = await pg.fetch("SELECT webhook_id FROM mf_webhook_messages WHERE source_id = $1", src)
    assert [r["webhook_id"] for r in left] == [f"young-{tag}"]
    kept = {r["delivery_id"] for r in await pg.fetch("SELECT delivery_id FROM mf_outbound_deliveries"
                                                     " WHERE source_id = $1", src)}
    assert kept == {f"old-pending-{tag}", f"young-delivered-{tag}", f"young-pending-{tag}"}  # a pending one is owed
    assert await pg.fetchval("SELECT count(*) FROM mf_outbound_attempts WHERE delivery_id = $1",
                             f"old-delivered-{tag}") == 0
    links = {r["mentor_id"] for r in await pg.fetch("SELECT mentor_id FROM mf_link_requests WHERE mentor_id LIKE $1",
                                                    f"ret-m-{tag}-%")}
    assert links == {f"ret-m-{tag}-31-False", f"ret-m-{tag}-29-True"}


async def test_a_dlq_keeps_its_records_for_a_bounded_time(stack):
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    try:
        spec = topic_for(TimeEntryLogged)
        names = [spec.name, spec.dlq]
        response = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in names])
        configs = {r[3]: {e[0]: e[1] for e in r[4]} for resp in response for r in resp.resources}
    finally:
        await admin.close()
    assert configs[spec.dlq]["retention.ms"] == str(stack.dlq_retention_days * 86_400_000) != "-1"
    assert configs[spec.name]["retention.ms"] == "-1"  # raw event topics keep their records (sealed)
