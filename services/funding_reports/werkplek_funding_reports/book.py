"""What has been published: the latest version of every report and every snapshot, read back from
the report topics (so versions continue across restarts and a snapshot id is never reused)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from aiokafka import ConsumerRecord
from werkplek_events import (
    DecodeError,
    FundingReportPublished,
    FundingReportSnapshotted,
    ReportSection,
    decode,
    topic_for,
)

from .kafka_io import open_reader, read_to_end

log = logging.getLogger(__name__)
REPORTS = topic_for(FundingReportPublished).name
SNAPSHOTS = topic_for(FundingReportSnapshotted).name


class ReportBook:
    def __init__(self) -> None:
        self.latest: dict[str, FundingReportPublished] = {}
        self.snapshots: dict[str, FundingReportSnapshotted] = {}

    def record(self, event: FundingReportPublished | FundingReportSnapshotted) -> None:
        if isinstance(event, FundingReportSnapshotted):
            self.snapshots.setdefault(event.snapshot_id, event)  # the first one stands
            return
        old = self.latest.get(event.report_id)
        if old is None or old.version < event.version:
            self.latest[event.report_id] = event

    def unchanged(self, report_id: str, sections: list[ReportSection]) -> bool:
        old = self.latest.get(report_id)
        return old is not None and old.sections == sections

    def next_version(self, report_id: str) -> int:
        old = self.latest.get(report_id)
        return old.version + 1 if old else 1

    def snapshot_as_of(self, report_id: str, as_of: date) -> FundingReportSnapshotted | None:
        """The newest snapshot of the report taken on or before `as_of`."""
        mine = [s for s in self.snapshots.values() if s.report_id == report_id and s.as_of <= as_of]
        return max(mine, key=lambda s: (s.as_of, s.occurred_at), default=None)


async def load_book(bootstrap: str, *, progress: Callable[[int], None] | None = None) -> ReportBook:
    """Read both report topics without a consumer group (nothing is committed)."""
    book = ReportBook()

    async def take(rec: ConsumerRecord) -> None:
        try:
            event = decode(rec.topic, rec.value, rec.headers)
        except DecodeError as exc:
            log.warning("unreadable report record skipped", extra={"fields": {"offset": rec.offset, "error": str(exc)}})
            return
        book.record(event)  # type: ignore[arg-type]

    consumer = await open_reader(bootstrap, [REPORTS, SNAPSHOTS], client_id="werkplek-reports-reader")
    try:
        await read_to_end(consumer, take, progress=progress)
    finally:
        await consumer.stop()
    return book
