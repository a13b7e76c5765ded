"""Base settings (pydantic-settings). Each service's `config.py` subclasses `CommonSettings`;
nothing else in the code base reads `os.environ`."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from .db import SessionLimits
from .lease import LEASE_S

REPO_ROOT = Path(__file__).resolve().parents[3]


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WERKPLEK_", extra="ignore", frozen=True)

    kafka_bootstrap: str = "127.0.0.1:19092"
    pg_dsn: str = "postgresql://werkplek@127.0.0.1:55432/werkplek"
    log_level: str = "INFO"
    log_json: bool = True
    metrics_port: int = 0  # 0: metrics only on the service's own HTTP app, no separate listener
    migrations_root: Path = REPO_ROOT / "services"
    data_dir: Path = REPO_ROOT / ".data"
    # bounds of every PostgreSQL session (werkplek_common.db.SessionLimits; 0: none)
    pg_lock_timeout_s: float = SessionLimits.lock_timeout_s
    pg_statement_timeout_s: float = SessionLimits.statement_timeout_s
    pg_idle_in_transaction_s: float = SessionLimits.idle_in_transaction_s
    outbox_lease_s: float = LEASE_S  # a paused relay holds up its replicas' relays at most this long

    @property
    def pg_limits(self) -> SessionLimits:
        return SessionLimits(self.pg_lock_timeout_s, self.pg_statement_timeout_s, self.pg_idle_in_transaction_s)
