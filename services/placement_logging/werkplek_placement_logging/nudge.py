"""Waking the outbox relay without a NOTIFY in every transaction.

A NOTIFY makes PostgreSQL take a database-wide lock from the commit's start to its end, WAL flush
included: every notifying commit waits for the one before it (no group commit), and it cost about a
tenth of PostgreSQL's CPU per logged entry. The relay only needs to be woken after new rows are
committed, so an API process notifies at most once per `interval`: the first transaction of an
interval carries the NOTIFY (delivered at its commit). A transaction that committed events without
one is covered by the next notifying transaction whose COMMIT is sent after it; if none comes
within two intervals (the load stopped), a single NOTIFY of its own follows. So every committed
event is followed by a NOTIFY within two intervals (20 ms by default), and the relay's idle poll
stays the backstop. Under steady load no NOTIFY needs a transaction of its own: each of those was
a commit with a WAL flush (a NOTIFY takes a transaction id), 100 a second per process when the
trailing NOTIFY was sent every interval. interval 0: every transaction notifies."""

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
        self._owed = float("-inf")  # when a commit without a NOTIFY was last reported
        self._paid = float("-inf")  # every commit reported before this is followed by a NOTIFY
        self._pending: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def claim(self) -> bool:
        """Whether the transaction about to write events carries the NOTIFY itself."""
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            return True
        return False

    def notified(self, commit_sent: float) -> None:
        """A transaction that carried the NOTIFY committed; its COMMIT was sent at `commit_sent`
        (time.monotonic), after every commit reported before then, so its NOTIFY covers them."""
        self._paid = max(self._paid, commit_sent)

    def committed_without(self) -> None:
        """Events were committed without a NOTIFY: make sure one follows within two intervals."""
        self._owed = time.monotonic()
        if self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(2 * self.interval, self._fire)

    def _fire(self) -> None:
        self._pending = None
        if self._owed < self._paid:
            return  # a notifying transaction committed after them
        self._last = self._paid = time.monotonic()
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
