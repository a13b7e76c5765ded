"""PostgreSQL: the connection pool and the migration runner.

Every session a service opens through `create_pool` is bounded on the server (`SessionLimits`): a
statement waits at most `lock_timeout` for a lock and runs at most `statement_timeout`, and a session
left idle inside a transaction (its process paused by SIGSTOP, frozen by a long GC, or partitioned
away) is ended after `idle_in_transaction_session_timeout`, which rolls it back and frees its locks.
So a paused or dead holder blocks the other replicas for a bounded time, never until it resumes.

Migrations are plain SQL files `services/<service>/migrations/NNNN_name.sql`, applied once each in
version order per service, each in its own transaction, under an advisory lock so two processes
starting together do not race. An applied file whose text changed is an error, not a silent skip.
Each service has its own schema and role (docs/adr/0009): common's migrations run once in every
service's schema, `services/common/migrations/keys/` in the shared schema `keys`."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

log = logging.getLogger(__name__)
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
COMMON = "common"  # migrations applied in every service's schema: its own outbox, runtime tables, leases
_SHARED = re.compile(r"-- schema: ([a-z][a-z0-9_]*)")
_LOCK_ID = 0x77657270  # 'werp': one advisory lock for all migration runs


CLIENT_GRACE_S = 5.0  # the client's own timeout waits this much longer, so the server's error arrives first


@dataclass(frozen=True)
class SessionLimits:
    """The server-side bounds of a session, in seconds (0: no bound, PostgreSQL's default). With the
    defaults a paused holder is ended 15 s after its last statement, so a waiter for its locks is
    served within 15 s (a waiter gives up after 20 s only when the holder is busy, not paused), and a
    statement, lock waits included, ends after 30 s. A consumer group hands a paused member's
    partitions to another after its session timeout (10 s): the new owner waits about 5 s more."""

    lock_timeout_s: float = 20.0
    statement_timeout_s: float = 30.0
    idle_in_transaction_s: float = 15.0

    def server_settings(self) -> dict[str, str]:
        """As startup parameters of the session (milliseconds): they hold for its whole life, and
        asyncpg's `RESET ALL` on release goes back to them, not to the server's defaults."""
        return {"lock_timeout": _ms(self.lock_timeout_s), "statement_timeout": _ms(self.statement_timeout_s),
                "idle_in_transaction_session_timeout": _ms(self.idle_in_transaction_s)}

    @property
    def command_timeout(self) -> float | None:
        return self.statement_timeout_s + CLIENT_GRACE_S if self.statement_timeout_s else None


def _ms(seconds: float) -> str:
    return str(round(seconds * 1000))


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10, limits: SessionLimits | None = None,
                      reset: Callable[[asyncpg.Connection], Coroutine[Any, Any, None]] | None = None,
                      ) -> asyncpg.Pool:
    """A pool whose every session is bounded by `limits` (a service passes its settings' `pg_limits`)."""
    limits = limits or SessionLimits()
    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size,
                                     command_timeout=limits.command_timeout,
                                     server_settings=limits.server_settings(), reset=reset)
    assert pool is not None
    return pool


@dataclass(frozen=True)
class Migration:
    service: str
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def shared_schema(self) -> str | None:
        """A common migration whose first line is `-- schema: NAME` runs once, in the shared schema NAME
        (the key store); every other common migration runs in each service's schema."""
        m = _SHARED.match(self.sql) if self.service == COMMON else None
        return m[1] if m else None


class MigrationError(RuntimeError):
    pass


def discover(root: Path) -> list[Migration]:
    """Every migration under `root/<service>/migrations/`, ordered by service then version."""
    found = []
    for path in sorted(root.glob("*/migrations/*.sql")):
        m = _FILE.match(path.name)
        if not m:
            raise MigrationError(f"{path}: migration files are named NNNN_lower_snake.sql")
        found.append(Migration(path.parent.parent.name, int(m[1]), m[2], path.read_text()))
    seen: dict[tuple[str, int], str] = {}
    for mig in found:  # two branches that each added "the next number" meet in a merge: say so here
        if (key := (mig.service, mig.version)) in seen:
            raise MigrationError(f"{mig.service}: {seen[key]} and {mig.name} share version {mig.version:04d};"
                                 " number every migration of a service uniquely")
        seen[key] = mig.name
    return sorted(found, key=lambda x: (x.service != COMMON, x.service, x.version))



def services(root: Path) -> list[str]:
    """The services whose schemas `migrate` keeps: every folder under `root` with a migrations folder or
    a `werkplek_*` package, but common (applied in each of them)."""
    names = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name != COMMON
                   and ((p / "migrations").is_dir() or any(p.glob("werkplek_*/__init__.py"))))
    for name in names:  # they name roles and schemas in SQL: lower_snake only
        _check_name(name)
    return names


def shared_schemas(found: list[Migration]) -> list[str]:
    """Schemas shared by the services (the key store `keys`), owned by the owner."""
    return sorted({s for m in found if (s := m.shared_schema)})


_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
  service text NOT NULL, version int NOT NULL, name text NOT NULL, checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (service, version))
"""

# A role per service that signs in, owns its schema and finds only its own tables (docs/adr/0009).
_ROLE = """
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN CREATE ROLE {role} LOGIN; END IF;
END $$;
ALTER ROLE {role} SET search_path = {role};
CREATE SCHEMA IF NOT EXISTS {role} AUTHORIZATION {role};
"""


class LegacyDatabaseError(MigrationError):
    pass


async def migrate(dsn: str, root: Path) -> list[str]:
    """Apply every pending migration; returns the ones applied (empty when already up to date).

    Run as the database's owner (WERKPLEK_PG_DSN): it creates each service's role and schema, applies
    the shared schema's migrations (the key store, as the owner), then in each service's schema, as that service's
    role (so the role owns its tables), common's migrations and the service's own, with a ledger
    `schema_migrations` per schema."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_ID)
        if await conn.fetchval("SELECT to_regclass('public.schema_migrations') IS NOT NULL"):
            raise LegacyDatabaseError(
                "this database keeps every service's tables in schema public, from before each service had"
                " its own schema (docs/adr/0009-each-service-owns-its-schema.md); its data is not moved:"
                " start from an empty database (locally: stop the stack and remove .data/postgres)")
        found = discover(root)
        names = services(root)
        for role in names:
            await conn.execute(_ROLE.format(role=role))
        done = []
        for schema in shared_schemas(found):
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            if names:
                await conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {', '.join(names)}")
            done += await _apply(conn, schema, [m for m in found if m.shared_schema == schema], role=None)
        for role in names:
            todo = [m for m in found if (m.service == COMMON and not m.shared_schema) or m.service == role]
            done += await _apply(conn, role, todo, role=role)
        return done
    finally:
        await conn.execute("RESET ROLE; RESET search_path")
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_ID)
        await conn.close()


def _check_name(name: str) -> None:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise MigrationError(f"{name!r}: service and schema names are lower_snake (they name a role and a schema)")


async def _apply(conn: asyncpg.Connection, schema: str, todo: list[Migration], *, role: str | None) -> list[str]:
    await conn.execute(f"SET ROLE {role}" if role else "RESET ROLE")
    await conn.execute(f"SET search_path = {schema}")
    await conn.execute(_LEDGER)
    rows = await conn.fetch("SELECT service, version, checksum FROM schema_migrations")
    applied = {(r["service"], r["version"]): r["checksum"] for r in rows}
    done = []
    for mig in todo:
        if (mig.service, mig.version) in applied:
            if applied[(mig.service, mig.version)] != mig.checksum:
                raise MigrationError(f"{mig.service}/{mig.version:04d}_{mig.name}.sql changed after it was"
                                     " applied; add a new migration instead of editing an applied one")
            continue
        async with conn.transaction():
            await conn.execute(mig.sql)
            await conn.execute("INSERT INTO schema_migrations(service, version, name, checksum)"
                               " VALUES ($1, $2, $3, $4)", mig.service, mig.version, mig.name, mig.checksum)
        done.append(f"{schema}:{mig.service}/{mig.version:04d}_{mig.name}")
    await conn.execute("RESET ROLE")
    return done
