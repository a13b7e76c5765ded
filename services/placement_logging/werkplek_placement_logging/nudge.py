"""Waking the outbox relay without a NOTIFY in every transaction.

A NOTIFY makes PostgreSQL take a database-wide lock from the commit's start to its end, WAL flush
included: every notifying commit waits for the one before it (no group commit), and it cost about a
tenth of PostgreSQL's CPU per logged entry. The relay only needs to be woken after new rows are
committed, so an API process notifies at most once per `interval`: the first transaction of an
interval carries the NOTIFY (delivered at its commit); a transaction that committed events without
one schedules a single NOTIFY at the end of the interval, sent after that commit. So every
committed event is followed by a NOTIFY within `interval` (10 ms by default), and the relay's idle
poll stays the backstop. interval 0: every transaction notifies, as before."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from werkplek_common.outbox import CHANNEL

log = logging.getLogger(__name__)


class RelayNudge:
    def __init__(self, pool: Any, producer: str, interval: float) -> None:
        self.pool, self.producer, self.interval = pool, producer, interval
        self._last = float("-inf")  # when a NOTIFY was last claimed or sent
        self._pending: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def claim(self) -> bool:
        """Whether the transaction about to write events carries the NOTIFY itself."""
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            return True
        return False

    def committed_without(self) -> None:
        """Events were committed without a NOTIFY: make sure one follows within the interval."""
        if self._pending is None:
            delay = max(0.0, self._last + self.interval - time.monotonic())
            self._pending = asyncio.get_running_loop().call_later(delay, self._fire)

    def _fire(self) -> None:
        self._pending = None
        self._last = time.monotonic()
        task = asyncio.create_task(self._notify())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _notify(self) -> None:
        with contextlib.suppress(Exception):  # the relay's idle poll picks the rows up anyway
            await self.pool.execute("SELECT pg_notify($1, $2)", CHANNEL, self.producer)

    def close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
