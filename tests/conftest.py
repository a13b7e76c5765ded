"""Shared fixtures. Integration tests run against the real stack that `make test` starts
(infra/test.sh); run alone, start it first with `make test-up`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from werkplek_common.kafka import new_producer
from werkplek_common.settings import CommonSettings

from tests.support import dsn_of, service_of


@pytest.fixture(scope="session")
def settings() -> CommonSettings:
    return CommonSettings()


@pytest.fixture(scope="session")
async def stack(settings: CommonSettings) -> CommonSettings:
    """Fails (never skips) with the fix when the stack is not running."""
    try:
        conn = await asyncio.wait_for(asyncpg.connect(settings.pg_dsn), 5)
        await conn.close()
    except Exception as exc:
        pytest.fail(f"PostgreSQL at {settings.pg_dsn} is not reachable ({exc!r}); run `make test-up` first")
    host, port = settings.kafka_bootstrap.split(":")
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 5)
        writer.close()
    except Exception as exc:
        pytest.fail(f"Kafka at {settings.kafka_bootstrap} is not reachable ({exc!r}); run `make test-up` first")
    return settings


@pytest.fixture
async def producer(stack: CommonSettings) -> AsyncIterator:
    prod = new_producer(stack.kafka_bootstrap, "werkplek-tests")
    await prod.start()
    yield prod
    await prod.stop()


@pytest.fixture
async def pg(stack: CommonSettings, request: pytest.FixtureRequest) -> AsyncIterator[asyncpg.Connection]:
    """A session as the service whose tables the test reads (docs/adr/0009): the service folder the test
    is in (tests/integration/placement_logging/...), or the module's `PG_SERVICE`."""
    conn = await asyncpg.connect(dsn_of(stack, service_of(request)))
    yield conn
    await conn.close()
