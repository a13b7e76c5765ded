"""Full removal (docs/adr/0072) on the real broker and database: a student erased with
`remove_from_figures` leaves the funding reports — the worker publishes a new version with exactly the
figures of the cohort without them — while a student erased without it still counts; a rebuild of
both stages from the topics, and the replay behind `--as-of` (of an instant before the removal too),
keep the removed student out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aiokafka import TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from werkplek_events import Event, FundingReportPublished, SubjectErased, decode
from werkplek_events.topics import STUDENT_PARTITIONS
from werkplek_funding_reports.book import REPORTS
from werkplek_funding_reports.config import Settings
from werkplek_funding_reports.domain.keys import ReportKey
from werkplek_funding_reports.members import STUDENT_TOPICS
from werkplek_funding_reports.replay import recompute, replay
from werkplek_funding_reports.reports import TOPIC as MEMBERS_TOPIC

from tests.support import end_offsets, read_until, start_groups_at, start_groups_at_end
from tests.unit.funding_reports.story import Story

from .conftest import cell, send, wait_for_report, worker_settings
from .test_as_of import expected


def _partition(key: str) -> int:
    parts = list(range(STUDENT_PARTITIONS))
    return int(DefaultPartitioner()(key.encode(), parts, parts))


def _erased(story: Story, student: str, remove: bool) -> SubjectErased:
    return SubjectErased(erasure_id=uuid.uuid4(), subject_kind="student", subject_id=student,
                         institution_id=story.inst, remove_from_figures=remove)


def _cohort(story: Story, students: list[str]) -> list[Event]:
    events: list[Event] = [story.programme()]
    for n, student in enumerate(students):
        events += [*story.dual_trajectory(student, 20_000 + 5_000 * n), story.credits(student, 60, 50 + n)]
    for n in range(5):
        events += [story.enrol(f"{story.prog}-n{n}", status="working_student"), story.credits(f"{story.prog}-n{n}")]
    return events


async def test_a_fully_removed_student_leaves_the_reports_and_a_rebuild_keeps_them_out(stack, producer,
                                                                                         start_worker):
    story = Story()
    key = ReportKey(story.inst, story.prog, story.year)
    kept = f"{story.prog}-s0"
    # the removed student's erasure on the same partition as the kept one's, after it: once the report
    # leaves out `gone`, the worker has handled `kept`'s erasure too
    gone = next(s for s in (f"{story.prog}-x{i}" for i in range(200)) if _partition(s) == _partition(kept))
    students = [kept, *(f"{story.prog}-s{n}" for n in range(1, 6)), gone]
    events = _cohort(story, students)
    without = [e for e in events if e.subject() != gone]
    want, want_without = expected(events, key), expected(without, key)
    assert want_without != want and want_without != expected([e for e in without if e.subject() != kept], key)

    start = await end_offsets(stack.kafka_bootstrap, STUDENT_TOPICS)  # where a rebuild of this test begins
    first = await start_worker([story.inst])
    await send(producer, events)
    before = await wait_for_report(stack.kafka_bootstrap, key.report_id, lambda r: r.sections == want)

    asked = datetime.now(UTC)
    await send(producer, [_erased(story, kept, remove=False), _erased(story, gone, remove=True)])
    after = await wait_for_report(stack.kafka_bootstrap, key.report_id, lambda r: r.sections == want_without)
    assert after.version > before.version
    # the institution's roll-up (same publication set) counts one student fewer too
    await wait_for_report(stack.kafka_bootstrap, f"inst:{story.inst}:{story.year}",
                          lambda r: cell(r, "target_groups", "all", "students").value == len(students) + 5 - 1)
    await first.stop()

    # a rebuild: both stages from scratch, from before the test's first record, on the same topics
    cfg = worker_settings(stack, [story.inst])
    await start_groups_at(stack.kafka_bootstrap, [cfg.members_consumer_group], start)
    await start_groups_at_end(stack.kafka_bootstrap, [cfg.consumer_group], [MEMBERS_TOPIC])
    published = await end_offsets(stack.kafka_bootstrap, [REPORTS])
    await start_worker([story.inst], cfg=cfg)

    def rebuilt(records) -> bool:
        mine = [decode(r.topic, r.value, r.headers) for r in records if r.key == key.report_id.encode()
                and r.offset >= published.get(TopicPartition(r.topic, r.partition), 0)]
        return any(isinstance(m, FundingReportPublished) and m.sections == want_without for m in mine)

    await read_until(stack.kafka_bootstrap, [REPORTS], rebuilt, timeout=90)

    # the replay behind `--as-of`: now, and as of an instant before the removal was asked
    settings = Settings()
    for until in (None, asked):
        cohort, mark = await replay(stack.kafka_bootstrap, until)
        again = recompute(cohort, mark, key, settings.pseudonym_key, settings.reports_min_count,
                          until or datetime.now(UTC), 1)
        assert again is not None and again.sections == want_without, until
        assert gone in cohort.removed and kept not in cohort.removed

