"""Crypto-shredding on the real stack (docs/adr/0070): the outbox relay seals personal fields under the
subject's key from the key store, a consumer opens them, master-key rotation re-wraps every key and
every event stays readable, and a destroyed key makes the records decode as erased."""

from __future__ import annotations

import asyncio
import base64
import os
import uuid

import asyncpg
from werkplek_common.db import create_pool
from werkplek_common.keystore import KeyStore, KeyStoreError, MasterKeys
from werkplek_common.outbox import OutboxRelay, stage
from werkplek_events import TimeEntryLogged, decode, encode, topic_for
from werkplek_events.personal import Redaction

from tests.support import dsn_of, read_until, relay_until_drained

PG_SERVICE = "placement_logging"  # the `pg` fixture signs in as a service, which reads the key store

PRODUCER = "keystore-test"


def _entries(student: str, n: int) -> list[TimeEntryLogged]:
    return [TimeEntryLogged(entry_id=uuid.uuid4(), student_id=student, placement_id="plc-1", revision=1,
                            work_date="2026-11-20", duration_minutes=60 + i, activity="work",
                            description=f"wondzorg bij patiënt kamer {i} — {student}") for i in range(n)]


async def test_sealed_on_the_way_out_opened_after_rotation_erased_after_destroy(stack, producer, pg):
    student = f"ks-{uuid.uuid4().hex[:8]}"
    entries = _entries(student, 5)
    old = MasterKeys("m1", {"m1": os.urandom(32)})
    pool = await create_pool(dsn_of(stack, PG_SERVICE))  # a service: its outbox, and it may destroy keys
    try:
        async with pool.acquire() as conn, conn.transaction():
            await stage(conn, entries, producer=PRODUCER, source="/t")
        await relay_until_drained(OutboxRelay(pool, producer, PRODUCER, keys=KeyStore(old)), pool, PRODUCER)
        topic = topic_for(TimeEntryLogged).name
        recs = [r for r in await read_until(stack.kafka_bootstrap, [topic], lambda rs: len(
            [r for r in rs if r.key == student.encode()]) >= 5) if r.key == student.encode()]
        assert len(recs) == 5
        assert all(b"wondzorg" not in r.value and "patiënt".encode() not in r.value for r in recs)
        rows = await pg.fetch("SELECT * FROM keys.data_keys WHERE subject = $1", f"student:{student}")
        assert len(rows) == 1 and rows[0]["master_id"] == "m1"  # one key per subject, stored wrapped
        assert rows[0]["wrapped"] and len(rows[0]["wrapped"]) == 12 + 32 + 16

        async def opened(store: KeyStore) -> list[TimeEntryLogged]:
            lookup = await store.lookup_for(pool, [r.headers for r in recs])
            return [decode(r.topic, r.value, r.headers, lookup) for r in recs]  # type: ignore[misc]

        assert [e.description for e in await opened(KeyStore(old))] == [e.description for e in entries]

        # rotation: the new master key wraps every key (the shared database's other keys too, so the
        # stack's own master key is listed, and every key goes back under it at the end)
        stacks = MasterKeys.from_settings()
        both = MasterKeys("m2", {**stacks.keys, "m1": old.keys["m1"], "m2": os.urandom(32)})
        try:
            assert await KeyStore(both).rotate(pool, batch=1) >= 1
            assert await KeyStore(both).rotate(pool) == 0  # resumable, and done
            live_old = await pg.fetchval("SELECT count(*) FROM keys.data_keys WHERE master_id <> 'm2'"
                                         " AND destroyed_at IS NULL")
            assert live_old == 0
            only_new = MasterKeys("m2", {"m2": both.keys["m2"]})
            assert [e.description for e in await opened(KeyStore(only_new))] == [e.description for e in entries]
            try:
                await opened(KeyStore(old))
                raise AssertionError("the retired master key still unwraps a key")
            except KeyStoreError:
                pass
        finally:
            await KeyStore(MasterKeys(stacks.current, both.keys)).rotate(pool)

        # erasure: the key is destroyed, every copy of the records decodes erased, never fails
        async with pool.acquire() as conn:
            assert await KeyStore(stacks).destroy(conn, f"student:{student}") == 1
            assert await KeyStore(stacks).destroy(conn, f"student:{student}") == 0  # idempotent
        gone = await opened(KeyStore(stacks))
        assert all(e.description == "" and e.redacted == {"description": Redaction.ERASED} for e in gone)
        assert [e.duration_minutes for e in gone] == [e.duration_minutes for e in entries]  # hours still count
        row = await pg.fetchrow("SELECT wrapped, master_id, destroyed_at FROM keys.data_keys WHERE subject = $1",
                                f"student:{student}")
        assert row["wrapped"] is None and row["master_id"] is None and row["destroyed_at"] is not None
    finally:
        await pool.close()
        owner = await asyncpg.connect(stack.pg_dsn)  # no service may delete a key; the test cleans up as the owner
        try:
            await owner.execute("DELETE FROM keys.data_keys WHERE subject = $1", f"student:{student}")
        finally:
            await owner.close()


async def test_concurrent_writers_agree_on_one_key_per_subject(stack):
    subject = f"student:ks-{uuid.uuid4().hex[:8]}"
    store = KeyStore(MasterKeys("m", {"m": os.urandom(32)}))
    pool = await create_pool(stack.pg_dsn, min_size=4, max_size=8)
    try:
        async def one() -> str:
            async with pool.acquire() as conn, conn.transaction():
                return (await store.keys_for(conn, [subject]))[subject].key_id

        ids = await asyncio.gather(*(one() for _ in range(8)))
        assert len(set(ids)) == 1
    finally:  # wrapped by a master key nobody else has: it would stop a rotation of the shared table
        await pool.execute("DELETE FROM keys.data_keys WHERE subject = $1", subject)
        await pool.close()


def test_master_keys_are_parsed_strictly():
    good = base64.b64encode(os.urandom(32)).decode()
    assert MasterKeys.parse(f"a:{good}, b:{good}", "b").current == "b"
    for spec, current in ((f"a:{good}", "b"), ("a:c2hvcnQ=", "a"), (good, "a")):
        try:
            MasterKeys.parse(spec, current)
            raise AssertionError(f"accepted {spec!r}")
        except KeyStoreError:
            pass


async def test_a_new_key_is_visible_before_the_relays_transaction_commits(stack, pg):
    """The relay sends inside its transaction; a consumer may read the record before that commits.
    Keys are made on the pool, so the consumer's lookup finds the key (not: 'erased')."""
    student = f"ks-{uuid.uuid4().hex[:8]}"
    rec = encode(_entries(student, 1)[0], source="/t")
    store = KeyStore()
    pool = await create_pool(stack.pg_dsn)
    try:
        async with pool.acquire() as relay_conn, relay_conn.transaction():  # the relay's, still open
            [sealed] = await store.seal_records(pool, [rec])
            lookup = await store.lookup_for(pg, [sealed.headers])  # another connection: a consumer
            opened = decode(sealed.topic, sealed.value, sealed.headers, lookup)
            assert isinstance(opened, TimeEntryLogged) and opened.description.startswith("wondzorg")
            assert opened.redacted == {}
    finally:
        await pool.execute("UPDATE keys.data_keys SET wrapped = NULL, master_id = NULL, destroyed_at = now()"
                           " WHERE subject = $1", f"student:{student}")
        await pool.close()
