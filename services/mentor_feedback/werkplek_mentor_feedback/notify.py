"""The notifier's rules, pure: which event queues which mail (identified by its cause, so a
redelivered event queues nothing new), who crossed into at risk / behind on a day (the digest), and
when a mentor is due a reminder. The notifier process loads the facts and stores what these return."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from werkplek_events import ConfirmationRequested
from werkplek_events.vocabulary import ConfirmationChannel, RequestPurpose, ShareStatus

from .mails import MailKind

NAMESPACE = uuid.UUID("3f1d7c2e-5b8a-4e61-9a0c-7d2b6e4f8a13")  # of mail ids; never change it
_KIND = {RequestPurpose.BATCH: MailKind.CONFIRMATION_REQUEST, RequestPurpose.REMINDER: MailKind.REMINDER,
         RequestPurpose.FRESH_LINK: MailKind.FRESH_LINK}
WARNING = (ShareStatus.AT_RISK.value, ShareStatus.BEHIND.value)


@dataclass(frozen=True)
class QueuedMail:
    mail_id: uuid.UUID
    kind: MailKind
    recipient_kind: str  # mentor / institution
    recipient_id: str
    institution_id: str | None
    request_id: str | None
    params: dict[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None


def mail_id(cause: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, cause)


def mail_for_request(event: ConfirmationRequested, institution_id: str | None, *,
                     pending_days: int) -> QueuedMail | None:
    """A link request becomes one mail to its mentor; an outbound-webhook request reaches the tool."""
    if event.channel is not ConfirmationChannel.LINK or event.link_url is None or event.expires_at is None:
        return None
    params = {"entries": len(event.entry_ids), "minutes": event.pending_minutes, "link_url": event.link_url,
              "expires_at": event.expires_at.isoformat(), "pending_days": pending_days}
    return QueuedMail(mail_id(f"request:{event.event_id}"), _KIND[event.purpose], "mentor", event.mentor_id,
                      institution_id, event.request_id, params, event.expires_at)


@dataclass(frozen=True)
class RiskChange:
    student_id: str
    programme: str
    status: str
    worsened: bool
    real_share: Decimal
    occurred_at: datetime


def crossed(changes: Iterable[RiskChange], day: date, tz: ZoneInfo) -> list[RiskChange]:
    """The students who crossed into at risk or behind on `day` (local): their last such change that
    day, one line per student, ordered by student id. A recovery the same day does not erase it."""
    latest: dict[str, RiskChange] = {}
    for c in changes:
        if c.worsened and c.status in WARNING and c.occurred_at.astimezone(tz).date() == day:
            if c.student_id not in latest or latest[c.student_id].occurred_at <= c.occurred_at:
                latest[c.student_id] = c
    return [latest[s] for s in sorted(latest)]


def digest_mail(institution_id: str, day: date, lines: Sequence[RiskChange]) -> QueuedMail | None:
    if not lines:
        return None
    students = [{"student_id": c.student_id, "programme": c.programme, "status": c.status,
                 "real_share": str(c.real_share)} for c in lines]
    return QueuedMail(mail_id(f"digest:{institution_id}:{day.isoformat()}"), MailKind.DIGEST, "institution",
                      institution_id, institution_id, None, {"day": day.isoformat(), "students": students})


def digest_day(now: datetime, tz: ZoneInfo, hour: int) -> date | None:
    """The day whose digest is due at `now`: yesterday (local), once the local hour has come."""
    local = now.astimezone(tz)
    return local.date() - timedelta(days=1) if local.hour >= hour else None


def reminder_due(oldest_pending: datetime, last_reminded: datetime | None, now: datetime, *, pending_days: int,
                 every_days: int = 7) -> bool:
    """Hours pending for more than `pending_days`, and no reminder to this mentor in `every_days`."""
    if now - oldest_pending <= timedelta(days=pending_days):
        return False
    return last_reminded is None or now - last_reminded >= timedelta(days=every_days)
