"""Test helpers: read a topic until a condition holds, with a deadline (never a fixed sleep)."""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupCoordinatorNotAvailableError
from werkplek_common.settings import dsn_as

SERVICES = ("placement_logging", "hour_accounting", "mentor_feedback", "funding_reports")
# The tests of common machinery (outbox, runtime, leases) use one service's schema: every service has them.
COMMON_TABLES_IN = "placement_logging"
POLL_S = 0.05  # poll interval of `eventually` / `wait_until`; the deadline, not this, bounds a wait


def dsn_of(cfg: Any, service: str) -> str:
    """The DSN of `service`'s own role (each service reads and writes only its own schema, docs/adr/0009)."""
    return dsn_as(cfg.pg_dsn, service)


async def connect_observer(cfg: Any, *schemas: str) -> Any:
    """The owner's session over several services' schemas at once: a test's view across services (a
    victim's state everywhere, say); no service reads another's tables (docs/adr/0009)."""
    import asyncpg

    return await asyncpg.connect(cfg.pg_dsn, server_settings={"search_path": ", ".join(schemas)})


def observer_dsn(cfg: Any, *schemas: str) -> str:
    """`connect_observer`'s session as a libpq DSN (psql): the owner with a search path over `schemas`."""
    from urllib.parse import quote

    return cfg.pg_dsn + ("&" if "?" in cfg.pg_dsn else "?") + "options=" + quote(f"-csearch_path={','.join(schemas)}")


def service_of(request: Any) -> str:
    """The service a test works as: the module's PG_SERVICE, else the service folder it is in."""
    named = getattr(request.module, "PG_SERVICE", None)
    if named:
        return str(named)
    folders = [p for p in request.path.parts if p in SERVICES]
    if not folders:
        raise AssertionError(f"{request.path}: set PG_SERVICE to the service whose tables this test reads")
    return folders[-1]


async def read_until(bootstrap: str, topics: list[str], done: Callable[[list[ConsumerRecord]], bool], *,
                     timeout: float = 30.0, from_beginning: bool = True) -> list[ConsumerRecord]:
    """Consume `topics` with a fresh group until `done(records)` is true; fail at the deadline."""
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=f"test-{uuid.uuid4()}",
                                auto_offset_reset="earliest" if from_beginning else "latest",
                                enable_auto_commit=False)
    await consumer.start()
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout
    try:
        while not done(records):
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout}s on {topics}; read {len(records)} records")
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def eventually(check: Callable[[], bool | Awaitable[bool]], *, timeout: float = 30.0,
                     what: str = "condition", poll: float = POLL_S) -> None:
    """Poll a check (plain or async) until it is true; fail with `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while not await _value(check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        await asyncio.sleep(poll)


def wait_until(check: Callable[[], bool], *, timeout: float = 30.0, what: str = "condition",
               poll: float = POLL_S) -> None:
    """`eventually` for synchronous code (fixtures and helpers around subprocesses). A check may raise
    (an AssertionError naming why waiting is pointless, such as a process that exited): that ends the wait."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        time.sleep(poll)


async def _value(result: bool | Awaitable[bool]) -> bool:
    return await result if inspect.isawaitable(result) else bool(result)


async def end_offsets(bootstrap: str, topics: list[str]) -> dict[TopicPartition, int]:
    """The next offset of every partition of `topics` (partitions looked up with the admin client:
    a bare consumer has no metadata for topics it is not assigned)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="werkplek-tests")
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    parts = [TopicPartition(t["topic"], p["partition"]) for t in described if not t["error_code"]
             for p in t["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        consumer.assign(parts)
        return dict(await consumer.end_offsets(parts))
    finally:
        await consumer.stop()


async def start_groups_at_end(bootstrap: str, groups: list[str], topics: list[str]) -> None:
    """Commit the current end offsets for fresh consumer groups, so a test's consumer sees only what
    the test produces, however much earlier runs left on the shared broker."""
    await start_groups_at(bootstrap, groups, await end_offsets(bootstrap, topics))


async def start_groups_at(bootstrap: str, groups: list[str], offsets: dict[TopicPartition, int]) -> None:
    """Commit `offsets` for fresh consumer groups: they start there (a rebuild from a known point)."""
    offsets = {tp: n for tp, n in offsets.items() if n > 0}
    if not offsets:  # empty topics (a fresh broker): a new group starts at their beginning anyway
        return
    for group in groups:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign(list(offsets))
            await _commit_when_coordinated(consumer, offsets)
        finally:
            await consumer.stop()


async def _commit_when_coordinated(consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int],
                                   timeout: float = 30.0) -> None:
    """On a fresh broker the group coordinator exists only once __consumer_offsets is created, which
    the first group request triggers: retry until it answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            await consumer.commit(offsets)
            return
        except GroupCoordinatorNotAvailableError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(POLL_S)


async def relay_until_drained(relay: Any, pool: Any, producer: str) -> None:
    """Run an outbox relay until its producer's rows are all published, then stop it."""
    task = asyncio.create_task(relay.run())

    async def drained() -> bool:
        return await pool.fetchval("SELECT count(*) FROM outbox WHERE producer = $1", producer) == 0

    await eventually(drained, what="outbox drained")
    relay.stop()
    await task
