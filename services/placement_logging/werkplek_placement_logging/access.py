"""Access to personal data by staff (docs/adr/0074): a coordinator may learn which of their own
students is behind a funding report's pseudonymous trajectory; funding staff never can (they see the
pseudonym only). Every such read, and every read of a mentor's contact data, is logged in
`pl_personal_reads`."""

from __future__ import annotations

import asyncpg
from werkplek_common.auth import Principal
from werkplek_events.pseudonyms import pseudonym


async def record_read(conn: asyncpg.Connection | asyncpg.Pool, who: Principal, what: str, subject_id: str) -> None:
    await conn.execute("INSERT INTO pl_personal_reads (reader, role, institution_id, what, subject_id)"
                       " VALUES ($1, $2, $3, $4, $5)", who.subject, who.role.value, who.institution_id, what,
                       subject_id)


async def reveal(pool: asyncpg.Pool, who: Principal, trajectory: str, key: bytes) -> str | None:
    """The student of the coordinator's institution behind `trajectory`, logged; None when no student
    of theirs has it (another institution's trajectory looks the same as an unknown one)."""
    async with pool.acquire() as conn, conn.transaction():
        students = await conn.fetch("SELECT student_id FROM pl_student WHERE institution_id = $1", who.institution_id)
        found = next((r["student_id"] for r in students if pseudonym(key, r["student_id"]) == trajectory), None)
        if found is not None:
            await record_read(conn, who, "trajectory_revealed", found)
        return found
