"""Funding reports scale out: two workers (real processes, the same consumer groups) share a cohort of
three institutions with two programmes each; one is killed with -9 in the middle of the stream and
started again. Every report ends equal to what the report rules compute from all the events at once
(the domain's own fold), and on the report topic each report's versions only go up: a version seen
twice is the same event both times (no competing versions)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from aiokafka.partitioner import DefaultPartitioner
from werkplek_common.kafka import publish
from werkplek_events import Event, FundingReportPublished, ReportMemberChanged, decode, topic_for
from werkplek_funding_reports.book import REPORTS
from werkplek_funding_reports.config import Settings

from tests.e2e.stack import free_port
from tests.support import eventually, read_until
from tests.unit.funding_reports.story import Story, expected_reports

from ..crash import Worker
from .conftest import commit_ends, worker_settings

INSTITUTIONS, PROGRAMMES, STUDENTS, ROUNDS = 3, 2, 6, 4


def institutions() -> list[str]:
    """Institutions whose reports land in both halves of the repartition topic's partitions, so each
    of two workers owns some of them (the range assignor gives each a half)."""
    partition = DefaultPartitioner()
    parts = list(range(topic_for(ReportMemberChanged).partitions))
    while True:
        names = [f"sc-{uuid.uuid4().hex[:8]}" for _ in range(INSTITUTIONS)]
        owners = {partition(n.encode(), parts, parts) < len(parts) // 2 for n in names}
        if owners == {True, False}:
            return names


def cohort(names: list[str]) -> tuple[list[Event], list[Event]]:
    """The programmes, then per round every student's next step (round 0: the whole trajectory;
    then a higher share each round), the students of all programmes interleaved."""
    stories = [Story(inst=name, prog=f"{name}-p{j}") for name in names for j in range(PROGRAMMES)]
    steps: list[Event] = []
    for r in range(ROUNDS):
        for n in range(STUDENTS):
            for story in stories:
                student = f"{story.prog}-s{n}"
                steps += story.dual_trajectory(student, 30_000 + n) if r == 0 else [
                    story.share(student, 30_000 + n + 4_000 * r, phases=(1, 2))]
    return [s.programme() for s in stories], steps


async def test_two_workers_one_killed_mid_stream_every_report_right_versions_only_up(stack, producer, tmp_path):
    names = institutions()
    reference, steps = cohort(names)
    want = expected_reports([*reference, *steps])
    assert len(want) == INSTITUTIONS * (PROGRAMMES + 1) * 2  # the enrolment year and the year its cohort closes
    cfg = worker_settings(stack, names)
    await commit_ends(stack.kafka_bootstrap, cfg)
    ports = [free_port(), free_port()]
    workers = [start(cfg, port, tmp_path / f"worker-{i}.log") for i, port in enumerate(ports)]
    try:
        await eventually(lambda: all(w.ready(p) for w, p in zip(workers, ports, strict=True)), timeout=120,
                         what="both workers ready")
        await publish(producer, reference, source="/test")
        chunks = [steps[i:i + 60] for i in range(0, len(steps), 60)]
        for chunk in chunks[:len(chunks) // 2]:
            await publish(producer, chunk, source="/test")
        # every report published from the first half before the second is sent: the second half then
        # makes each one a later version, whatever the load (one step over the whole stream would not)
        keys = {k.encode() for k in want}
        await read_until(stack.kafka_bootstrap, [REPORTS], lambda rs: keys <= {r.key for r in rs}, timeout=120)
        workers[0].kill9()  # mid-stream: the other takes its units over, then it comes back
        for chunk in chunks[len(chunks) // 2:]:
            await publish(producer, chunk, source="/test")
        workers[0].start()
        latest = await final_reports(stack.kafka_bootstrap, want)
    finally:
        for w in workers:
            w.stop()
    assert {rid: r.sections for rid, r in latest.items()} == want
    assert all(r.version > 1 for r in latest.values())  # every report went through several versions


def start(cfg: Settings, port: int, log: Path) -> Worker:
    env = {"WERKPLEK_CONSUMER_GROUP": cfg.consumer_group,
           "WERKPLEK_MEMBERS_CONSUMER_GROUP": cfg.members_consumer_group,
           "WERKPLEK_OUTBOX_PRODUCER": cfg.outbox_producer, "WERKPLEK_METRICS_PORT": str(port),
           "WERKPLEK_REPORTS_INSTITUTIONS": json.dumps(sorted(cfg.reports_institutions)),
           "WERKPLEK_REPORTS_SNAPSHOT_EVERY": "never", "WERKPLEK_LOG_JSON": "false", "WERKPLEK_LOG_LEVEL": "WARNING"}
    return Worker(["werkplek_funding_reports", "worker"], env, log).start()


async def final_reports(bootstrap: str, want: dict[str, list]) -> dict[str, FundingReportPublished]:
    """Read the report topic until every report's newest version is the expected one; check on the
    way that versions only go up and a repeated version is the same event."""
    latest: dict[str, FundingReportPublished] = {}

    def done(records) -> bool:
        for r in records[len(seen):]:
            if r.key is None or r.key.decode() not in want:
                continue
            report = decode(r.topic, r.value, r.headers)
            assert isinstance(report, FundingReportPublished)
            before = latest.get(report.report_id)
            if before is not None:
                assert report.version >= before.version, (
                    f"{report.report_id}: v{report.version} after v{before.version}")
                if report.version == before.version:
                    assert report.event_id == before.event_id and report.sections == before.sections, (
                        f"{report.report_id}: two different versions {report.version}")
            latest[report.report_id] = report
        seen[:] = records
        return all(rid in latest and latest[rid].sections == sections for rid, sections in want.items())

    seen: list = []
    try:
        await read_until(bootstrap, [REPORTS], done, timeout=180)
    except AssertionError as exc:
        wrong = sorted(rid for rid, s in want.items() if rid not in latest or latest[rid].sections != s)
        raise AssertionError(f"{exc}; reports not (yet) right: {wrong}") from None
    return latest
