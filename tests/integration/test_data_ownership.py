"""Each service owns its data (issue 12 item 6, docs/adr/0009): its role reads and writes its own
schema, finds its tables without naming the schema, and is refused on every other service's tables;
the key store is read and added to by every service, destroyed only by placement logging; and no
service's code names another service's tables."""

from __future__ import annotations

import re
import uuid

import asyncpg
import pytest
from werkplek_common.settings import REPO_ROOT

from tests.support import SERVICES, dsn_of

CREATED = re.compile(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)")


async def _tables(owner: asyncpg.Connection, schema: str) -> list[str]:
    return [r["tablename"] for r in await owner.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1", schema)]


@pytest.fixture
async def owner(stack) -> asyncpg.Connection:
    conn = await asyncpg.connect(stack.pg_dsn)
    yield conn
    await conn.close()


async def test_nothing_is_left_in_the_shared_public_schema(owner):
    assert await _tables(owner, "public") == []
    for service in SERVICES:
        assert {"outbox", "runtime_offsets", "runtime_state", "leases", "schema_migrations"} <= set(
            await _tables(owner, service)), f"{service} lacks its own copy of the common tables"


@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_reads_and_writes_its_own_schema_and_no_other(stack, owner, service):
    conn = await asyncpg.connect(dsn_of(stack, service))
    try:
        assert await conn.fetchval("SELECT current_user") == service
        assert await conn.fetchval("SHOW search_path") == service
        mine = await _tables(owner, service)
        async with conn.transaction():  # writes its own outbox and every one of its tables is readable
            await conn.execute("INSERT INTO outbox (producer, topic, key, value, headers, event_id)"
                               " VALUES ($1, 't', '\\x00', '\\x00', '[]', $2)", "ownership-test", uuid.uuid4())
            for table in mine:
                await conn.fetchval(f"SELECT count(*) FROM {table}")
            await conn.execute("SAVEPOINT s")
            refused = []
            for other in (s for s in SERVICES if s != service):
                for table in await _tables(owner, other):
                    for sql in (f"SELECT 1 FROM {other}.{table} LIMIT 1", f"DELETE FROM {other}.{table}"):
                        try:
                            await conn.execute(sql)
                        except asyncpg.InsufficientPrivilegeError:
                            refused.append(sql)
                        else:
                            raise AssertionError(f"{service} may run: {sql}")
                        finally:
                            await conn.execute("ROLLBACK TO SAVEPOINT s")
            assert len(refused) > 10
            raise _Rollback
    except _Rollback:
        pass
    finally:
        await conn.close()
    assert await owner.fetchval(f"SELECT count(*) FROM {service}.outbox WHERE producer = 'ownership-test'") == 0


class _Rollback(Exception):
    pass


@pytest.mark.parametrize("service", SERVICES)
async def test_every_service_reads_and_adds_keys_and_only_placement_logging_destroys_them(stack, service):
    conn = await asyncpg.connect(dsn_of(stack, service))
    subject = f"student:ownership-{uuid.uuid4().hex[:8]}"
    try:
        tx = conn.transaction()
        await tx.start()
        try:
            await conn.execute("INSERT INTO keys.data_keys (key_id, subject, master_id, wrapped)"
                               " VALUES ($1, $2, 'dev', '\\x00')", uuid.uuid4(), subject)
            assert await conn.fetchval("SELECT count(*) FROM keys.data_keys WHERE subject = $1", subject) == 1
            await conn.execute("SAVEPOINT s")
            destroy = ("UPDATE keys.data_keys SET wrapped = NULL, master_id = NULL, destroyed_at = now()"
                       " WHERE subject = $1")
            if service == "placement_logging":
                assert await conn.execute(destroy, subject) == "UPDATE 1"
            else:
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute(destroy, subject)
            await conn.execute("ROLLBACK TO SAVEPOINT s")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):  # a key is destroyed, never deleted
                await conn.execute("DELETE FROM keys.data_keys WHERE subject = $1", subject)
        finally:
            await tx.rollback()
    finally:
        await conn.close()


def test_no_services_code_names_another_services_tables():
    own = {s: {t for sql in (REPO_ROOT / "services" / s / "migrations").glob("*.sql")
               for t in CREATED.findall(sql.read_text())} for s in SERVICES}
    common = {t for sql in (REPO_ROOT / "services" / "common" / "migrations").glob("*.sql")
              for t in CREATED.findall(sql.read_text())}
    assert own["placement_logging"] and own["hour_accounting"] and own["mentor_feedback"] and common
    found = []
    for service in SERVICES:
        theirs = set().union(*(own[s] for s in SERVICES if s != service)) - common
        for path in (REPO_ROOT / "services" / service).rglob("*.py"):
            text = path.read_text()
            found += [f"{path.relative_to(REPO_ROOT)}: {t}" for t in sorted(theirs)
                      if re.search(rf"\b{t}\b", text)]
    assert found == []
