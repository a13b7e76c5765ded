"""Every long-running worker stops on SIGTERM within seconds, also when its broker stopped answering.

aiokafka waits for a broker that does not answer without a bound (a group member's fetch while it
joins or rejoins its group, leaving the group, a final offset commit); Kubernetes would kill the
pod after its grace period, and `make run` would hang on Ctrl-C. The workers bound those waits
(werkplek_common.shutdown, werkplek_common.runtime). Each runs here against a stack of
its own whose broker is frozen (SIGSTOP: connections stay open, nothing answers) at the moment a
group member starts joining its group, the state that used to hang."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkplek_common.settings import REPO_ROOT

from tests.integration.own_stack import OwnStack
from tests.support import wait_until

EXIT_WITHIN_S = 20.0  # every step of a stop is bounded (5 s, werkplek_common.shutdown), the parts stop side by side
JOINING = r"joining the consumer group"  # a group member is about to join its group
WORKERS = {  # command -> the log line after which its broker is frozen (log level INFO)
    "werkplek_hour_accounting worker": JOINING,
    "werkplek_placement_logging worker": JOINING,
    "werkplek_mentor_feedback worker": JOINING,
    "werkplek_mentor_feedback notifier": JOINING,
    "werkplek_mentor_feedback progress": JOINING,
    "werkplek_funding_reports worker": r"partitions assigned",  # both stages are group members: once one owns work
}


@pytest.fixture(scope="module")
def own() -> Iterator[OwnStack]:
    with OwnStack.up("shutdown") as stack:
        yield stack


def _wait_for(path: Path, pattern: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    def logged() -> bool:
        if re.search(pattern, path.read_text(errors="replace")):
            return True
        assert proc.poll() is None, "the worker exited early"
        return False

    try:
        wait_until(logged, timeout=timeout, what=f"{pattern!r} in the log")
    except AssertionError as exc:
        raise AssertionError(f"{exc}:\n{path.read_text(errors='replace')[-3000:]}") from None


@pytest.mark.parametrize("command", list(WORKERS))
def test_sigterm_stops_the_worker_after_its_broker_died(own: OwnStack, command: str, tmp_path: Path) -> None:
    own.kafka("up")
    log = tmp_path / "worker.log"
    env = {**own.env, "WERKPLEK_LOG_LEVEL": "INFO", "WERKPLEK_LOG_JSON": "false", "WERKPLEK_METRICS_PORT": "0"}
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", *command.split()], env=env, cwd=REPO_ROOT, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        _wait_for(log, WORKERS[command], proc, timeout=90)
        os.kill(own.kafka_pid(), signal.SIGSTOP)
        started = time.monotonic()
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(EXIT_WITHIN_S)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{command} still runs {EXIT_WITHIN_S} s after SIGTERM:\n"
                                 f"{log.read_text(errors='replace')[-2000:]}") from None
        assert time.monotonic() - started < EXIT_WITHIN_S
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        own.kill_kafka()  # SIGKILL ends a stopped process too; the next case starts a fresh broker
