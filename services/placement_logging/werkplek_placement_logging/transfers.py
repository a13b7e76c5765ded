"""Use cases of a student's institution: read it, and move the student to another institution with the
consent of both (the owning one offers, the receiving one accepts). The rules are `tenancy`'s; an
accepted transfer is kept in `pl_student_transfer_log`. The enrolments and placements the former
institution made stay its own history: it may still end them, but no longer change or add any."""

from __future__ import annotations

from typing import Any

import asyncpg
from werkplek_common.problems import Problem, problem_type

from . import registry_store as store
from .metrics import REGISTRY_CHANGES
from .tenancy import Offer, foreign, may_accept, may_see, offer_errors


def _no_offer() -> Problem:
    return Problem(404, "No such transfer", "there is no open transfer of this student that involves your institution",
                   type_=problem_type("not-found"))


def _doc(student: asyncpg.Record, offer: asyncpg.Record | None) -> dict[str, Any]:
    transfer = None if offer is None else {
        "from_institution_id": offer["from_institution"], "to_institution_id": offer["to_institution"],
        "offered_at": offer["offered_at"]}
    return {"student_id": student["student_id"], "institution_id": student["institution_id"],
            "registered_at": student["registered_at"], "transfer": transfer}


def _offer(row: asyncpg.Record | None) -> Offer | None:
    return None if row is None else Offer(row["student_id"], row["from_institution"], row["to_institution"])


_OFFER = "SELECT * FROM pl_student_transfer WHERE student_id = $1"
_OFFER_LOCKED = _OFFER + " FOR UPDATE"


async def _open_offer(conn: asyncpg.Connection | asyncpg.Pool, student_id: str, *,
                      lock: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(_OFFER_LOCKED if lock else _OFFER, student_id)


async def _own_student(conn: asyncpg.Connection, student_id: str, institution: str) -> asyncpg.Record:
    row = await store.claim_student(conn, student_id, institution)  # another institution's: 404, counted
    if row is None:
        raise store.not_found("student")
    return row


async def read_student(pool: asyncpg.Pool, institution: str, student_id: str) -> dict[str, Any]:
    async with pool.acquire() as conn, conn.transaction():
        return _doc(await _own_student(conn, student_id, institution), await _open_offer(conn, student_id))


async def read_transfer(pool: asyncpg.Pool, institution: str, student_id: str) -> dict[str, Any]:
    offer = await _open_offer(pool, student_id)
    if not may_see(_offer(offer), institution):
        if offer is not None:
            store.refused("transfer", "path")
        raise _no_offer()
    student = await pool.fetchrow("SELECT * FROM pl_student WHERE student_id = $1", student_id)
    return _doc(student, offer)


async def offer_transfer(pool: asyncpg.Pool, institution: str, coordinator: str, student_id: str,
                         to_institution: str) -> tuple[int, dict[str, Any]]:
    """Offer the student to another institution (201; the same offer again: 200). Replaces an open offer."""
    async with pool.acquire() as conn, conn.transaction():
        student = await _own_student(conn, student_id, institution)
        errors = offer_errors(institution, to_institution)
        if errors:
            raise Problem(422, "The transfer is not valid", errors[0]["message"],
                          type_=problem_type("transfer-invalid"), errors=errors)
        current = await _open_offer(conn, student_id, lock=True)
        if current is not None and current["to_institution"] == to_institution:
            return 200, _doc(student, current)
        offer = await conn.fetchrow(
            "INSERT INTO pl_student_transfer (student_id, from_institution, to_institution, offered_by)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (student_id) DO UPDATE SET to_institution = $3, offered_by = $4,"
            " offered_at = now() RETURNING *", student_id, institution, to_institution, coordinator)
        REGISTRY_CHANGES.labels("transfer_offered").inc()
        return 201, _doc(student, offer)


async def withdraw_transfer(pool: asyncpg.Pool, institution: str, student_id: str) -> dict[str, Any]:
    async with pool.acquire() as conn, conn.transaction():
        student = await _own_student(conn, student_id, institution)
        if await conn.fetchval("DELETE FROM pl_student_transfer WHERE student_id = $1 RETURNING true",
                               student_id) is None:
            raise _no_offer()
        return _doc(student, None)


async def accept_transfer(pool: asyncpg.Pool, institution: str, coordinator: str, student_id: str) -> dict[str, Any]:
    """The receiving institution accepts: from now on the student is its own."""
    async with pool.acquire() as conn, conn.transaction():
        owner = await conn.fetchrow("SELECT * FROM pl_student WHERE student_id = $1 FOR UPDATE", student_id)
        offer = await _open_offer(conn, student_id, lock=True)
        owner_id = None if owner is None else owner["institution_id"]
        if not may_accept(_offer(offer), owner_id, institution):
            if foreign(owner_id, institution):
                store.refused("student", "path")
            raise _no_offer()
        assert offer is not None
        await conn.execute(
            "INSERT INTO pl_student_transfer_log (student_id, from_institution, to_institution, offered_by,"
            " offered_at, accepted_by) VALUES ($1, $2, $3, $4, $5, $6)", student_id, offer["from_institution"],
            institution, offer["offered_by"], offer["offered_at"], coordinator)
        await conn.execute("DELETE FROM pl_student_transfer WHERE student_id = $1", student_id)
        moved = await conn.fetchrow("UPDATE pl_student SET institution_id = $2, updated_at = now()"
                                    " WHERE student_id = $1 RETURNING *", student_id, institution)
        REGISTRY_CHANGES.labels("transfer_accepted").inc()
        return _doc(moved, None)
