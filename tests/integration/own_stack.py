"""A stack of its own (Kafka + PostgreSQL, topics and migrations) in its own data folder on free
ports, for tests that stop, kill or break parts of it: the shared test stack is left alone."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from werkplek_common.settings import REPO_ROOT

from tests.support import wait_until

INFRA = REPO_ROOT / "infra"


def free_port(taken: frozenset[int] = frozenset()) -> int:
    """A free port below the ephemeral range (32768+), where the kernel's own client ports cannot
    take it between this check and the broker's bind; none of `taken`."""
    while True:
        port = random.randint(20000, 32000)
        if port in taken:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def free_ports(n: int) -> list[int]:
    """`n` different free ports. Drawn one by one, two draws can give the same port (nothing is bound
    between them): a stack once got its broker and controller listeners on one port, and Kafka refused
    to format its storage."""
    ports: list[int] = []
    while len(ports) < n:
        ports.append(free_port(frozenset(ports)))
    return ports


def alive(pid: int) -> bool:
    """Running, not a zombie: a daemon whose parent exited waits for pid 1 to reap it, and a
    container's pid 1 may never do so."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class OwnStack:
    def __init__(self, name: str) -> None:
        self.data = REPO_ROOT / ".data" / f"{name}-{uuid.uuid4().hex[:8]}"
        kafka, ctrl, pg, kafka_metrics, smtp, mail_http = free_ports(6)
        env = {**os.environ, "WERKPLEK_DATA": str(self.data), "WERKPLEK_KAFKA_PORT": str(kafka),
               "WERKPLEK_KAFKA_CONTROLLER_PORT": str(ctrl), "WERKPLEK_PG_PORT": str(pg),
               "WERKPLEK_KAFKA_METRICS_PORT": str(kafka_metrics),
               "WERKPLEK_MAILPIT_SMTP_PORT": str(smtp), "WERKPLEK_MAILPIT_HTTP_PORT": str(mail_http)}
        for var in ("WERKPLEK_KAFKA_BOOTSTRAP", "WERKPLEK_PG_DSN", "WERKPLEK_MENTOR_SMTP_PORT"):
            env.pop(var, None)
        self.script_env = env  # the scripts derive the addresses from the ports
        self.env = {**env, "WERKPLEK_KAFKA_BOOTSTRAP": f"127.0.0.1:{kafka}",  # what services are given
                    "WERKPLEK_PG_DSN": f"postgresql://werkplek@127.0.0.1:{pg}/werkplek"}

    def run(self, script: str, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", str(INFRA / script), *args], env=self.script_env, capture_output=True,
                              text=True, timeout=timeout)

    def kafka(self, action: str) -> None:
        result = self.run("kafka/kafka.sh", action)
        assert result.returncode == 0, result.stderr

    def kafka_pid(self) -> int:
        return int((self.data / "kafka" / "kafka.pid").read_text().split()[0])

    def kill_kafka(self) -> None:
        """kill -9 the broker and wait until it is gone."""
        pid = self.kafka_pid()
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not alive(pid), timeout=30, what=f"broker {pid} gone after kill -9")

    def down(self) -> None:
        self.run("down.sh")
        self.run("postgres/postgres.sh", "wipe")
        subprocess.run(["rm", "-rf", str(self.data)], check=False)

    @classmethod
    @contextmanager
    def up(cls, name: str) -> Iterator[OwnStack]:
        stack = cls(name)
        try:
            result = stack.run("up.sh")
            assert result.returncode == 0, result.stderr
            yield stack
        finally:
            stack.down()
