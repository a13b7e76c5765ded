"""A worker as a real subprocess that a test can kill -9 and start again (same consumer group, same
stored state), with its own group placed at the current end of its input topics so it skips what
earlier tests left on the shared broker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from types import TracebackType

import asyncpg
import httpx
from aiokafka import TopicPartition
from werkplek_common.settings import REPO_ROOT, CommonSettings

from tests.support import dsn_of, start_groups_at_end

TAIL_CHARS = 4000


CaughtUp = Callable[[dict[TopicPartition, int]], Awaitable[bool]]


class Worker:
    """`caught_up(ends)`: has the worker committed its inputs up to `ends` (its own bookkeeping)."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], log: Path, *, bootstrap: str = "",
                 inputs: Sequence[str] = (), caught_up: CaughtUp | None = None) -> None:
        self.argv, self.env, self.log = list(argv), env, log
        self.bootstrap, self.inputs = bootstrap, list(inputs)
        self.caught_up = caught_up or self._unknown
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    async def _unknown(self, ends: dict[TopicPartition, int]) -> bool:
        raise AssertionError("this worker was given no way to tell how far it got")

    def ready(self, port: int) -> bool:
        """Its /readyz answers 200 (assertion: it is running)."""
        assert self.proc is not None and self.proc.poll() is None, f"not running:\n{self.output()}"
        try:
            return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def start(self) -> Worker:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n----- start {self.starts}\n".encode())
            out.flush()
            self.proc = subprocess.Popen([sys.executable, "-m", *self.argv], cwd=REPO_ROOT,
                                         env={**os.environ, **self.env}, stdout=out, stderr=subprocess.STDOUT)
        return self

    def kill9(self) -> None:
        assert self.proc is not None and self.proc.poll() is None, f"not running:\n{self.output()}"
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def output(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-TAIL_CHARS:]

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


async def progress_worker(stack: CommonSettings, log_dir: Path) -> Worker:
    """The outcome-progress worker with a consumer group and an outbox producer of its own, started
    at the end of its inputs."""
    from werkplek_mentor_feedback.progress_worker import CONSUMED

    app_id = f"test-progress-{uuid.uuid4().hex[:8]}"
    await start_groups_at_end(stack.kafka_bootstrap, [app_id], CONSUMED)
    env = {"WERKPLEK_PROGRESS_CONSUMER_GROUP": app_id, "WERKPLEK_PROGRESS_OUTBOX_PRODUCER": app_id,
           "WERKPLEK_METRICS_PORT": "0", "WERKPLEK_LOG_JSON": "false", "WERKPLEK_LOG_LEVEL": "WARNING"}
    return Worker(["werkplek_mentor_feedback", "progress"], env, log_dir / f"{app_id}.log",
                  bootstrap=stack.kafka_bootstrap, inputs=list(CONSUMED),
                  caught_up=lambda ends: stored_offsets_reach(dsn_of(stack, "mentor_feedback"), app_id, ends))


async def stored_offsets_reach(dsn: str, group: str, ends: dict[TopicPartition, int]) -> bool:
    """The runtime's stored offsets of `group` (its truth, committed with its state) have reached `ends`."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT topic, partition, next_offset FROM runtime_offsets WHERE consumer_group = $1",
                                group)
    finally:
        await conn.close()
    stored = {TopicPartition(r["topic"], r["partition"]): r["next_offset"] for r in rows}
    return all(stored.get(tp, 0) >= end for tp, end in ends.items())
