"""In-memory units of work for placement logging's use cases (the ports of `uow.py`). A unit works on
a copy of the data and puts it back when it ends normally; a unit that raises leaves nothing behind,
like a rolled-back transaction."""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

import orjson
from werkplek_events import Event, TimeEntryWithdrawn
from werkplek_placement_logging import domain
from werkplek_placement_logging.domain import Draft, Facts, Logged, PlacementView
from werkplek_placement_logging.uow import Head, NotOwned, RefusedItem, Row, StoredEntry, StoredReply
from werkplek_placement_logging.usecases.entries import document

NOW = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)


# --- the ledger ------------------------------------------------------------------------------------

@dataclass
class LedgerData:
    placements: dict[str, PlacementView] = field(default_factory=dict)
    entries: dict[uuid.UUID, tuple[str, StoredEntry]] = field(default_factory=dict)  # id -> student, entry
    replies: dict[tuple[str, str], StoredReply] = field(default_factory=dict)
    refused: dict[tuple[str, uuid.UUID], RefusedItem] = field(default_factory=dict)
    outbox: list[Event] = field(default_factory=list)
    held: set[tuple[str, str]] = field(default_factory=set)  # Idempotency-Keys of requests in flight


class FakeLedgerUnit:
    def __init__(self, data: LedgerData, now: datetime) -> None:
        self.data, self.now = data, now
        self.staged: tuple[str, Sequence[Facts], Sequence[Event]] | None = None
        self.locked: set[str] = set()

    async def begin_log(self, student_id: str, key: str, drafts: Sequence[Draft]) -> Head:
        if (student_id, key) in self.data.held:
            return Head(False, self.now, None, {}, [], {})
        self.locked.add(student_id)
        stored = self.data.replies.get((student_id, key))
        if stored is not None:
            return Head(True, self.now, stored, {}, [], {})
        ids = {d.placement_id for d in drafts}
        days = {d.work_date for d in drafts}
        day = [Logged(e.facts.entry_id, e.facts.work_date, e.facts.start_time, e.facts.end_time,
                      e.facts.duration_minutes)
               for s, e in self.data.entries.values() if s == student_id and e.facts.work_date in days
               and not e.withdrawn]
        existing = {d.entry_id: self.data.entries[d.entry_id][0] for d in drafts if d.entry_id in self.data.entries}
        return Head(True, self.now, None, {p: v for p, v in self.data.placements.items() if p in ids}, day, existing)

    async def entries(self, ids: Sequence[uuid.UUID]) -> list[StoredEntry]:
        return [self.data.entries[i][1] for i in ids if i in self.data.entries]

    def log(self, student_id: str, facts: Sequence[Facts], events: Sequence[Event]) -> None:
        self.staged = (student_id, facts, events)

    def keep_reply(self, student_id: str, key: str, reply: StoredReply, refusals: Sequence[RefusedItem] = ()) -> None:
        assert self.staged is not None, "the reply is written with the entries"
        self.data.replies[(student_id, key)] = reply
        for r in refusals:
            self.data.refused[(student_id, r.entry_id)] = r

    def flush(self) -> None:
        if self.staged is None:
            return
        student_id, facts, events = self.staged
        for f in facts:
            self.data.entries[f.entry_id] = (student_id, StoredEntry(f, 1, 1, domain.PENDING, False, self.now,
                                                                     self.now))
            self.data.refused.pop((student_id, f.entry_id), None)
        self.data.outbox.extend(events)

    async def lock_student(self, student_id: str) -> datetime:
        self.locked.add(student_id)
        return self.now

    async def entry(self, student_id: str, entry_id: uuid.UUID) -> StoredEntry | None:
        found = self.data.entries.get(entry_id)
        return found[1] if found is not None and found[0] == student_id else None

    async def context(self, student_id: str, placement_ids: Sequence[str],
                      days: Sequence[date]) -> tuple[dict[str, PlacementView], list[Logged]]:
        head = await self.begin_log(student_id, "-", [Draft(uuid.uuid4(), p, d, None, None, None, "", (), "")
                                                     for p in placement_ids for d in days])
        return head.placements, head.day

    async def correct(self, student_id: str, facts: Facts, event: Event, revision: int) -> None:
        _, before = self.data.entries[facts.entry_id]
        self.data.entries[facts.entry_id] = (student_id, replace(
            before, facts=facts, revision=revision, version=before.version + 1, decision=domain.PENDING,
            updated_at=self.now, rejection_reason=None, rejection_comment=None))
        self.data.outbox.append(event)

    async def withdraw(self, entry: StoredEntry, event: TimeEntryWithdrawn) -> datetime:
        student, before = self.data.entries[entry.facts.entry_id]
        self.data.entries[entry.facts.entry_id] = (student, replace(
            before, withdrawn=True, revision=before.revision + 1, version=before.version + 1, updated_at=self.now))
        self.data.outbox.append(event)
        return self.now


class FakeLedger:
    def __init__(self, data: LedgerData | None = None, now: datetime = NOW) -> None:
        self.data, self.now = data or LedgerData(), now
        self.units = 0

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[FakeLedgerUnit]:
        self.units += 1
        unit = FakeLedgerUnit(copy.deepcopy(self.data), self.now)
        yield unit
        unit.flush()
        self.data = unit.data

    def add_entry(self, student_id: str, facts: Facts, **over: Any) -> StoredEntry:
        entry = replace(StoredEntry(facts, 1, 1, domain.PENDING, False, self.now, self.now), **over)
        self.data.entries[facts.entry_id] = (student_id, entry)
        return entry

    def doc(self, entry_id: uuid.UUID) -> dict[str, Any]:
        return document(self.data.entries[entry_id][1])


# --- the registry ----------------------------------------------------------------------------------

@dataclass
class RegistryData:
    rows: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (kind, id) -> row
    students: dict[str, str] = field(default_factory=dict)  # student -> institution
    revisions: list[tuple[str, int, str, uuid.UUID]] = field(default_factory=list)  # placement, version, kind, event
    outbox: list[Event] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (kind, via) of another institution's id


class FakeRegistryUnit:
    def __init__(self, data: RegistryData, now: datetime) -> None:
        self.data, self.now = data, now

    def _mine(self, kind: str, obj_id: str, institution: str, via: str) -> Row | None:
        row = self.data.rows.get((kind, obj_id))
        if row is not None and row["institution_id"] != institution:
            self.data.refused.append((kind, via))
            return None
        return row

    async def claim(self, kind: str, obj_id: str, institution: str) -> Row | None:
        row = self.data.rows.get((kind, obj_id))
        if row is not None and row["institution_id"] != institution:
            self.data.refused.append((kind, "path"))
            raise NotOwned(kind)
        return row

    async def load(self, kind: str, obj_id: str, institution: str, *, via: str = "path") -> Row | None:
        return self._mine(kind, obj_id, institution, via)

    async def owned(self, kind: str, ids: Sequence[str], institution: str) -> dict[str, Row]:
        return {i: r for i in ids if (r := self.data.rows.get((kind, i))) is not None
                and r["institution_id"] == institution}

    async def claim_student(self, student_id: str, institution: str, *, enrol: bool = False) -> None:
        if enrol:
            self.data.students.setdefault(student_id, institution)
        if self.data.students.get(student_id, institution) != institution:
            self.data.refused.append(("student", "path"))
            raise NotOwned("student")

    async def foreign_student(self, student_id: str, institution: str, via: str) -> bool:
        if self.data.students.get(student_id, institution) != institution:
            self.data.refused.append(("student", via))
            return True
        return False

    async def save(self, kind: str, obj_id: str, institution: str, body: dict[str, Any], extra: dict[str, Any],
                   events: Sequence[Event]) -> Row:
        before = self.data.rows.get((kind, obj_id))
        row = {**(before or {}), "id": obj_id, "institution_id": institution, "body": orjson.dumps(body).decode(),
               **extra, "version": (before["version"] + 1) if before else 1, "updated_at": self.now}
        row.setdefault("ended_on", None)
        self.data.rows[(kind, obj_id)] = row
        self.data.outbox.extend(events)
        return row

    async def update(self, kind: str, obj_id: str, body: dict[str, Any], extra: dict[str, Any],
                     events: Sequence[Event]) -> Row:
        before = self.data.rows[(kind, obj_id)]
        row = {**before, "body": orjson.dumps(body).decode(), **extra, "version": before["version"] + 1,
               "updated_at": self.now}
        self.data.rows[(kind, obj_id)] = row
        self.data.outbox.extend(events)
        return row

    async def keep_revision(self, row: Row, kind: str, event: Event) -> None:
        self.data.revisions.append((row["id"], row["version"], kind, event.event_id))


class FakeRegistry:
    def __init__(self, data: RegistryData | None = None, now: datetime = NOW) -> None:
        self.data, self.now = data or RegistryData(), now

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[FakeRegistryUnit]:
        unit = FakeRegistryUnit(copy.deepcopy(self.data), self.now)
        yield unit
        self.data = unit.data
