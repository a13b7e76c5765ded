"""Mail to mentors and coordinators on the real PostgreSQL and the real mail catcher (Mailpit, read
through its HTTP API): one mail per request however often its event arrives, in the mentor's
language with no student in the subject; SMTP refusing (4xx: retried until it recovers; 5xx:
recorded as bounced, visible to the coordinator); a mentor without an address (undeliverable until
one arrives); the daily digest; reminders."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from werkplek_common.auth import Role
from werkplek_common.devidp import mint
from werkplek_events import (
    ConfirmationRequested,
    InstitutionContactChanged,
    MentorContactChanged,
    ProgrammeRegistered,
    StudentRiskStatusChanged,
)
from werkplek_events.vocabulary import Language, Level, RequestPurpose, ShareStatus
from werkplek_mentor_feedback.confirmations import form_requests
from werkplek_mentor_feedback.digests import form_digests
from werkplek_mentor_feedback.mailer import Mailer
from werkplek_mentor_feedback.notifications import Notifications
from werkplek_mentor_feedback.reminders import form_reminders

from tests.mailpit import Mailpit, smtp_port
from tests.unit.mentor_feedback import factories as f


@pytest.fixture
def mail_cfg(cfg):
    return cfg.model_copy(update={"mentor_smtp_port": smtp_port(), "mentor_mail_base_delay_s": 0.05,
                                  "mentor_mail_max_attempts": 4})


@pytest.fixture
def mailpit() -> Mailpit:
    return Mailpit()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).timestamp()

    def __call__(self) -> float:
        return self.now


def address(who: str) -> str:
    return f"{who}@mentors.example"


async def contact(notifications: Notifications, pool, mentor_id: str, lang: Language = Language.NL) -> str:
    email = address(mentor_id)
    await notifications.handle_batch([(MentorContactChanged(mentor_id=mentor_id, institution_id="inst-1",
                                                            email=email, language=lang), None)])
    return email


async def requested(world, pool, cfg) -> ConfirmationRequested:
    events = await form_requests(pool, cfg, cfg.mentor_link_secret.encode(), now=datetime.now(UTC))
    (mine,) = [e for e in events if e.mentor_id == world.mentor_c]
    return mine


async def queued(world, pool, cfg) -> tuple[str, ConfirmationRequested]:
    """mentor_c has an address and one pending entry; its request is formed and its mail queued."""
    notifications = Notifications(pool, cfg)
    email = await contact(notifications, pool, world.mentor_c)
    await world.entry(world.pl_c)
    event = await requested(world, pool, cfg)
    await notifications.handle_batch([(event, None)])
    return email, event


async def mail_rows(pool, request_id: str) -> list:
    return await pool.fetch("SELECT * FROM mf_mails WHERE request_id = $1", request_id)


async def test_a_pending_entry_becomes_exactly_one_mail_in_the_mentors_language(world, pool, mail_cfg, api, mailpit):
    notifications = Notifications(pool, mail_cfg)
    email = await contact(notifications, pool, world.mentor_c, Language.EN)
    await world.entry(world.pl_c, minutes=450)
    event = await requested(world, pool, mail_cfg)
    for _ in range(3):  # the event delivered three times (a redelivery after a crash): one mail queued
        await notifications.handle_batch([(event, None)])
    assert len(await mail_rows(pool, event.request_id)) == 1
    assert await Mailer(pool, mail_cfg).send_due() >= 1
    (mail,) = await mailpit.wait_for(email)
    assert mail.subject == "Hours await your confirmation (1 entry, 7h30)"
    assert world.student not in mail.subject + mail.text and event.link_url in mail.text
    assert mail.headers["Content-Language"] == ["en"]
    assert mail.message_id == f"{(await mail_rows(pool, event.request_id))[0]['mail_id']}@werkplek.example"
    assert (await mail_rows(pool, event.request_id))[0]["state"] == "sent"
    await Mailer(pool, mail_cfg).send_due()  # nothing left to send for it
    assert len(await mailpit.to(email)) == 1
    page = await api.get("/confirm/" + event.link_url.split("/confirm/")[1])  # type: ignore[union-attr]
    assert page.status_code == 200 and '<html lang="en">' in page.text


async def test_smtp_refusing_for_a_while_is_retried_and_the_mail_arrives_once(world, pool, mail_cfg, mailpit):
    email, event = await queued(world, pool, mail_cfg)
    clock = Clock()
    mailer = Mailer(pool, mail_cfg, clock=clock, rand=lambda: 0.0)
    await mailpit.chaos(451)  # "try again later"
    try:
        await mailer.send_due()
        await mailer.send_due()  # not due yet: the backoff holds it back
    finally:
        await mailpit.chaos(None)
    (row,) = await mail_rows(pool, event.request_id)
    assert (row["state"], row["attempts"]) == ("pending", 1) and row["last_error"].startswith("deferred: 451")
    assert row["next_attempt_at"] > datetime.fromtimestamp(clock.now, UTC)
    clock.now += 60
    await mailer.send_due()
    assert len(await mailpit.wait_for(email)) == 1
    (row,) = await mail_rows(pool, event.request_id)
    assert (row["state"], row["attempts"]) == ("sent", 2)


async def test_a_refused_recipient_is_recorded_as_bounced_and_shown_to_the_coordinator(world, pool, mail_cfg, api,
                                                                                       mailpit):
    email, event = await queued(world, pool, mail_cfg)
    await mailpit.chaos(550)  # "no such user"
    try:
        await Mailer(pool, mail_cfg).send_due()
    finally:
        await mailpit.chaos(None)
    (row,) = await mail_rows(pool, event.request_id)
    assert (row["state"], row["sent_to"]) == ("bounced", email) and "550" in row["last_error"]
    assert await mailpit.to(email) == []

    def bearer(institution: str) -> dict[str, str]:
        token = mint(mail_cfg.data_dir, role=Role.COORDINATOR, sub="c-1", institution=institution)
        return {"authorization": f"Bearer {token}"}

    own = await api.get("/v1/mail-deliveries", params={"state": "bounced"}, headers=bearer("inst-1"))
    assert own.status_code == 200
    (item,) = [i for i in own.json()["items"] if i["request_id"] == event.request_id]
    assert (item["state"], item["recipient_id"], item["kind"]) == ("bounced", world.mentor_c, "confirmation_request")
    other = await api.get("/v1/mail-deliveries", params={"state": "bounced"}, headers=bearer("inst-other"))
    assert all(i["request_id"] != event.request_id for i in other.json()["items"])
    wrong = await api.get("/v1/mail-deliveries", params={"state": "lost"}, headers=bearer("inst-1"))
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "query.state"


async def test_a_mentor_without_an_address_is_undeliverable_until_one_arrives(world, pool, mail_cfg, mailpit):
    notifications = Notifications(pool, mail_cfg)
    await world.entry(world.pl_c)
    event = await requested(world, pool, mail_cfg)
    await notifications.handle_batch([(event, None)])
    mailer = Mailer(pool, mail_cfg)
    await mailer.send_due()
    (row,) = await mail_rows(pool, event.request_id)
    assert row["state"] == "undeliverable" and "no e-mail address" in row["last_error"]
    email = await contact(notifications, pool, world.mentor_c)  # the coordinator adds the address
    (row,) = await mail_rows(pool, event.request_id)
    assert row["state"] == "pending"
    await mailer.send_due()
    assert len(await mailpit.wait_for(email)) == 1


async def test_a_link_mail_that_could_not_go_out_before_its_link_expired_is_not_sent(world, pool, mail_cfg, mailpit):
    email, event = await queued(world, pool, mail_cfg)
    clock = Clock()
    clock.now = event.expires_at.timestamp() + 1  # type: ignore[union-attr]
    await Mailer(pool, mail_cfg, clock=clock).send_due()
    (row,) = await mail_rows(pool, event.request_id)
    assert row["state"] == "expired" and await mailpit.to(email) == []


async def test_a_mentor_whose_hours_wait_more_than_n_days_is_reminded_once_a_week(world, pool, mail_cfg, mailpit):
    notifications = Notifications(pool, mail_cfg)
    email = await contact(notifications, pool, world.mentor_c)
    old = await world.entry(world.pl_c, age=timedelta(days=8))
    young = await world.entry(world.pl_c, age=timedelta(hours=2))
    now = datetime.now(UTC)
    key = mail_cfg.mentor_link_secret.encode()

    async def reminded(at: datetime) -> list[ConfirmationRequested]:
        return [e for e in await form_reminders(pool, mail_cfg, key, now=at) if e.mentor_id == world.mentor_c]

    (mine,) = await reminded(now)
    assert mine.purpose is RequestPurpose.REMINDER and set(mine.entry_ids) == {old, young}
    assert await reminded(now + timedelta(days=6)) == []
    await notifications.handle_batch([(mine, None)])
    await Mailer(pool, mail_cfg).send_due()
    (mail,) = await mailpit.wait_for(email)
    assert mail.subject == "Herinnering: uren wachten al meer dan 7 dagen op je bevestiging"
    assert len(await reminded(now + timedelta(days=7))) == 1  # a week later, still waiting: reminded again


async def test_the_digest_lists_exactly_the_institutions_students_who_crossed_that_day(pool, mail_cfg, mailpit):
    notifications = Notifications(pool, mail_cfg)
    inst_a, inst_b = f.uid("inst-a"), f.uid("inst-b")
    prog_a, prog_b = f.uid("prog"), f.uid("prog")
    day = date(2021, 1, 1) + timedelta(days=uuid.uuid4().int % 1500)  # a day of this test alone
    noon = datetime(day.year, day.month, day.day, 11, tzinfo=UTC)
    s = [f.uid("s") for _ in range(6)]

    def risk(student: str, programme: str, status: ShareStatus, at: datetime, worsened: bool = True):
        return StudentRiskStatusChanged(student_id=student, programme_id=programme, status=status,
                                        previous_status=ShareStatus.ON_TRACK, worsened=worsened,
                                        real_share=Decimal("0.1"), projected_share=Decimal("0.2"), version=2,
                                        occurred_at=at)

    events = [
        ProgrammeRegistered(programme_id=prog_a, institution_id=inst_a, name="Verpleegkunde", level=Level.GRADUAAT,
                            ects=120, phases=2),
        ProgrammeRegistered(programme_id=prog_b, institution_id=inst_b, name="Vroedkunde", level=Level.GRADUAAT,
                            ects=120, phases=2),
        InstitutionContactChanged(institution_id=inst_a, email=address(inst_a), language=Language.NL),
        InstitutionContactChanged(institution_id=inst_b, email=address(inst_b), language=Language.EN),
        risk(s[0], prog_a, ShareStatus.AT_RISK, noon),
        risk(s[1], prog_a, ShareStatus.BEHIND, noon),
        risk(s[2], prog_a, ShareStatus.AT_RISK, noon - timedelta(days=1)),  # the day before
        risk(s[3], prog_a, ShareStatus.ON_TRACK, noon, worsened=False),  # recovered
        risk(s[4], prog_b, ShareStatus.AT_RISK, noon),  # the other institution
    ]
    await notifications.handle_batch([(e, None) for e in events])
    assert await form_digests(pool, mail_cfg, day) == {inst_a: 2, inst_b: 1}
    assert await form_digests(pool, mail_cfg, day) == {}  # once per institution and day
    await Mailer(pool, mail_cfg).send_due()
    (a,) = await mailpit.wait_for(address(inst_a))
    (b,) = await mailpit.wait_for(address(inst_b))
    assert a.subject == f"werkplek: in de gevarenzone op {day.isoformat()}: 2 studenten"
    assert s[0] in a.text and s[1] in a.text and all(x not in a.text for x in (s[2], s[3], s[4], s[5]))
    assert all(x not in a.subject for x in s)
    assert s[4] in b.text and s[0] not in b.text
    assert b.subject == f"werkplek: at risk or behind on {day.isoformat()}: 1 student"
