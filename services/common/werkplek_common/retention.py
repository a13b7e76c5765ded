"""Bounded retention of the tables that only bridge a short time (docs/privacy.md, "Retention"):
idempotency and webhook-replay stores, delivered outbound webhooks, spent links. Each service lists the
rules of its own tables and runs `run_retention` in its worker; a rule deletes rows older than its
number of days, in batches, so a long-unpurged table never holds a lock for long."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from .runtime.loop import periodically

log = logging.getLogger(__name__)
BATCH = 5000


@dataclass(frozen=True)
class Rule:
    table: str
    age_column: str  # the row's age is counted from this timestamp
    days: int
    where: str = "TRUE"  # only rows that are done with (e.g. a delivery no longer pending)
    key: str = "ctid"  # how a batch names its rows
    before: tuple[str, ...] = ()  # run first, with the same $1 (days): delete the rows that reference these

    def delete_sql(self) -> str:
        return (f"DELETE FROM {self.table} WHERE {self.key} = ANY(ARRAY(SELECT {self.key} FROM {self.table}"  # noqa: S608 - names from the rules
                f" WHERE {self.age_column} < now() - make_interval(days => $1) AND ({self.where}) LIMIT {BATCH}))")


async def purge(pool: asyncpg.Pool, rules: Sequence[Rule]) -> dict[str, int]:
    """Delete what every rule has let expire; returns rows deleted per table."""
    done: dict[str, int] = {}
    for rule in rules:
        while True:
            async with pool.acquire() as conn, conn.transaction():
                for sql in rule.before:
                    await conn.execute(sql, rule.days)
                n = int((await conn.execute(rule.delete_sql(), rule.days)).split()[-1])
            done[rule.table] = done.get(rule.table, 0) + n
            if n < BATCH:
                break
    return done


async def run_retention(pool: asyncpg.Pool, rules: Sequence[Rule], stop: asyncio.Event,
                        every_s: float = 600.0) -> None:
    async def once() -> None:
        purged = await purge(pool, rules)
        if any(purged.values()):
            log.info("expired rows deleted", extra={"fields": purged})

    await periodically(once, stop, every_s, "retention")
