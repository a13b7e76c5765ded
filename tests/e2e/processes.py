"""Service processes for the end-to-end tests (and Prometheus with an exporter, for the live dashboard
test): started with `subprocess.Popen` from the repository root, each logging to its own file; ready
when a probe says so (polled with a deadline); stopped with SIGTERM, then SIGKILL after a deadline, so
no process outlives the tests."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from werkplek_common.settings import REPO_ROOT

Probe = Callable[["ServiceProcess"], Awaitable[bool]]
POLL_S = 0.1  # the deadline, not this, bounds every wait
TAIL_CHARS = 6000  # of each log, shown when a test fails
PR_SET_PDEATHSIG = 1  # prctl option, from <linux/prctl.h>


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGTERM when the test process dies, even by SIGKILL, so a
    killed test run leaves no service behind."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class ServiceProcess:
    name: str
    argv: Sequence[str]  # arguments of `python -m`
    env: dict[str, str]  # overrides of os.environ
    ready: Probe
    log_path: Path
    program: tuple[str, ...] = ()  # an executable to run argv with; none: `python -m argv`
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            command = [*self.program, *self.argv] if self.program else [sys.executable, "-m", *self.argv]
            self.proc = subprocess.Popen(command, cwd=REPO_ROOT,
                                         env={**os.environ, **self.env}, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)

    def exited(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self) -> str:
        text = self.log_text()
        return text if len(text) <= TAIL_CHARS else "…" + text[-TAIL_CHARS:]

    def stop_signal(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


async def wait_ready(services: Sequence[ServiceProcess], timeout: float) -> dict[str, float]:
    """Poll every probe until all are ready; fail at the deadline or as soon as one process exits.
    Returns the seconds each took, measured from this call."""
    started = time.monotonic()
    took: dict[str, float] = {}
    while len(took) < len(services):
        for s in services:
            if s.name in took:
                continue
            if s.exited() is not None:
                raise AssertionError(f"{s.name} exited with code {s.exited()} before it was ready; log:\n{s.tail()}")
            if await s.ready(s):
                took[s.name] = round(time.monotonic() - started, 2)
        if time.monotonic() - started > timeout:
            late = "\n".join(f"--- {s.name}:\n{s.tail()}" for s in services if s.name not in took)
            raise AssertionError(f"not ready within {timeout}s (ready: {took}); logs of the others:\n{late}")
        await asyncio.sleep(POLL_S)
    return took


def stop_all(services: Sequence[ServiceProcess], timeout: float = 20.0) -> dict[str, int | None]:
    """SIGTERM to all at once, wait for all with one deadline, then SIGKILL the rest. Exit codes."""
    for s in services:
        s.stop_signal()
    deadline = time.monotonic() + timeout
    for s in services:
        if s.proc is None:
            continue
        try:
            s.proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            s.kill()
    return {s.name: s.exited() for s in services}
