"""Durability: with Kafka stopped the API keeps accepting entries (a 201 means committed in
PostgreSQL); when Kafka returns the relay catches up; nothing is lost and nothing is published twice.
Uses a private Kafka on free ports (the shared test broker is never stopped)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from datetime import timedelta

import pytest
from werkplek_common.kafka import ensure_topics, new_producer
from werkplek_common.outbox import OutboxRelay
from werkplek_common.settings import REPO_ROOT
from werkplek_events import TimeEntryLogged, topic_for

from tests.integration.own_stack import free_ports
from tests.support import eventually, read_until

from .conftest import entry, idem

KAFKA_SH = REPO_ROOT / "infra" / "kafka" / "kafka.sh"


def _kafka(cmd: str, env: dict[str, str]) -> None:
    done = subprocess.run(["bash", str(KAFKA_SH), cmd], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def private_kafka(stack):
    data = REPO_ROOT / ".data" / f"pl-kafka-{uuid.uuid4().hex[:8]}"
    # below the ephemeral range, and the broker's metrics port too (its default, Kafka's + 2, was
    # sometimes another process's client port: "port ... needed by kafka_metrics is already taken")
    port, controller, metrics = free_ports(3)  # three different ones: two listeners on one port stop the broker
    env = {**os.environ, "WERKPLEK_DATA": str(data), "WERKPLEK_KAFKA_PORT": str(port),
           "WERKPLEK_KAFKA_CONTROLLER_PORT": str(controller), "WERKPLEK_KAFKA_METRICS_PORT": str(metrics)}
    env.pop("WERKPLEK_KAFKA_BOOTSTRAP", None)
    _kafka("up", env)
    yield env, f"127.0.0.1:{port}"
    subprocess.run(["bash", str(KAFKA_SH), "down"], env=env, capture_output=True, check=False, timeout=120)
    subprocess.run(["rm", "-rf", str(data)], check=False)


async def test_entries_accepted_while_kafka_is_down_arrive_once_when_it_returns(api, cohort, pg, pl_settings,
                                                                                 private_kafka):
    env, bootstrap = private_kafka
    topic = topic_for(TimeEntryLogged).name
    await ensure_topics(bootstrap)  # all: the cohort staged registry events too
    producer = new_producer(bootstrap, "pl-outbox-test", request_timeout_ms=5000)
    await producer.start()
    relay = OutboxRelay(api.app.state.ledger.pool, producer, pl_settings.outbox_producer, batch_size=50)
    relay_task = asyncio.create_task(relay.run())

    async def post(i: int) -> str:
        body = entry(cohort.placement, cohort.start + timedelta(days=i % 50), duration_minutes=30)
        r = await api.post("/v1/me/entries", json=body, headers={**cohort.student_auth, **idem()})
        assert r.status_code == 201, r.text
        return str(body["entry_id"])

    async def backlog() -> int:
        return await pg.fetchval("SELECT count(*) FROM outbox WHERE producer = $1", pl_settings.outbox_producer)

    async def backlog_empty() -> bool:
        return await backlog() == 0

    try:
        await eventually(backlog_empty, timeout=30, what="earlier rows published")
        ids = [await post(i) for i in range(10)]
        await eventually(backlog_empty, timeout=30, what="first entries published")
        await asyncio.to_thread(_kafka, "down", env)
        ids += [await post(i) for i in range(10, 40)]  # the API keeps accepting
        assert await backlog() == 30
        await asyncio.to_thread(_kafka, "up", env)
        await eventually(backlog_empty, timeout=90, what="relay caught up")
    finally:
        relay.stop()
        await relay_task
        await producer.stop()
    mine = lambda rs: [r for r in rs if r.key == cohort.student.encode()]  # noqa: E731
    records = await read_until(bootstrap, [topic], lambda rs: len(mine(rs)) >= 40, timeout=60)
    event_ids = [dict(r.headers)["ce_id"] for r in mine(records)]
    assert len(event_ids) == len(set(event_ids)) == 40  # nothing lost, nothing twice
    published = {str(__import__("json").loads(r.value)["entry_id"]) for r in mine(records)}
    assert published == set(ids)

