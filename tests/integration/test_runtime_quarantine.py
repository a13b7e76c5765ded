"""The runtime on the real broker and database: a record that cannot be decoded goes to its topic's
DLQ and the partition flows; a key whose step fails, or whose output the database refuses, is
quarantined (DLQ with the reason, a row in runtime_quarantine, a metric) and its later records follow
it to the DLQ, while every other key keeps flowing. DLQ copies travel through the outbox, committed
with the offsets that pass them. The operator lists and releases quarantined keys with the CLI."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
from prometheus_client import REGISTRY
from werkplek_common.kafka import send_record
from werkplek_common.runtime import Context, Options, Processor, Worker
from werkplek_events import Event, KafkaRecord, StudentEnrolled, encode, topic_for

from tests.support import COMMON_TABLES_IN, dsn_of, eventually, read_until, start_groups_at_end

PG_SERVICE = COMMON_TABLES_IN  # the schema whose tables the `pg` fixture reads (docs/adr/0009)

TOPIC = topic_for(StudentEnrolled).name


def enrolment(student: str, phase: int = 1) -> StudentEnrolled:
    return StudentEnrolled(student_id=student, programme_id="prog-1", institution_id="inst-1",
                           academic_year="2026-2027", phase=phase, status="regular", age_band="under_21")


class Phases(Processor[tuple[int, ...]]):
    """Per student, the phases enrolled in. Phase 6 is a bug in waiting (the step raises); a student
    whose id contains "nul" gets a note the database refuses (text with U+0000)."""

    topics = [TOPIC]
    publish = False

    def __init__(self, group: str) -> None:
        self.name = group

    def initial(self, key: str) -> tuple[int, ...]:
        return ()

    def handle(self, state: tuple[int, ...], events: Sequence[Event], ctx: Context) -> tuple[tuple[int, ...], list]:
        for e in events:
            assert isinstance(e, StudentEnrolled)
            if e.phase == 6:
                raise ValueError("phase 6 does not exist in this programme")
        new = state + tuple(e.phase for e in events if isinstance(e, StudentEnrolled))
        note = "a\x00b" if "nul" in events[0].student_id else "ok"  # type: ignore[attr-defined]
        return new, [(events[0].student_id, note)]  # type: ignore[attr-defined]

    def dump(self, state: tuple[int, ...]) -> bytes:
        return ",".join(map(str, state)).encode()

    def load(self, key: str, blob: bytes) -> tuple[int, ...]:
        return tuple(int(p) for p in blob.decode().split(",") if p)

    async def write(self, conn: asyncpg.Connection, outputs: Sequence[Any], ctx: Context) -> None:
        await conn.executemany("INSERT INTO test_runtime_notes (student_id, note) VALUES ($1, $2)"
                               " ON CONFLICT (student_id) DO UPDATE SET note = excluded.note", outputs)


async def test_bad_records_and_bad_keys_go_to_the_dlq_and_the_others_flow(stack, producer, pg):
    await pg.execute("CREATE TABLE IF NOT EXISTS test_runtime_notes (student_id text PRIMARY KEY, note text)")
    tag = uuid.uuid4().hex[:8]
    group, bad, nul, good = f"test-quarantine-{tag}", f"q-bad-{tag}", f"q-nul-{tag}", f"q-good-{tag}"
    await start_groups_at_end(stack.kafka_bootstrap, [group], [TOPIC])
    first = encode(enrolment(bad), source="/t")
    records = [first, KafkaRecord(TOPIC, bad.encode(), b'{"not": "an enrolment"', first.headers),
               encode(enrolment(bad, 6), source="/t"), encode(enrolment(bad, 2), source="/t"),
               encode(enrolment(nul), source="/t"), encode(enrolment(good), source="/t"),
               encode(enrolment(good, 2), source="/t")]
    for rec in records:  # all on one partition: the bad keys come first
        await send_record(producer, KafkaRecord(rec.topic, rec.key, rec.value, rec.headers))
    await producer.flush()
    worker, task = start(stack, group)
    try:
        async def good_stored() -> bool:
            return await pg.fetchval("SELECT state FROM runtime_state WHERE consumer_group = $1 AND key = $2",
                                     group, good) == b"1,2"
        await eventually(good_stored, timeout=60, what="the good student's enrolments handled")
        quarantined = {r["key"]: r for r in await pg.fetch(
            "SELECT key, reason, error_type, records FROM runtime_quarantine WHERE consumer_group = $1", group)}
        assert set(quarantined) == {bad, nul}
        assert quarantined[bad]["error_type"] == "ValueError" and "phase 6" in quarantined[bad]["reason"]
        assert quarantined[nul]["error_type"] == "CharacterNotInRepertoireError"
        assert await pg.fetchval("SELECT count(*) FROM runtime_state WHERE consumer_group = $1 AND key = ANY($2)",
                                 group, [bad, nul]) == 0
        assert await pg.fetchval("SELECT note FROM test_runtime_notes WHERE student_id = $1", good) == "ok"
        assert REGISTRY.get_sample_value("werkplek_consumer_quarantines_total", {"consumer": group}) == 2

        await send_record(producer, encode(enrolment(bad, 3), source="/t"))  # after the quarantine
        mine = await dlq_copies(stack.kafka_bootstrap, group, 6)
        # the first fetch held all of the bad student's records: its step failed for all three events
        assert sorted(h["dlq_error_type"].decode() for h in mine) == [
            "CharacterNotInRepertoireError", "DecodeError", "Quarantined", "ValueError", "ValueError", "ValueError"]
        assert all(h["dlq_source_topic"] == TOPIC.encode() for h in mine)
        assert await pg.fetchval("SELECT records FROM runtime_quarantine WHERE consumer_group = $1 AND key = $2",
                                 group, bad) == 4
        listed = await cli("quarantine", group)
        assert listed.returncode == 0 and {line.split("\t")[1] for line in listed.stdout.splitlines()} == {bad, nul}
        assert (await cli("release", group, bad)).returncode == 0
        assert (await cli("release", group, bad)).returncode == 3  # nothing left to release
        assert [line.split("\t")[1] for line in (await cli("quarantine", group)).stdout.splitlines()] == [nul]

        # released and the worker restarted: the key's next record is handled again, not sent to the DLQ
        worker.stop.set()
        assert await asyncio.wait_for(task, 30) == 0
        worker, task = start(stack, group)
        await send_record(producer, encode(enrolment(bad, 4), source="/t"))

        async def bad_handled_again() -> bool:
            return await pg.fetchval("SELECT state FROM runtime_state WHERE consumer_group = $1 AND key = $2",
                                     group, bad) == b"4"
        await eventually(bad_handled_again, timeout=60, what="the released student's next enrolment handled")
        assert await pg.fetchval("SELECT count(*) FROM runtime_quarantine WHERE consumer_group = $1", group) == 1
    finally:
        worker.stop.set()
        assert await asyncio.wait_for(task, 30) == 0
        for table in ("runtime_state", "runtime_offsets", "runtime_quarantine"):
            await pg.execute(f"DELETE FROM {table} WHERE consumer_group = $1", group)


def start(stack: Any, group: str) -> tuple[Worker, asyncio.Task[int]]:
    worker = Worker(group, kafka_bootstrap=stack.kafka_bootstrap, pg_dsn=dsn_of(stack, COMMON_TABLES_IN))
    worker.consumer(Phases(group), Options(group=group), outbox_producer=group)
    worker.relay(group)
    return worker, asyncio.create_task(worker.run(signals=False))


async def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The operator's command in its own process (off the event loop: the worker keeps its session)."""
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "werkplek_common.cli", *args],
                                   capture_output=True, text=True, timeout=60, check=False)


async def dlq_copies(bootstrap: str, group: str, n: int) -> list[dict[str, bytes]]:
    def mine(rs: list) -> list[dict[str, bytes]]:
        return [h for h in (dict(r.headers) for r in rs) if h.get("dlq_consumer") == group.encode()]

    return mine(await read_until(bootstrap, [f"{TOPIC}.dlq"], lambda rs: len(mine(rs)) >= n, timeout=60))
