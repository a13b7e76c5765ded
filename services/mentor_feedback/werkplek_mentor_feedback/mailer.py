"""Sends the queued mails over SMTP (aiosmtplib). Each due mail is claimed with a lease (so a crash
only delays it), rendered in its recipient's language from the contact as it is now, sent, and its
outcome recorded: sent; retried with backoff (connection trouble, 4xx); bounced (the server refused
the recipient, 5xx); failed (another permanent refusal, or out of attempts); undeliverable (no
address: it waits for one); expired (its link expired before it could be sent)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiosmtplib
import asyncpg
import orjson

from .batching import backoff_delay
from .config import MentorFeedbackSettings
from .i18n import language
from .mails import MailKind, message, render
from .metrics import MAILS

log = logging.getLogger(__name__)

_CLAIM = """
UPDATE mf_mails SET next_attempt_at = $2 + make_interval(secs => $3)
WHERE mail_id IN (SELECT mail_id FROM mf_mails WHERE state = 'pending' AND next_attempt_at <= $2
                  ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
RETURNING mail_id, kind, recipient_kind, recipient_id, params, attempts, expires_at
"""
_CONTACT = "SELECT email, language FROM mf_contacts WHERE kind = $1 AND subject_id = $2"


@dataclass(frozen=True)
class Outcome:
    state: str  # sent / pending (retry) / bounced / failed / undeliverable / expired
    error: str | None = None
    next_attempt_at: datetime | None = None
    sent_to: str | None = None


def classify(exc: BaseException) -> tuple[bool, str]:
    """(permanent?, what happened) of a failed send. A refused recipient says `bounced:`."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        first = exc.recipients[0]
        return first.code >= 500, f"{'bounced' if first.code >= 500 else 'deferred'}: {first.code} {first.message}"
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        return exc.code >= 500, f"{'bounced' if exc.code >= 500 else 'deferred'}: {exc.code} {exc.message}"
    if isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code > 0:
        return exc.code >= 500, f"{type(exc).__name__}: {exc.code} {exc.message}"
    return False, f"{type(exc).__name__}: {exc}"  # connection refused, timeout, disconnect: try again


class Mailer:
    def __init__(self, pool: asyncpg.Pool, cfg: MentorFeedbackSettings, *, clock: Callable[[], float] = time.time,
                 rand: Callable[[], float] | None = None) -> None:
        self.pool, self.cfg, self.clock, self.rand = pool, cfg, clock, rand

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                sent = await self.send_due()
            except (asyncpg.PostgresError, OSError) as exc:
                log.warning("mail sending paused", extra={"fields": {"error": repr(exc)}})
                sent = 0
            if not sent:
                try:
                    await asyncio.wait_for(stop.wait(), self.cfg.mentor_mail_poll_s)
                except TimeoutError:
                    pass

    async def send_due(self) -> int:
        """Attempt every due mail once; returns how many were attempted."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        lease = self.cfg.mentor_smtp_timeout_s * 3
        rows = await self.pool.fetch(_CLAIM, self.cfg.mentor_mail_batch, now, lease)
        for row in rows:  # one SMTP conversation at a time: a mail server limits parallel sessions
            outcome = await self._attempt(row, now)
            await self._record(row, outcome)
            MAILS.labels(row["kind"], outcome.state if outcome.state != "pending" else "retry").inc()
        return len(rows)

    async def _attempt(self, row: asyncpg.Record, now: datetime) -> Outcome:
        if row["expires_at"] is not None and row["expires_at"] <= now:
            return Outcome("expired", "the link expired before the mail could be sent")
        contact = await self.pool.fetchrow(_CONTACT, row["recipient_kind"], row["recipient_id"])
        if contact is None:
            return Outcome("undeliverable", f"no e-mail address for this {row['recipient_kind']}")
        lang = language(contact["language"])
        rendered = render(MailKind(row["kind"]), orjson.loads(row["params"]), lang, ask_url=self.cfg.mentor_ask_url,
                          tz=self.cfg.mentor_tz)
        msg = message(rendered, mail_id=row["mail_id"], to=contact["email"], sender=self.cfg.mentor_mail_from,
                      lang=lang, now=now)
        try:
            await self._smtp(msg)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            permanent, error = classify(exc)
            return self._failure(row["attempts"] + 1, permanent, error, now, contact["email"])
        return Outcome("sent", sent_to=contact["email"])

    async def _smtp(self, msg: object) -> None:
        c = self.cfg
        password = c.mentor_smtp_password.get_secret_value() if c.mentor_smtp_password else None
        await aiosmtplib.send(msg, hostname=c.mentor_smtp_host, port=c.mentor_smtp_port,  # type: ignore[arg-type]
                              username=c.mentor_smtp_username, password=password, use_tls=c.mentor_smtp_tls,
                              start_tls=c.mentor_smtp_starttls, timeout=c.mentor_smtp_timeout_s)

    def _failure(self, attempt: int, permanent: bool, error: str, now: datetime, to: str) -> Outcome:
        if permanent:
            return Outcome("bounced" if error.startswith("bounced") else "failed", error, sent_to=to)
        if attempt >= self.cfg.mentor_mail_max_attempts:
            return Outcome("failed", f"gave up after {attempt} attempts; last: {error}", sent_to=to)
        kw = {"rand": self.rand} if self.rand else {}
        delay = backoff_delay(attempt, base_s=self.cfg.mentor_mail_base_delay_s,
                              cap_s=self.cfg.mentor_mail_max_delay_s, **kw)
        return Outcome("pending", error, now + timedelta(seconds=delay))

    async def _record(self, row: asyncpg.Record, o: Outcome) -> None:
        finished = o.state in ("sent", "bounced", "failed", "expired")
        await self.pool.execute(
            "UPDATE mf_mails SET state = $2, attempts = attempts + $3, last_error = $4,"
            " next_attempt_at = COALESCE($5, next_attempt_at), sent_to = COALESCE($6, sent_to),"
            " finished_at = CASE WHEN $7 THEN now() END WHERE mail_id = $1",
            row["mail_id"], o.state, 0 if o.state in ("undeliverable", "expired") else 1, o.error,
            o.next_attempt_at, o.sent_to, finished)
        if o.state != "sent":
            log.info("mail not sent", extra={"fields": {"mail_id": str(row["mail_id"]), "kind": row["kind"],
                                                        "state": o.state, "error": o.error}})
