"""A day passing moves a student's target to date without any event: the daily pass (the runtime
engine's `pass_step` over the accounting day) evaluates every owned student on the new date, chunk
by chunk, so a student who stops logging falls behind on the dashboard instead of staying on track
forever. Driven in-process against the real PostgreSQL, with a clock the test moves."""

from __future__ import annotations

import uuid
from datetime import date

import asyncpg
import orjson
from werkplek_events import Event
from werkplek_hour_accounting.domain import programme_from

from tests.unit.hour_accounting.builders import agreed, confirmed, enrolled, logged, programme

from .support import engine as accounting_engine
from .support import forget, records

PLAN_PER_DAY = 600  # agreed(): 36,600 minutes over the 61 days of Oct 1 - Nov 30


async def outputs(pg: asyncpg.Connection, group: str) -> list[dict]:
    rows = await pg.fetch("SELECT topic, value FROM outbox WHERE producer = $1 ORDER BY id", group)
    return [{"topic": r["topic"], **orjson.loads(r["value"])} for r in rows]


async def test_a_new_day_moves_targets_and_statuses_without_any_event(pool, pg):
    tag = uuid.uuid4().hex[:8]
    prog, group = f"prog-{tag}", f"test-daily-{tag}"
    today = [date(2026, 10, 2)]
    engine = accounting_engine(pool, group, {prog: programme_from(programme(prog))}, lambda: today[0], chunk=2)
    working, idle = [f"daily-{tag}-{i}" for i in range(5)], f"daily-{tag}-idle"
    events: list[Event] = [enrolled(idle, prog)]  # no placement: no target, nothing for a new day to change
    for s in working:
        entries = [logged(s, 480, day=date(2026, 10, d)) for d in (1, 2, 2)]
        events += [enrolled(s, prog), agreed(s, programme_id=prog), *entries, *[confirmed(e) for e in entries]]
    batch = records(events)
    try:
        await engine.own(batch)
        await engine.account(batch)
        while await engine.pass_step():  # the pass after taking the partitions: nothing changes
            pass
        first = await outputs(pg, group)
        shares = [o for o in first if o["topic"].startswith("accounting.share") and o["student_id"] in working]
        assert {o["student_id"] for o in shares} == set(working)
        assert {o["target_to_date_minutes"] for o in shares} == {2 * PLAN_PER_DAY}
        assert {o["status"] for o in shares} == {"on_track"}  # 1,440 confirmed of 1,200 due

        today[0] = date(2026, 10, 31)  # a month without any event
        evaluated = 0
        while n := await engine.pass_step():
            assert n <= 2  # a chunk at a time, between batches
            evaluated += n
        assert evaluated == len(working) + 1
        later = (await outputs(pg, group))[len(first):]
        shares = [o for o in later if o["topic"].startswith("accounting.share")]
        risks = [o for o in later if o["topic"].startswith("accounting.student")]
        assert {o["student_id"] for o in shares} == set(working)  # the idle student had nothing to change
        assert {(o["as_of"], o["target_to_date_minutes"], o["status"]) for o in shares} == {
            ("2026-10-31", 31 * PLAN_PER_DAY, "behind")}
        assert {(o["student_id"], o["worsened"]) for o in risks} == {(s, True) for s in working}

        assert await engine.pass_step() == 0  # once a day
        assert len(await outputs(pg, group)) == len(first) + len(later)
    finally:
        await forget(pg, group)
