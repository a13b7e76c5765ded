"""The confirmation-request job: every interval, each mentor's pending entries older than the
minimum age become one request — a signed single-use link or an outbound webhook delivery — and a
ConfirmationRequested event, all in one transaction (outbox)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from werkplek_common.outbox import stage
from werkplek_events import ConfirmationRequested
from werkplek_events.vocabulary import ConfirmationChannel, RequestPurpose

from . import SERVICE, SOURCE
from .batching import Batch, PendingEntry, form_batches
from .config import MentorFeedbackSettings
from .links import Link, make_token
from .metrics import CONFIRMATION_REQUESTS
from .payloads import ConfirmationRequestData, OutboundConfirmationRequested, OutboundEntry

log = logging.getLogger(__name__)

# "Pending" in SQL: logged, not withdrawn, undecided on its current revision — the SQL form of
# werkplek_events.rules.entry_status over the one standing decision (Entry.current_decision), held
# to it by tests/unit/test_rules.py.
PENDING_ENTRY = ("NOT e.withdrawn AND e.work_date IS NOT NULL"
                 " AND (e.decision IS NULL OR e.decided_revision IS DISTINCT FROM e.revision)")
_PENDING = f"""
SELECT e.entry_id, p.mentor_id, e.minutes, CASE WHEN s.retired_at IS NULL THEN m.webhook_source END AS webhook_source,
       s.endpoint_url, s.endpoint_disabled_at IS NOT NULL AS endpoint_disabled
FROM mf_entries e
JOIN mf_placements p USING (placement_id)
JOIN mf_mentors m ON m.mentor_id = p.mentor_id
LEFT JOIN mf_sources s ON s.source_id = m.webhook_source
WHERE {PENDING_ENTRY}
  AND e.logged_at <= $1
  AND (e.requested_at IS NULL OR e.requested_at <= $2)
  -- a tool without endpoint sends on its own; a retired tool's mentors get links again
  AND (m.webhook_source IS NULL OR s.endpoint_url IS NOT NULL OR s.retired_at IS NOT NULL)
ORDER BY p.mentor_id, e.logged_at, e.entry_id
LIMIT $3
FOR UPDATE OF e SKIP LOCKED
"""  # noqa: S608 - PENDING_ENTRY is a constant


def link_url(cfg: MentorFeedbackSettings, key: bytes, request_id: str, expires_at: datetime) -> str:
    token = make_token(key, Link(request_id, int(expires_at.timestamp())))
    return f"{cfg.mentor_public_base_url.rstrip('/')}/confirm/{token}"


async def form_requests(pool: asyncpg.Pool, cfg: MentorFeedbackSettings, link_key: bytes, *,
                        now: datetime | None = None, limit: int = 5000) -> list[ConfirmationRequested]:
    """Form this round's requests; returns the events staged."""
    now = now or datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(_PENDING, now - timedelta(seconds=cfg.mentor_batch_min_age_s),
                                now - timedelta(seconds=cfg.mentor_rerequest_after_s), limit)
        pending = [PendingEntry(r["entry_id"], r["mentor_id"], r["minutes"], r["webhook_source"], r["endpoint_url"],
                                r["endpoint_disabled"]) for r in rows]
        batches = form_batches(pending, cfg.mentor_batch_max_entries)
        events = [await _request(conn, cfg, link_key, b, now) for b in batches]
        if events:
            await stage(conn, events, producer=SERVICE, source=SOURCE)
    for e in events:
        CONFIRMATION_REQUESTS.labels(e.channel.value).inc()
    return events


async def _request(conn: asyncpg.Connection, cfg: MentorFeedbackSettings, link_key: bytes, batch: Batch,
                   now: datetime, purpose: RequestPurpose = RequestPurpose.BATCH) -> ConfirmationRequested:
    request_id = uuid.uuid4().hex
    expires = now + timedelta(seconds=cfg.mentor_link_ttl_s)
    ids = [e.entry_id for e in batch.entries]
    await conn.execute("INSERT INTO mf_confirmation_requests(request_id, mentor_id, channel, entry_ids, expires_at,"
                       " purpose) VALUES ($1,$2,$3,$4,$5,$6)", request_id, batch.mentor_id, batch.channel.value, ids,
                       expires, purpose.value)
    await conn.execute("UPDATE mf_entries SET requested_at = $2, request_id = $3 WHERE entry_id = ANY($1::uuid[])",
                       ids, now, request_id)
    url = link_url(cfg, link_key, request_id, expires) if batch.channel is ConfirmationChannel.LINK else None
    event = ConfirmationRequested(request_id=request_id, mentor_id=batch.mentor_id, entry_ids=ids,
                                  pending_minutes=batch.minutes, channel=batch.channel, link_url=url,
                                  expires_at=expires, purpose=purpose)
    if batch.channel is ConfirmationChannel.WEBHOOK:
        assert batch.source_id is not None
        await _queue_delivery(conn, batch.source_id, event)
    return event


async def _queue_delivery(conn: asyncpg.Connection, source_id: str, event: ConfirmationRequested) -> None:
    entries = await conn.fetch(
        "SELECT entry_id, student_id, placement_id, revision, work_date, minutes, activity, description"
        " FROM mf_entries WHERE entry_id = ANY($1::uuid[]) ORDER BY logged_at", list(event.entry_ids))
    payload = OutboundConfirmationRequested(timestamp=event.occurred_at, data=ConfirmationRequestData(
        request_id=event.request_id, mentor_id=event.mentor_id, expires_at=event.expires_at,
        entries=[OutboundEntry(**dict(r)) for r in entries]))
    await conn.execute("INSERT INTO mf_outbound_deliveries(delivery_id, source_id, request_id, payload)"
                       " VALUES ($1,$2,$3,$4)", f"msg_{uuid.uuid4().hex}", source_id, event.request_id,
                       payload.model_dump_json().encode())


_MENTOR_PENDING = f"""
SELECT e.entry_id, e.minutes FROM mf_entries e JOIN mf_placements p USING (placement_id)
WHERE p.mentor_id = $1 AND {PENDING_ENTRY}
ORDER BY e.logged_at, e.entry_id LIMIT $2
FOR UPDATE OF e
"""  # noqa: S608 - PENDING_ENTRY is a constant


async def link_request(conn: asyncpg.Connection, cfg: MentorFeedbackSettings, link_key: bytes, mentor_id: str,
                       purpose: RequestPurpose, now: datetime) -> ConfirmationRequested:
    """A link for all of a mentor's pending entries (possibly none), whatever their age or tool: a
    reminder or a fresh link. Staged in the caller's transaction."""
    rows = await conn.fetch(_MENTOR_PENDING, mentor_id, cfg.mentor_batch_max_entries)
    batch = Batch(mentor_id, ConfirmationChannel.LINK, None,
                  tuple(PendingEntry(r["entry_id"], mentor_id, r["minutes"], None, None, False) for r in rows))
    event = await _request(conn, cfg, link_key, batch, now, purpose)
    await stage(conn, [event], producer=SERVICE, source=SOURCE)
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
