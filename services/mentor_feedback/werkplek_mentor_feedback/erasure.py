"""Erasure in mentor feedback (docs/adr/0072): on `SubjectErased`, remove this service's copies of
the subject's free text and contact data. Each statement sets a value to what an erased record
decodes to ('' / no address), so applying the event again, or a redelivered older event of the
subject (its sealed fields now decode as erased), changes nothing further. Ids and hours stay."""

from __future__ import annotations

import asyncpg
from werkplek_events import SubjectErased

_STUDENT = (
    "UPDATE mf_entries SET description = '' WHERE student_id = $1 AND description <> ''",
    "UPDATE mf_decision_log d SET comment = '' FROM mf_entries e"
    " WHERE e.entry_id = d.entry_id AND e.student_id = $1 AND d.comment <> ''",
    "UPDATE mf_assessments SET outcomes = (SELECT jsonb_agg(o || '{\"comment\": \"\"}'::jsonb)"
    " FROM jsonb_array_elements(outcomes) o) WHERE student_id = $1",
    # the signed bytes of an outbound webhook repeat the entries' descriptions: not sent any more
    "DELETE FROM mf_outbound_attempts WHERE delivery_id IN (SELECT delivery_id FROM mf_outbound_deliveries"
    " WHERE position(convert_to('\"student_id\":\"' || $1 || '\"', 'UTF8') in payload) > 0)",
    "DELETE FROM mf_outbound_deliveries"
    " WHERE position(convert_to('\"student_id\":\"' || $1 || '\"', 'UTF8') in payload) > 0",
)


async def erase_in_projection(conn: asyncpg.Connection, event: SubjectErased) -> None:
    """The worker's tables: entries, decisions, assessments, outbound webhooks."""
    if event.subject_kind == "student":
        for sql in _STUDENT:
            await conn.execute(sql, event.subject_id)


async def erase_in_notifier(conn: asyncpg.Connection, event: SubjectErased) -> None:
    """The notifier's tables: where past mails went (the address itself goes as a removal, by the
    notifier's one way of removing an address)."""
    if event.subject_kind == "mentor":
        await conn.execute("UPDATE mf_mails SET sent_to = NULL WHERE recipient_kind = 'mentor' AND recipient_id = $1"
                           " AND sent_to IS NOT NULL", event.subject_id)
