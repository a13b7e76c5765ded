"""Leases in PostgreSQL (table `leases`): one holder at a time for a job that must have a single owner
among the replicas, such as the outbox relay of a producer.

A lease expires `ttl_s` after its last renewal unless renewed, on the database's clock; the holder
renews it every `ttl_s / 5` while it is alive, and a free or expired lease is taken by the first
replica that asks (they ask every `poll_s`). So a holder that is paused (SIGSTOP, a long GC), cut off
or dead loses it within `ttl_s`, and another replica holds it a moment later.

What a holder may do depends on `valid()`: true only while the last successful renewal started less
than `ttl_s - margin` ago on this process's monotonic clock. A renewal's expiry is counted on the
database from a moment after the renewal started here, so once `valid()` is false the lease may have
moved, and before that it cannot have: a holder that checks `valid()` right before each step never
overlaps with the next holder except for a step it had already begun. A holder that resumes after a
pause finds `valid()` false at once (the monotonic clock ran on) and its renewal refused (`token`
moved on), and stops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable

import asyncpg

from .metrics import LEASE_LOSSES, LEASE_TAKEN, LEASES_HELD

log = logging.getLogger(__name__)
LEASE_S = 10.0  # the default time to live of a lease: how long a paused holder keeps the others waiting

_TAKE = """
INSERT INTO leases AS l (name, holder, token, acquired_at, expires_at)
VALUES ($1, $2, 1, clock_timestamp(), clock_timestamp() + make_interval(secs => $3))
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = l.token + 1,
  acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
WHERE l.expires_at <= clock_timestamp() OR l.holder = excluded.holder
RETURNING token
"""
_RENEW = ("UPDATE leases SET expires_at = clock_timestamp() + make_interval(secs => $4)"
          " WHERE name = $1 AND holder = $2 AND token = $3")
_RELEASE = "UPDATE leases SET expires_at = clock_timestamp() WHERE name = $1 AND holder = $2 AND token = $3"


def holder_id() -> str:
    """Who holds a lease, as an operator reads it in the table: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class Lease:
    def __init__(self, pool: asyncpg.Pool, name: str, *, ttl_s: float = LEASE_S, poll_s: float | None = None,
                 holder: str | None = None) -> None:
        self.pool, self.name, self.ttl_s = pool, name, ttl_s
        self.poll_s = poll_s if poll_s is not None else min(1.0, ttl_s / 5)
        self.holder = holder or holder_id()
        self.token: int | None = None  # of the current holding; None: not held
        self._valid_until = 0.0  # monotonic
        for series in (LEASES_HELD.labels(name), LEASE_TAKEN.labels(name), LEASE_LOSSES.labels(name)):
            series.inc(0)  # each lease's series exists from the start, at 0 (dashboards, alerts)

    def valid(self, margin_s: float | None = None) -> bool:
        """Held, for at least `margin_s` more (default: half the time to live)."""
        margin = self.ttl_s / 2 if margin_s is None else margin_s
        return self.token is not None and time.monotonic() < self._valid_until - margin

    async def take(self) -> bool:
        """Take the lease if it is free or expired (or already this holder's). True when held now."""
        started = time.monotonic()
        token = await self.pool.fetchval(_TAKE, self.name, self.holder, self.ttl_s)
        if token is None:
            return False
        self.token, self._valid_until = token, started + self.ttl_s
        LEASES_HELD.labels(self.name).set(1)
        LEASE_TAKEN.labels(self.name).inc()
        log.info("lease taken", extra={"fields": {"lease": self.name, "holder": self.holder, "token": token}})
        return True

    async def renew(self) -> bool:
        """Extend the holding. False when it was lost: another replica took it since."""
        if self.token is None:
            return False
        started = time.monotonic()
        status = await self.pool.execute(_RENEW, self.name, self.holder, self.token, self.ttl_s)
        if status.endswith(" 1"):
            self._valid_until = started + self.ttl_s
            return True
        self._lost()
        return False

    def _lost(self) -> None:
        log.warning("lease lost: another replica holds it now", extra={"fields": {
            "lease": self.name, "holder": self.holder, "token": self.token}})
        self.token, self._valid_until = None, 0.0
        LEASES_HELD.labels(self.name).set(0)
        LEASE_LOSSES.labels(self.name).inc()

    async def release(self) -> None:
        """Let it expire now (a clean stop), so another replica takes over without waiting."""
        if self.token is not None:
            token, self.token, self._valid_until = self.token, None, 0.0
            LEASES_HELD.labels(self.name).set(0)
            await self.pool.execute(_RELEASE, self.name, self.holder, token)

    async def keep(self, stop: asyncio.Event, on_change: Callable[[], None] = lambda: None) -> None:
        """Until `stop`: take the lease whenever it is free, renew it while held. `on_change` is called
        whenever it is taken or lost. A database error is logged and retried; meanwhile `valid()`
        runs out by itself."""
        while not stop.is_set():
            held = self.token is not None
            try:
                now = await (self.renew() if held else self.take())
                if now != held:
                    on_change()
            except Exception as exc:  # the database is unreachable, say: the keeper itself must not die
                log.warning("lease not renewed; retrying", extra={"fields": {"lease": self.name, "error": repr(exc)}})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.ttl_s / 5 if self.token is not None else self.poll_s)
