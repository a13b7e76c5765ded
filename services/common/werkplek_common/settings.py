"""Base settings (pydantic-settings). Each service's `config.py` subclasses `CommonSettings`;
nothing else in the code base reads `os.environ`."""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from werkplek_events.topics import DLQ_RETENTION_DAYS

from .db import SessionLimits
from .lease import LEASE_S

REPO_ROOT = Path(__file__).resolve().parents[3]


def dsn_as(dsn: str, role: str) -> str:
    """`dsn` signed in as `role` instead (no password: the owner's is not the role's; locally the
    cluster trusts loopback, a cluster gives each service its own DSN, WERKPLEK_<SERVICE>_PG_DSN)."""
    parts = urlsplit(dsn)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{role}@{host}"))


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WERKPLEK_", extra="ignore", frozen=True)
    # The service's PostgreSQL role and schema (docs/adr/0009); "" for the owner's tools (migrate, status).
    SERVICE: ClassVar[str] = ""

    kafka_bootstrap: str = "127.0.0.1:19092"
    # The local stack's broker has one plain listener; in the cluster every client speaks TLS and signs
    # in with SCRAM-SHA-512 as its KafkaUser (deploy/k8s/components/strimzi): SASL_SSL, the user's name,
    # the password from the Secret Strimzi writes for the user, and the cluster CA's certificate.
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    kafka_ssl_cafile: Path | None = None  # None: the system's trust store
    pg_dsn: str = "postgresql://werkplek@127.0.0.1:55432/werkplek"  # the owner's: migrations, operators' tools
    log_level: str = "INFO"
    log_json: bool = True
    metrics_port: int = 0  # 0: metrics only on the service's own HTTP app, no separate listener
    metrics_host: str = "127.0.0.1"  # where the workers' metrics listener binds: loopback locally, 0.0.0.0 in pods
    prom_port: int = 19090  # the local Prometheus of `make run` (infra/lib.sh reads the same variable)
    # Crypto-shredding (docs/adr/0070): the master keys that wrap the data keys, `id:base64(32 bytes)`
    # separated by commas, and the id of the one that wraps new keys. Old ids stay listed until
    # `python -m werkplek_common.keystore rotate` has re-wrapped every key. The default is a dev key,
    # for the local stack only; a cluster sets both from a Secret.
    master_keys: SecretStr = SecretStr("dev:ZGV2LW9ubHktbWFzdGVyLWtleS1ub3QtYS1zZWNyZXQ=")
    master_key_id: str = "dev"
    dlq_retention_days: int = DLQ_RETENTION_DAYS  # how long a DLQ keeps a failed record (docs/privacy.md)
    migrations_root: Path = REPO_ROOT / "services"
    data_dir: Path = REPO_ROOT / ".data"
    # bounds of every PostgreSQL session (werkplek_common.db.SessionLimits; 0: none)
    pg_lock_timeout_s: float = SessionLimits.lock_timeout_s
    pg_statement_timeout_s: float = SessionLimits.statement_timeout_s
    pg_idle_in_transaction_s: float = SessionLimits.idle_in_transaction_s
    outbox_lease_s: float = LEASE_S  # a paused relay holds up its replicas' relays at most this long
    # One name for one thing in every service (docs/adr/0009): `consumer_group`, `outbox_producer`,
    # `metrics_port` (and `<part>_consumer_group` where a service runs several consumers). A deployment
    # that still sets a variable of the old names keeps working: field -> the old variables, read only
    # when the new one is not set.
    LEGACY_ENV: ClassVar[Mapping[str, tuple[str, ...]]] = {}

    @model_validator(mode="before")
    @classmethod
    def _legacy_env(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not cls.LEGACY_ENV:
            return data
        for field, names in cls.LEGACY_ENV.items():
            if field in data:
                continue
            value = next((os.environ[n] for n in names if n in os.environ), None)
            if value is not None:
                data = {**data, field: value}
        return data

    @property
    def service_dsn(self) -> str:
        """The DSN the service signs in with: its own role, which sees only its own schema (and reads the
        key store). WERKPLEK_<SERVICE>_PG_DSN when set, else WERKPLEK_PG_DSN as the service's role."""
        if not self.SERVICE:
            return self.pg_dsn
        own = getattr(self, f"{self.SERVICE}_pg_dsn", "")
        return str(own) if own else dsn_as(self.pg_dsn, self.SERVICE)

    @property
    def pg_limits(self) -> SessionLimits:
        return SessionLimits(self.pg_lock_timeout_s, self.pg_statement_timeout_s, self.pg_idle_in_transaction_s)

    def kafka_client_options(self) -> dict[str, object]:
        """Keyword arguments for every aiokafka client (consumer, producer, admin) of this process."""
        if self.kafka_security_protocol == "PLAINTEXT":
            return {}
        if not self.kafka_sasl_username or not self.kafka_sasl_password.get_secret_value():
            raise ValueError("WERKPLEK_KAFKA_SASL_USERNAME and WERKPLEK_KAFKA_SASL_PASSWORD are needed for SASL_SSL")
        cafile = str(self.kafka_ssl_cafile) if self.kafka_ssl_cafile else None
        return {"security_protocol": "SASL_SSL", "sasl_mechanism": self.kafka_sasl_mechanism,
                "sasl_plain_username": self.kafka_sasl_username,
                "sasl_plain_password": self.kafka_sasl_password.get_secret_value(),
                "ssl_context": ssl.create_default_context(cafile=cafile)}
