"""Reports the worker cannot compute or publish, set aside so the others keep going. Each is sent once
(per reason, per process) to the report topic's DLQ, with the error in its headers and as much of the
report as could be made in its value, counted (`werkplek_report_quarantines_total`, the DLQ counter
and its alert), and logged. A later version that publishes releases it. The shared consumer runtime
will quarantine per key for every service; this is the worker's own until it runs there."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError, RecordTooLargeError
from werkplek_common.kafka import send_record
from werkplek_common.metrics import DLQ_RECORDS
from werkplek_events import FundingReportPublished, KafkaRecord, topic_for

from . import metrics
from .domain.keys import ReportKey

log = logging.getLogger(__name__)
CONSUMER = "funding-reports"
SPEC = topic_for(FundingReportPublished)


def per_record() -> tuple[type[Exception], ...]:
    """Errors that concern one report, not the broker: the others can still be published."""
    return MessageSizeTooLargeError, RecordTooLargeError, ValueError, TypeError


def dead_record(key: ReportKey, error: Exception, report: FundingReportPublished | None) -> KafkaRecord:
    """The DLQ record: keyed by the report id it would have had, the report (or its key) as its value."""
    doc = report.model_dump(mode="json") if report is not None else {
        "report_id": key.report_id, "scope": key.scope.value, "institution_id": key.institution_id,
        "programme_id": key.programme_id, "academic_year": key.academic_year}
    headers = [("dlq_error", str(error)[:2000].encode()), ("dlq_error_type", type(error).__name__.encode()),
               ("dlq_field", b"report_id" if "report_id" in str(error) else b""),
               ("dlq_source_topic", SPEC.name.encode()), ("dlq_consumer", CONSUMER.encode()),
               ("dlq_failed_at", datetime.now(UTC).isoformat().encode())]
    assert SPEC.dlq is not None
    return KafkaRecord(SPEC.dlq, key.report_id.encode(), orjson.dumps(doc), headers)


class Quarantine(dict[ReportKey, str]):
    """Quarantined report -> the reason."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        super().__init__()
        self.producer = producer

    async def add(self, key: ReportKey, error: Exception, report: FundingReportPublished | None = None) -> None:
        reason = f"{type(error).__name__}: {error}"
        if self.get(key) == reason:
            return  # already in the DLQ for this reason
        self[key] = reason
        await (await send_record(self.producer, dead_record(key, error, report)))
        DLQ_RECORDS.labels(SPEC.name, CONSUMER).inc()
        metrics.QUARANTINES.labels(type(error).__name__).inc()
        metrics.QUARANTINED.set(len(self))
        log.error("report quarantined; the others go on", extra={"fields": {
            "report_id": key.report_id, "error": str(error)[:500], "dlq": SPEC.dlq}})

    def release(self, key: ReportKey) -> None:
        if self.pop(key, None) is not None:
            metrics.QUARANTINED.set(len(self))
            log.info("report published again", extra={"fields": {"report_id": key.report_id}})
