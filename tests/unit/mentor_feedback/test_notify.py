"""The notifier's rules: which request becomes which mail (once: the id is the cause), who crossed
into at risk / behind on a day, when the digest of a day is due, and when a mentor is reminded."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkplek_events import ConfirmationRequested
from werkplek_events.vocabulary import ConfirmationChannel, RequestPurpose
from werkplek_mentor_feedback.mails import MailKind
from werkplek_mentor_feedback.notify import (
    RiskChange,
    crossed,
    digest_day,
    digest_mail,
    mail_for_request,
    reminder_due,
)

BRUSSELS = ZoneInfo("Europe/Brussels")
NOW = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)


def request(channel: ConfirmationChannel = ConfirmationChannel.LINK,
            purpose: RequestPurpose = RequestPurpose.BATCH) -> ConfirmationRequested:
    return ConfirmationRequested(request_id="req-1", mentor_id="m-1", entry_ids=[uuid.uuid4(), uuid.uuid4()],
                                 pending_minutes=510, channel=channel,
                                 link_url="https://w.example/mentor/confirm/t" if channel == "link" else None,
                                 expires_at=NOW + timedelta(days=3), purpose=purpose)


@pytest.mark.parametrize(("purpose", "kind"), [(RequestPurpose.BATCH, MailKind.CONFIRMATION_REQUEST),
                                               (RequestPurpose.REMINDER, MailKind.REMINDER),
                                               (RequestPurpose.FRESH_LINK, MailKind.FRESH_LINK)])
def test_a_link_request_is_one_mail_to_its_mentor(purpose: RequestPurpose, kind: MailKind) -> None:
    event = request(purpose=purpose)
    mail = mail_for_request(event, "inst-1", pending_days=7)
    assert mail is not None
    assert (mail.kind, mail.recipient_kind, mail.recipient_id, mail.institution_id) == (kind, "mentor", "m-1", "inst-1")
    assert mail.params == {"entries": 2, "minutes": 510, "link_url": event.link_url,
                           "expires_at": event.expires_at.isoformat(), "pending_days": 7}  # type: ignore[union-attr]
    assert mail.expires_at == event.expires_at
    # the same event (redelivered) is the same mail; another event is another mail
    assert mail_for_request(event, "inst-1", pending_days=7).mail_id == mail.mail_id  # type: ignore[union-attr]
    assert mail_for_request(request(purpose=purpose), "inst-1", pending_days=7).mail_id != mail.mail_id  # type: ignore[union-attr]


def test_a_webhook_request_is_no_mail() -> None:
    assert mail_for_request(request(ConfirmationChannel.WEBHOOK), "inst-1", pending_days=7) is None


def change(student: str, status: str, at: datetime, worsened: bool = True) -> RiskChange:
    return RiskChange(student, "Verpleegkunde", status, worsened, Decimal("0.12"), at)


def test_crossed_lists_each_student_once_with_their_last_crossing_of_that_local_day() -> None:
    day = date(2026, 11, 15)
    late_evening = datetime(2026, 11, 15, 22, 30, tzinfo=UTC)  # 23:30 in Brussels: still the 15th
    after_midnight = datetime(2026, 11, 15, 23, 30, tzinfo=UTC)  # 00:30 on the 16th in Brussels
    changes = [change("s-2", "at_risk", datetime(2026, 11, 15, 8, tzinfo=UTC)),
               change("s-2", "behind", datetime(2026, 11, 15, 15, tzinfo=UTC)),
               change("s-1", "at_risk", late_evening),
               change("s-3", "behind", after_midnight),
               change("s-4", "on_track", datetime(2026, 11, 15, 9, tzinfo=UTC), worsened=False),
               change("s-5", "at_risk", datetime(2026, 11, 14, 9, tzinfo=UTC))]
    got = crossed(changes, day, BRUSSELS)
    assert [(c.student_id, c.status) for c in got] == [("s-1", "at_risk"), ("s-2", "behind")]


@given(st.lists(st.tuples(st.sampled_from(["s-1", "s-2", "s-3"]), st.sampled_from(["at_risk", "behind", "on_track"]),
                          st.booleans(), st.integers(0, 72 * 60)), max_size=30))
def test_crossed_keeps_exactly_the_worsenings_of_the_day(raw: list[tuple[str, str, bool, int]]) -> None:
    start = datetime(2026, 11, 14, 23, 0, tzinfo=UTC)  # midnight of the 15th in Brussels
    changes = [change(s, st_, start - timedelta(days=1) + timedelta(minutes=m), w) for s, st_, w, m in raw]
    got = crossed(changes, date(2026, 11, 15), BRUSSELS)
    expected = {c.student_id for c in changes if c.worsened and c.status in ("at_risk", "behind")
                and start <= c.occurred_at < start + timedelta(days=1)}
    assert [c.student_id for c in got] == sorted(expected)


def test_a_digest_is_one_mail_per_institution_and_day_and_none_when_nobody_crossed() -> None:
    lines = [change("s-1", "at_risk", NOW)]
    mail = digest_mail("inst-1", date(2026, 11, 15), lines)
    assert mail is not None and mail.kind is MailKind.DIGEST and mail.recipient_id == "inst-1"
    assert mail.params["students"] == [{"student_id": "s-1", "programme": "Verpleegkunde", "status": "at_risk",
                                        "real_share": "0.12"}]
    assert digest_mail("inst-1", date(2026, 11, 15), lines).mail_id == mail.mail_id  # type: ignore[union-attr]
    assert digest_mail("inst-2", date(2026, 11, 15), lines).mail_id != mail.mail_id  # type: ignore[union-attr]
    assert digest_mail("inst-1", date(2026, 11, 15), []) is None


def test_the_digest_of_yesterday_is_due_from_the_local_hour_on() -> None:
    assert digest_day(datetime(2026, 11, 16, 6, 0, tzinfo=UTC), BRUSSELS, 7) == date(2026, 11, 15)  # 07:00 local
    assert digest_day(datetime(2026, 11, 16, 5, 59, tzinfo=UTC), BRUSSELS, 7) is None  # 06:59 local
    assert digest_day(datetime(2026, 11, 16, 5, 0, tzinfo=UTC), BRUSSELS, 0) == date(2026, 11, 15)


def test_a_mentor_is_reminded_after_n_days_and_at_most_once_a_week() -> None:
    assert not reminder_due(NOW - timedelta(days=7), None, NOW, pending_days=7)  # exactly 7 days: not more
    assert reminder_due(NOW - timedelta(days=7, seconds=1), None, NOW, pending_days=7)
    assert not reminder_due(NOW - timedelta(days=9), NOW - timedelta(days=6, hours=23), NOW, pending_days=7)
    assert reminder_due(NOW - timedelta(days=9), NOW - timedelta(days=7), NOW, pending_days=7)
    assert reminder_due(NOW - timedelta(days=3, seconds=1), None, NOW, pending_days=3)
