"""Outbound webhooks to mentors' tools: each due delivery is POSTed with Standard Webhooks headers
(fresh timestamp per attempt, one signature per secret of the source). 2xx delivers; 410 Gone
disables the source's endpoint and its pending deliveries; anything else is retried with exponential
backoff and jitter, or after Retry-After when the receiver asks; every attempt is recorded."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from . import store
from .batching import backoff_delay, retry_after_s
from .config import MentorFeedbackSettings
from .metrics import OUTBOUND
from .signing import signed_headers

log = logging.getLogger(__name__)

_CLAIM = """
UPDATE mf_outbound_deliveries d SET next_attempt_at = $2 + make_interval(secs => $3)
FROM mf_sources s
WHERE d.delivery_id IN (SELECT delivery_id FROM mf_outbound_deliveries WHERE state = 'pending'
                        AND next_attempt_at <= $2 ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
  AND s.source_id = d.source_id
RETURNING d.delivery_id, d.source_id, d.payload, d.attempts, s.endpoint_url, s.endpoint_disabled_at
"""


@dataclass(frozen=True)
class Outcome:
    result: str  # delivered / retry / failed / disabled
    status_code: int | None
    error: str | None
    next_attempt_at: datetime | None


class Deliverer:
    def __init__(self, pool: asyncpg.Pool, cfg: MentorFeedbackSettings, client: httpx.AsyncClient, *,
                 clock: Callable[[], float] = time.time, rand: Callable[[], float] | None = None) -> None:
        self.pool, self.cfg, self.client, self.clock = pool, cfg, client, clock
        self.rand = rand

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                sent = await self.deliver_due()
            except (asyncpg.PostgresError, OSError) as exc:
                log.warning("outbound deliveries paused", extra={"fields": {"error": repr(exc)}})
                sent = 0
            if not sent:
                try:
                    await asyncio.wait_for(stop.wait(), self.cfg.mentor_outbound_poll_s)
                except TimeoutError:
                    pass

    async def deliver_due(self, limit: int = 20) -> int:
        """Attempt every due delivery once (claimed with a lease, so a crash only delays a retry)."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        rows = await self.pool.fetch(_CLAIM, limit, now, self.cfg.mentor_outbound_timeout_s * 3)
        await asyncio.gather(*(self._attempt(r) for r in rows))
        return len(rows)

    async def _attempt(self, row: asyncpg.Record) -> None:
        attempt = row["attempts"] + 1
        started, at = time.perf_counter(), datetime.fromtimestamp(self.clock(), UTC)
        if row["endpoint_disabled_at"] is not None or not row["endpoint_url"]:
            outcome = Outcome("disabled", None, "endpoint disabled", None)
        else:
            outcome = await self._post(row, attempt, at)
        await self._record(row["delivery_id"], row["source_id"], attempt, at, outcome,
                           int((time.perf_counter() - started) * 1000))
        OUTBOUND.labels(outcome.result).inc()

    async def _post(self, row: asyncpg.Record, attempt: int, at: datetime) -> Outcome:
        secrets_ = await store.source_secrets(self.pool, row["source_id"], at)
        headers = {**signed_headers(secrets_, row["delivery_id"], int(at.timestamp()), row["payload"]),
                   "content-type": "application/json"}
        try:
            resp = await self.client.post(row["endpoint_url"], content=row["payload"], headers=headers,
                                          timeout=self.cfg.mentor_outbound_timeout_s)
        except httpx.HTTPError as exc:
            return self._retry(attempt, at, None, f"{type(exc).__name__}: {exc}", None)
        if 200 <= resp.status_code < 300:
            return Outcome("delivered", resp.status_code, None, None)
        if resp.status_code == 410:
            return Outcome("disabled", 410, "endpoint answered 410 Gone", None)
        return self._retry(attempt, at, resp.status_code, f"HTTP {resp.status_code}", resp.headers.get("retry-after"))

    def _retry(self, attempt: int, at: datetime, status: int | None, error: str, retry_after: str | None) -> Outcome:
        if attempt >= self.cfg.mentor_outbound_max_attempts:
            return Outcome("failed", status, error, None)
        cap = self.cfg.mentor_outbound_max_delay_s
        delay = retry_after_s(retry_after, now=at, cap_s=cap)
        if delay is None:
            kw = {"rand": self.rand} if self.rand else {}
            delay = backoff_delay(attempt, base_s=self.cfg.mentor_outbound_base_delay_s, cap_s=cap, **kw)
        return Outcome("retry", status, error, at + timedelta(seconds=delay))

    async def _record(self, delivery_id: str, source_id: str, attempt: int, at: datetime, o: Outcome,
                      ms: int) -> None:
        state = {"delivered": "delivered", "failed": "failed", "disabled": "disabled"}.get(o.result, "pending")
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO mf_outbound_attempts(delivery_id, attempt, attempted_at, status_code, error, duration_ms,"
                " result, next_attempt_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
                delivery_id, attempt, at, o.status_code, o.error, ms, o.result, o.next_attempt_at)
            await conn.execute("UPDATE mf_outbound_deliveries SET attempts = $2, state = $3,"
                               " next_attempt_at = COALESCE($4, next_attempt_at) WHERE delivery_id = $1",
                               delivery_id, attempt, state, o.next_attempt_at)
            if o.status_code == 410:
                await conn.execute("UPDATE mf_sources SET endpoint_disabled_at = $2 WHERE source_id = $1"
                                   " AND endpoint_disabled_at IS NULL", source_id, at)
