"""The notifier's consumer, a stateless processor of the stream runtime: each event is handled once
(its id in `mf_notifier_applied`, in the runtime's transaction with the offsets: what it changes and
how far it read commit together). A link request queues a mail; contact events keep the addresses
(and release the mails that waited for one); risk changes and programmes feed the daily digest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson
from aiokafka import ConsumerRecord
from werkplek_common.runtime import Context, Processor
from werkplek_events import (
    ConfirmationRequested,
    Event,
    InstitutionContactChanged,
    MentorContactChanged,
    ProgrammeRegistered,
    StudentRiskStatusChanged,
    SubjectErased,
    topic_for,
)

from .config import MentorFeedbackSettings
from .erasure import erase_in_notifier
from .notify import QueuedMail, mail_for_request
from .projection import first_time

CONSUMED = (ConfirmationRequested, MentorContactChanged, InstitutionContactChanged, StudentRiskStatusChanged,
            ProgrammeRegistered, SubjectErased)
TOPICS = [topic_for(c).name for c in CONSUMED]


class Notifications:
    def __init__(self, pool: asyncpg.Pool | None, cfg: MentorFeedbackSettings) -> None:
        self.pool, self.cfg = pool, cfg

    async def handle_batch(self, batch: Sequence[tuple[Event, ConsumerRecord | None]]) -> None:
        """The same in a transaction of its own (tools and tests that hand events over directly)."""
        assert self.pool is not None
        async with self.pool.acquire() as conn, conn.transaction():
            await self.apply_all(conn, [event for event, _ in batch])

    async def apply_all(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        for event in await first_time(conn, "mf_notifier_applied", events):
            await self.apply(conn, event)

    async def apply(self, conn: asyncpg.Connection, event: Event) -> None:
        if isinstance(event, ConfirmationRequested):
            institution = await conn.fetchval("SELECT institution_id FROM mf_mentors WHERE mentor_id = $1",
                                              event.mentor_id)
            mail = mail_for_request(event, institution, pending_days=self.cfg.mentor_reminder_after_days)
            if mail is not None:
                await queue(conn, mail)
        elif isinstance(event, MentorContactChanged):
            await save_contact(conn, "mentor", event.mentor_id, event.email, event.language.value, event)
        elif isinstance(event, InstitutionContactChanged):
            await save_contact(conn, "institution", event.institution_id, event.email, event.language.value, event)
        elif isinstance(event, StudentRiskStatusChanged):
            await conn.execute(
                "INSERT INTO mf_risk_changes(event_id, student_id, programme_id, previous_status, status, worsened,"
                " real_share, occurred_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING",
                event.event_id, event.student_id, event.programme_id, event.previous_status.value,
                event.status.value, event.worsened, event.real_share, event.occurred_at)
        elif isinstance(event, SubjectErased):
            if event.subject_kind == "mentor":
                await save_contact(conn, "mentor", event.subject_id, None, "nl", event)
            await erase_in_notifier(conn, event)
        elif isinstance(event, ProgrammeRegistered):
            await conn.execute("INSERT INTO mf_programmes(programme_id, institution_id, name) VALUES ($1,$2,$3)"
                               " ON CONFLICT (programme_id) DO UPDATE SET institution_id = $2, name = $3",
                               event.programme_id, event.institution_id, event.name)


class NotifierProcessor(Processor[None]):
    """On the runtime: per key (a request's mentor, a contact's subject, a student, a programme),
    quarantined alone if its events cannot be applied; the outputs are the events themselves."""
    topics = TOPICS
    stateful = False
    publish = False
    opens_personal = True  # descriptions, comments, addresses (docs/adr/0070)

    def __init__(self, group: str, cfg: MentorFeedbackSettings) -> None:
        self.name = group
        self.notifications = Notifications(None, cfg)

    def handle(self, state: None, events: Sequence[Event], ctx: Context) -> tuple[None, Sequence[Event]]:
        return None, events

    async def write(self, conn: asyncpg.Connection, outputs: Sequence[Any], ctx: Context) -> None:
        await self.notifications.apply_all(conn, outputs)


async def queue(conn: asyncpg.Connection, mail: QueuedMail) -> bool:
    """Queue a mail once: its id is derived from its cause. False when it was queued before."""
    done = await conn.execute(
        "INSERT INTO mf_mails(mail_id, kind, recipient_kind, recipient_id, institution_id, request_id, params,"
        " expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7::jsonb,$8) ON CONFLICT (mail_id) DO NOTHING",
        mail.mail_id, mail.kind.value, mail.recipient_kind, mail.recipient_id, mail.institution_id,
        mail.request_id, orjson.dumps(mail.params).decode(), mail.expires_at)
    return done.endswith(" 1")


async def save_contact(conn: asyncpg.Connection, kind: str, subject_id: str, email: str | None, lang: str,
                       event: Event) -> None:
    """Newest wins (contact topics are compacted, but a late redelivery must not undo a change); a
    removal deletes the address. Mails that waited for an address are released when one arrives."""
    at = event.occurred_at
    if email is None:
        await conn.execute("DELETE FROM mf_contacts WHERE kind = $1 AND subject_id = $2 AND changed_at <= $3",
                           kind, subject_id, at)
        await conn.execute("INSERT INTO mf_contact_removals(kind, subject_id, removed_at) VALUES ($1,$2,$3)"
                           " ON CONFLICT (kind, subject_id) DO UPDATE SET"
                           " removed_at = GREATEST(mf_contact_removals.removed_at, $3)", kind, subject_id, at)
        return
    await conn.execute(
        "INSERT INTO mf_contacts(kind, subject_id, email, language, changed_at) SELECT $1,$2,$3,$4,$5"
        " WHERE NOT EXISTS (SELECT 1 FROM mf_contact_removals WHERE kind = $1 AND subject_id = $2"
        " AND removed_at >= $5) ON CONFLICT (kind, subject_id) DO UPDATE SET email = $3, language = $4,"
        " changed_at = $5 WHERE mf_contacts.changed_at <= $5", kind, subject_id, email, lang, at)
    await conn.execute("UPDATE mf_mails SET state = 'pending', next_attempt_at = now(), last_error = NULL"
                       " WHERE state = 'undeliverable' AND recipient_kind = $1 AND recipient_id = $2"
                       " AND EXISTS (SELECT 1 FROM mf_contacts WHERE kind = $1 AND subject_id = $2)", kind, subject_id)
