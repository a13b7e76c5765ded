"""Two workers of the stream runtime in one consumer group, on the real broker and database: one is
frozen (SIGSTOP) in the middle of a batch, past its session timeout; the other takes its partitions
over, handles that batch and commits it; the frozen one, resumed, commits its stale batch and is
fenced by the stored offsets' compare-and-set: the state, the read model and the published outputs
stay as the other worker left them, and `werkplek_consumer_fenced_total` counts it. Each worker is a
process of its own (tests/integration/runtime_process.py)."""

from __future__ import annotations

import signal
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from werkplek_common.kafka import client_options, send_record
from werkplek_common.settings import CommonSettings
from werkplek_events import StudentEnrolled, TimeEntryConfirmed, encode
from werkplek_placement_logging.decisions import TOPICS as DECISION_TOPICS

from tests.e2e.stack import free_port
from tests.integration.child import Child
from tests.integration.runtime_process import SESSION_TIMEOUT_S, TOPIC
from tests.support import COMMON_TABLES_IN, eventually, read_until, start_groups_at_end

PG_SERVICE = COMMON_TABLES_IN  # the schema whose tables the `pg` fixture reads (docs/adr/0009)


class Member(Child):
    def __init__(self, name: str, group: str, out_topic: str, pause_file: Path, log_dir: Path,
                 kind: str = "tally") -> None:
        self.name = name
        port = free_port()
        super().__init__("tests.integration.runtime_process",
                         [name, group, out_topic, str(pause_file), str(port), kind], log_dir / f"{name}.log",
                         {"WERKPLEK_LOG_LEVEL": "INFO", "WERKPLEK_OUTBOX_LEASE_S": "3"}, port)

    def fenced(self) -> float:
        return self.counter("werkplek_consumer_fenced_total")


@pytest.fixture
def members() -> Iterator[list[Member]]:
    started: list[Member] = []
    yield started
    codes = [m.stop() for m in started]
    assert codes == [0] * len(codes), [m.text()[-3000:] for m in started]


def enrolment(student: str, phase: int = 1) -> StudentEnrolled:
    return StudentEnrolled(student_id=student, programme_id="prog-1", institution_id="inst-1",
                           academic_year="2026-2027", phase=phase, status="regular", age_band="under_21")


async def test_a_worker_frozen_past_its_session_is_fenced_and_its_stale_batch_changes_nothing(
        stack: CommonSettings, producer, pg: asyncpg.Connection, members: list[Member], tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    group, out_topic, pause_file = f"test-fencing-{tag}", f"test.runtime-fencing.{tag}", tmp_path / "pause-once"
    await pg.execute("CREATE TABLE IF NOT EXISTS test_runtime_fencing"
                     " (student_id text PRIMARY KEY, handled_by text NOT NULL, events int NOT NULL)")
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap, **client_options())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(out_topic, 1, 1)])
    finally:
        await admin.close()
    await start_groups_at_end(stack.kafka_bootstrap, [group], [TOPIC])
    students = [f"fence-{tag}-{i}" for i in range(8)]
    try:
        members.append(Member("first", group, out_topic, pause_file, tmp_path))
        await eventually(members[0].ready, timeout=90, what="the first worker ready")
        members.append(Member("second", group, out_topic, pause_file, tmp_path))
        await eventually(lambda: all(m.ready() for m in members), timeout=90, what="both workers ready")
        await eventually(lambda: all("partitions assigned" in m.text() for m in members), timeout=60,
                         what="both workers owning partitions")
        sent = [encode(enrolment(s), source="/t") for s in students]
        for rec in sent:
            await send_record(producer, rec)
        await producer.flush()

        async def handled(n: int) -> bool:
            return await pg.fetchval("SELECT count(*) FROM test_runtime_fencing WHERE student_id = ANY($1)",
                                     students) == n

        await eventually(lambda: handled(len(students)), timeout=60, what="the first records handled")

        async def outbox_empty() -> bool:  # no relay has a batch in flight when the pause comes
            return await pg.fetchval("SELECT count(*) FROM outbox WHERE producer = $1", group) == 0

        await eventually(outbox_empty, timeout=30, what="the outbox drained")

        pause_file.touch()
        paused_student = f"fence-{tag}-pause"
        late = [encode(enrolment(paused_student), source="/t"), encode(enrolment(students[0], 2), source="/t")]
        for rec in late:
            await send_record(producer, rec)
        await producer.flush()
        await eventually(lambda: any(m.stopped() for m in members), timeout=30, what="a worker frozen mid-batch")
        frozen = next(m for m in members if m.stopped())
        other = next(m for m in members if m is not frozen)
        assert not pause_file.exists()

        async def taken_over() -> bool:
            """Both late records handled: the frozen batch's by the other worker, and the second
            enrolment of students[0] (on whichever partition it landed) by its owner."""
            rows = dict(await pg.fetch("SELECT student_id, handled_by || ':' || events FROM test_runtime_fencing"
                                       " WHERE student_id = ANY($1)", [paused_student, students[0]]))
            return rows.get(paused_student) == f"{other.name}:1" and str(rows.get(students[0], "")).endswith(":2")

        await eventually(taken_over, timeout=SESSION_TIMEOUT_S + 60, what="the other worker handling the late records")
        before = await snapshot(pg, group, [*students, paused_student])
        fenced_before = other.fenced()
        frozen.proc.send_signal(signal.SIGCONT)
        await eventually(lambda: frozen.fenced() >= 1, timeout=60, what="the resumed worker fenced")
        assert "fenced" in frozen.text()
        await eventually(lambda: all(m.ready() for m in members), timeout=90, what="both ready again after it")
        assert await snapshot(pg, group, [*students, paused_student]) == before
        assert other.fenced() == fenced_before

        want = {f"{r.key.decode()}:{uuid.UUID(dict(r.headers)['ce_id'].decode())}" for r in [*sent, *late]}

        def outputs(recs: list) -> Counter[str]:
            return Counter(f"{r.key.decode()}:{r.value.decode().split(':')[0]}" for r in recs)

        recs = await read_until(stack.kafka_bootstrap, [out_topic], lambda rs: set(outputs(rs)) >= want, timeout=60)
        assert set(outputs(recs)) == want and max(outputs(recs).values()) == 1  # each output once, none stale
        assert all(r.value.decode().endswith(f":{other.name}") for r in recs
                   if r.key.decode() == paused_student)
    finally:
        for table in ("runtime_state", "runtime_offsets", "runtime_quarantine"):
            await pg.execute(f"DELETE FROM {table} WHERE consumer_group = $1", group)
        await pg.execute("DELETE FROM test_runtime_fencing WHERE student_id LIKE $1", f"fence-{tag}-%")


async def snapshot(pg: asyncpg.Connection, group: str, students: list[str]) -> dict[str, object]:
    """The state rows, the read model and the stored offsets of the group."""
    states = await pg.fetch("SELECT key, state FROM runtime_state WHERE consumer_group = $1 AND key = ANY($2)"
                            " ORDER BY key", group, students)
    model = await pg.fetch("SELECT student_id, handled_by, events FROM test_runtime_fencing"
                           " WHERE student_id = ANY($1) ORDER BY student_id", students)
    offsets = await pg.fetch("SELECT * FROM runtime_offsets WHERE consumer_group = $1 ORDER BY 2, 3", group)
    return {"states": [tuple(r) for r in states], "model": [tuple(r) for r in model],
            "offsets": [tuple(r) for r in offsets]}


async def test_the_decisions_consumer_frozen_past_its_session_is_fenced_and_the_ledger_unchanged(
        stack: CommonSettings, producer, pg: asyncpg.Connection, members: list[Member], tmp_path: Path) -> None:
    """The same for placement logging's own decisions consumer (issue 17): its stale batch of mentors'
    decisions, committed after the other worker applied them, is fenced; the ledger's entries, their
    versions, the decision log and the stored offsets stay as the other worker left them."""
    tag = uuid.uuid4().hex[:8]
    group, pause_file = f"test-decfence-{tag}", tmp_path / "pause-once"
    await start_groups_at_end(stack.kafka_bootstrap, [group], DECISION_TOPICS)
    students = [f"decf-{tag}-{i}" for i in range(6)]
    paused = f"decf-{tag}-pause"
    entries = {s: uuid.uuid4() for s in [*students, paused]}
    rows: list[tuple[Any, ...]] = [(e, s, f"pl-{s}", 1, 1, date(2026, 10, 5), 60, "work", [], "fencing test")
                                   for s, e in entries.items()]
    await pg.copy_records_to_table("pl_entry", records=rows, columns=[
        "entry_id", "student_id", "placement_id", "revision", "version", "work_date", "duration_minutes",
        "activity", "outcome_ids", "description"])

    def confirmation(student: str):  # as mentor feedback's relay publishes it
        return encode(TimeEntryConfirmed(entry_id=entries[student], student_id=student, placement_id=f"pl-{student}",
                                         mentor_id=f"m-{tag}", entry_revision=1), source="/t")

    async def confirmed(who: list[str]) -> bool:
        return await pg.fetchval("SELECT count(*) FROM pl_entry WHERE entry_id = ANY($1::uuid[])"
                                 " AND decision = 'confirmed'", [entries[s] for s in who]) == len(who)

    try:
        members.append(Member("first", group, "-", pause_file, tmp_path, kind="decisions"))
        await eventually(members[0].ready, timeout=90, what="the first worker ready")
        members.append(Member("second", group, "-", pause_file, tmp_path, kind="decisions"))
        await eventually(lambda: all(m.ready() for m in members), timeout=90, what="both workers ready")
        await eventually(lambda: all("partitions assigned" in m.text() for m in members), timeout=60,
                         what="both workers owning partitions")
        for s in students:
            await send_record(producer, confirmation(s))
        await producer.flush()
        await eventually(lambda: confirmed(students), timeout=60, what="the first decisions applied")

        pause_file.touch()
        await send_record(producer, confirmation(paused))
        await producer.flush()
        await eventually(lambda: any(m.stopped() for m in members), timeout=30, what="a worker frozen mid-batch")
        frozen = next(m for m in members if m.stopped())
        other = next(m for m in members if m is not frozen)
        await eventually(lambda: confirmed([paused]), timeout=SESSION_TIMEOUT_S + 60,
                         what="the other worker applying the frozen one's batch")
        before = await ledger(pg, group, list(entries.values()))
        frozen.proc.send_signal(signal.SIGCONT)
        await eventually(lambda: frozen.fenced() >= 1, timeout=60, what="the resumed decisions consumer fenced")
        assert "fenced" in frozen.text()
        await eventually(lambda: all(m.ready() for m in members), timeout=90, what="both ready again after it")
        after = await ledger(pg, group, list(entries.values()))
        assert after == before
        assert all(version == 2 for _, _, version in after["entries"])  # each entry changed once: confirmed
        assert other.fenced() == 0
    finally:
        for table in ("runtime_state", "runtime_offsets", "runtime_quarantine"):
            await pg.execute(f"DELETE FROM {table} WHERE consumer_group = $1", group)
        await pg.execute("DELETE FROM pl_entry_decision WHERE mentor_id = $1", f"m-{tag}")
        await pg.execute("DELETE FROM pl_entry WHERE entry_id = ANY($1::uuid[])", list(entries.values()))


async def ledger(pg: asyncpg.Connection, group: str, entry_ids: list[uuid.UUID]) -> dict[str, Any]:
    """The ledger's entries (decision, version), the decisions recorded, the group's stored offsets."""
    rows = await pg.fetch("SELECT entry_id, decision, version FROM pl_entry WHERE entry_id = ANY($1::uuid[])"
                          " ORDER BY entry_id", entry_ids)
    decided = await pg.fetchval("SELECT count(*) FROM pl_entry_decision WHERE entry_id = ANY($1::uuid[])", entry_ids)
    offsets = await pg.fetch("SELECT * FROM runtime_offsets WHERE consumer_group = $1 ORDER BY 2, 3", group)
    return {"entries": [tuple(r) for r in rows], "decided": decided, "offsets": [tuple(r) for r in offsets]}
