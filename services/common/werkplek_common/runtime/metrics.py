"""Metrics of every consumer on the runtime, labelled by consumer (its group), never by key. DLQ
records count in the shared `werkplek_dlq_records_total{topic, consumer}`."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter("werkplek_consumer_events_total", "Input events handled, by event type", ["consumer", "type"])
BATCH_SECONDS = Histogram(
    "werkplek_consumer_batch_duration_seconds", "Time to decode, handle and commit one batch", ["consumer"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
LATENCY_SECONDS = Histogram(
    "werkplek_consumer_processing_latency_seconds",
    "Per input record: from its Kafka timestamp (when it was produced) to its batch handled", ["consumer"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
LAG = Gauge("werkplek_consumer_lag_events",
            "Records not yet committed, per topic partition owned (high watermark - stored next offset)",
            ["consumer", "topic", "partition"])
FENCED = Counter("werkplek_consumer_fenced_total",
                 "Commits rolled back because another worker had moved the stored offsets", ["consumer"])
QUARANTINED = Counter("werkplek_consumer_quarantines_total",
                      "Keys quarantined: their handling or their outputs failed; their records go to the DLQ",
                      ["consumer"])
QUARANTINED_NOW = Gauge("werkplek_consumer_quarantined_keys", "Keys in quarantine now (owned or not)", ["consumer"])
KEYS_HELD = Gauge("werkplek_consumer_keys_in_memory",
                  "Keys whose decoded state is cached in memory (the rest load from PostgreSQL)", ["consumer"])
REEVALUATED = Counter("werkplek_consumer_reevaluated_keys_total",
                      "Keys evaluated without new events (a new period, changed reference data)", ["consumer"])
ERRORS = Counter("werkplek_consumer_errors_total",
                 "Failures of a consumer's loop (the session is restarted) and of its rebalance handler",
                 ["consumer", "error"])
READY = Gauge("werkplek_consumer_ready", "1 when the consumer has joined its group and is processing", ["consumer"])
REBALANCES = Counter("werkplek_consumer_rebalances_total", "Partition assignments received", ["consumer"])
