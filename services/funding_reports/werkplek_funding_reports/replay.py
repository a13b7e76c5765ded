"""Rebuilding the cohort from the input topics, now or as it was at a past instant, and the report of
a programme, institution or pilot recomputed from it through the worker's own path (`Cohort.apply`,
then `publication_set`). Nothing is committed: no consumer group.

"As it was at instant T" = from every input partition, the records before the first one whose
timestamp (the time the producer sent it) is at or after T: what the worker could have read by
then. Every input topic keeps its history (docs/adr/0051), so any instant can be replayed. The
privacy topic is read to its end whatever T: a student removed from the figures (docs/adr/0072) is in
no recomputation made after the removal, of a past instant neither (a snapshot published before it
keeps them: it is immutable)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from werkplek_events import (
    DecodeError,
    FundingReportPublished,
    FundingTrajectoriesPublished,
    SubjectErased,
    decode,
    topic_for,
)

from .compute import Mark, ReportEvent, compute_set, report_event
from .domain.keys import ReportKey
from .domain.state import INPUTS, Cohort
from .kafka_io import open_reader

INPUT_TOPICS = [topic_for(e).name for e in INPUTS]
ALWAYS_TO_THE_END = {topic_for(SubjectErased).name}  # full removals count for every instant


async def _ends(consumer: AIOKafkaConsumer, until: datetime | None) -> dict[TopicPartition, int]:
    parts = list(consumer.assignment())
    ends = await consumer.end_offsets(parts)
    if until is None:
        return ends
    found = await consumer.offsets_for_times({tp: int(until.timestamp() * 1000) for tp in parts})
    return {tp: o.offset if tp.topic not in ALWAYS_TO_THE_END and (o := found.get(tp)) is not None else ends[tp]
            for tp in parts}


async def replay(bootstrap: str, until: datetime | None = None, progress: Callable[[int], None] | None = None,
                 timeout: float = 600.0) -> tuple[Cohort, Mark]:
    """The cohort from every input record before `until` (None: up to now), and what it reflects."""
    cohort, mark = Cohort(), Mark()
    consumer = await open_reader(bootstrap, INPUT_TOPICS, client_id="werkplek-reports-replay")
    try:
        ends = await _ends(consumer, until)
        pending = {tp for tp, end in ends.items() if await consumer.position(tp) < end}
        deadline, n = time.monotonic() + timeout, 0
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"replay not at its end of {len(pending)} partitions after {timeout}s")
            for tp, records in (await consumer.getmany(*pending, timeout_ms=200, max_records=5000)).items():
                for rec in records:
                    if rec.offset >= ends[tp]:
                        break
                    try:
                        event = decode(rec.topic, rec.value, rec.headers)
                    except DecodeError:
                        continue  # the worker sent it to the DLQ; it is in no figure
                    cohort.apply(event)
                    if until is None or rec.timestamp < until.timestamp() * 1000:  # a later removal: not in the mark
                        mark.advance(event.occurred_at, rec.topic, rec.partition, rec.offset)
                    n += 1
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
            if progress:
                progress(n)
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return cohort, mark


def recompute(cohort: Cohort, mark: Mark, key: ReportKey, key_bytes: bytes, min_count: int, instant: datetime,
              version: int, trajectories: bool = False) -> ReportEvent | None:
    """The report (or its trajectory rows) as the worker computes it from this cohort; None when the
    cohort has no such report."""
    computed = compute_set(cohort, key.set_key, key_bytes, min_count)
    sections = (computed.trajectories if trajectories else computed.reports).get(key)
    if sections is None:
        return None
    kind = FundingTrajectoriesPublished if trajectories else FundingReportPublished
    return report_event(key, sections, version, mark, instant, kind)
