"""Reports that cannot be computed or published, set aside so the others keep going. The runtime
quarantines a whole key (an institution: all its reports) when a step raises; one publication set
(an academic year's reports, suppressed together) or one report of a unit that cannot be made (a
programme id from before the limits that makes its report id too long, a report larger than the
broker takes) must not stop the unit's other reports or its roll-up. So the report stage catches
those errors per set and per report (`per_report`), remembers the reason in the unit's state
and stages, once per reason, a record on the report topic's DLQ with the error in its headers and as
much of the report as could be made in its value (`dead_record`), committed through the outbox with
the unit's state. A later version that publishes releases it. Counted on commit
(`werkplek_report_quarantines_total`, `werkplek_dlq_records_total` and its alert), and logged."""

from __future__ import annotations

import logging
from datetime import datetime

import orjson
from werkplek_common.metrics import DLQ_RECORDS
from werkplek_events import FundingReportPublished, KafkaRecord, topic_for

from . import metrics
from .domain.keys import ReportKey

log = logging.getLogger(__name__)
CONSUMER = "funding-reports"
SPEC = topic_for(FundingReportPublished)
MAX_REPORT_BYTES = 1_000_000  # under the broker's and producer's 1 MiB default (message.max.bytes)


class ReportTooLarge(ValueError):
    pass


def per_report() -> tuple[type[Exception], ...]:
    """Errors that concern one report (pydantic's ValidationError is a ValueError): the others can
    still be published. Anything else is a bug of the unit and quarantines the unit (the runtime)."""
    return ValueError, TypeError


def check_size(value: bytes) -> None:
    if len(value) > MAX_REPORT_BYTES:
        raise ReportTooLarge(f"report of {len(value)} bytes is over the {MAX_REPORT_BYTES} bytes a record may have")


def reason_of(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def dead_record(key: ReportKey, error: Exception, report: FundingReportPublished | None,
                at: datetime) -> KafkaRecord:
    """The DLQ record: keyed by the report id it would have had, the report (or its key) as its value."""
    doc = report.model_dump(mode="json") if report is not None else {
        "report_id": key.report_id, "scope": key.scope.value, "institution_id": key.institution_id,
        "programme_id": key.programme_id, "pilot_id": key.pilot_id, "academic_year": key.academic_year}
    text = str(error).replace("\x00", "\\0")[:2000]  # headers are staged as JSON text in the outbox
    headers = [("dlq_error", text.encode()), ("dlq_error_type", type(error).__name__.encode()),
               ("dlq_field", b"report_id" if "report_id" in text else b""),
               ("dlq_source_topic", SPEC.name.encode()), ("dlq_consumer", CONSUMER.encode()),
               ("dlq_failed_at", at.isoformat().encode())]
    assert SPEC.dlq is not None
    value = orjson.dumps(doc)
    if len(value) > MAX_REPORT_BYTES:  # the DLQ takes no more than the topic: keep the key only
        value = orjson.dumps({k: doc[k] for k in ("report_id", "scope", "institution_id", "programme_id",
                                                  "pilot_id", "academic_year") if k in doc})
    return KafkaRecord(SPEC.dlq, key.report_id.encode(), value, headers)


class SetAside:
    """This process's count of quarantined reports, for the gauge (the truth is in each unit's state)."""

    def __init__(self) -> None:
        self.ids: set[bytes] = set()

    def committed(self, dead: KafkaRecord) -> None:
        headers = dict(dead.headers)
        self.ids.add(dead.key)
        DLQ_RECORDS.labels(SPEC.name, CONSUMER).inc()
        metrics.QUARANTINES.labels(headers["dlq_error_type"].decode()).inc()
        metrics.QUARANTINED.set(len(self.ids))
        log.error("report quarantined; the others go on", extra={"fields": {
            "report_id": dead.key.decode(), "error": headers["dlq_error"].decode()[:500], "dlq": SPEC.dlq}})

    def published(self, report_id: str) -> None:
        if report_id.encode() in self.ids:
            self.ids.discard(report_id.encode())
            metrics.QUARANTINED.set(len(self.ids))
            log.info("report published again", extra={"fields": {"report_id": report_id}})
