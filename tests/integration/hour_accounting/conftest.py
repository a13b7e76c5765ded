from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from werkplek_common.settings import CommonSettings

from tests.support import dsn_of

from .support import WorkerProcess, start_group_at_end


@pytest.fixture
async def app_id(stack: CommonSettings, pg: asyncpg.Connection) -> str:
    app = f"test-ha-{uuid.uuid4().hex[:10]}"
    await start_group_at_end(stack.kafka_bootstrap, pg, app)
    return app


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(app: str, command: str = "worker", **env: str) -> WorkerProcess:
        proc = WorkerProcess(app, tmp_path, command, env).start()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
async def pool(stack: CommonSettings) -> AsyncIterator[asyncpg.Pool]:
    """For an Engine driven in-process."""
    pool = await asyncpg.create_pool(dsn_of(stack, "hour_accounting"), min_size=1, max_size=3)
    assert pool is not None
    yield pool
    await pool.close()
