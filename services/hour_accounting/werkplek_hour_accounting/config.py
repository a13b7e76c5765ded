"""Hour accounting's settings (env prefix WERKPLEK_, like every service); nothing else reads os.environ."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import ClassVar

from werkplek_common.settings import CommonSettings


class AccountingSettings(CommonSettings):
    # the variables of these settings before 2026-12-02, still read (werkplek_common.settings)
    LEGACY_ENV: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "consumer_group": ("WERKPLEK_ACCOUNTING_APP_ID",),
        "outbox_producer": ("WERKPLEK_ACCOUNTING_OUTBOX_PRODUCER",),
    }
    SERVICE: ClassVar[str] = "hour_accounting"  # its PostgreSQL role and schema (docs/adr/0009)
    hour_accounting_pg_dsn: str = ""  # its own DSN; "" : WERKPLEK_PG_DSN signed in as the role `hour_accounting`
    metrics_port: int = 9102
    consumer_group: str = "werkplek-hour-accounting"  # the consumer group (KEDA scales on its lag)
    outbox_producer: str = "hour_accounting"  # outbox rows this worker's relay publishes
    accounting_as_of: date | None = None  # fixed "today" for tests and replays; None: the UTC date
    # records per getmany: one evaluation per student per batch, so a backlog is worked through in few
    # large batches; memory stays bounded by the fetch size and the two settings below
    accounting_batch_max: int = 100_000
    accounting_commit_students: int = 5_000  # students per transaction (a batch may take several)
    accounting_fetch_partition_mb: int = 8  # bytes fetched ahead per partition (x8 per fetch): the batch's ceiling
    accounting_fetch_wait_ms: int = 50  # max wait to fill a batch: bounds the added latency
    accounting_hot_students: int = 10_000  # decoded states cached in memory; the rest load from PostgreSQL
    accounting_session_timeout_s: float = 10.0  # how long a crashed worker's partitions stay taken
    accounting_stats_interval_s: float = 15.0  # how often the students-by-status gauge is refreshed
