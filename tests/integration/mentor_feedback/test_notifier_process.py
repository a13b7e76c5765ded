"""The notifier as a real process on the real broker, database and mail catcher: with SMTP down the
mail is queued and retried, the process is killed (SIGKILL) between the event and the send, its
group's stored offset is rewound so the event is delivered again, and after the restart — SMTP up again — exactly
one mail arrives."""

from __future__ import annotations

from datetime import UTC, datetime

from aiokafka import TopicPartition
from werkplek_common.kafka import publish
from werkplek_events import ConfirmationRequested, MentorContactChanged, topic_for
from werkplek_events.vocabulary import Language
from werkplek_mentor_feedback import SOURCE
from werkplek_mentor_feedback.confirmations import form_requests
from werkplek_mentor_feedback.notifications import TOPICS

from tests.e2e.processes import ServiceProcess
from tests.e2e.stack import free_port
from tests.mailpit import Mailpit, smtp_port
from tests.support import eventually, read_until, start_groups_at_end
from tests.unit.mentor_feedback import factories as f

REQUESTS = topic_for(ConfirmationRequested).name


def notifier(cfg, group: str, smtp: int, log_dir) -> ServiceProcess:
    env = {"WERKPLEK_KAFKA_BOOTSTRAP": cfg.kafka_bootstrap, "WERKPLEK_PG_DSN": cfg.pg_dsn,
           "WERKPLEK_DATA_DIR": str(cfg.data_dir), "WERKPLEK_LOG_JSON": "false", "WERKPLEK_METRICS_PORT": "0",
           "WERKPLEK_NOTIFIER_CONSUMER_GROUP": group, "WERKPLEK_MENTOR_SMTP_PORT": str(smtp),
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


async def stored(pool, group: str, tp: TopicPartition) -> int:
    """The group's next offset on `tp` as the runtime keeps it (PostgreSQL, with what it handled)."""
    n = await pool.fetchval("SELECT next_offset FROM runtime_offsets WHERE consumer_group = $1 AND topic = $2"
                            " AND partition = $3", group, tp.topic, tp.partition)
    return -1 if n is None else n


async def rewind(pool, group: str, tp: TopicPartition, offset: int) -> None:
    """Move the group's stored offset back to `offset` (the killed member holds nothing any more: the
    next one loads the stored offsets when it is assigned the partition)."""
    assert await stored(pool, group, tp) > offset, "the killed notifier had handled the event"
    await pool.execute("UPDATE runtime_offsets SET next_offset = $4 WHERE consumer_group = $1 AND topic = $2"
                       " AND partition = $3", group, tp.topic, tp.partition, offset)


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
    await rewind(pool, group, tp, offset)  # the event will be delivered again

    up = notifier(cfg, group, smtp_port(), log_dir)
    up.start()
    try:
        (mail,) = await Mailpit().wait_for(email, timeout=60)
        assert mail.subject == "Uren wachten op je bevestiging (1 registratie, 4h00)"

        async def redelivered() -> bool:
            return await stored(pool, group, tp) > offset

        await eventually(redelivered, timeout=60, what="the restarted notifier to handle the event again")
        assert len(await Mailpit().to(email)) == 1
        rows = await pool.fetch("SELECT state, attempts FROM mf_mails WHERE request_id = $1", event.request_id)
        assert [r["state"] for r in rows] == ["sent"] and rows[0]["attempts"] >= 3
    finally:
        up.stop_signal()
        up.proc.wait(30)  # type: ignore[union-attr]
    assert up.exited() == 0, up.tail()
