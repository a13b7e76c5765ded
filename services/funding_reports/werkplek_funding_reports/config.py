"""Settings of funding reports (env prefix WERKPLEK_). Nothing else reads the environment."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr
from werkplek_common.settings import CommonSettings
from werkplek_events.pseudonyms import DEV_PSEUDONYM_KEY

DEV_KEY = DEV_PSEUDONYM_KEY  # development default only; production sets its own key


class Settings(CommonSettings):
    reports_group_id: str = "werkplek-funding-reports"  # only for DLQ bookkeeping and lag; state is replayed
    reports_pseudonym_key: SecretStr = SecretStr(DEV_KEY)
    reports_min_count: int = 5  # counts below this are suppressed
    reports_commit_seconds: float = 5.0  # how often the worker records how far it got
    reports_debounce_seconds: float = 1.0  # at most one new version per report per this interval
    reports_snapshot_every: Literal["day", "week", "month", "never"] = "month"
    reports_metrics_port: int = 9104
    reports_institutions: frozenset[str] = frozenset()  # empty: every institution

    @property
    def pseudonym_key(self) -> bytes:
        return self.reports_pseudonym_key.get_secret_value().encode()

    def wants(self, institution_id: str) -> bool:
        return not self.reports_institutions or institution_id in self.reports_institutions
