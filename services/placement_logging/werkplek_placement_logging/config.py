"""Settings of placement logging (env prefix WERKPLEK_, like every service). Defaults point at the dev
identity provider; production sets oidc_issuer, oidc_audience and oidc_jwks_url."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from pydantic import SecretStr
from werkplek_common.auth import INSTITUTION_CLAIM, ROLE_CLAIM
from werkplek_common.devidp import DEV_AUDIENCE, DEV_ISSUER
from werkplek_common.settings import CommonSettings
from werkplek_events.pseudonyms import DEV_PSEUDONYM_KEY

SERVICE = "placement_logging"


class Settings(CommonSettings):
    # the variables of these settings before 2026-12-02, still read (werkplek_common.settings)
    LEGACY_ENV: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "decisions_consumer_group": ("WERKPLEK_DECISIONS_GROUP",),
        "views_consumer_group": ("WERKPLEK_VIEWS_GROUP",),
        "metrics_port": ("WERKPLEK_WORKER_METRICS_PORT",),
    }
    SERVICE: ClassVar[str] = SERVICE  # its PostgreSQL role and schema (docs/adr/0009)
    placement_logging_pg_dsn: str = ""  # its own DSN; "" : WERKPLEK_PG_DSN signed in as the role `placement_logging`
    api_host: str = "127.0.0.1"
    api_port: int = 8001
    api_workers: int = 1  # >1 splits /metrics per process; use for throughput only
    pool_min: int = 2
    pool_max: int = 10
    oidc_issuer: str = DEV_ISSUER
    oidc_audience: str = DEV_AUDIENCE
    oidc_jwks_url: str | None = None
    oidc_jwks_file: Path | None = None  # default: the dev IdP's JWKS under data_dir
    oidc_trust_dev_idp: bool = False  # with oidc_jwks_url: also accept the dev IdP's tokens (make run's simulator)
    oidc_role_claim: str = ROLE_CLAIM  # the claim naming the werkplek role (student, coordinator, ...)
    oidc_institution_claim: str = INSTITUTION_CLAIM  # the claim naming the institution (as in the registry)
    timezone: str = "Europe/Brussels"  # where students work: "today" and times of day are local
    clock_skew_s: int = 300  # a phone's clock may run ahead this much before "in the future" applies
    max_batch: int = 500
    # stored replies of POSTs (Idempotency-Key) are deleted after this many days: longer than a phone
    # stays offline; after it, entry_id dedupe still holds (docs/privacy.md, "Retention")
    idempotency_retention_days: int = 7
    # the key of funding reports' trajectory pseudonyms, to reveal a coordinator's own student behind
    # one (docs/adr/0074); the same variable funding reports read
    reports_pseudonym_key: SecretStr = SecretStr(DEV_PSEUDONYM_KEY)
    personal_reads_retention_days: int = 730  # the log of staff reads of personal data (docs/privacy.md)
    outbox_producer: str = SERVICE
    event_source: str = "/werkplek/placement-logging"
    decisions_consumer_group: str = "placement_logging-decisions"
    views_consumer_group: str = "placement_logging-views"  # share and outcome progress into the student's read models
    metrics_port: int = 0  # 0: no /metrics listener for the worker
    backlog_refresh_s: float = 5.0
    relay_nudge_s: float = 0.01  # at most one NOTIFY to the relay per interval per process; 0: one per write
    student_institution_ttl_s: float = 30.0  # how long a student's institution is remembered for the token check
    # Request bodies (bytes), refused with 413 while they are read, before authentication or parsing.
    # Derived from the largest valid document (tests/unit/test_body_limits.py): a registry document fits
    # in 256 KiB, a batch of 500 entries at every limit in 3 MiB.
    max_body_bytes: int = 256 << 10
    max_batch_body_bytes: int = 4 << 20
