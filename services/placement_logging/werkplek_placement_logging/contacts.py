"""Use cases of contact data (personal data, see migration 0060): a mentor's e-mail address and
language, and the notification address of the coordinator's own institution. Each change stores the
row and stages its event (MentorContactChanged / InstitutionContactChanged) in one transaction; the
same contact again changes nothing; a removal deletes the row and publishes the contact as gone."""

from __future__ import annotations

from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict
from werkplek_common.outbox import stage
from werkplek_events import Event, InstitutionContactChanged, MentorContactChanged
from werkplek_events.limits import Email
from werkplek_events.vocabulary import Language

from . import registry_store
from .metrics import REGISTRY_CHANGES
from .uow_pg import Registry


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    email: Email
    language: Language = Language.NL


class ContactOut(BaseModel):
    subject_id: str
    email: str
    language: Language
    version: int


def _event(kind: str, subject_id: str, institution: str, email: str | None, language: Language) -> Event:
    if kind == "mentor":
        return MentorContactChanged(mentor_id=subject_id, institution_id=institution, email=email, language=language)
    return InstitutionContactChanged(institution_id=institution, email=email, language=language)


async def _mentor_is_ours(conn: asyncpg.Connection, kind: str, subject_id: str, institution: str) -> None:
    if kind == "mentor" and await registry_store.load(conn, "mentor", subject_id, institution) is None:
        raise registry_store.not_found("mentor")


async def load(pool: asyncpg.Pool, kind: str, subject_id: str, institution: str) -> asyncpg.Record | None:
    return await pool.fetchrow("SELECT * FROM pl_contact WHERE kind = $1 AND id = $2 AND institution_id = $3",
                               kind, subject_id, institution)


async def put(reg: Registry, kind: str, subject_id: str, institution: str, doc: ContactIn) -> tuple[int, Any]:
    """201 when new, 200 when changed or unchanged (then no event)."""
    async with reg.pool.acquire() as conn, conn.transaction():
        await _mentor_is_ours(conn, kind, subject_id, institution)
        current = await conn.fetchrow("SELECT * FROM pl_contact WHERE kind = $1 AND id = $2 FOR UPDATE",
                                      kind, subject_id)
        if current is not None and (current["email"], current["language"]) == (doc.email, doc.language.value):
            return 200, current
        row = await conn.fetchrow(
            "INSERT INTO pl_contact (kind, id, institution_id, email, language) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (kind, id) DO UPDATE SET email = $4, language = $5, version = pl_contact.version + 1,"
            " updated_at = now() RETURNING *", kind, subject_id, institution, doc.email, doc.language.value)
        await stage(conn, [_event(kind, subject_id, institution, doc.email, doc.language)], producer=reg.producer,
                    source=reg.source)
        REGISTRY_CHANGES.labels(f"{kind}_contact").inc()
        return (201 if current is None else 200), row


async def remove(reg: Registry, kind: str, subject_id: str, institution: str) -> bool:
    """Delete the contact and publish it as removed; False when there was none."""
    async with reg.pool.acquire() as conn, conn.transaction():
        await _mentor_is_ours(conn, kind, subject_id, institution)
        gone = await conn.fetchrow("DELETE FROM pl_contact WHERE kind = $1 AND id = $2 AND institution_id = $3"
                                   " RETURNING language", kind, subject_id, institution)
        if gone is None:
            return False
        await stage(conn, [_event(kind, subject_id, institution, None, Language(gone["language"]))],
                    producer=reg.producer, source=reg.source)
        REGISTRY_CHANGES.labels(f"{kind}_contact_removed").inc()
        return True
