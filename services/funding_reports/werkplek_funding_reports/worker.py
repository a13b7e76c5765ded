"""The worker: rebuilds the cohort from the input topics, then keeps every report up to date.

State lives in memory and is rebuilt on each start by replaying the inputs from the beginning (event
topics keep everything, read models are compacted). Each worker reads all partitions, because a
programme's report needs all its students; hence manual assignment, not a consumer group (and not
faust, whose agents would split the cohort by partition). The group id is used only to commit how far
the worker got, so a malformed record is sent to its DLQ once, not again on every replay.

One report that cannot be computed or published (an id from before the limits that makes its report
id too long, a report over the broker's message size) is quarantined: sent to the report topic's DLQ
with the reason, counted, and skipped, while every other report keeps being published. An input
record the cohort cannot apply goes to its topic's DLQ the same way (`quarantine.py`)."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from werkplek_common.kafka import ensure_topics, publish, send_record, send_to_dlq
from werkplek_common.shutdown import bounded
from werkplek_events import DecodeError, FundingReportPublished, FundingReportSnapshotted, decode, encode, topic_for

from . import metrics
from .book import ReportBook, load_book
from .compute import Mark, compute_sections, report_event
from .config import Settings
from .domain.keys import ReportKey
from .domain.state import INPUTS, Cohort
from .kafka_io import open_reader, read_to_end
from .quarantine import Quarantine, per_record
from .snapshots import Every, period_label, snapshot_id, to_snapshot

log = logging.getLogger(__name__)
SOURCE = "/werkplek/funding-reports"
INPUT_TOPICS = [topic_for(e).name for e in INPUTS]
SPECS = [*(topic_for(e) for e in INPUTS), topic_for(FundingReportPublished), topic_for(FundingReportSnapshotted)]


class ReportWorker:
    def __init__(self, cfg: Settings, producer: AIOKafkaProducer) -> None:
        self.cfg, self.producer = cfg, producer
        self.cohort, self.book = Cohort(), ReportBook()
        self.marks: dict[ReportKey, Mark] = {}
        self.dirty: dict[ReportKey, float | None] = {}  # -> oldest unreflected input time (None: replayed)
        self.last_publish: dict[ReportKey, float] = {}
        self.committed: dict[TopicPartition, int] = {}
        self.quarantined = Quarantine(producer)
        self.caught_up = asyncio.Event()
        self._stop = asyncio.Event()
        self.stopped = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        await ensure_topics(self.cfg.kafka_bootstrap, SPECS)
        self.book = await load_book(self.cfg.kafka_bootstrap)
        consumer = await open_reader(self.cfg.kafka_bootstrap, INPUT_TOPICS, client_id="werkplek-funding-reports",
                                     group_id=self.cfg.reports_group_id)
        try:
            await self._replay(consumer)
            await self._follow(consumer)
            # a clean stop: the next start sends nothing to the DLQ twice (if the broker is there)
            await bounded(consumer.commit(), "final offset commit")
        finally:
            await bounded(consumer.stop(), "consumer stop")
            self.stopped.set()

    async def _replay(self, consumer: AIOKafkaConsumer) -> None:
        started = time.monotonic()
        for tp in consumer.assignment():
            self.committed[tp] = await consumer.committed(tp) or 0
        n = await read_to_end(consumer, self.handle, timeout=3600, stop=self._stop)
        if self._stop.is_set():
            return
        self.dirty = dict.fromkeys((k for k in self.cohort.reports if self.cfg.wants(k.institution_id)), None)
        self.caught_up.set()
        log.info("cohort rebuilt", extra={"fields": {"records": n, "reports": len(self.dirty),
                                                     "seconds": round(time.monotonic() - started, 2)}})

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        last_commit, last_snapshot_check = time.monotonic(), 0.0
        while not self._stop.is_set():
            for records in (await consumer.getmany(timeout_ms=100, max_records=1000)).values():
                for rec in records:
                    await self.handle(rec)
            await self.publish_due()
            now = time.monotonic()
            if now - last_commit > self.cfg.reports_commit_seconds:
                await bounded(consumer.commit(), "offset commit")  # best effort: it only spares DLQ repeats
                last_commit = now
            if now - last_snapshot_check > 30:
                await self.take_scheduled_snapshots(datetime.now(UTC))
                last_snapshot_check = now

    async def handle(self, rec: ConsumerRecord) -> None:
        try:
            event = decode(rec.topic, rec.value, rec.headers)
        except DecodeError as exc:
            if rec.offset >= self.committed.get(TopicPartition(rec.topic, rec.partition), 0):
                await send_to_dlq(self.producer, rec, exc, "funding-reports")
            return
        metrics.INPUT_EVENTS.labels(rec.topic).inc()
        try:
            keys = self.cohort.apply(event)
        except Exception as exc:  # a record the cohort cannot take stops nothing else
            log.exception("input record not applied", extra={"fields": {"topic": rec.topic, "offset": rec.offset}})
            if rec.offset >= self.committed.get(TopicPartition(rec.topic, rec.partition), 0):
                await send_to_dlq(self.producer, rec, exc, "funding-reports")
            return
        for key in keys:
            if not self.cfg.wants(key.institution_id):
                continue
            self.marks.setdefault(key, Mark()).advance(event.occurred_at, rec.topic, rec.partition, rec.offset)
            if self.caught_up.is_set():
                oldest = self.dirty.get(key)
                seen = event.occurred_at.timestamp()
                self.dirty[key] = seen if oldest is None else min(oldest, seen)

    async def publish_due(self) -> None:
        now = time.monotonic()
        due = [k for k in self.dirty if now - self.last_publish.get(k, 0.0) >= self.cfg.reports_debounce_seconds]
        ready: list[tuple[ReportKey, FundingReportPublished, float | None]] = []
        for key in due:
            oldest = self.dirty.pop(key)
            try:
                event = self._recompute(key)
            except Exception as exc:  # this report only: the others are still computed and published
                await self.quarantined.add(key, exc)
                continue
            if event is not None:
                ready.append((key, event, oldest))
        published = await self._publish_each(ready)
        wall = time.time()
        for key, event, oldest in published:
            self.book.record(event)
            self.last_publish[key] = now
            self.quarantined.release(key)
            metrics.REPORTS_PUBLISHED.labels(event.scope.value).inc()
            if oldest is not None:
                metrics.INPUT_TO_REPORT.observe(max(0.0, wall - oldest))
        metrics.REPORTS_KNOWN.set(len(self.book.latest))

    async def _publish_each(self, ready: list[tuple[ReportKey, FundingReportPublished, float | None]],
                            ) -> list[tuple[ReportKey, FundingReportPublished, float | None]]:
        """Send every report and wait for the broker; one it refuses (too large) is quarantined, the
        others count as published. Any other failure (the broker gone) is raised, as before."""
        sent = []
        for item in ready:
            try:
                sent.append((item, await send_record(self.producer, encode(item[1], source=SOURCE))))
            except per_record() as exc:
                await self.quarantined.add(item[0], exc, item[1])
        results = await asyncio.gather(*(future for _, future in sent), return_exceptions=True)
        published = []
        for (item, _), result in zip(sent, results, strict=True):
            if isinstance(result, per_record()):
                await self.quarantined.add(item[0], result, item[1])
            elif isinstance(result, BaseException):
                raise result
            else:
                published.append(item)
        return published

    def _recompute(self, key: ReportKey) -> FundingReportPublished | None:
        """The new version of the report, or None when its content did not change."""
        with metrics.COMPUTE_SECONDS.time():
            sections = compute_sections(self.cohort, key, self.cfg.pseudonym_key, self.cfg.reports_min_count)
        if self.book.unchanged(key.report_id, sections):
            return None
        return report_event(key, sections, self.book.next_version(key.report_id),
                            self.marks.get(key, Mark()), datetime.now(UTC))

    async def take_scheduled_snapshots(self, now: datetime, every: Every | None = None) -> int:
        """One snapshot per report per period (the first check in a period takes it); how many taken."""
        label = period_label(now.date(), every or self.cfg.reports_snapshot_every)
        if label is None:
            return 0
        fresh = []
        for report in self.book.latest.values():
            sid = snapshot_id(report.report_id, label)
            if sid not in self.book.snapshots and self.cfg.wants(report.institution_id):
                fresh.append(to_snapshot(report, sid, now.date()))
        if fresh:
            await publish(self.producer, fresh, source=SOURCE)
            for snap in fresh:
                self.book.record(snap)
            metrics.SNAPSHOTS_PUBLISHED.labels("schedule").inc(len(fresh))
        return len(fresh)
