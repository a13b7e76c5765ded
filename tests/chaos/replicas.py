"""The processes of a chaos run: each service replica started as `python -m` from the repository root
with a log of its own (appended across restarts), and the faults done to them: SIGSTOP / SIGCONT,
SIGKILL and a restart. The fleet restarts a replica that exits by itself, as Kubernetes would, and
counts it: a worker that ends on a fatal error is expected to be restarted by its supervisor."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from werkplek_common.settings import REPO_ROOT

from tests.e2e.processes import _die_with_parent
from tests.integration.own_stack import free_ports

from .procfile import Service, port_fields

SUPERVISE_EVERY_S = 1.0


@dataclass
class Replica:
    service: Service
    index: int
    env: dict[str, str]
    log_path: Path
    ports: dict[str, int] = field(default_factory=dict)  # setting -> port of this process
    proc: subprocess.Popen[bytes] | None = None
    paused: bool = False
    expected_down: bool = False  # killed on purpose (restart pending) or stopped at the end
    restarts: int = 0
    exits: list[int] = field(default_factory=list)  # exit codes of ends nobody asked for

    @property
    def name(self) -> str:
        return f"{self.service.name}-{self.index}"

    def start(self) -> None:
        fields = port_fields(self.service.package)
        self.ports = dict(zip(fields, free_ports(len(fields)), strict=True))
        env = {**os.environ, **self.service.env, **self.env,
               **{f"WERKPLEK_{f.upper()}": str(p) for f, p in self.ports.items()}}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"\n=== start {time.strftime('%H:%M:%S')} ===\n".encode())
            log.flush()
            self.proc = subprocess.Popen([sys.executable, "-m", self.service.module, *self.service.args],
                                         cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        self.paused = self.expected_down = False

    def exited(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def pause(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)
        self.paused = False

    def kill(self) -> None:
        assert self.proc is not None
        self.expected_down = True
        self.proc.kill()
        self.proc.wait(10)

    def stop(self, timeout: float = 20.0) -> int | None:
        if self.proc is None:
            return None
        self.expected_down = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def count(self, text: str) -> int:
        return self.log_text().count(text)


@dataclass
class Fleet:
    replicas: list[Replica]

    def of(self, service: str) -> list[Replica]:
        return [r for r in self.replicas if r.service.name == service]

    def start(self) -> None:
        for r in self.replicas:
            r.start()

    async def supervise(self, stop: asyncio.Event) -> None:
        """Restart every replica that ended without being asked to, until `stop`."""
        while not stop.is_set():
            for r in self.replicas:
                code = r.exited()
                if code is not None and not r.expected_down:
                    r.exits.append(code)
                    r.restarts += 1
                    r.start()
            try:
                await asyncio.wait_for(stop.wait(), SUPERVISE_EVERY_S)
            except TimeoutError:
                pass

    def stop(self) -> dict[str, int | None]:
        for r in self.replicas:
            if r.proc is not None and r.proc.poll() is None:
                r.expected_down = True
                r.proc.send_signal(signal.SIGCONT)
                r.proc.terminate()
        return {r.name: r.stop() for r in self.replicas}
