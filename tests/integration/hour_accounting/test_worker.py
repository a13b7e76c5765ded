"""The accounting worker on the real broker and database: a cohort in, exact shares out (the read model
and the ShareUpdated topic), out-of-order arrivals, the same stream twice, a late programme, poison
records to the DLQ. The test stack is shared: another run's worker (e2e) may account these records
too, with today's date, and write the read model first; what depends on the date is therefore read from
this worker's own stored state."""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_EVEN, Decimal

import orjson
from werkplek_common.kafka import publish, send_record
from werkplek_events import Event, KafkaRecord, ShareUpdated, TimeEntryLogged, encode, topic_for
from werkplek_hour_accounting.processor import INPUT_TOPICS

from tests.support import end_offsets, eventually, read_until
from tests.unit.hour_accounting.builders import agreed, confirmed, enrolled, logged, programme

from .support import caught_up, emitted, read_model

LOAD = 145_800


def expected_share(minutes: int) -> Decimal:
    return (Decimal(minutes) / Decimal(LOAD)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)


def cohort(prefix: str, programme_id: str, size: int) -> tuple[list[Event], dict[str, tuple[int, int]]]:
    """Student i logs i+1 entries of 480 minutes, all but the last confirmed. Odd students' events
    arrive out of order: confirmations before entries, entries before the placement."""
    events: list[Event] = []
    expected: dict[str, tuple[int, int]] = {}
    for i in range(size):
        s = f"{prefix}-{i}"
        entries: list[Event] = [logged(s) for _ in range(i + 1)]
        decisions: list[Event] = [confirmed(e) for e in entries[:-1] if isinstance(e, TimeEntryLogged)]
        head: list[Event] = [enrolled(s, programme_id), agreed(s, programme_id=programme_id)]
        events += head + entries + decisions if i % 2 == 0 else [head[0], *decisions, *entries, head[1]]
        expected[s] = (480 * i, 480)
    return events, expected


async def test_a_cohort_in_exact_shares_out_and_the_same_stream_twice(stack, producer, pg, app_id, workers):
    prefix, prog = f"ha-{uuid.uuid4().hex[:8]}", f"prog-{uuid.uuid4().hex[:8]}"
    events, expected = cohort(prefix, prog, 12)
    await publish(producer, [programme(prog)], source="/test")
    await publish(producer, events, source="/test")
    workers(app_id)
    students = list(expected)

    async def all_accounted() -> bool:
        rows = await read_model(pg, students)
        return len(rows) == len(students) and all(
            orjson.loads(r["body"])["pending_minutes"] == 480 and
            orjson.loads(r["body"])["confirmed_minutes"] == expected[s][0] for s, r in rows.items())

    await eventually(all_accounted, timeout=60, what="every student of the cohort accounted")
    rows = await read_model(pg, students)
    ours = await emitted(pg, app_id, students)  # status and target depend on the worker's as_of (module doc)
    for s, (confirmed_minutes, _pending) in expected.items():
        body = orjson.loads(rows[s]["body"])
        assert rows[s]["real_share"] == expected_share(confirmed_minutes) == Decimal(body["real_share"])
        assert rows[s]["version"] == ours[s].version == 2 + 2 * int(s.rsplit("-", 1)[1]) + 1  # distinct events
        target, real, projected = ours[s].values[5:8]
        assert ours[s].status == "behind" and target == 18_600
        assert Decimal(real).scaleb(-4) == expected_share(confirmed_minutes)
        assert Decimal(projected).scaleb(-4) == expected_share(confirmed_minutes + 30 * 600)

    updates = await read_until(stack.kafka_bootstrap, [topic_for(ShareUpdated).name],
                               lambda rs: {r.key.decode() for r in rs} >= set(students), timeout=30)
    latest: dict[str, ShareUpdated] = {}
    for r in updates:
        if r.key.decode() in expected:
            u = ShareUpdated.model_validate_json(r.value)
            latest[u.student_id] = max(latest.get(u.student_id, u), u, key=lambda x: x.version)
    assert {s: u.real_share for s, u in latest.items()} == {s: rows[s]["real_share"] for s in students}

    await publish(producer, events, source="/test")  # the same stream again: same event ids
    ends = await end_offsets(stack.kafka_bootstrap, INPUT_TOPICS)
    await eventually(lambda: caught_up(pg, app_id, ends), timeout=60,
                     what="worker committed past the redelivered stream")
    assert await read_model(pg, students) == rows


async def test_a_programme_registered_after_its_students_is_awaited(stack, producer, pg, app_id, workers):
    s, prog = f"late-{uuid.uuid4().hex[:8]}", f"prog-{uuid.uuid4().hex[:8]}"
    entry = logged(s)
    workers(app_id)
    await publish(producer, [enrolled(s, prog), agreed(s, programme_id=prog), entry, confirmed(entry)], source="/t")
    ends = await end_offsets(stack.kafka_bootstrap, INPUT_TOPICS)
    await eventually(lambda: caught_up(pg, app_id, ends), timeout=60,
                     what="student's events processed")
    assert await read_model(pg, [s]) == {}
    await publish(producer, [programme(prog)], source="/t")

    async def accounted() -> bool:
        return (await read_model(pg, [s])).get(s, {}).get("real_share") == expected_share(480)

    await eventually(accounted, timeout=60, what="student accounted once the programme arrived")


async def test_poison_records_go_to_the_dlq_and_the_partition_flows(stack, producer, pg, app_id, workers):
    s, prog = f"poison-{uuid.uuid4().hex[:8]}", f"prog-{uuid.uuid4().hex[:8]}"
    entry = logged(s)
    good = encode(entry, source="/t")
    topic = good.topic
    undecodable = KafkaRecord(topic, s.encode(), b'{"not": "an entry"', good.headers)
    other = encode(logged(s + "-other"), source="/t")
    wrong_key = KafkaRecord(topic, s.encode(), other.value, other.headers)  # another student's entry
    await publish(producer, [programme(prog), enrolled(s, prog), agreed(s, programme_id=prog)], source="/t")
    for rec in (undecodable, wrong_key, good):
        await send_record(producer, rec)
    await publish(producer, [confirmed(entry)], source="/t")
    await producer.flush()
    workers(app_id)

    async def accounted() -> bool:
        return (await read_model(pg, [s])).get(s, {}).get("real_share") == expected_share(480)

    await eventually(accounted, timeout=60, what="the good entry after the poison records accounted")
    dlq = topic_for(type(entry)).dlq
    assert dlq is not None
    recs = await read_until(stack.kafka_bootstrap, [dlq], lambda rs: len(
        [r for r in rs if r.key == s.encode() and dict(r.headers)["dlq_consumer"] == app_id.encode()]) >= 2, timeout=30)
    mine = [h for h in (dict(r.headers) for r in recs if r.key == s.encode()) if h["dlq_consumer"] == app_id.encode()]
    assert {m["dlq_error_type"] for m in mine} == {b"DecodeError", b"PoisonRecord"}
