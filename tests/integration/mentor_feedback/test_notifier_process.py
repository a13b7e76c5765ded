"""The notifier as a real process on the real broker, database and mail catcher: with SMTP down the
mail is queued and retried, the process is killed (SIGKILL) between the event and the send, its
group is rewound so the event is delivered again, and after the restart — SMTP up again — exactly
one mail arrives."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from werkplek_common.kafka import publish
from werkplek_events import ConfirmationRequested, MentorContactChanged, topic_for
from werkplek_events.vocabulary import Language
from werkplek_mentor_feedback import SOURCE
from werkplek_mentor_feedback.confirmations import form_requests
from werkplek_mentor_feedback.notifications import TOPICS

from tests.e2e.processes import ServiceProcess
from tests.e2e.stack import free_port
from tests.mailpit import Mailpit, smtp_port
from tests.support import POLL_S, eventually, read_until, start_groups_at_end
from tests.unit.mentor_feedback import factories as f

REQUESTS = topic_for(ConfirmationRequested).name


def notifier(cfg, group: str, smtp: int, log_dir) -> ServiceProcess:
    env = {"WERKPLEK_KAFKA_BOOTSTRAP": cfg.kafka_bootstrap, "WERKPLEK_PG_DSN": cfg.pg_dsn,
           "WERKPLEK_DATA_DIR": str(cfg.data_dir), "WERKPLEK_LOG_JSON": "false", "WERKPLEK_METRICS_PORT": "0",
           "WERKPLEK_MENTOR_NOTIFIER_GROUP": group, "WERKPLEK_MENTOR_SMTP_PORT": str(smtp),
           "WERKPLEK_MENTOR_MAIL_BASE_DELAY_S": "0.2", "WERKPLEK_MENTOR_MAIL_MAX_DELAY_S": "1",
           "WERKPLEK_MENTOR_MAIL_POLL_S": "0.1", "WERKPLEK_MENTOR_SMTP_TIMEOUT_S": "2"}

    async def never(_service: ServiceProcess) -> bool:
        return True

    return ServiceProcess(f"notifier-{smtp}", ["werkplek_mentor_feedback", "notifier"], env, never,
                          log_dir / f"{group}-{smtp}.log")


async def offset_of(bootstrap: str, event_id: str) -> tuple[TopicPartition, int]:
    found: list[tuple[TopicPartition, int]] = []

    def done(records) -> bool:
        found[:] = [(TopicPartition(r.topic, r.partition), r.offset) for r in records
                    if dict(r.headers).get("ce_id") == event_id.encode()]
        return bool(found)

    await read_until(bootstrap, [REQUESTS], done)
    return found[0]


async def committed(bootstrap: str, group: str, tp: TopicPartition) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return offsets[tp].offset if tp in offsets else -1


async def rewind(bootstrap: str, group: str, tp: TopicPartition, offset: int, timeout: float = 60.0) -> None:
    """Commit `offset` for the group, once the killed member's session has expired (until then the
    broker refuses commits from outside the group)."""
    deadline = time.monotonic() + timeout
    while True:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign([tp])
            await consumer.commit({tp: offset})
            return
        except KafkaError:
            if time.monotonic() > deadline:
                raise
        finally:
            await consumer.stop()
        await asyncio.sleep(POLL_S * 10)


async def test_a_killed_notifier_sends_the_mail_once_when_smtp_is_back(world, pool, cfg, producer):
    group, email = f.uid("test-notifier"), f"{world.mentor_c}@mentors.example"
    await start_groups_at_end(cfg.kafka_bootstrap, [group], TOPICS)
    await publish(producer, [MentorContactChanged(mentor_id=world.mentor_c, institution_id="inst-1", email=email,
                                                  language=Language.NL)], source="/werkplek/placement-logging")
    await world.entry(world.pl_c)
    (event,) = [e for e in await form_requests(pool, cfg, cfg.mentor_link_secret.encode(), now=datetime.now(UTC))
                if e.mentor_id == world.mentor_c]
    await publish(producer, [event], source=SOURCE)  # as the worker's relay does (its outbox row is dropped)
    await pool.execute("DELETE FROM outbox WHERE event_id = $1", event.event_id)
    log_dir = cfg.data_dir / "e2e-logs"
    down = notifier(cfg, group, free_port(), log_dir)  # nothing listens there: SMTP is down
    down.start()
    try:
        async def retried() -> bool:
            row = await pool.fetchrow("SELECT state, attempts FROM mf_mails WHERE request_id = $1", event.request_id)
            return row is not None and row["state"] == "pending" and row["attempts"] >= 2

        await eventually(retried, timeout=60, what="the mail queued and retried while SMTP is down")
    finally:
        down.kill()  # SIGKILL: no clean shutdown, whatever was in flight
    tp, offset = await offset_of(cfg.kafka_bootstrap, str(event.event_id))
    await rewind(cfg.kafka_bootstrap, group, tp, offset)  # the event will be delivered again

    up = notifier(cfg, group, smtp_port(), log_dir)
    up.start()
    try:
        (mail,) = await Mailpit().wait_for(email, timeout=60)
        assert mail.subject == "Uren wachten op je bevestiging (1 registratie, 4h00)"

        async def redelivered() -> bool:
            return await committed(cfg.kafka_bootstrap, group, tp) > offset

        await eventually(redelivered, timeout=60, what="the restarted notifier to handle the event again")
        assert len(await Mailpit().to(email)) == 1
        rows = await pool.fetch("SELECT state, attempts FROM mf_mails WHERE request_id = $1", event.request_id)
        assert [r["state"] for r in rows] == ["sent"] and rows[0]["attempts"] >= 3
    finally:
        up.stop_signal()
        up.proc.wait(30)  # type: ignore[union-attr]
    assert up.exited() == 0, up.tail()
