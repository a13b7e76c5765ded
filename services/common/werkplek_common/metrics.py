"""Metrics shared by every service. Names follow `werkplek_<thing>_<unit>[_total]`; labels never
carry a student (or any other per-person) id."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

DLQ_RECORDS = Counter(
    "werkplek_dlq_records_total", "Records sent to a dead-letter topic because they could not be decoded or applied",
    ["topic", "consumer"],
)
EVENTS_PRODUCED = Counter("werkplek_events_produced_total", "Events produced to Kafka", ["topic"])
OUTBOX_BACKLOG = Gauge("werkplek_outbox_backlog_events", "Outbox rows not yet published", ["producer"])
OUTBOX_RELAY_LAG = Gauge(
    "werkplek_outbox_relay_lag_seconds", "Age of the oldest unpublished outbox row", ["producer"],
)
OUTBOX_PUBLISHED = Counter("werkplek_outbox_published_total", "Outbox rows published", ["producer"])
OUTBOX_BATCH_SECONDS = Histogram(
    "werkplek_outbox_batch_duration_seconds", "Time to publish one outbox batch", ["producer"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

LEASES_HELD = Gauge("werkplek_leases_held", "1 while this process holds the lease (werkplek_common.lease)", ["lease"])
LEASE_TAKEN = Counter("werkplek_lease_taken_total", "Times this process took the lease", ["lease"])
LEASE_LOSSES = Counter(
    "werkplek_lease_losses_total", "Times this process found that another replica had taken its lease", ["lease"],
)

TENANT_REFUSALS = Counter(
    "werkplek_tenant_refusals_total",
    "Requests that named another institution's object (answered as unknown, nothing changed), by kind of"
    " object and where the request named it (path, query, body, token)",
    ["kind", "via"],
)


def serve_metrics(port: int, host: str = "127.0.0.1") -> None:
    """Expose /metrics on its own port, for workers that have no HTTP app of their own. Loopback unless
    the setting `metrics_host` says otherwise (0.0.0.0 in Kubernetes, where Prometheus scrapes the pod)."""
    if port:
        start_http_server(port, addr=host)
