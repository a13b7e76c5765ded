"""Hour accounting's own metrics (never a per-student label). The runtime's metrics of its consumer
(events, batches, latency, lag, fencing, quarantine, cache) are `werkplek_consumer_*{consumer=<group>}`;
DLQ records count in `werkplek_dlq_records_total{topic, consumer}`; the relay's in `werkplek_outbox_*`."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

SHARES = Counter("werkplek_accounting_share_updates_total", "ShareUpdated events committed to the outbox")
RISKS = Counter("werkplek_accounting_risk_changes_total", "StudentRiskStatusChanged committed to the outbox",
                ["worsened"])
STUDENTS_BY_STATUS = Gauge("werkplek_accounting_students", "Students by status, per programme (read model)",
                           ["programme", "status"])
HELD_PROGRAMMES = Gauge("werkplek_accounting_programmes_awaited", "Programmes students wait for (not registered)")
