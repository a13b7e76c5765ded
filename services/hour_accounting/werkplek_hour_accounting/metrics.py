"""Hour accounting's metrics (never a per-student label). DLQ records count in the shared
`werkplek_dlq_records_total{topic, consumer}`; the outbox relay's in `werkplek_outbox_*`."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter("werkplek_accounting_events_processed_total", "Input events accounted, by event type", ["type"])
BATCH_SECONDS = Histogram(
    "werkplek_accounting_batch_duration_seconds", "Time to decode, account and commit one batch",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
LATENCY_SECONDS = Histogram(
    "werkplek_accounting_processing_latency_seconds",
    "Per input record: from its Kafka timestamp (when it was produced) to its batch committed",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
SHARES = Counter("werkplek_accounting_share_updates_total", "ShareUpdated events committed to the outbox")
RISKS = Counter("werkplek_accounting_risk_changes_total", "StudentRiskStatusChanged committed to the outbox",
                ["worsened"])
REEVALUATED = Counter("werkplek_accounting_reevaluated_students_total",
                      "Students evaluated by the daily pass (a new day moves targets without any event)")
FENCED = Counter("werkplek_accounting_fenced_total",
                 "Batches rolled back because another worker had moved the stored offsets")
STUDENTS_BY_STATUS = Gauge("werkplek_accounting_students", "Students by status, per programme (read model)",
                           ["programme", "status"])
STUDENTS_HELD = Gauge("werkplek_accounting_students_in_memory",
                      "Students whose decoded state is cached in memory (the rest load from PostgreSQL)")
LAG = Gauge("werkplek_accounting_consumer_lag_events",
            "Records not yet committed, per topic partition (high watermark - stored next offset)",
            ["topic", "partition"])
HELD_PROGRAMMES = Gauge("werkplek_accounting_programmes_awaited", "Programmes students wait for (not registered)")
