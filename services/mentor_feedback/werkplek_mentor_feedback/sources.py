"""Sending sources (the mentors' tools) and their `whsec_` secrets. Several secrets per source allow
rotation: add the new one, let the tool sign with both, retire the old one. The dev sources get their
secret generated on first use into the data folder (never committed) so the simulators can sign."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

import asyncpg

from .signing import SECRET_PREFIX, new_secret


def secret_id(secret: str) -> str:
    """The public name of a secret (shown in listings and the audit trail; the secret never is)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


async def add_secret(conn: asyncpg.Connection | asyncpg.Pool, source_id: str, secret: str | None = None,
                     endpoint_url: str | None = None) -> str:
    """Register a source (if new) and a secret for it; returns the secret."""
    secret = secret or new_secret()
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a secret starts with {SECRET_PREFIX}")
    await conn.execute("INSERT INTO mf_sources(source_id, endpoint_url) VALUES ($1, $2) ON CONFLICT (source_id)"
                       " DO UPDATE SET endpoint_url = COALESCE($2, mf_sources.endpoint_url)", source_id, endpoint_url)
    await conn.execute("INSERT INTO mf_source_secrets(source_id, secret, secret_id) VALUES ($1, $2, $3)"
                       " ON CONFLICT DO NOTHING", source_id, secret, secret_id(secret))
    return secret


async def retire_secret(conn: asyncpg.Connection | asyncpg.Pool, source_id: str, secret: str) -> bool:
    done = await conn.execute("DELETE FROM mf_source_secrets WHERE source_id = $1 AND secret = $2", source_id, secret)
    return done.endswith(" 1")


async def set_endpoint(conn: asyncpg.Connection | asyncpg.Pool, source_id: str, url: str | None) -> None:
    """(Re)point a source's outbound endpoint; this also re-enables an endpoint disabled by a 410."""
    await conn.execute("UPDATE mf_sources SET endpoint_url = $2, endpoint_disabled_at = NULL WHERE source_id = $1",
                       source_id, url)


async def list_sources(conn: asyncpg.Connection | asyncpg.Pool) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT s.source_id, s.endpoint_url, s.endpoint_disabled_at, count(k.secret) AS secrets,"
        " (SELECT count(*) FROM mf_mentors m WHERE m.webhook_source = s.source_id) AS mentors"
        " FROM mf_sources s LEFT JOIN mf_source_secrets k USING (source_id) GROUP BY s.source_id ORDER BY 1")


def dev_secret(secrets_dir: Path, source_id: str) -> str:
    """The dev source's secret from the data folder, created (mode 0600) on first use."""
    return secret_file(secrets_dir / "sources" / f"{source_id}.secret", new_secret)


def secret_file(path: Path, make: Callable[[], str]) -> str:
    """Read a generated secret, creating it once. Written to a temporary file and linked into place,
    so a concurrent reader never sees a half-written secret and two writers agree on one."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(make() + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process won the race: its secret is the one
    finally:
        tmp.unlink()
    return path.read_text().strip()


async def ensure_dev_sources(pool: asyncpg.Pool, secrets_dir: Path, source_ids: tuple[str, ...]) -> dict[str, str]:
    return {s: await add_secret(pool, s, dev_secret(secrets_dir, s)) for s in source_ids}


def link_key(configured: str | None, secrets_dir: Path) -> bytes:
    """The HMAC key of confirmation links: configured, or generated once into the data folder."""
    return (configured or secret_file(secrets_dir / "link.key", lambda: secrets.token_urlsafe(32))).encode()
