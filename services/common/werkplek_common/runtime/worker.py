"""A worker process on the runtime: its database pool, a producer (for the outbox relays and DLQ
copies of reference data), its consumers, readers of reference data, relays and side tasks, each
supervised, plus health and metrics on the metrics port and the signals that stop it.

Supervision: every part runs in a loop that logs and counts an exception, reports not-ready and
starts the part again after a capped backoff (a consumer rejoins its group and reloads what it is
given). A part that fails `max_failures` times within `failure_window_s` ends the process with exit
code 1, for its supervisor (Kubernetes, `make run`) to restart: there is never a live process with a
dead consumer. The broker or the database may be down at start or go away later: the worker waits,
not ready, and logs the outage once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer, ConsumerRecord

from ..db import SessionLimits, create_pool
from ..kafka import new_producer, send_to_dlq
from ..lease import LEASE_S
from ..outbox import OutboxRelay
from ..shutdown import STEP_TIMEOUT_S, bounded
from . import health as health_mod
from . import metrics
from .backoff import Backoff
from .engine import Engine
from .faults import Outage
from .health import Health, Part
from .loop import sleep_unless_stopped, started
from .member import Member, Options
from .processor import Processor
from .store import Store
from .tables import GlobalTable

log = logging.getLogger(__name__)
Run = Callable[[asyncio.Event], Awaitable[None]]
CONNECT_TIMEOUT_S = 10.0  # one attempt to open the pool (asyncpg's own default is 60 s)
# Stopping: the parts within this (a consumer's last commit, then its client's stop: two bounded
# steps), then the producer and the pool within one more step: well inside Kubernetes' 30 s grace.
PARTS_STOP_S = 2 * STEP_TIMEOUT_S


@dataclass
class Supervised:
    name: str
    run: Run
    part: Part | None = None
    failures: list[float] = field(default_factory=list)


class Worker:
    def __init__(self, name: str, *, kafka_bootstrap: str, pg_dsn: str, metrics_port: int = 0,
                 metrics_host: str = "127.0.0.1", pool_size: int = 6, max_failures: int = 5,
                 failure_window_s: float = 300.0, limits: SessionLimits | None = None,
                 lease_s: float = LEASE_S) -> None:
        self.name, self.bootstrap, self.dsn, self.metrics_port = name, kafka_bootstrap, pg_dsn, metrics_port
        self.metrics_host = metrics_host  # the setting `metrics_host`: loopback locally, 0.0.0.0 in pods
        self.pool_size, self.max_failures, self.failure_window_s = pool_size, max_failures, failure_window_s
        # every session bounded (the settings' `pg_limits`): a paused holder cannot block the other replicas
        self.limits, self.lease_s = limits or SessionLimits(), lease_s  # lease_s: the relays' (`outbox_lease_s`)
        self.stop = asyncio.Event()
        self.health = Health()
        self.kafka = Outage("kafka", log)
        self.database = Outage("postgresql", log)
        self.pool: asyncpg.Pool | None = None
        self.producer: AIOKafkaProducer | None = None
        self._parts: list[Supervised] = []
        self._started: list[Callable[[], None]] = []

    # --- what the worker runs ---------------------------------------------------------------------

    def consumer(self, processor: Processor[Any], opts: Options, *, outbox_producer: str | None,
                 tables: Sequence[GlobalTable] = (), hot_keys: int = 10_000, chunk: int = 5_000,
                 engine: Callable[[Store], Engine[Any]] | None = None) -> None:
        """A processor in its consumer group. `engine` builds a custom engine (clock) from the store."""
        part = self.health.part(opts.group)
        holder: dict[str, Member] = {}

        async def run(stop: asyncio.Event) -> None:
            if "m" not in holder:
                assert self.pool is not None
                store = Store(self.pool, opts.group, processor, outbox_producer=outbox_producer)
                eng = engine(store) if engine else Engine(store, processor, hot_capacity=hot_keys, chunk=chunk)
                holder["m"] = Member(eng, processor.topics, opts, self.bootstrap, part, self.kafka, tables)
            await holder["m"].run(stop)

        self._parts.append(Supervised(opts.group, run, part))

    def table(self, table: GlobalTable) -> None:
        part = self.health.part(table.name)
        self._parts.append(Supervised(table.name, lambda stop: table.run(self.bootstrap, stop, self.kafka, part),
                                      part))

    def relay(self, outbox_producer: str) -> None:
        async def run(stop: asyncio.Event) -> None:
            assert self.pool is not None and self.producer is not None
            relay = OutboxRelay(self.pool, self.producer, outbox_producer, lease_s=self.lease_s)
            task = asyncio.create_task(relay.run())
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if task.done():
                await task  # raises what ended the relay
                return
            relay.stop()  # a batch in flight may wait for a broker that is gone: bounded
            if not await bounded(asyncio.shield(task), f"relay {outbox_producer} stop"):
                task.cancel()

        self._parts.append(Supervised(f"relay:{outbox_producer}", run))

    def task(self, name: str, run: Run) -> None:
        """A side task (a periodic job): supervised like the rest; `run` returns when `stop` is set."""
        self._parts.append(Supervised(name, run))

    async def dlq(self, rec: ConsumerRecord, exc: Exception) -> None:
        """Straight to the DLQ (for reference-data readers, which have no transaction)."""
        if self.producer is not None:
            await send_to_dlq(self.producer, rec, exc, self.name)

    # --- running ----------------------------------------------------------------------------------

    async def run(self, *, signals: bool = True) -> int:
        """Until SIGTERM/SIGINT or `stop` (0), or a part that keeps failing (1)."""
        if signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.stop.set)
        server = health_mod.serve(self.metrics_port, self.health, self.metrics_host) if self.metrics_port else None
        setup = self.health.part(f"{self.name}:connections")
        try:
            if not await self._connect(setup):
                return 0
            del self.health.parts[setup.name]  # connected: the parts report from here on
            tasks = [asyncio.create_task(self._supervise(p), name=p.name) for p in self._parts]
            deadline = asyncio.create_task(self._stop_within(tasks))
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            self.stop.set()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            deadline.cancel()
            # a part cancelled at the stop deadline is not a failure: only a part that kept failing is
            return 1 if any(isinstance(r, Exception) for r in results) else 0
        finally:
            await self._close()
            if server is not None:
                server.shutdown()

    async def _stop_within(self, tasks: Sequence[asyncio.Task[None]]) -> None:
        """Once stopping, the parts stop side by side within `PARTS_STOP_S`; a part still waiting then
        (for a broker that froze, its steps each bounded but several in a row) is cancelled. What it
        could not commit is replayed by the next start."""
        await self.stop.wait()
        _, late = await asyncio.wait(tasks, timeout=PARTS_STOP_S)
        for task in late:
            log.warning("a part did not stop in time; cancelled",
                        extra={"fields": {"part": task.get_name(), "seconds": PARTS_STOP_S}})
            task.cancel()

    async def _connect(self, part: Part) -> bool:
        """The pool and the producer, each waited for with backoff. False when stopped first."""
        backoff = Backoff()
        while self.pool is None and not self.stop.is_set():
            try:
                self.pool = await asyncio.wait_for(create_pool(self.dsn, min_size=1, max_size=self.pool_size,
                                                               limits=self.limits),
                                                   CONNECT_TIMEOUT_S)
                self.database.ok()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                self.database.failed(exc)
                part.not_ready("postgresql unreachable")
                await sleep_unless_stopped(self.stop, backoff.delay())
        self.producer = await started(lambda: new_producer(self.bootstrap, self.name, linger_ms=2), self.stop,
                                      self.kafka, part)
        return self.pool is not None and self.producer is not None

    async def _supervise(self, p: Supervised) -> None:
        backoff = Backoff(first=1.0, cap=30.0)
        while not self.stop.is_set():
            started_at = time.monotonic()
            try:
                await p.run(self.stop)
                if self.stop.is_set():
                    return
                raise RuntimeError(f"{p.name} returned without being stopped")
            except Exception as exc:
                if self.stop.is_set():
                    return
                self._failed(p, exc)
            if time.monotonic() - started_at > self.failure_window_s:
                backoff.reset()  # it ran fine for a while: this is a new episode
            await sleep_unless_stopped(self.stop, backoff.delay())

    def _failed(self, p: Supervised, exc: Exception) -> None:
        metrics.ERRORS.labels(p.name, type(exc).__name__).inc()
        now = time.monotonic()
        p.failures = [t for t in p.failures if now - t < self.failure_window_s] + [now]
        if len(p.failures) > self.max_failures:
            if p.part is not None:
                p.part.dead(f"{len(p.failures)} failures in {self.failure_window_s:.0f} s: {exc!r}")
            log.critical("a part keeps failing; ending the process for its supervisor to restart it",
                         exc_info=exc, extra={"fields": {"part": p.name, "failures": len(p.failures)}})
            raise exc
        if p.part is not None:
            p.part.not_ready(f"restarting after {type(exc).__name__}")
        log.error("a part failed; starting it again", exc_info=exc, extra={"fields": {"part": p.name}})

    async def _close(self) -> None:
        """The producer and the pool side by side, each bounded."""
        self.stop.set()

        async def close_pool(pool: asyncpg.Pool) -> None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pool.close(), STEP_TIMEOUT_S)

        await asyncio.gather(*([bounded(self.producer.stop(), "producer stop")] if self.producer is not None else []),
                             *([close_pool(self.pool)] if self.pool is not None else []))
