"""The running stack as the tests see it, and the Kafka side of starting it: fresh consumer groups
positioned at the current end of every topic, and the readiness probes of the services."""

from __future__ import annotations

import base64
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from aiokafka.admin import AIOKafkaAdminClient
from werkplek_events import TOPICS
from werkplek_events.limits import INSTITUTION_ID_MAX
from werkplek_mentor_feedback.sources import add_secret

from tests import support
from tests.e2e.processes import Probe, ServiceProcess


@dataclass(frozen=True)
class Stack:
    tag: str
    placement_url: str
    mentor_url: str
    institution: str
    source_id: str
    source_secret: str
    data_dir: Path
    bootstrap: str
    pg_dsn: str
    ready_s: dict[str, float]
    metrics_ports: dict[str, int]  # of the workers (the APIs serve /metrics on their own port)

    # names of this session's consumer groups and outbox producers (unique: the tag)
    @property
    def placement_group(self) -> str:
        return f"e2e-pl-decisions-{self.tag}"

    @property
    def views_group(self) -> str:
        return f"e2e-pl-views-{self.tag}"

    @property
    def mentor_group(self) -> str:
        return f"e2e-mf-{self.tag}"

    @property
    def accounting_group(self) -> str:
        return f"e2e-ha-{self.tag}"

    @property
    def notifier_group(self) -> str:
        return f"e2e-mn-{self.tag}"

    @property
    def members_group(self) -> str:
        return f"e2e-frm-{self.tag}"

    @property
    def progress_group(self) -> str:
        return f"e2e-op-{self.tag}"

    @property
    def reports_group(self) -> str:
        return f"e2e-fr-{self.tag}"

    @property
    def metrics_targets(self) -> dict[str, str]:
        """host:port of each service's /metrics, by the `app` label Prometheus gives it (as in production)."""
        workers = {"placement-logging-worker": "placement_worker", "mentor-feedback-worker": "mentor_worker",
                   "mentor-feedback-notifier": "mentor_notifier",
                   "outcome-progress": "outcome_progress", "hour-accounting": "hour_accounting",
                   "funding-reports": "funding_reports"}
        apis = {"placement-logging-api": self.placement_url, "mentor-feedback-api": self.mentor_url}
        return {**{app: f"127.0.0.1:{self.metrics_ports[name]}" for app, name in workers.items()},
                **{app: url.removeprefix("http://") for app, url in apis.items()}}

    @property
    def placement_producer(self) -> str:
        return f"e2e-pl-{self.tag}"

    @property
    def long_institution(self) -> str:
        """A second institution of the session whose id is as long as the registry allows."""
        return f"e2e-inst-{self.tag}-".ljust(INSTITUTION_ID_MAX, "x")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def new_secret() -> str:
    """A Standard Webhooks secret, as a mentor's tool would be given one."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def start_groups_at_end(bootstrap: str, groups: list[str]) -> None:
    """Every registry topic, for each fresh group: the services see only what this session produces."""
    await support.start_groups_at_end(bootstrap, groups, [t.name for t in TOPICS])


async def backlog(bootstrap: str, group: str) -> int:
    """Records on the broker that `group` has not committed yet: when the e2e flow is slow, this
    tells whether the service is busy with what other sessions publish on the shared broker."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="werkplek-e2e")
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    ends = await support.end_offsets(bootstrap, sorted({tp.topic for tp in committed}))
    return sum(max(0, end - committed[tp].offset) for tp, end in ends.items() if tp in committed)


def http_ready(url: str) -> Probe:
    async def probe(_service: ServiceProcess) -> bool:
        try:
            async with httpx.AsyncClient(timeout=1) as client:
                return (await client.get(f"{url}/readyz")).status_code == 200
        except httpx.TransportError:
            return False

    return probe


async def register_source(pg_dsn: str, source_id: str, secret: str) -> None:
    """The mentors' tool as an operator registers it (`python -m werkplek_mentor_feedback sources add`)."""
    conn = await asyncpg.connect(pg_dsn)
    try:
        await add_secret(conn, source_id, secret)
    finally:
        await conn.close()
