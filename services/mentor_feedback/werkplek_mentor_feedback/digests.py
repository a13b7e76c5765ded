"""The coordinators' daily digest: once the local digest hour has come, yesterday's crossings into
at risk / behind become one mail per institution (only its own students), formed once per
institution and day (`mf_digests`), however often the loop runs or the notifier restarts."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

import asyncpg

from .config import MentorFeedbackSettings
from .metrics import DIGESTS
from .notifications import queue
from .notify import RiskChange, crossed, digest_day, digest_mail

log = logging.getLogger(__name__)

_CHANGES = """
SELECT p.institution_id, r.student_id, p.name AS programme, r.status, r.worsened, r.real_share, r.occurred_at
FROM mf_risk_changes r JOIN mf_programmes p USING (programme_id)
WHERE r.occurred_at >= $1 AND r.occurred_at < $2 AND r.worsened
"""


async def form_digests(pool: asyncpg.Pool, cfg: MentorFeedbackSettings, day: date) -> dict[str, int]:
    """Form the digests of `day` not formed yet; returns the students listed per institution formed now."""
    tz = cfg.mentor_tz
    start = datetime.combine(day, time(), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)
    per_institution: dict[str, list[RiskChange]] = defaultdict(list)
    for r in await pool.fetch(_CHANGES, start, end):
        per_institution[r["institution_id"]].append(
            RiskChange(r["student_id"], r["programme"], r["status"], r["worsened"], r["real_share"], r["occurred_at"]))
    formed = {}
    for institution, changes in sorted(per_institution.items()):
        lines = crossed(changes, day, tz)
        mail = digest_mail(institution, day, lines)
        async with pool.acquire() as conn, conn.transaction():
            new = await conn.fetchval("INSERT INTO mf_digests(institution_id, day, students, mail_id)"
                                      " VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING RETURNING true", institution, day,
                                      len(lines), mail.mail_id if mail else None)
            if new and mail is not None:
                await queue(conn, mail)
        if new:
            formed[institution] = len(lines)
            DIGESTS.labels("mailed" if mail else "empty").inc()
    return formed


async def run_digests(pool: asyncpg.Pool, cfg: MentorFeedbackSettings, stop: asyncio.Event) -> None:
    while not stop.is_set():
        day = digest_day(datetime.now(UTC), cfg.mentor_tz, cfg.mentor_digest_hour)
        if day is not None:
            try:
                formed = await form_digests(pool, cfg, day)
                if formed:
                    log.info("digests formed", extra={"fields": {"day": day.isoformat(), "institutions": len(formed)}})
            except (asyncpg.PostgresError, OSError) as exc:
                log.warning("digests not formed; will retry", extra={"fields": {"error": repr(exc)}})
        try:
            await asyncio.wait_for(stop.wait(), cfg.mentor_digest_poll_s)
        except TimeoutError:
            pass
