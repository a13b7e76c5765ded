"""Migrations run once each, in the schema of their service and as its role; a second run changes
nothing; an edited applied migration is refused; a database from before the per-service schemas is
refused, not silently started empty (docs/adr/0009)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from werkplek_common.db import LegacyDatabaseError, MigrationError, migrate


def _service(root: Path, name: str, files: dict[str, str]) -> None:
    folder = root / name / "migrations"
    folder.mkdir(parents=True)
    for fname, sql in files.items():
        (folder / fname).write_text(sql)


@pytest.fixture
async def owner(stack) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(stack.pg_dsn)
    yield conn
    await conn.close()


async def _drop(owner: asyncpg.Connection, svc: str) -> None:
    await owner.execute(f"DROP SCHEMA IF EXISTS {svc} CASCADE")
    await owner.execute(f"DROP ROLE IF EXISTS {svc}")


async def test_migrations_apply_once_in_the_services_schema_and_refuse_edits(stack, owner, tmp_path):
    svc = f"t{uuid.uuid4().hex[:8]}"
    _service(tmp_path, svc, {
        "0001_create.sql": "CREATE TABLE things (id int PRIMARY KEY);",
        "0002_seed.sql": "INSERT INTO things VALUES (1), (2);",
    })
    try:
        assert await migrate(stack.pg_dsn, tmp_path) == [f"{svc}:{svc}/0001_create", f"{svc}:{svc}/0002_seed"]
        assert await migrate(stack.pg_dsn, tmp_path) == []
        assert await owner.fetchval(f"SELECT count(*) FROM {svc}.things") == 2  # seed ran exactly once
        assert await owner.fetchval("SELECT tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = 'things'",
                                    svc) == svc  # the service's role owns its tables
        assert await owner.fetchval("SELECT to_regclass('public.things')") is None
        (tmp_path / svc / "migrations" / "0002_seed.sql").write_text("INSERT INTO things VALUES (3);")
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await migrate(stack.pg_dsn, tmp_path)
    finally:
        await _drop(owner, svc)


async def test_a_failing_migration_leaves_nothing_behind(stack, owner, tmp_path):
    svc = f"t{uuid.uuid4().hex[:8]}"
    _service(tmp_path, svc, {"0001_bad.sql": "CREATE TABLE x (id int); SELECT nonsense_column FROM x;"})
    try:
        with pytest.raises(Exception, match="nonsense_column"):
            await migrate(stack.pg_dsn, tmp_path)
        assert await owner.fetchval("SELECT to_regclass($1)", f"{svc}.x") is None
        assert await owner.fetchval(f"SELECT count(*) FROM {svc}.schema_migrations") == 0
    finally:
        await _drop(owner, svc)


async def test_a_database_with_the_old_shared_tables_is_refused(stack, owner, tmp_path):
    svc = f"t{uuid.uuid4().hex[:8]}"
    _service(tmp_path, svc, {"0001_create.sql": "CREATE TABLE things (id int);"})
    await owner.execute("CREATE TABLE public.schema_migrations (service text)")  # as a stack of before 0009 has it
    try:
        with pytest.raises(LegacyDatabaseError, match="schema public"):
            await migrate(stack.pg_dsn, tmp_path)
        assert await owner.fetchval("SELECT to_regnamespace($1)", svc) is None  # nothing started beside it
    finally:
        await owner.execute("DROP TABLE public.schema_migrations")
        await _drop(owner, svc)
