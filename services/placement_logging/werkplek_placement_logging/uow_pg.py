"""The PostgreSQL adapter of the use cases' ports (`uow.py`): a unit is one transaction on one
connection, over the ledger's SQL (`ledger_sql.py`: logging stays four round trips, BEGIN,
`pl_begin_log`, one write statement, COMMIT) and the registry's (`registry_store.py`), with the shared
outbox. `Ledger` and `Registry` are the units of work the app holds (`app.state`)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import orjson
from werkplek_events import Event, TimeEntryWithdrawn
from werkplek_events.vocabulary import EntryStatus

from . import ledger_sql as sql
from . import registry_store as store
from .domain import Draft, Facts, Logged, PlacementView
from .nudge import RelayNudge
from .uow import Contended, Head, RefusedItem, Row, StoredEntry, StoredReply
from .usecases.entries import Clock


def stored_entry(row: asyncpg.Record) -> StoredEntry:
    facts = Facts(row["entry_id"], row["placement_id"], row["work_date"], row["start_time"], row["end_time"],
                  row["duration_minutes"], row["activity"], tuple(row["outcome_ids"]), row["description"])
    return StoredEntry(facts, row["revision"], row["version"], EntryStatus(row["decision"]), row["withdrawn"],
                       row["logged_at"], row["updated_at"], row["rejection_reason"], row["rejection_comment"])


# --- the ledger ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ledger:
    pool: asyncpg.Pool
    producer: str
    source: str
    tz: ZoneInfo
    skew: timedelta
    nudge: RelayNudge | None = None  # None: every transaction notifies the relay

    @property
    def clock(self) -> Clock:
        return Clock(self.tz, self.skew)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[PgLedgerUnit]:
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                unit = PgLedgerUnit(conn, self)
                yield unit
                await unit.flush()
                commit_sent = time.monotonic()  # the COMMIT goes out when the block ends
        except asyncpg.UniqueViolationError:
            raise Contended from None
        unit.committed(commit_sent)


@dataclass
class _Staged:
    student_id: str
    facts: Sequence[Facts]
    events: Sequence[Event]
    reply: tuple[str, str, bytes, int, str, bytes] | None = None
    refusals: Sequence[RefusedItem] = ()


class PgLedgerUnit:
    def __init__(self, conn: asyncpg.Connection, ledger: Ledger) -> None:
        self.conn, self.ledger = conn, ledger
        self._staged: _Staged | None = None
        self._notify = self._events = False

    async def begin_log(self, student_id: str, key: str, drafts: Sequence[Draft]) -> Head:
        return await sql.begin_log(self.conn, student_id, key, drafts)

    async def entries(self, ids: Sequence[uuid.UUID]) -> list[StoredEntry]:
        rows = await self.conn.fetch(f"SELECT {sql.ENTRY_COLUMNS} FROM pl_entry WHERE entry_id = ANY($1::uuid[])",  # noqa: S608
                                     ids)
        return [stored_entry(r) for r in rows]

    def log(self, student_id: str, facts: Sequence[Facts], events: Sequence[Event]) -> None:
        self._staged = _Staged(student_id, facts, events)

    def keep_reply(self, student_id: str, key: str, reply: StoredReply, refusals: Sequence[RefusedItem] = ()) -> None:
        assert self._staged is not None, "log() first: the reply is written with the entries"
        self._staged.reply = (student_id, key, reply.fingerprint, reply.status, orjson.dumps(reply.headers).decode(),
                              reply.body)
        self._staged.refusals = refusals

    async def flush(self) -> None:
        """Write what `log` staged, with the reply, in one statement (the unit ends normally)."""
        staged, self._staged = self._staged, None
        if staged is None:
            return
        nudge = self.ledger.nudge
        self._notify = nudge is None or nudge.claim()
        columns = sql.facts_columns(staged.facts, [e.event_id for e in staged.events], [1] * len(staged.facts),
                                    "logged")
        await sql.write(self.conn, staged.student_id, columns, staged.events, producer=self.ledger.producer,
                        source=self.ledger.source, replay=staged.reply, notify=self._notify,
                        refusals=staged.refusals)
        self._events = bool(staged.events)

    def committed(self, commit_sent: float) -> None:
        nudge = self.ledger.nudge
        if nudge is None or not self._events:
            return
        if self._notify:
            nudge.notified(commit_sent)
        else:
            nudge.committed_without()

    async def lock_student(self, student_id: str) -> datetime:
        now: datetime = await self.conn.fetchval("SELECT now() FROM (SELECT pg_advisory_xact_lock($1)) l",
                                                 sql.student_lock(student_id))
        return now

    async def entry(self, student_id: str, entry_id: uuid.UUID) -> StoredEntry | None:
        row = await sql.fetch_entry(self.conn, student_id, entry_id)
        return None if row is None else stored_entry(row)

    async def context(self, student_id: str, placement_ids: Sequence[str],
                      days: Sequence[date]) -> tuple[dict[str, PlacementView], list[Logged]]:
        placements, day, _ = await sql.read_context(self.conn, student_id, placement_ids, days, [])
        return placements, day

    async def correct(self, student_id: str, facts: Facts, event: Event, revision: int) -> None:
        columns = sql.facts_columns([facts], [event.event_id], [revision], "corrected")
        await sql.write(self.conn, student_id, columns, [event], producer=self.ledger.producer,
                        source=self.ledger.source, replay=None)

    async def withdraw(self, entry: StoredEntry, event: TimeEntryWithdrawn) -> datetime:
        return await sql.mark_withdrawn(self.conn, entry.facts.entry_id, entry.revision, event,
                                        producer=self.ledger.producer, source=self.ledger.source)


# --- the registry ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Registry:
    pool: asyncpg.Pool
    producer: str
    source: str

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[PgRegistryUnit]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield PgRegistryUnit(conn, self)


class PgRegistryUnit:
    def __init__(self, conn: asyncpg.Connection, registry: Registry) -> None:
        self.conn, self.registry = conn, registry

    async def claim(self, kind: str, obj_id: str, institution: str) -> Row | None:
        return await store.claim_owned(self.conn, kind, obj_id, institution)

    async def load(self, kind: str, obj_id: str, institution: str, *, via: str = "path") -> Row | None:
        return await store.load(self.conn, kind, obj_id, institution, via=via)

    async def owned(self, kind: str, ids: Sequence[str], institution: str) -> dict[str, Row]:
        return dict(await store.owned(self.conn, kind, ids, institution))

    async def claim_student(self, student_id: str, institution: str, *, enrol: bool = False) -> None:
        await store.claim_student_owned(self.conn, student_id, institution, enrol=enrol)

    async def foreign_student(self, student_id: str, institution: str, via: str) -> bool:
        return await store.foreign_student(self.conn, student_id, institution, via)

    async def save(self, kind: str, obj_id: str, institution: str, body: dict[str, Any], extra: dict[str, Any],
                   events: Sequence[Event]) -> Row:
        return await store.save(self.conn, kind, obj_id, institution, body, extra, events,
                                producer=self.registry.producer, source=self.registry.source)

    async def update(self, kind: str, obj_id: str, body: dict[str, Any], extra: dict[str, Any],
                     events: Sequence[Event]) -> Row:
        return await store.update(self.conn, kind, obj_id, body, extra, events, producer=self.registry.producer,
                                  source=self.registry.source)

    async def keep_revision(self, row: Row, kind: str, event: Event) -> None:
        await self.conn.execute("INSERT INTO pl_placement_revision (placement_id, version, kind, body, event_id)"
                                " VALUES ($1, $2, $3, $4::jsonb, $5)", row["id"], row["version"], kind, row["body"],
                                event.event_id)

