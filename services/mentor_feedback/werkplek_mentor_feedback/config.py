"""Settings of mentor feedback. Fields are prefixed `mentor_` so their environment variables
(WERKPLEK_MENTOR_...) cannot collide with another service's; nothing else reads the environment."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

from pydantic import SecretStr
from werkplek_common.devidp import DEV_AUDIENCE, DEV_ISSUER
from werkplek_common.settings import CommonSettings


class MentorFeedbackSettings(CommonSettings):
    # the variables of these settings before 2026-12-02, still read (werkplek_common.settings)
    LEGACY_ENV: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "consumer_group": ("WERKPLEK_MENTOR_CONSUMER_GROUP",),
        "progress_consumer_group": ("WERKPLEK_MENTOR_PROGRESS_APP_ID",),
        "progress_outbox_producer": ("WERKPLEK_MENTOR_PROGRESS_OUTBOX_PRODUCER",),
        "notifier_consumer_group": ("WERKPLEK_MENTOR_NOTIFIER_GROUP",),
    }
    SERVICE: ClassVar[str] = "mentor_feedback"  # its PostgreSQL role and schema (docs/adr/0009)
    mentor_feedback_pg_dsn: str = ""  # its own DSN; "" : WERKPLEK_PG_DSN signed in as the role `mentor_feedback`
    mentor_api_host: str = "127.0.0.1"
    mentor_api_port: int = 8002
    mentor_public_base_url: str = "http://127.0.0.1:8002"  # where mentors open confirmation links
    mentor_webhook_tolerance_s: int = 300  # Standard Webhooks: ±5 minutes
    # Request bodies (bytes), refused with 413 while they are read, before the signature is checked: a
    # message of 500 rejected entries with 500-character comments fits (tests/unit/test_body_limits.py),
    # and so does the mentor page's form of a link with 500 entries and one agreement of 200 outcomes
    # assessed (4.4 MB at the worst encoding).
    mentor_max_body_bytes: int = 2 << 20
    mentor_max_form_bytes: int = 6 << 20
    # Sources whose secrets are generated on first use under data_dir (local dev and the simulators).
    mentor_dev_sources: tuple[str, ...] = ("sim-tool-1", "sim-tool-2", "sim-tool-3")
    mentor_link_secret: str | None = None  # HMAC key of confirmation links; generated under data_dir if unset
    mentor_link_ttl_s: int = 72 * 3600
    # Retention (docs/privacy.md): webhook-replay records and finished outbound webhooks, and spent or
    # expired links and link requests, are deleted after this many days
    mentor_webhook_replay_retention_days: int = 7
    mentor_link_retention_days: int = 30
    # Batching: every `batch_interval_s` the worker groups each mentor's pending entries that are older
    # than `batch_min_age_s` (so a day's entries travel together) into one confirmation request; an
    # entry still pending is requested again after `rerequest_after_s`.
    mentor_batch_interval_s: float = 60.0
    mentor_batch_min_age_s: int = 300
    mentor_rerequest_after_s: int = 72 * 3600
    mentor_batch_max_entries: int = 500
    # Outbound webhooks: backoff base * 2^(attempt-1) with full jitter, capped; Retry-After wins.
    mentor_outbound_base_delay_s: float = 5.0
    mentor_outbound_max_delay_s: float = 3600.0
    mentor_outbound_max_attempts: int = 10
    mentor_outbound_timeout_s: float = 10.0
    mentor_outbound_poll_s: float = 1.0
    consumer_group: str = "mentor-feedback"
    mentor_oidc_issuer: str = DEV_ISSUER
    mentor_oidc_audience: str = DEV_AUDIENCE
    mentor_oidc_jwks_url: str | None = None  # the institution's IdP; the dev IdP's JWKS file when unset
    progress_consumer_group: str = "werkplek-outcome-progress"  # the progress worker's consumer group
    progress_outbox_producer: str = "outcome_progress"  # its outbox rows, published by its relay
    mentor_simulator_rate_per_s: float = 2.0
    mentor_timezone: str = "Europe/Brussels"  # mentors' and coordinators' local time (digest day, expiry times)
    # Mail (the notifier process). Locally the SMTP server is Mailpit (infra/mailpit), whose port
    # follows Kafka's (+33) so every stack has its own; infra/lib.sh exports the one in use.
    mentor_smtp_host: str = "127.0.0.1"
    mentor_smtp_port: int = 19125
    mentor_smtp_username: str | None = None
    mentor_smtp_password: SecretStr | None = None
    mentor_smtp_starttls: bool | None = None  # None: upgrade when the server offers STARTTLS
    mentor_smtp_tls: bool = False  # implicit TLS (port 465)
    mentor_smtp_timeout_s: float = 10.0
    mentor_mail_from: str = "werkplek <no-reply@werkplek.example>"
    # A failed send is retried after base * 2^(attempt-1) with equal jitter, capped, up to max attempts;
    # a permanent refusal (5xx) is recorded at once (a refused recipient as bounced).
    mentor_mail_base_delay_s: float = 30.0
    mentor_mail_max_delay_s: float = 3600.0
    mentor_mail_max_attempts: int = 12
    mentor_mail_poll_s: float = 1.0
    mentor_mail_batch: int = 20
    notifier_consumer_group: str = "mentor-feedback-notifier"
    # Early warnings: the coordinators' digest of yesterday goes out at this local hour; a mentor whose
    # hours are pending for more than `reminder_after_days` is reminded, at most every `reminder_every_days`.
    mentor_digest_hour: int = 7
    mentor_digest_poll_s: float = 60.0
    mentor_reminder_after_days: int = 7
    mentor_reminder_every_days: int = 7
    # Fresh links asked for with an e-mail address: at most one per mentor per interval.
    mentor_fresh_link_every_s: int = 600

    @property
    def mentor_tz(self) -> ZoneInfo:
        return ZoneInfo(self.mentor_timezone)

    @property
    def mentor_ask_url(self) -> str:
        """The fresh-link form, named in every mail to a mentor."""
        return f"{self.mentor_public_base_url.rstrip('/')}/link"

    @property
    def mentor_secrets_dir(self) -> Path:
        return self.data_dir / "mentor_feedback"
