"""The worker on the real broker and database: reports appear, are keyed and compacted as the registry
says, follow their inputs within seconds, survive a restart without new versions (the state is in
PostgreSQL), and route bad input to the DLQ exactly once."""

from __future__ import annotations

import uuid
from decimal import Decimal as D

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from werkplek_common.kafka import send_record
from werkplek_events import Event, FundingReportPublished, KafkaRecord, StudentEnrolled, encode, topic_for
from werkplek_funding_reports.kafka_io import open_reader, read_to_end
from werkplek_funding_reports.members import STUDENT_TOPICS

from tests.support import read_until
from tests.unit.funding_reports.story import Story

from .conftest import cell, send, wait_for_report, wait_for_trajectories

N, M = 6, 5  # dual and non-dual students: enough that the main figures are not suppressed


def cohort_events(story: Story) -> list[Event]:
    events: list[Event] = [story.programme()]
    for n in range(N):
        events += story.dual_trajectory(f"{story.prog}-s{n}", confirmed=30_000 + 1_000 * n)
    for n in range(M):
        events += [story.enrol(f"{story.prog}-n{n}"), story.share(f"{story.prog}-n{n}", 1_000)]
    return events


async def test_reports_appear_keyed_and_compacted_as_the_registry_says(stack, producer, start_worker):
    story = Story()
    await start_worker([story.inst])
    await send(producer, cohort_events(story))
    rid = f"{story.prog}:{story.year}"
    report = await wait_for_report(stack.kafka_bootstrap, rid,
                                   lambda r: cell(r, "target_groups", "all", "dual_track").value == N)
    assert report.programme_id == story.prog and report.institution_id == story.inst
    assert report.watermark.last_event_time is not None and report.watermark.offsets
    assert {k.rsplit(":", 1)[0] for k in report.watermark.offsets} <= set(STUDENT_TOPICS)
    roll = await wait_for_report(stack.kafka_bootstrap, f"inst:{story.inst}:{story.year}",
                                 lambda r: cell(r, "target_groups", "all", "students").value == N + M)
    assert roll.programme_id is None and roll.scope.value == "institution"
    # 30 000 + 1 000 n of 194 400 minutes is below the programme's dual minimum of a quarter: one not met
    rows = await wait_for_trajectories(stack.kafka_bootstrap, rid, lambda r: [
        (c.cells["min_share"].reason, c.cells["all_six"].reason) for c in r.sections[0].rows
    ] == [("below_minimum", "1_not_met")] * N)  # once every input is in
    assert len(rows.sections[1].rows) == N + M  # everybody's share of the year
    assert all(r.label.startswith("t-") and story.prog not in r.label for r in rows.sections[1].rows)

    spec = topic_for(FundingReportPublished)
    assert spec.key_of(report) == rid
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    try:
        resp = (await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, spec.name)]))[0]
        configs = {e[0]: e[1] for e in resp.resources[0][4]}
        parts = (await admin.describe_topics([spec.name]))[0]["partitions"]
    finally:
        await admin.close()
    assert configs["cleanup.policy"] == "compact" and len(parts) == spec.partitions


async def test_confirmed_hours_change_the_report(stack, producer, start_worker):
    """Stands in for the end-to-end path (API → webhook → hour accounting) by producing what hour
    accounting emits after a confirmation: TimeEntryConfirmed and the new ShareUpdated."""
    story = Story()
    await start_worker([story.inst])
    await send(producer, cohort_events(story))
    rid = f"{story.prog}:{story.year}"
    first = await wait_for_report(stack.kafka_bootstrap, rid,
                                  lambda r: cell(r, "share_distribution", "students", "real_share").value == N + M)
    assert cell(first, "required_share", "required_share_reached", "value").suppressed  # nobody has ⅓ yet

    raised = []
    for n in range(N):
        student = f"{story.prog}-s{n}"
        raised += [*story.worked(student, f"pl-{student}", uuid.uuid4()), story.share(student, 70_000)]
    await send(producer, raised)
    later = await wait_for_report(
        stack.kafka_bootstrap, rid,
        lambda r: r.version > first.version and cell(r, "required_share", "required_share_reached", "value").value == N,
        timeout=30)  # a deadline, not a speed check: the input-to-report lag is a metric and a benchmark
    # five at 1 000 minutes, six at 70 000: the sixth of eleven is 70 000 / 194 400
    assert cell(later, "share_distribution", "median", "real_share").value == D("0.3601")
    assert first.watermark.last_event_time and later.watermark.last_event_time
    assert later.watermark.last_event_time >= first.watermark.last_event_time


async def test_restart_rebuilds_without_new_versions_and_malformed_input_goes_to_the_dlq(
        stack, producer, start_worker):
    story = Story()
    first_run = await start_worker([story.inst])
    rid = f"{story.prog}:{story.year}"
    enrol_topic = topic_for(StudentEnrolled).name
    bad_key = f"{story.prog}-bad".encode()
    good = cohort_events(story)
    await send_record(producer, KafkaRecord(enrol_topic, bad_key, b'{"student_id": 1',
                                            encode(good[1], source="/t").headers))
    await send(producer, good)
    first = await wait_for_report(stack.kafka_bootstrap, rid,
                                  lambda r: cell(r, "target_groups", "all", "students").value == N + M)
    dlq = topic_for(StudentEnrolled).dlq
    assert dlq is not None
    await read_until(stack.kafka_bootstrap, [dlq], lambda rs: any(r.key == bad_key for r in rs))

    await first_run.stop()
    await start_worker([story.inst], cfg=first_run.cfg)  # same groups: its state and offsets are stored
    await send(producer, [story.enrol(f"{story.prog}-late", status="working_student")])
    newer = await wait_for_report(stack.kafka_bootstrap, rid, lambda r: r.version > first.version)
    assert newer.version == first.version + 1  # the restart published no version of its own
    assert cell(newer, "target_groups", "all", "students").value == N + M + 1
    assert await count_keys(stack.kafka_bootstrap, dlq, bad_key) == 1  # sent once, with the offsets passing it


async def count_keys(bootstrap: str, topic: str, key: bytes) -> int:
    seen = []

    async def take(rec) -> None:
        seen.append(rec.key == key)

    consumer = await open_reader(bootstrap, [topic], client_id="test-count")
    try:
        await read_to_end(consumer, take)
    finally:
        await consumer.stop()
    return sum(seen)
