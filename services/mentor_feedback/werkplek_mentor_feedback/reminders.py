"""Requests that are not the regular batch: a reminder to a mentor whose students' hours have been
pending for more than N days (at most one a week per mentor), and the fresh links mentors ask for
with their e-mail address. Each is a link request like a batch, so the notifier mails it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
from werkplek_events import ConfirmationRequested
from werkplek_events.vocabulary import RequestPurpose

from .config import MentorFeedbackSettings
from .confirmations import PENDING_ENTRY, link_request
from .metrics import FRESH_LINKS, REMINDERS
from .notify import reminder_due

# Mentors reachable by a reminder: with an address, or without a tool (then the reminder shows as
# undeliverable to the coordinator, which is the point). A tool-only mentor is reached by their tool.
_OVERDUE = f"""
SELECT p.mentor_id, min(e.logged_at) AS oldest, r.reminded_at
FROM mf_entries e
JOIN mf_placements p USING (placement_id)
JOIN mf_mentors m ON m.mentor_id = p.mentor_id
LEFT JOIN mf_reminders r ON r.mentor_id = p.mentor_id
WHERE {PENDING_ENTRY}
  AND e.logged_at <= $1
  AND (m.webhook_source IS NULL OR EXISTS (SELECT 1 FROM mf_contacts c WHERE c.kind = 'mentor'
                                           AND c.subject_id = p.mentor_id))
GROUP BY p.mentor_id, r.reminded_at
ORDER BY p.mentor_id
LIMIT $2
"""  # noqa: S608 - PENDING_ENTRY is a constant


async def form_reminders(pool: asyncpg.Pool, cfg: MentorFeedbackSettings, link_key: bytes, *,
                         now: datetime | None = None, limit: int = 500) -> list[ConfirmationRequested]:
    now = now or datetime.now(UTC)
    rows = await pool.fetch(_OVERDUE, now - timedelta(days=cfg.mentor_reminder_after_days), limit)
    due = [r["mentor_id"] for r in rows
           if reminder_due(r["oldest"], r["reminded_at"], now, pending_days=cfg.mentor_reminder_after_days,
                           every_days=cfg.mentor_reminder_every_days)]
    events = []
    for mentor_id in due:
        async with pool.acquire() as conn, conn.transaction():
            # the row lock makes two workers agree: only the first reminds
            last = await conn.fetchval("SELECT reminded_at FROM mf_reminders WHERE mentor_id = $1 FOR UPDATE",
                                       mentor_id)
            if last is not None and now - last < timedelta(days=cfg.mentor_reminder_every_days):
                continue
            event = await link_request(conn, cfg, link_key, mentor_id, RequestPurpose.REMINDER, now)
            await conn.execute("INSERT INTO mf_reminders(mentor_id, reminded_at, request_id) VALUES ($1,$2,$3)"
                               " ON CONFLICT (mentor_id) DO UPDATE SET reminded_at = $2, request_id = $3",
                               mentor_id, now, event.request_id)
        events.append(event)
        REMINDERS.inc()
    return events


async def handle_link_requests(pool: asyncpg.Pool, cfg: MentorFeedbackSettings, link_key: bytes, *,
                               now: datetime | None = None) -> list[ConfirmationRequested]:
    """Turn the form's requests into fresh links: one per mentor per `fresh_link_every_s` (a form
    cannot be used to flood a mailbox); requests for unknown addresses are only marked handled."""
    now = now or datetime.now(UTC)
    events = []
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch("SELECT id, mentor_id FROM mf_link_requests WHERE handled_at IS NULL ORDER BY id"
                                " LIMIT 200 FOR UPDATE SKIP LOCKED")
        for mentor_id in dict.fromkeys(r["mentor_id"] for r in rows):
            if mentor_id is None:
                FRESH_LINKS.labels("unknown_address").inc()
                continue
            recent = await conn.fetchval(
                "SELECT 1 FROM mf_confirmation_requests WHERE mentor_id = $1 AND purpose = 'fresh_link'"
                " AND created_at > $2 LIMIT 1", mentor_id, now - timedelta(seconds=cfg.mentor_fresh_link_every_s))
            if recent:
                FRESH_LINKS.labels("too_soon").inc()
                continue
            events.append(await link_request(conn, cfg, link_key, mentor_id, RequestPurpose.FRESH_LINK, now))
            FRESH_LINKS.labels("sent").inc()
        if rows:
            await conn.execute("UPDATE mf_link_requests SET handled_at = $2 WHERE id = ANY($1::bigint[])",
                               [r["id"] for r in rows], now)
    return events
