"""End-to-end fixtures: the real services as real processes against the test stack (`make pytest`
exports its env). Everything that could meet another run on the shared broker or database is unique
per session: HTTP ports, consumer groups (positioned at the current end of every topic, so
leftovers are neither replayed nor sent to a DLQ again), the placement outbox's producer name, the
webhook source, and the institution (the report worker reports on it alone). The services live for
this package only: left running, the mentor worker's relay would race later tests over the shared
`mentor_feedback` outbox rows. Logs go to .data/test/e2e-logs/<session>-<service>.log and are shown
when a test fails."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from werkplek_common.devidp import ensure_keys
from werkplek_common.settings import CommonSettings

from tests.e2e.app_stack import AppStackSettings, placement_oidc_env
from tests.e2e.processes import Probe, ServiceProcess, stop_all, wait_ready
from tests.e2e.published import invalid_reports
from tests.e2e.stack import (
    Stack,
    free_port,
    http_ready,
    new_secret,
    register_source,
    start_groups_at_end,
)
from tests.support import SERVICES, connect_observer, dsn_of

STARTUP_S = 180.0  # a deadline, not a measure: on a shared 2-core machine under load (a load average of 40-58
# was seen), seven Python processes took more than 120 s
KEEP_LOGS_S = 24 * 3600  # older e2e logs are removed when a session starts
METRICS_PORTS = ("placement_worker", "mentor_worker", "mentor_notifier", "outcome_progress", "hour_accounting",
                 "funding_reports")
RUNNING: list[ServiceProcess] = []  # of this session, for the failure report


def services(stack: Stack, cfg: CommonSettings, log_dir: Path) -> list[ServiceProcess]:
    """The six processes; each worker serves /readyz on a metrics port of its own, which says when it
    has joined its groups (and read its reference data)."""
    kafka = cfg.kafka_bootstrap
    common = {"WERKPLEK_KAFKA_BOOTSTRAP": kafka, "WERKPLEK_PG_DSN": cfg.pg_dsn, "WERKPLEK_DATA_DIR": str(cfg.data_dir),
              "WERKPLEK_LOG_JSON": "false", "WERKPLEK_LOG_LEVEL": "INFO", "WERKPLEK_METRICS_PORT": "0"}
    placement = {**common, "WERKPLEK_API_PORT": stack.placement_url.rsplit(":", 1)[1],
                 "WERKPLEK_OUTBOX_PRODUCER": stack.placement_producer,
                 "WERKPLEK_DECISIONS_CONSUMER_GROUP": stack.placement_group,
                 "WERKPLEK_VIEWS_CONSUMER_GROUP": stack.views_group,
                 "WERKPLEK_METRICS_PORT": "0", **placement_oidc_env(AppStackSettings())}
    placement_worker = {**placement, "WERKPLEK_METRICS_PORT": str(stack.metrics_ports["placement_worker"])}
    mentor = {**common, "WERKPLEK_MENTOR_API_PORT": stack.mentor_url.rsplit(":", 1)[1],
              "WERKPLEK_MENTOR_PUBLIC_BASE_URL": stack.mentor_url, "WERKPLEK_CONSUMER_GROUP": stack.mentor_group,
              "WERKPLEK_MENTOR_DEV_SOURCES": "[]", "WERKPLEK_NOTIFIER_CONSUMER_GROUP": stack.notifier_group,
              "WERKPLEK_PROGRESS_CONSUMER_GROUP": stack.progress_group,
              "WERKPLEK_MENTOR_PROGRESS_WEB_PORT": str(free_port()),
              # requests for entries pending a few seconds (mentors with a tool but no endpoint get none)
              "WERKPLEK_MENTOR_BATCH_MIN_AGE_S": "2", "WERKPLEK_MENTOR_BATCH_INTERVAL_S": "1",
              "WERKPLEK_MENTOR_MAIL_POLL_S": "0.2"}
    mentor_worker = {**mentor, "WERKPLEK_METRICS_PORT": str(stack.metrics_ports["mentor_worker"])}
    notifier = {**mentor, "WERKPLEK_METRICS_PORT": str(stack.metrics_ports["mentor_notifier"])}
    progress = {**mentor, "WERKPLEK_METRICS_PORT": str(stack.metrics_ports["outcome_progress"])}
    accounting = {**common, "WERKPLEK_CONSUMER_GROUP": stack.accounting_group,
                  "WERKPLEK_OUTBOX_PRODUCER": stack.accounting_group,
                  "WERKPLEK_METRICS_PORT": str(stack.metrics_ports["hour_accounting"])}
    reports = {**common, "WERKPLEK_CONSUMER_GROUP": stack.reports_group,
               "WERKPLEK_MEMBERS_CONSUMER_GROUP": stack.members_group,
               "WERKPLEK_OUTBOX_PRODUCER": stack.reports_group,
               "WERKPLEK_METRICS_PORT": str(stack.metrics_ports["funding_reports"]),
               "WERKPLEK_REPORTS_INSTITUTIONS": json.dumps([stack.institution, stack.long_institution]),
               "WERKPLEK_REPORTS_SNAPSHOT_EVERY": "never"}

    def worker_ready(name: str) -> Probe:
        return http_ready(f"http://127.0.0.1:{stack.metrics_ports[name]}")

    specs: list[tuple[str, list[str], dict[str, str], Probe]] = [
        ("placement_api", ["werkplek_placement_logging", "api"], placement, http_ready(stack.placement_url)),
        ("placement_worker", ["werkplek_placement_logging", "worker"], placement_worker,
         worker_ready("placement_worker")),
        ("mentor_api", ["werkplek_mentor_feedback", "api"], mentor, http_ready(stack.mentor_url)),
        ("mentor_worker", ["werkplek_mentor_feedback", "worker"], mentor_worker, worker_ready("mentor_worker")),
        ("mentor_notifier", ["werkplek_mentor_feedback", "notifier"], notifier, worker_ready("mentor_notifier")),
        ("outcome_progress", ["werkplek_mentor_feedback", "progress"], progress, worker_ready("outcome_progress")),
        ("hour_accounting", ["werkplek_hour_accounting", "worker"], accounting, worker_ready("hour_accounting")),
        ("funding_reports", ["werkplek_funding_reports", "worker"], reports, worker_ready("funding_reports")),
    ]
    return [ServiceProcess(name, argv, env, probe, log_dir / f"{stack.tag}-{name}.log")
            for name, argv, env, probe in specs]


def prune_logs(log_dir: Path) -> None:
    if log_dir.is_dir():
        for old in log_dir.glob("*.log"):
            if time.time() - old.stat().st_mtime > KEEP_LOGS_S:
                old.unlink(missing_ok=True)


def kafka_groups(stack: Stack) -> list[str]:
    """Every consumer group of the session. The runtime's groups keep their offsets in PostgreSQL; a
    partition they never stored starts at the group's committed offset in Kafka, placed here."""
    return [stack.placement_group, stack.views_group, stack.mentor_group, stack.reports_group, stack.members_group,
            stack.notifier_group, stack.progress_group, stack.accounting_group]


async def clean_up(cfg: CommonSettings, stack: Stack) -> None:
    """Remove what only this session used: undelivered outbox rows of its producers, hour
    accounting's state and offsets of its group, and the webhook source's secret."""
    conn = await asyncpg.connect(cfg.pg_dsn)  # the owner: every service's schema (docs/adr/0009)
    try:
        for schema in SERVICES:
            await conn.execute(f"DELETE FROM {schema}.outbox WHERE producer = ANY($1::text[])",
                               [stack.placement_producer, stack.accounting_group, stack.reports_group])
            for table in ("runtime_state", "runtime_offsets", "runtime_quarantine"):
                await conn.execute(f"DELETE FROM {schema}.{table} WHERE consumer_group = ANY($1::text[])",
                                   kafka_groups(stack))
        await conn.execute("DELETE FROM mentor_feedback.mf_source_secrets WHERE source_id = $1", stack.source_id)
    finally:
        await conn.close()


@pytest.fixture(scope="package")
async def e2e(stack: CommonSettings) -> AsyncIterator[Stack]:
    """The service processes, ready; stopped and cleaned up after the last e2e test."""
    tag = uuid.uuid4().hex[:8]
    running = Stack(tag, f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}", f"e2e-inst-{tag}",
                    f"e2e-tool-{tag}", new_secret(), stack.data_dir, stack.kafka_bootstrap, stack.pg_dsn, {},
                    {name: free_port() for name in METRICS_PORTS})
    prune_logs(stack.data_dir / "e2e-logs")
    ensure_keys(stack.data_dir)  # once, here: two APIs creating the dev IdP's keys at once could mismatch them
    procs = services(running, stack, stack.data_dir / "e2e-logs")
    await start_groups_at_end(stack.kafka_bootstrap, kafka_groups(running))
    await register_source(dsn_of(stack, "mentor_feedback"), running.source_id, running.source_secret)
    RUNNING[:] = procs
    try:
        for p in procs:
            p.start()
        running.ready_s.update(await wait_ready(procs, STARTUP_S))
        print(f"\ne2e services ready after (s): {running.ready_s}")
        yield running
        ours = {running.institution, running.long_institution}  # the session's institutions
        published, errors = await invalid_reports(stack.kafka_bootstrap, ours)
        print(f"\ne2e reports published for {sorted(ours)}: {published}, schema errors: {len(errors)}")
        assert published > 0 and errors == [], errors[:10]
    finally:
        started = time.monotonic()
        codes = await asyncio.to_thread(stop_all, procs)
        print(f"\ne2e services stopped in {time.monotonic() - started:.1f}s, exit codes {codes}")
        await clean_up(stack, running)
    assert all(code is not None for code in codes.values()), f"processes left running: {codes}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failing end-to-end test shows the tail of each service's log."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.failed and call.when in ("setup", "call"):
        for service in RUNNING:
            code = service.exited()
            state = "running" if code is None else f"exited {code}"
            report.sections.append((f"log of {service.name} ({state}, {service.log_path})", service.tail()))


@pytest.fixture
async def pg(stack: CommonSettings) -> AsyncIterator[asyncpg.Connection]:
    """The tests' view across the services (hour accounting's share, placement logging's entries): the
    owner over every service's schema; the services themselves each see only their own (docs/adr/0009)."""
    conn = await connect_observer(stack, *E2E_VIEW)
    yield conn
    await conn.close()


E2E_VIEW = ("hour_accounting", "placement_logging", "mentor_feedback", "funding_reports", "keys")
