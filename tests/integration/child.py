"""A test's helper process (`python -m <module> <args>`, run from the repository root) with its own log
file and a metrics port: started at once, read, frozen and resumed with signals, stopped cleanly. The
replica tests (relay leases, runtime fencing) run their members as these."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx
from werkplek_common.settings import REPO_ROOT

from tests.e2e.stack import free_port


class Child:
    def __init__(self, module: str, args: Sequence[str], log: Path, env: dict[str, str],
                 port: int | None = None) -> None:
        self.port, self.log = port or free_port(), log
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", module, *args], cwd=REPO_ROOT,
                                         env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def signal(self, sig: signal.Signals) -> None:
        os.kill(self.pid, sig)

    def stopped(self) -> bool:
        """Frozen by a SIGSTOP (state T in /proc)."""
        return Path(f"/proc/{self.pid}/stat").read_text().split(") ", 1)[1].startswith("T")

    def ready(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def counter(self, name: str) -> float:
        """The sum of a counter's series on this process's /metrics."""
        body = httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=5).text
        return sum(float(v) for v in re.findall(rf"^{name}\{{[^}}]*\}} (\S+)$", body, re.M))

    def stop(self, timeout: float = 30) -> int:
        """Resumed if frozen, then SIGTERM; killed if it does not exit in `timeout`. Its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait(10)
