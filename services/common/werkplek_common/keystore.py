"""The key store of crypto-shredding (docs/adr/0070): per-subject data keys in PostgreSQL
(`data_keys`), wrapped by a master key from the environment. The outbox relay seals records with it
(`seal_records`), consumers open them (`lookup`), erasure destroys a subject's keys (`destroy`), and
`python -m werkplek_common.keystore rotate` re-wraps every key under the current master key.

Keys are looked up per batch and never cached across batches: a key destroyed a moment ago is not
used again by a process that still had it."""

from __future__ import annotations

import argparse
import asyncio
import base64
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import asyncpg
from cryptography.exceptions import InvalidTag
from werkplek_events import BY_NAME, KafkaRecord
from werkplek_events.codec import needs_seal, seal, sealing_key
from werkplek_events.personal import KEY_BYTES, DataKey, KeyLookup, data_subject, decrypt, encrypt, new_secret

from .settings import CommonSettings


class KeyStoreError(RuntimeError):
    pass


@dataclass(frozen=True)
class MasterKeys:
    current: str
    keys: dict[str, bytes]

    @classmethod
    def parse(cls, spec: str, current: str) -> MasterKeys:
        keys: dict[str, bytes] = {}
        for item in filter(None, (p.strip() for p in spec.split(","))):
            mid, sep, b64 = item.partition(":")
            secret = base64.b64decode(b64) if sep else b""
            if not mid or len(secret) != KEY_BYTES:
                raise KeyStoreError(f"master key {mid or '?'!r}: expected id:base64 of {KEY_BYTES} bytes")
            keys[mid] = secret
        if current not in keys:
            raise KeyStoreError(f"WERKPLEK_MASTER_KEY_ID {current!r} is not among WERKPLEK_MASTER_KEYS")
        return cls(current, keys)

    @classmethod
    def from_settings(cls, cfg: CommonSettings | None = None) -> MasterKeys:
        cfg = cfg or CommonSettings()
        return cls.parse(cfg.master_keys.get_secret_value(), cfg.master_key_id)

    def wrap(self, key_id: uuid.UUID, secret: bytes) -> tuple[str, bytes]:
        return self.current, encrypt(self.keys[self.current], secret, key_id.bytes)

    def unwrap(self, master_id: str, key_id: uuid.UUID, wrapped: bytes) -> bytes:
        master = self.keys.get(master_id)
        if master is None:
            raise KeyStoreError(f"data key {key_id} is wrapped by master key {master_id!r}, which is not configured")
        try:
            return decrypt(master, wrapped, key_id.bytes)
        except InvalidTag:
            raise KeyStoreError(f"data key {key_id} does not unwrap under master key {master_id!r}") from None


Conn: TypeAlias = asyncpg.Connection | asyncpg.Pool


class KeyStore:
    def __init__(self, master: MasterKeys | None = None) -> None:
        self.master = master or MasterKeys.from_settings()

    async def keys_for(self, conn: Conn, subjects: Iterable[str]) -> dict[str, DataKey]:
        """The live data key of every subject, created where there is none (race-safe: a second
        writer's insert yields to the first by the unique index, and reads the winner's key)."""
        wanted = sorted(set(subjects))
        if not wanted:
            return {}
        fresh = [(uuid.uuid4(), s, new_secret()) for s in wanted]
        wrapped = [self.master.wrap(kid, secret) for kid, _, secret in fresh]
        await conn.execute(
            "INSERT INTO keys.data_keys (key_id, subject, master_id, wrapped) SELECT * FROM"
            " unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[]) ON CONFLICT DO NOTHING",
            [k for k, _, _ in fresh], wanted, [m for m, _ in wrapped], [w for _, w in wrapped])
        rows = await conn.fetch("SELECT key_id, subject, master_id, wrapped FROM keys.data_keys"
                                " WHERE subject = ANY($1::text[]) AND destroyed_at IS NULL", wanted)
        return {r["subject"]: DataKey(str(r["key_id"]), self._unwrap(r)) for r in rows}

    async def lookup(self, conn: Conn, key_ids: Iterable[str]) -> KeyLookup:
        """A lookup for the codec: the secret of each live key among `key_ids`, None for the others."""
        ids = sorted({uuid.UUID(k) for k in key_ids if _is_uuid(k)})
        rows = await conn.fetch("SELECT key_id, master_id, wrapped FROM keys.data_keys"
                                " WHERE key_id = ANY($1::uuid[]) AND destroyed_at IS NULL", ids) if ids else []
        found = {str(r["key_id"]): self._unwrap(r) for r in rows}
        return found.get

    async def lookup_for(self, conn: Conn, headers: Iterable[Sequence[tuple[str, bytes]] | None]) -> KeyLookup:
        """`lookup` for the keys a batch of records was sealed with (one query per batch)."""
        return await self.lookup(conn, filter(None, (sealing_key(h) for h in headers)))

    async def destroy(self, conn: asyncpg.Connection, subject: str) -> int:
        """Crypto-shred: wipe every key of `subject`. Idempotent; returns how many keys were live."""
        result = await conn.execute("UPDATE keys.data_keys SET wrapped = NULL, master_id = NULL, destroyed_at = now()"
                                    " WHERE subject = $1 AND destroyed_at IS NULL", subject)
        return int(result.split()[-1])

    async def seal_records(self, conn: Conn, records: Sequence[KafkaRecord]) -> list[KafkaRecord]:
        """Records with their personal fields sealed under their subjects' keys (the relay's step).
        Give it the pool, not the relay's transaction: a key must be committed before its record is
        sent, or a fast consumer finds no key and reads the fields as erased."""
        subjects = {i: _subject(rec) for i, rec in enumerate(records) if needs_seal(rec.topic) and rec.value}
        keys = await self.keys_for(conn, {s for s in subjects.values() if s})
        return [seal(rec, keys[s]) if (s := subjects.get(i)) else rec for i, rec in enumerate(records)]

    async def rotate(self, pool: asyncpg.Pool, *, batch: int = 1000) -> int:
        """Re-wrap every live key under the current master key; resumable (a key already under the
        current master is left alone), in batches of its own transaction. Returns keys re-wrapped."""
        done = 0
        while True:
            async with pool.acquire() as conn, conn.transaction():
                rows = await conn.fetch(
                    "SELECT key_id, master_id, wrapped FROM keys.data_keys WHERE destroyed_at IS NULL"
                    " AND master_id <> $1 ORDER BY key_id LIMIT $2 FOR UPDATE SKIP LOCKED", self.master.current, batch)
                if not rows:
                    return done
                rewrapped = [self.master.wrap(r["key_id"], self._unwrap(r)) for r in rows]
                await conn.execute(
                    "UPDATE keys.data_keys d SET master_id = n.m, wrapped = n.w, rewrapped_at = now() FROM"
                    " unnest($1::uuid[], $2::text[], $3::bytea[]) AS n(k, m, w) WHERE d.key_id = n.k",
                    [r["key_id"] for r in rows], [m for m, _ in rewrapped], [w for _, w in rewrapped])
                done += len(rows)

    def _unwrap(self, row: asyncpg.Record) -> bytes:
        return self.master.unwrap(row["master_id"], row["key_id"], row["wrapped"])


@dataclass(frozen=True)
class PoolKeys:
    """A key store bound to a pool: what a consumer needs to open the records of a batch."""

    store: KeyStore
    pool: asyncpg.Pool

    async def for_headers(self, headers: Iterable[Sequence[tuple[str, bytes]] | None]) -> KeyLookup:
        return await self.store.lookup_for(self.pool, headers)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _subject(rec: KafkaRecord) -> str | None:
    subject = next((v.decode() for k, v in rec.headers if k == "ce_subject"), None)
    return data_subject(BY_NAME[rec.topic].event, subject) if subject else None


async def _rotate(cfg: CommonSettings) -> int:
    pool = await asyncpg.create_pool(cfg.pg_dsn, min_size=1, max_size=2)
    try:
        return await KeyStore(MasterKeys.from_settings(cfg)).rotate(pool)
    finally:
        await pool.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m werkplek_common.keystore",
                                     description="The crypto-shredding key store (docs/adr/0070).")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("rotate", help="re-wrap every data key under WERKPLEK_MASTER_KEY_ID")
    parser.parse_args(argv)
    n = asyncio.run(_rotate(CommonSettings()))
    print(f"re-wrapped {n} data keys under master key {CommonSettings().master_key_id!r}")


if __name__ == "__main__":
    main()
