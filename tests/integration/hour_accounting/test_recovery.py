"""Crash and rebuild: kill -9 of the worker in the middle of a 20,000-event stream, restart, and every
student's totals equal the seed exactly (nothing skipped, nothing counted twice); then `rebuild` from
the beginning of the topics ends with the same shares (versions, event ids, bodies) as the live run.
The workers commit a batch in chunks of a few students, so a kill between two chunks is covered."""

from __future__ import annotations

import uuid

import orjson
from werkplek_common.kafka import publish
from werkplek_events import ShareUpdated, topic_for
from werkplek_hour_accounting.processor import SOURCE

from tests.support import eventually, read_until
from tests.unit.hour_accounting.builders import AS_OF, agreed, confirmed, enrolled, logged, programme

from .support import emitted, read_model

STUDENTS, ENTRIES = 100, 132  # 100 × (enrolment + placement + 132 entries + 66 confirmations) = 20,000


def seed(prefix: str, prog: str) -> tuple[list, dict[str, tuple[int, int]]]:
    events, expected = [], {}
    for i in range(STUDENTS):
        s = f"{prefix}-{i}"
        entries = [logged(s, minutes=30 + (i + j) % 50) for j in range(ENTRIES)]
        events += [enrolled(s, prog), agreed(s, programme_id=prog), *entries]
        events += [confirmed(e) for e in entries[::2]]
        expected[s] = (sum(e.duration_minutes for e in entries[::2]), sum(e.duration_minutes for e in entries[1::2]))
    return events, expected


async def group_totals(pg, app_id: str, students: list[str]) -> dict[str, tuple[int, int]]:
    """(confirmed, pending) as this group's worker last committed them."""
    return {s: e.values[2][:2] for s, e in (await emitted(pg, app_id, students)).items()}


def totals(rows: dict) -> dict[str, tuple[int, int]]:
    out = {}
    for s, r in rows.items():
        body = orjson.loads(r["body"])
        out[s] = (body["confirmed_minutes"], body["pending_minutes"])
    return out


async def test_kill_9_mid_stream_then_restart_totals_equal_the_seed_and_rebuild_agrees(
        stack, producer, pg, app_id, workers):
    prefix, prog = f"crash-{uuid.uuid4().hex[:8]}", f"prog-{uuid.uuid4().hex[:8]}"
    events, expected = seed(prefix, prog)
    assert len(events) == 20_000
    students = list(expected)
    await publish(producer, [programme(prog)], source="/test")
    # small transactions: a batch commits in many chunks, so the kill lands between two of them too
    small = {"WERKPLEK_ACCOUNTING_COMMIT_STUDENTS": "7"}
    worker = workers(app_id, **small)
    third = len(events) // 3
    await publish(producer, events[:third], source="/test")

    async def some_accounted() -> bool:
        return len(await read_model(pg, students)) >= 10

    await eventually(some_accounted, timeout=60, what="the worker accounting part of the stream")
    # keep the worker busy: publish in chunks and kill -9 it while it is still accounting them
    rest = [events[i:i + 400] for i in range(third, len(events), 400)]
    for chunk in rest[:5]:
        await publish(producer, chunk, source="/test")
    worker.kill9()
    for chunk in rest[5:]:
        await publish(producer, chunk, source="/test")
    assert await group_totals(pg, app_id, students) != expected  # killed in the middle
    live = workers(app_id, **small)

    async def all_exact() -> bool:
        return (await group_totals(pg, app_id, students) == expected
                and totals(await read_model(pg, students)) == expected)

    await eventually(all_exact, timeout=120, what="every student's totals equal to the seed after restart")
    rows = await read_model(pg, students)
    final = 2 + ENTRIES + ENTRIES // 2
    assert all(r["version"] == final for r in rows.values())
    await _published_exactly_once(stack.kafka_bootstrap, app_id, set(students), final)

    live.stop()
    live_state = await emitted(pg, app_id, students)
    rebuild = workers(app_id, "rebuild")
    assert rebuild.wait(300) == 0, rebuild.output()
    assert await emitted(pg, app_id, students) == live_state  # version, every published value, status
    rebuilt = await read_model(pg, students)  # the rebuild overwrote these rows
    assert {s: (r["version"], r["event_id"], r["real_share"]) for s, r in rebuilt.items()} == {
        s: (r["version"], r["event_id"], r["real_share"]) for s, r in rows.items()}
    assert {s: orjson.loads(r["body"])["as_of"] for s, r in rebuilt.items()} == {s: AS_OF.isoformat() for s in students}


async def _published_exactly_once(bootstrap: str, app_id: str, students: set[str], final: int) -> None:
    """Every student's final version reaches the topic; a record published twice (the relay crashed
    between the broker's ack and its delete) is the same event: same id, same bytes."""
    def mine(rs: list) -> list:
        """This group's records (ce_source names it): another run's worker may account them too."""
        return [r for r in rs if r.key is not None and r.key.decode() in students
                and dict(r.headers)["ce_source"] == f"{SOURCE}/{app_id}".encode()]

    def done(rs: list) -> bool:
        return {(r.key.decode(), orjson.loads(r.value)["version"]) for r in mine(rs)} >= {(s, final) for s in students}

    recs = mine(await read_until(bootstrap, [topic_for(ShareUpdated).name], done, timeout=60))
    by_id: dict[bytes, set[bytes]] = {}
    for r in recs:
        by_id.setdefault(dict(r.headers)["ce_id"], set()).add(r.value)
    twice = [[orjson.loads(v) for v in values] for values in by_id.values() if len(values) > 1]
    assert twice == [], [{k: (a[k], b[k]) for k in a if a[k] != b[k]} for a, b, *_ in twice[:3]]
