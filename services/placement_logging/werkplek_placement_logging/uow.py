"""The ports of placement logging's use cases (`usecases/`): what a use case may ask of the store, as
protocols over the domain's own types. One unit is one transaction: the ledger's unit holds the
student's lock, the entries and the context of the rules, the revisions and current view, the
outbox and the Idempotency-Key store; the registry's unit the institution's rows (another
institution's are absent), their revisions and the outbox. Committed together or not at all. The
PostgreSQL adapter is `uow_pg.py`; the unit tests use an in-memory fake. No driver or web framework
here."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from werkplek_events import Event, TimeEntryWithdrawn
from werkplek_events.vocabulary import EntryStatus

from .domain import Draft, Facts, Logged, PlacementView


class Contended(Exception):
    """A unique key this unit stores (an entry id, an Idempotency-Key) was taken by a concurrent request
    that committed first. The unit is rolled back; running it again sees that request's result."""


class NotOwned(Exception):
    """The id names another institution's object (or student): answered as an unknown one. Counted by
    the adapter (`werkplek_tenant_refusals_total`)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


# --- the ledger ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StoredReply:
    """The answer to a completed POST, kept under its Idempotency-Key and replayed byte for byte."""

    fingerprint: bytes  # of the request it answered (method, path, canonical payload)
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Head:
    """What the start of logging found: whether the Idempotency-Key was free (`got`: not held by a
    request in flight), the stored reply of a completed request with this key, and otherwise the
    context of the rules (the placements, the day's entries, the entry ids already taken)."""

    got: bool
    now: datetime
    stored: StoredReply | None
    placements: dict[str, PlacementView]
    day: list[Logged]
    existing: dict[uuid.UUID, str]  # entry id -> its student


@dataclass(frozen=True)
class StoredEntry:
    """An entry's current view."""

    facts: Facts
    revision: int
    version: int  # of the row: the ETag
    decision: EntryStatus
    withdrawn: bool
    logged_at: datetime
    updated_at: datetime
    rejection_reason: str | None = None
    rejection_comment: str | None = None


@dataclass(frozen=True)
class RefusedItem:
    """A refused batch item kept for the student to list: its entry id, the item as sent and its problem
    document (JSON text)."""

    entry_id: uuid.UUID
    entry: str
    problem: str


class LedgerUnit(Protocol):
    async def begin_log(self, student_id: str, key: str, drafts: Sequence[Draft]) -> Head:
        """Take the Idempotency-Key (a held key: `got` is false), then the student's lock, then read the
        stored reply or the context of the drafts."""
        ...

    async def entries(self, ids: Sequence[uuid.UUID]) -> list[StoredEntry]: ...

    def log(self, student_id: str, facts: Sequence[Facts], events: Sequence[Event]) -> None:
        """Stage new entries (revision 1) and their events: written at the end of the unit, with the
        reply kept for the Idempotency-Key (`keep_reply`), in one statement."""
        ...

    def keep_reply(self, student_id: str, key: str, reply: StoredReply, refusals: Sequence[RefusedItem] = ()) -> None:
        """Keep the reply under the key, and the refused items of a batch, with what `log` staged."""
        ...

    async def lock_student(self, student_id: str) -> datetime:
        """Take the student's lock (until the unit ends); the transaction's time."""
        ...

    async def entry(self, student_id: str, entry_id: uuid.UUID) -> StoredEntry | None: ...

    async def context(self, student_id: str, placement_ids: Sequence[str],
                      days: Sequence[date]) -> tuple[dict[str, PlacementView], list[Logged]]: ...

    async def correct(self, student_id: str, facts: Facts, event: Event, revision: int) -> None:
        """Write a corrected revision, the current view and the event, now."""
        ...

    async def withdraw(self, entry: StoredEntry, event: TimeEntryWithdrawn) -> datetime:
        """Write the withdrawal (a revision of its own) and its event; when the view was updated."""
        ...


class LedgerUoW(Protocol):
    def begin(self) -> AbstractAsyncContextManager[LedgerUnit]:
        """A unit: committed when the block ends normally, rolled back when it raises; raises
        `Contended` when a concurrent request took a unique key first."""
        ...


# --- the registry ----------------------------------------------------------------------------------

Row = Mapping[str, Any]  # a stored row: id, institution_id, body (JSON text), version, updated_at, its columns


class RegistryUnit(Protocol):
    async def claim(self, kind: str, obj_id: str, institution: str) -> Row | None:
        """The row, locked for a change; None when absent. Raises `NotOwned` for another institution's."""
        ...

    async def load(self, kind: str, obj_id: str, institution: str, *, via: str = "path") -> Row | None:
        """The row when it is the institution's; None when absent or another's (counted `via`)."""
        ...

    async def owned(self, kind: str, ids: Sequence[str], institution: str) -> dict[str, Row]: ...

    async def claim_student(self, student_id: str, institution: str, *, enrol: bool = False) -> None:
        """Lock the student's record; raises `NotOwned` when they belong to another institution. With
        `enrol`, a student not known yet becomes the institution's."""
        ...

    async def foreign_student(self, student_id: str, institution: str, via: str) -> bool: ...

    async def save(self, kind: str, obj_id: str, institution: str, body: dict[str, Any], extra: dict[str, Any],
                   events: Sequence[Event]) -> Row:
        """Insert or replace the row (version + 1) and stage its events."""
        ...

    async def update(self, kind: str, obj_id: str, body: dict[str, Any], extra: dict[str, Any],
                     events: Sequence[Event]) -> Row:
        """Change an existing row (version + 1) and stage its events."""
        ...

    async def keep_revision(self, row: Row, kind: str, event: Event) -> None:
        """Keep this version of a placement (agreed, amended or ended)."""
        ...


class RegistryUoW(Protocol):
    def begin(self) -> AbstractAsyncContextManager[RegistryUnit]: ...
