"""A batch that touches more students than `chunk` commits in several transactions (the runtime's
engine, werkplek_common/runtime/engine.py). A crash
after the first of them must lose nothing and publish nothing twice: the restarted engine replays the
whole batch, and the result equals a run that never crashed. The engine is driven in-process with
records built here, against the real PostgreSQL; the crash is a failing commit."""

from __future__ import annotations

import uuid
from datetime import date

import asyncpg
import pytest
from aiokafka import ConsumerRecord, TopicPartition
from werkplek_common.runtime import Store
from werkplek_common.runtime.store import Commit
from werkplek_events import Event
from werkplek_hour_accounting import statecodec
from werkplek_hour_accounting.domain import programme_from

from tests.unit.hour_accounting.builders import AS_OF, agreed, confirmed, enrolled, logged, programme

from .support import engine, forget, records

STUDENTS, CHUNK = 10, 3


class Crash(Exception):
    pass


class CrashingStore(Store):
    """Commits `survive` transactions, then fails as a killed worker would."""

    survive = 0

    async def commit(self, c: Commit) -> None:
        if self.survive == 0:
            raise Crash
        self.survive -= 1
        await super().commit(c)


async def run(pool: asyncpg.Pool, group: str, prog: str, batch: dict[TopicPartition, list[ConsumerRecord]],
              store: type[Store] = Store) -> int:
    def today() -> date:
        return AS_OF

    eng = engine(pool, group, {prog: programme_from(programme(prog))}, today, chunk=CHUNK, store=store)
    at = await eng.own(batch)
    n = await eng.account({tp: [r for r in recs if r.offset >= at[tp]] for tp, recs in batch.items()})
    await eng.settle()  # the last commit runs in the background until settled
    return n


async def outcome(pg: asyncpg.Connection, group: str) -> tuple[dict, list]:
    states = {r["key"]: statecodec.load(r["key"], r["state"]).emitted for r in await pg.fetch(
        "SELECT key, state FROM runtime_state WHERE consumer_group = $1", group)}
    outbox = sorted((r["key"], r["ce_id"]) for r in await pg.fetch(
        "SELECT key, headers->1->>1 AS ce_id FROM outbox WHERE producer = $1", group))
    offsets = sorted(tuple(r) for r in await pg.fetch(
        "SELECT topic, partition, next_offset FROM runtime_offsets WHERE consumer_group = $1", group))
    return states, [outbox, offsets]


async def test_a_crash_between_chunks_replays_to_the_same_result(pool, pg):
    tag = uuid.uuid4().hex[:8]
    prog = f"prog-{tag}"
    events: list[Event] = []
    for i in range(STUDENTS):
        s = f"chunks-{tag}-{i}"
        entries = [logged(s, 60 + i) for _ in range(4)]
        events += [enrolled(s, prog), agreed(s, programme_id=prog), *entries, confirmed(entries[0])]
    batch = records(events)
    crashed, clean = f"test-chunks-{tag}-crashed", f"test-chunks-{tag}-clean"
    try:
        CrashingStore.survive = 1
        with pytest.raises(Crash):
            await run(pool, crashed, prog, batch, CrashingStore)
        partial, _ = await outcome(pg, crashed)
        assert len(partial) == CHUNK  # the first chunk committed, the rest did not
        assert await run(pool, crashed, prog, batch) == len(events)
        after_crash, published = await outcome(pg, crashed)
        # outbox event ids are unique (a second staging would have failed the commit): clear the way
        await pg.execute("DELETE FROM outbox WHERE producer = $1", crashed)
        assert await run(pool, clean, prog, batch) == len(events)
        reference, published_ref = await outcome(pg, clean)
        assert len(reference) == STUDENTS and after_crash == reference
        assert published[0] == published_ref[0] and len({k for k, _ in published[0]}) == STUDENTS  # same outputs
        assert [o[1:] for o in published[1]] == [o[1:] for o in published_ref[1]]  # offsets at the batch's end
    finally:
        for group in (crashed, clean):
            await forget(pg, group)
