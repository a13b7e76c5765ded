"""The stack scripts: `infra-up` twice is harmless, `infra-down` leaves no process behind, and a
taken port or an old Java stops the script with a message naming cause and fix."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest
from werkplek_common.settings import REPO_ROOT

from tests.integration.own_stack import OwnStack, alive

INFRA = REPO_ROOT / "infra"


@pytest.fixture
def own_stack(stack):
    """A second stack in its own data folder on free ports; the test stack is left alone."""
    own = OwnStack("lifecycle")
    yield own.script_env, own.data
    own.down()


def _run(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(INFRA / script)], env=env, capture_output=True, text=True, timeout=240)


def _processes_using(data: Path) -> list[str]:
    """Live processes whose command line names the stack's folders (PostgreSQL's may live behind a
    symlink). Read from /proc: ps cuts lines at $COLUMNS or 80 characters without a terminal."""
    marks = {str(data), str((data / "postgres").resolve())}
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            args = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile
            continue
        if any(m in args for m in marks) and alive(int(proc.name)):
            found.append(f"{proc.name} {args}")
    return found


def _stack_pids(data: Path) -> dict[str, int]:
    """The pids the stack recorded: Kafka's pid file and PostgreSQL's postmaster.pid."""
    return {"kafka": int((data / "kafka" / "kafka.pid").read_text().split()[0]),
            "postgres": int((data / "postgres" / "data" / "postmaster.pid").read_text().splitlines()[0])}


def test_up_twice_then_down_leaves_nothing(own_stack):
    env, data = own_stack
    first = _run("up.sh", env)
    assert first.returncode == 0, first.stderr
    second = _run("up.sh", env)
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stderr
    assert "0 created" in second.stdout and "0 applied" in second.stdout
    status = _run("status.sh", env)
    assert status.returncode == 0 and "kafka: up" in status.stdout and "postgres: up" in status.stdout
    pids = _stack_pids(data)
    assert all(alive(pid) for pid in pids.values()), pids
    assert _processes_using(data)
    down = _run("down.sh", env)
    assert down.returncode == 0, down.stderr
    assert [name for name, pid in pids.items() if alive(pid)] == []
    assert _processes_using(data) == []
    assert _run("status.sh", env).returncode == 1


def test_a_taken_port_is_named_with_its_fix(own_stack):
    env, _ = own_stack
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(env["WERKPLEK_KAFKA_PORT"])))
        squatter.listen()
        result = subprocess.run(["bash", str(INFRA / "kafka" / "kafka.sh"), "up"], env=env,
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"port {env['WERKPLEK_KAFKA_PORT']}" in result.stderr and "already taken" in result.stderr
    assert "fix:" in result.stderr and "Traceback" not in result.stderr


def test_an_old_java_is_refused_with_its_fix(own_stack, tmp_path):
    env, _ = own_stack
    fake = tmp_path / "java"
    fake.write_text('#!/bin/sh\necho \'openjdk version "11.0.2"\' >&2\n')
    fake.chmod(0o755)
    env = {**env, "PATH": f"{tmp_path}:{env['PATH']}"}
    result = subprocess.run(["bash", str(INFRA / "kafka" / "kafka.sh"), "up"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Java 11 found" in result.stderr and "fix:" in result.stderr
