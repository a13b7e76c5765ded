"""Migrations run once each; a second run changes nothing; an edited applied migration is refused."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from werkplek_common.db import MigrationError, migrate


def _service(root: Path, name: str, files: dict[str, str]) -> None:
    folder = root / name / "migrations"
    folder.mkdir(parents=True)
    for fname, sql in files.items():
        (folder / fname).write_text(sql)


async def test_migrations_apply_once_and_refuse_edits(stack, pg, tmp_path):
    svc = f"t{uuid.uuid4().hex[:8]}"
    table = f"{svc}_things"
    _service(tmp_path, svc, {
        "0001_create.sql": f"CREATE TABLE {table} (id int PRIMARY KEY);",
        "0002_seed.sql": f"INSERT INTO {table} VALUES (1), (2);",
    })
    try:
        assert await migrate(stack.pg_dsn, tmp_path) == [f"{svc}/0001_create", f"{svc}/0002_seed"]
        assert await migrate(stack.pg_dsn, tmp_path) == []
        assert await pg.fetchval(f"SELECT count(*) FROM {table}") == 2  # seed ran exactly once
        (tmp_path / svc / "migrations" / "0002_seed.sql").write_text(f"INSERT INTO {table} VALUES (3);")
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await migrate(stack.pg_dsn, tmp_path)
    finally:
        await pg.execute(f"DROP TABLE IF EXISTS {table}")
        await pg.execute("DELETE FROM schema_migrations WHERE service = $1", svc)


async def test_a_failing_migration_leaves_nothing_behind(stack, pg, tmp_path):
    svc = f"t{uuid.uuid4().hex[:8]}"
    _service(tmp_path, svc, {"0001_bad.sql": f"CREATE TABLE {svc}_x (id int); SELECT nonsense_column FROM {svc}_x;"})
    with pytest.raises(Exception, match="nonsense_column"):
        await migrate(stack.pg_dsn, tmp_path)
    assert await pg.fetchval("SELECT to_regclass($1)", f"{svc}_x") is None
    assert await pg.fetchval("SELECT count(*) FROM schema_migrations WHERE service = $1", svc) == 0
