"""Erasure of a student or mentor (GDPR art. 17, docs/adr/0072), asked by a coordinator of the
subject's own institution. Three steps, each committed on its own and recorded in `pl_erasure`, so an
erasure interrupted by a crash is finished by `resume` (the worker runs it) and a step done twice does
nothing more:

1. `request`: the audit row (the subject only as a hash) and the work item; a second request for the
   same subject answers with the first erasure. A request may ask full removal
   (`remove_from_figures`, a student only): the student also leaves every aggregate figure. Asked
   after an erasure that kept the figures, it is added to that erasure, whose step 3 runs again to
   say so; asking to keep the figures of a student already removed from them is refused (`Conflict`):
   the removal cannot be undone.
2. destroy the subject's data keys: from here on every sealed field of theirs, in every topic, DLQ and
   replay, decodes as erased.
3. remove this service's copies of their free text and contact data, stage `SubjectErased` for the
   other services and a tombstone for a mentor's compacted contact record; the work item (the only
   place the id was kept) goes.

Ids stay, as pseudonyms, so the hours keep counting in shares and funding reports, unless full
removal was asked: then funding reports leave the student out (their members stage keeps the
exclusion, so a rebuild from the topics does too)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import asyncpg
import orjson
from werkplek_common.keystore import KeyStore
from werkplek_common.outbox import stage, stage_tombstone
from werkplek_common.runtime.loop import periodically
from werkplek_events import MentorContactChanged, SubjectErased, topic_for
from werkplek_events.personal import key_subject
from werkplek_events.privacy import SubjectKind

from . import registry_store
from .metrics import ERASURES
from .uow_pg import Registry

log = logging.getLogger(__name__)

# Step 3 per kind: (what the count is called, the statement). Each sets what an erased record
# decodes to, so it can run again.
_STUDENT: tuple[tuple[str, str], ...] = (
    ("entries", "UPDATE pl_entry SET description = '', rejection_comment = CASE WHEN rejection_comment IS NULL"
                " THEN NULL ELSE '' END WHERE student_id = $1 AND (description <> '' OR rejection_comment <> '')"),
    ("entry_revisions", "UPDATE pl_entry_revision SET description = '' WHERE student_id = $1 AND description <> ''"),
    ("decisions", "UPDATE pl_entry_decision d SET comment = '' FROM pl_entry e WHERE e.entry_id = d.entry_id"
                  " AND e.student_id = $1 AND d.comment <> ''"),
    ("stored_replies", "DELETE FROM pl_idempotency WHERE principal = $1"),
    ("refusals", "DELETE FROM pl_refusal WHERE student_id = $1"),
)
_MENTOR: tuple[tuple[str, str], ...] = (
    ("contacts", "DELETE FROM pl_contact WHERE kind = 'mentor' AND id = $1"),
)


@dataclass(frozen=True)
class Erasure:
    erasure_id: uuid.UUID
    subject_kind: SubjectKind
    requested_at: str
    keys_destroyed_at: str | None
    completed_at: str | None
    removed: dict[str, int]
    remove_from_figures: bool = False

    @classmethod
    def of(cls, row: asyncpg.Record) -> Erasure:
        def at(name: str) -> str | None:
            return row[name].isoformat() if row[name] else None

        removed = row["removed"]
        return cls(row["erasure_id"], row["subject_kind"], row["requested_at"].isoformat(), at("keys_destroyed_at"),
                   at("completed_at"), orjson.loads(removed) if isinstance(removed, str) else dict(removed),
                   row["remove_from_figures"])

    def document(self) -> dict[str, Any]:
        return {"erasure_id": str(self.erasure_id), "subject_kind": self.subject_kind,
                "status": "completed" if self.completed_at else "in_progress", "requested_at": self.requested_at,
                "keys_destroyed_at": self.keys_destroyed_at, "completed_at": self.completed_at,
                "removed": self.removed, "remove_from_figures": self.remove_from_figures}


class Asked(StrEnum):
    """What a request for an erasure did."""

    NEW = "new"  # the first request for this subject
    REPEATED = "repeated"  # asked before with the same option: the first erasure
    UPGRADED = "upgraded"  # full removal added to an erasure that kept the figures
    CONFLICT = "conflict"  # the figures kept asked for a student already removed from them: refused


def subject_hash(kind: SubjectKind, subject_id: str) -> str:
    """How the audit log names a subject: enough to recognise a second request, not to read the id."""
    return hashlib.sha256(f"werkplek-erasure/{kind}/{subject_id}".encode()).hexdigest()


async def _owned(conn: asyncpg.Connection, kind: SubjectKind, subject_id: str, institution: str) -> bool:
    if kind == "mentor":
        return await registry_store.load(conn, "mentor", subject_id, institution) is not None
    owner = await conn.fetchval("SELECT institution_id FROM pl_student WHERE student_id = $1", subject_id)
    if owner is not None and owner != institution:
        registry_store.refused("student", "path")
    return bool(owner == institution)


async def request(reg: Registry, kind: SubjectKind, subject_id: str, institution: str, coordinator: str,
                  remove_from_figures: bool = False) -> tuple[Asked, Erasure] | None:
    """Step 1. None when the institution has no such subject (another institution's is no different);
    otherwise what the request did (see `Asked`) and the erasure. Idempotent."""
    digest = subject_hash(kind, subject_id)
    async with reg.pool.acquire() as conn, conn.transaction():
        before = await conn.fetchrow("SELECT * FROM pl_erasure WHERE subject_kind = $1 AND subject_hash = $2"
                                     " AND institution_id = $3", kind, digest, institution)
        if before is not None:
            return await _again(conn, before, subject_id, coordinator, remove_from_figures)
        if not await _owned(conn, kind, subject_id, institution):
            return None
        row = await conn.fetchrow(
            "INSERT INTO pl_erasure (erasure_id, institution_id, subject_kind, subject_hash, requested_by,"
            " remove_from_figures, removal_asked_by, removal_asked_at) VALUES ($1, $2, $3, $4, $5, $6,"
            " CASE WHEN $6 THEN $5 END, CASE WHEN $6 THEN now() END)"
            " ON CONFLICT (subject_kind, subject_hash) DO NOTHING RETURNING *",
            uuid.uuid4(), institution, kind, digest, coordinator, remove_from_figures)
        if row is None:  # a concurrent request won
            return Asked.REPEATED, Erasure.of(await conn.fetchrow(
                "SELECT * FROM pl_erasure WHERE subject_kind = $1 AND subject_hash = $2", kind, digest))
        await conn.execute("INSERT INTO pl_erasure_work (erasure_id, subject_id) VALUES ($1, $2)",
                           row["erasure_id"], subject_id)
        return Asked.NEW, Erasure.of(row)


async def _again(conn: asyncpg.Connection, before: asyncpg.Record, subject_id: str, coordinator: str,
                 remove_from_figures: bool) -> tuple[Asked, Erasure]:
    """A second request for an erased subject. Full removal after an erasure that kept the figures
    is added to it: the work item is back (the id comes from this request; the hash proves it is the
    same subject) and step 3 runs again, staging `SubjectErased` with the option."""
    if before["remove_from_figures"] == remove_from_figures:
        return Asked.REPEATED, Erasure.of(before)
    if before["remove_from_figures"]:
        return Asked.CONFLICT, Erasure.of(before)
    row = await conn.fetchrow(
        "UPDATE pl_erasure SET remove_from_figures = true, removal_asked_by = $2, removal_asked_at = now(),"
        " completed_at = NULL WHERE erasure_id = $1 AND NOT remove_from_figures RETURNING *",
        before["erasure_id"], coordinator)
    if row is None:  # a concurrent request added it
        return Asked.REPEATED, Erasure.of(await conn.fetchrow("SELECT * FROM pl_erasure WHERE erasure_id = $1",
                                                             before["erasure_id"]))
    await conn.execute("INSERT INTO pl_erasure_work (erasure_id, subject_id) VALUES ($1, $2)"
                       " ON CONFLICT (erasure_id) DO NOTHING", row["erasure_id"], subject_id)
    return Asked.UPGRADED, Erasure.of(row)


async def execute(reg: Registry, keys: KeyStore, erasure_id: uuid.UUID) -> Erasure:
    """Steps 2 and 3 of one erasure, each only if not done yet."""
    async with reg.pool.acquire() as conn:
        work = await conn.fetchrow("SELECT e.*, w.subject_id FROM pl_erasure e LEFT JOIN pl_erasure_work w"
                                   " USING (erasure_id) WHERE erasure_id = $1", erasure_id)
        if work is None or work["completed_at"] is not None:
            return Erasure.of(work)
        kind, subject_id = work["subject_kind"], work["subject_id"]
        if work["keys_destroyed_at"] is None:
            async with conn.transaction():
                destroyed = await keys.destroy(conn, key_subject(kind, subject_id))
                await conn.execute("UPDATE pl_erasure SET keys_destroyed_at = now(), removed = removed"
                                   " || jsonb_build_object('data_keys', $2::int) WHERE erasure_id = $1",
                                   erasure_id, destroyed)
        async with conn.transaction():
            # read again, locked: full removal may have been added since (`_again` waits for this)
            work = await conn.fetchrow("SELECT * FROM pl_erasure WHERE erasure_id = $1 FOR UPDATE", erasure_id)
            if work["completed_at"] is not None:
                return Erasure.of(work)
            removed = await _remove_local(conn, reg, kind, subject_id, work)
            prior = Erasure.of(work).removed  # a step 3 run again (full removal added) adds to the counts
            total = {**prior, **{k: prior.get(k, 0) + n for k, n in removed.items()}}
            row = await conn.fetchrow("UPDATE pl_erasure SET completed_at = now(), removed = $2::jsonb"
                                      " WHERE erasure_id = $1 RETURNING *", erasure_id, orjson.dumps(total).decode())
            await conn.execute("DELETE FROM pl_erasure_work WHERE erasure_id = $1", erasure_id)
    ERASURES.labels(kind, "completed").inc()
    log.info("erasure completed", extra={"fields": {"erasure_id": str(erasure_id), "kind": kind, **removed,
                                                    "remove_from_figures": row["remove_from_figures"]}})
    return Erasure.of(row)


async def _remove_local(conn: asyncpg.Connection, reg: Registry, kind: SubjectKind, subject_id: str,
                        work: asyncpg.Record) -> dict[str, int]:
    removed = {}
    for name, sql in _STUDENT if kind == "student" else _MENTOR:
        removed[name] = int((await conn.execute(sql, subject_id)).split()[-1])
    event = SubjectErased(erasure_id=work["erasure_id"], subject_kind=kind, subject_id=subject_id,
                          institution_id=work["institution_id"], remove_from_figures=work["remove_from_figures"])
    await stage(conn, [event], producer=reg.producer, source=reg.source)
    if kind == "mentor":
        await stage_tombstone(conn, topic_for(MentorContactChanged).name, subject_id, producer=reg.producer)
    return removed


async def resume(reg: Registry, keys: KeyStore) -> int:
    """Finish every erasure a crash interrupted. Returns how many were finished."""
    ids = [r["erasure_id"] for r in await reg.pool.fetch(
        "SELECT erasure_id FROM pl_erasure WHERE completed_at IS NULL ORDER BY requested_at")]
    for erasure_id in ids:
        await execute(reg, keys, erasure_id)
    return len(ids)


async def resume_loop(reg: Registry, keys: KeyStore, stop: asyncio.Event, every_s: float = 30.0) -> None:
    """The worker's sweep: an erasure the API could not finish is finished within `every_s`."""
    await periodically(lambda: resume(reg, keys), stop, every_s, "erasure sweep")
