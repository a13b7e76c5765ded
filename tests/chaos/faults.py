"""The faults of a chaos run, at fixed points of the workload (the share of its entries accepted so
far), so that two runs meet the same ones: for every worker, one replica paused with SIGSTOP for
`pause_s` (longer than any session timeout) and resumed, another killed with SIGKILL and started again;
and once the broker stopped and started again (a restart; a kill -9 of the broker is
tests/integration's business). With one replica, both faults hit that replica."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .replicas import Fleet

KILLED_FOR_S = 2.0  # a killed replica is started again after this (Kubernetes restarts at once)
BROKER_DOWN_S = 5.0
BROKER_START_S = 900.0  # a broker loading its partitions on a busy machine takes minutes


@dataclass
class Fault:
    at: float  # share of the entries accepted
    action: str  # pause / kill / broker
    target: str  # the service (the Procfile name), or "kafka"
    replica: int = 0
    started: float | None = None  # monotonic
    ended: float | None = None


def schedule(workers: list[str], replicas: int) -> list[Fault]:
    """Pauses and kills spread over the first 80% of the workload, the broker restart at 85%."""
    faults = []
    for k, name in enumerate(workers):
        offset = 0.6 * k / max(1, len(workers))
        faults += [Fault(0.10 + offset, "pause", name, 0), Fault(0.15 + offset, "kill", name, 1 % replicas)]
    return [*sorted(faults, key=lambda f: f.at), Fault(0.85, "broker", "kafka")]


@dataclass
class Chaos:
    fleet: Fleet
    faults: list[Fault]
    restart_broker: Callable[[], Awaitable[None]]
    pause_s: float
    on_failure: Callable[[], None] = lambda: None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def reached(self, share: float) -> None:
        """Called as the workload progresses: starts every fault whose point has been reached."""
        for fault in self.faults:
            if fault.started is None and share >= fault.at:
                fault.started = time.monotonic()
                self.tasks.append(asyncio.create_task(self._do(fault)))

    async def _do(self, fault: Fault) -> None:
        try:
            await self._act(fault)
        except BaseException as exc:  # a fault that could not be done (the broker did not start): say so
            self.failed.append(f"{fault.action} {fault.target}: {exc!r}")
            self.on_failure()
            raise

    async def _act(self, fault: Fault) -> None:
        if fault.action == "broker":
            await self.restart_broker()
        else:
            replica = self.fleet.of(fault.target)[fault.replica]
            if fault.action == "pause":
                replica.pause()
                await asyncio.sleep(self.pause_s)
                replica.resume()
            else:
                replica.kill()
                await asyncio.sleep(KILLED_FOR_S)
                replica.start()
        fault.ended = time.monotonic()

    async def finish(self) -> None:
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def figures(self, t0: float) -> list[dict[str, Any]]:
        return [{"at": f.at, "action": f.action, "target": f.target, "replica": f.replica,
                 "started_s": None if f.started is None else round(f.started - t0, 1),
                 "took_s": None if f.ended is None or f.started is None else round(f.ended - f.started, 1)}
                for f in self.faults]
