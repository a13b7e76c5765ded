"""The confirmation-request job: every interval, the round's requests (`requesting.py`, the use
cases) on the PostgreSQL unit of work, then the reminders and fresh links (`reminders.py`)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import asyncpg
from werkplek_events import ConfirmationRequested
from werkplek_events.vocabulary import RequestPurpose

from . import requesting
from .config import MentorFeedbackSettings
from .metrics import CONFIRMATION_REQUESTS
from .pg_unit import PENDING_ENTRY, PgUnit, PgUnitOfWork
from .requesting import RequestPolicy

__all__ = ["PENDING_ENTRY", "form_requests", "link_request", "run_requests"]
log = logging.getLogger(__name__)


async def form_requests(pool: asyncpg.Pool, cfg: MentorFeedbackSettings, link_key: bytes, *,
                        now: datetime | None = None, limit: int = 5000) -> list[ConfirmationRequested]:
    """Form this round's requests; returns the events staged."""
    events = await requesting.form_batch_requests(PgUnitOfWork(pool), RequestPolicy.of(cfg), link_key,
                                                  now or datetime.now(UTC), limit)
    for e in events:
        CONFIRMATION_REQUESTS.labels(e.channel.value).inc()
    return events


async def link_request(conn: asyncpg.Connection, cfg: MentorFeedbackSettings, link_key: bytes, mentor_id: str,
                       purpose: RequestPurpose, now: datetime) -> ConfirmationRequested:
    """A link for all of a mentor's pending entries, staged in the caller's transaction."""
    event = await requesting.link_request(PgUnit(conn), RequestPolicy.of(cfg), link_key, mentor_id, purpose, now)
    CONFIRMATION_REQUESTS.labels(event.channel.value).inc()
    return event


async def run_requests(pool: asyncpg.Pool, cfg: MentorFeedbackSettings, link_key: bytes, stop: asyncio.Event) -> None:
    from .reminders import form_reminders, handle_link_requests  # they build on this module

    while not stop.is_set():
        try:
            formed = await form_requests(pool, cfg, link_key)
            formed += await form_reminders(pool, cfg, link_key)
            formed += await handle_link_requests(pool, cfg, link_key)
            if formed:
                log.info("confirmation requests formed", extra={"fields": {"requests": len(formed)}})
        except (asyncpg.PostgresError, OSError) as exc:
            log.warning("confirmation requests not formed; will retry", extra={"fields": {"error": repr(exc)}})
        try:
            await asyncio.wait_for(stop.wait(), cfg.mentor_batch_interval_s)
        except TimeoutError:
            pass
