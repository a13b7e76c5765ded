"""Run the accounting worker as a real subprocess (so it can be killed with -9) with its own consumer
group and outbox producer, its stored offsets placed at the current end of the topics so it skips what
earlier tests produced, and a fixed `as_of` day."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import ConsumerRecord, TopicPartition
from werkplek_common.runtime import Engine, Store
from werkplek_events import Event, encode
from werkplek_hour_accounting import statecodec
from werkplek_hour_accounting.domain import Emitted, Programme
from werkplek_hour_accounting.processor import INPUT_TOPICS, Accounting

from tests.support import end_offsets
from tests.unit.hour_accounting.builders import AS_OF


async def start_group_at_end(bootstrap: str, pg: asyncpg.Connection, app_id: str) -> None:
    """The worker's truth is its stored offsets (runtime_offsets), not Kafka's committed ones."""
    ends = await end_offsets(bootstrap, INPUT_TOPICS)
    await pg.executemany("INSERT INTO runtime_offsets (consumer_group, topic, partition, next_offset)"
                         " VALUES ($1, $2, $3, $4)", [(app_id, tp.topic, tp.partition, n) for tp, n in ends.items()])


class WorkerProcess:
    def __init__(self, app_id: str, log_dir: Path, command: str = "worker", env: dict[str, str] | None = None) -> None:
        self.app_id, self.command, self.env = app_id, command, env or {}
        self.log = log_dir / f"{app_id}-{uuid.uuid4().hex[:6]}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        env = {**os.environ, "WERKPLEK_CONSUMER_GROUP": self.app_id, "WERKPLEK_ACCOUNTING_AS_OF": AS_OF.isoformat(),
               "WERKPLEK_OUTBOX_PRODUCER": self.app_id, "WERKPLEK_METRICS_PORT": "0",
               "WERKPLEK_LOG_JSON": "false", "WERKPLEK_LOG_LEVEL": "WARNING", **self.env}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "werkplek_hour_accounting", self.command],
                                         env=env, stdout=out, stderr=subprocess.STDOUT)
        return self

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill9()

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


async def read_model(pg: asyncpg.Connection, students: list[str]) -> dict[str, dict[str, Any]]:
    rows = await pg.fetch("SELECT student_id, version, status, real_share, body::text AS body, event_id"
                          " FROM share_read_model WHERE student_id = ANY($1)", students)
    return {r["student_id"]: dict(r) for r in rows}


async def caught_up(pg: asyncpg.Connection, app_id: str, ends: dict[TopicPartition, int]) -> bool:
    """True when the worker has committed every input partition up to `ends` (its stored offsets)."""
    rows = await pg.fetch("SELECT topic, partition, next_offset FROM runtime_offsets WHERE consumer_group = $1",
                          app_id)
    stored = {TopicPartition(r["topic"], r["partition"]): r["next_offset"] for r in rows}
    return all(stored.get(tp, 0) >= end for tp, end in ends.items())


async def emitted(pg: asyncpg.Connection, app_id: str, students: list[str]) -> dict[str, Emitted]:
    """What this group's worker last committed for each student (its stored state): the test stack is
    shared, and another run's worker may account the same records and write the shared read model."""
    rows = await pg.fetch("SELECT key, state FROM runtime_state WHERE consumer_group = $1"
                          " AND key = ANY($2)", app_id, students)
    out = {}
    for r in rows:
        state = statecodec.load(r["key"], r["state"])
        if state.emitted is not None:
            out[r["key"]] = state.emitted
    return out


def records(events: Sequence[Event]) -> dict[TopicPartition, list[ConsumerRecord]]:
    """The events as one fetched batch: every topic's records on its partition 0, in order."""
    out: dict[TopicPartition, list[ConsumerRecord]] = {}
    for event in events:
        rec = encode(event, source="/test")
        tp = TopicPartition(rec.topic, 0)
        recs = out.setdefault(tp, [])
        recs.append(ConsumerRecord(rec.topic, 0, len(recs), int(time.time() * 1000), 0, rec.key, rec.value, None,
                                   len(rec.key), len(rec.value), rec.headers))
    return out


async def forget(pg: asyncpg.Connection, group: str) -> None:
    """What an in-process engine left: the group's states, offsets, quarantine and outbox rows."""
    for table in ("runtime_state", "runtime_offsets", "runtime_quarantine"):
        await pg.execute(f"DELETE FROM {table} WHERE consumer_group = $1", group)
    await pg.execute("DELETE FROM outbox WHERE producer = $1", group)


def engine(pool: asyncpg.Pool, group: str, programmes: Mapping[str, Programme], today: Callable[[], date], *,
           chunk: int, store: type[Store] = Store) -> Engine[Any]:
    """Hour accounting's processor on the runtime's engine, driven in-process (records from `records`)."""
    processor = Accounting(group, programmes, today)
    return Engine(store(pool, group, processor, outbox_producer=group), processor, hot_capacity=100, chunk=chunk,
                  today=today)
