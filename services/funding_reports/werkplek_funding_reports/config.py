"""Settings of funding reports (env prefix WERKPLEK_). Nothing else reads the environment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

from pydantic import SecretStr
from werkplek_common.settings import CommonSettings
from werkplek_events.pseudonyms import DEV_PSEUDONYM_KEY

DEV_KEY = DEV_PSEUDONYM_KEY  # development default only; production sets its own key


class Settings(CommonSettings):
    # the variables of these settings before 2026-12-02, still read (werkplek_common.settings)
    LEGACY_ENV: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "consumer_group": ("WERKPLEK_REPORTS_GROUP_ID",),
        "members_consumer_group": ("WERKPLEK_REPORTS_MEMBERS_GROUP",),
        "outbox_producer": ("WERKPLEK_REPORTS_OUTBOX_PRODUCER",),
        "metrics_port": ("WERKPLEK_REPORTS_METRICS_PORT",),
    }
    SERVICE: ClassVar[str] = "funding_reports"  # its PostgreSQL role and schema (docs/adr/0009)
    funding_reports_pg_dsn: str = ""  # its own DSN; "" : WERKPLEK_PG_DSN signed in as the role `funding_reports`
    consumer_group: str = "werkplek-funding-reports"  # the reports stage: institutions and years
    members_consumer_group: str = "werkplek-funding-reports-members"  # the members stage: students
    outbox_producer: str = "funding_reports"  # outbox rows of both stages, published by the relay
    reports_pseudonym_key: SecretStr = SecretStr(DEV_KEY)
    reports_min_count: int = 5  # counts below this are suppressed
    reports_debounce_seconds: float = 1.0  # a reports batch gathers this long: about one version per interval
    reports_snapshot_every: Literal["day", "week", "month", "never"] = "month"
    metrics_port: int = 9104
    reports_institutions: frozenset[str] = frozenset()  # empty: every institution

    @property
    def pseudonym_key(self) -> bytes:
        return self.reports_pseudonym_key.get_secret_value().encode()

    def wants(self, institution_id: str) -> bool:
        return not self.reports_institutions or institution_id in self.reports_institutions
