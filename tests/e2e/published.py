"""Every report the end-to-end run published, checked against the report layout schemas
(events/schemas/reports/): the programme and institution reports, pilot reports, snapshots and the
per-trajectory rows of the session's institution."""

from __future__ import annotations

import json

from aiokafka import ConsumerRecord
from jsonschema import Draft202012Validator
from werkplek_events import FundingReportPublished, FundingReportSnapshotted, FundingTrajectoriesPublished, topic_for
from werkplek_events.report_schemas import load
from werkplek_funding_reports.kafka_io import open_reader, read_to_end

KINDS = (FundingReportPublished, FundingReportSnapshotted, FundingTrajectoriesPublished)


async def invalid_reports(bootstrap: str, institutions: set[str]) -> tuple[int, list[str]]:
    """(how many reports of the institutions were published, the schema errors found in them)."""
    validators = {topic_for(k).name: Draft202012Validator(load(k)) for k in KINDS}
    seen: list[int] = [0]
    errors: list[str] = []

    async def check(rec: ConsumerRecord) -> None:
        doc = json.loads(rec.value)
        if doc.get("institution_id") not in institutions:
            return
        seen[0] += 1
        errors.extend(f"{doc['report_id']} v{doc['version']} ({rec.topic}): {e.message[:200]} at {list(e.path)}"
                      for e in validators[rec.topic].iter_errors(doc))

    consumer = await open_reader(bootstrap, list(validators), client_id="e2e-report-schema")
    try:
        await read_to_end(consumer, check)
    finally:
        await consumer.stop()
    return seen[0], errors
