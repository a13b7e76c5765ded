"""PostgreSQL: the connection pool and the migration runner.

Every session a service opens through `create_pool` is bounded on the server (`SessionLimits`): a
statement waits at most `lock_timeout` for a lock and runs at most `statement_timeout`, and a session
left idle inside a transaction (its process paused by SIGSTOP, frozen by a long GC, or partitioned
away) is ended after `idle_in_transaction_session_timeout`, which rolls it back and frees its locks.
So a paused or dead holder blocks the other replicas for a bounded time, never until it resumes.

Migrations are plain SQL files `services/<service>/migrations/NNNN_name.sql`, applied once each in
version order per service, each in its own transaction, under an advisory lock so two processes
starting together do not race. An applied file whose text changed is an error, not a silent skip."""

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
    return sorted(found, key=lambda x: (x.service != "common", x.service, x.version))


_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
  service text NOT NULL, version int NOT NULL, name text NOT NULL, checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (service, version))
"""


async def migrate(dsn: str, root: Path) -> list[str]:
    """Apply every pending migration; returns the ones applied (empty when already up to date)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_ID)
        await conn.execute(_LEDGER)
        rows = await conn.fetch("SELECT service, version, checksum FROM schema_migrations")
        applied = {(r["service"], r["version"]): r["checksum"] for r in rows}
        done = []
        for mig in discover(root):
            if (mig.service, mig.version) in applied:
                if applied[(mig.service, mig.version)] != mig.checksum:
                    raise MigrationError(f"{mig.service}/{mig.version:04d}_{mig.name}.sql changed after it was"
                                         " applied; add a new migration instead of editing an applied one")
                continue
            async with conn.transaction():
                await conn.execute(mig.sql)
                await conn.execute("INSERT INTO schema_migrations(service, version, name, checksum)"
                                   " VALUES ($1, $2, $3, $4)",
                                   mig.service, mig.version, mig.name, mig.checksum)
            done.append(f"{mig.service}/{mig.version:04d}_{mig.name}")
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_ID)
        await conn.close()
