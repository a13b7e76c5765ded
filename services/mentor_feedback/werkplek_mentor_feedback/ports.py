"""The ports of mentor feedback's use cases (`usecases.py`, `linkflow.py`, `requesting.py`): what a
use case may ask of the store, as protocols over the domain's own types. One `Unit` is one
transaction: the facts a message is judged on (entries locked for the decision), what an accepted
message changes, confirmation requests, the outbox and the webhook replay store, committed together
or not at all. The PostgreSQL adapter is `pg_unit.py`; the unit tests use an in-memory fake. No
driver or web framework here."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from werkplek_events import ConfirmationRequested, Event
from werkplek_events.vocabulary import Language

from .batching import PendingEntry
from .domain import Entry, Mentor, Placement
from .payloads import OutboundEntry

if TYPE_CHECKING:
    from .linkflow import LinkRequest, MentorPlacement, ShownEntry

StoredAnswer = tuple[int, str, dict[str, Any]]  # status, kind, body of the first answer to a webhook-id


class AlreadyAnswered(Exception):
    """A concurrent delivery of the same message committed first: a unique key of what this unit
    stores (its answer to the webhook-id, an assessment's id) is taken. The unit is rolled back."""


class Unit(Protocol):
    """The repositories, outbox and replay store of one transaction."""

    async def mentor(self, mentor_id: str) -> Mentor | None: ...

    async def placements(self, ids: Iterable[str]) -> dict[str, Placement]: ...

    async def entries_for_update(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Entry]:
        """The entries, locked until the unit ends (in id order: two messages never deadlock)."""
        ...

    async def assessment_exists(self, assessment_id: str) -> bool: ...

    async def workplace_signed(self, placement_id: str) -> bool: ...

    async def record(self, events: Sequence[Event]) -> None:
        """Store what accepted events change."""
        ...

    async def stage(self, events: Sequence[Event]) -> None:
        """Put events in the outbox (published after the unit commits)."""
        ...

    async def store_answer(self, source_id: str, webhook_id: str, kind: str, status: int,
                           body: dict[str, Any]) -> None:
        """The answer to a webhook-id, replayed to a resend."""
        ...

    async def link_request(self, request_id: str, *, lock: bool = False) -> LinkRequest | None:
        """A link's request (locked until the unit ends: one submission at a time)."""
        ...

    async def use_link(self, request_id: str, at: datetime) -> None: ...

    async def pending_entries(self, logged_before: datetime, requested_before: datetime,
                              limit: int) -> list[PendingEntry]:
        """Entries awaiting a decision, logged before `logged_before` and not requested since
        `requested_before`, of mentors a request can reach, oldest first per mentor; locked (others
        skip them) until the unit ends."""
        ...

    async def mentor_pending(self, mentor_id: str, limit: int) -> list[PendingEntry]:
        """One mentor's entries awaiting a decision, oldest first, locked."""
        ...

    async def save_request(self, request: ConfirmationRequested, now: datetime) -> None:
        """The request, and its entries marked requested by it at `now`."""
        ...

    async def outbound_entries(self, ids: Sequence[uuid.UUID]) -> list[OutboundEntry]: ...

    async def queue_delivery(self, delivery_id: str, source_id: str, request_id: str, payload: bytes) -> None:
        """An outbound webhook to send (the sender retries it)."""
        ...


class UnitOfWork(Protocol):
    """Opens units, and answers the reads a use case makes before it needs one."""

    def begin(self) -> AbstractAsyncContextManager[Unit]:
        """A unit: committed when the block ends normally, rolled back when it raises; raises
        `AlreadyAnswered` when a concurrent delivery of the same message committed first."""
        ...

    async def source_secrets(self, source_id: str, now: datetime) -> list[str]:
        """The secrets of a source valid at `now` (none: unknown or retired)."""
        ...

    async def stored_answer(self, source_id: str, webhook_id: str) -> StoredAnswer | None: ...

    async def link_request(self, request_id: str) -> LinkRequest | None: ...

    async def shown_entries(self, ids: Sequence[uuid.UUID]) -> list[ShownEntry]:
        """The request's entries still to be shown (not withdrawn), by work date."""
        ...

    async def mentor_placements(self, mentor_id: str, ended_since: date,
                                including: Sequence[str]) -> list[MentorPlacement]:
        """The mentor's placements not ended before `ended_since`, and those of `including`."""
        ...

    async def latest_levels(self, placement_ids: Sequence[str]) -> Mapping[tuple[str, str], str]:
        """(placement, outcome) -> the level of its latest assessment."""
        ...

    async def mentor_language(self, mentor_id: str) -> Language | None: ...

    async def mark_opened(self, request_id: str) -> bool:
        """True the first time."""
        ...
