"""Issue 10, live: every dashboard panel and every alert asks a real Prometheus for something the running
services export. Debian's Prometheus (as `make run` uses) scrapes the seven e2e services, the broker's
JMX exporter and Debian's postgres_exporter every second; after a little traffic of every kind, each
panel query (Grafana's variables substituted as Grafana does with "All") must return at least one
number. A panel that shows nothing in Grafana fails here: a renamed or dropped metric, a wrong label.
Each alert's expression must evaluate without error in Prometheus's own rule engine and every metric it
names must have series (the ones only a cluster has excepted, each with a local fallback)."""

from __future__ import annotations

import json
import math
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from pydantic_settings import BaseSettings, SettingsConfigDict
from uuid6 import uuid7
from werkplek_common.auth import Role
from werkplek_common.kafka import new_producer

from tests import telemetry
from tests.e2e.flow import Coordinator, bearer, confirm_hours, log_hours, new_id, post_webhook, signed
from tests.e2e.processes import Probe, ServiceProcess, stop_all, wait_ready
from tests.e2e.stack import Stack, free_port
from tests.support import eventually

PROMETHEUS = "/usr/bin/prometheus"
PG_EXPORTER = "/usr/bin/prometheus-postgres-exporter"
RATE_INTERVAL = "2m"  # what Grafana's $__rate_interval becomes here: the traffic lies within it
DEADLINE_S = 120.0  # a deadline, not a wait: the reports worker may be busy with a loaded machine


class MonitoringPorts(BaseSettings):
    """The broker's metrics port: as infra/lib.sh derives it (client port + 2) unless set."""

    model_config = SettingsConfigDict(env_prefix="WERKPLEK_", extra="ignore")
    kafka_metrics_port: int | None = None


def scrape_config(stack: Stack, kafka_metrics: str, pg_exporter: str) -> dict:
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(telemetry.RULES)],
        "scrape_configs": [
            {"job_name": "werkplek", "static_configs": [{"targets": [target], "labels": {"app": app}}
                                                        for app, target in stack.metrics_targets.items()]},
            # the JMX exporter walks every MBean of the broker: seconds on a loaded machine
            {"job_name": "kafka", "scrape_interval": "5s", "scrape_timeout": "5s",
             "static_configs": [{"targets": [kafka_metrics]}]},
            {"job_name": "postgres", "static_configs": [{"targets": [pg_exporter]}]},
        ],
    }


def prometheus_ready(url: str) -> Probe:
    async def probe(_service: ServiceProcess) -> bool:
        try:
            async with httpx.AsyncClient(timeout=1) as client:
                return (await client.get(f"{url}/-/ready")).status_code == 200
        except httpx.TransportError:
            return False
    return probe


@pytest.fixture(scope="module")
async def prometheus(e2e: Stack) -> AsyncIterator[str]:
    """Prometheus and postgres_exporter for this module, on free ports; the URL of Prometheus."""
    home = e2e.data_dir / f"e2e-prometheus-{e2e.tag}"
    home.mkdir(parents=True, exist_ok=True)
    kafka_port = int(e2e.bootstrap.rsplit(":", 1)[1])
    kafka_metrics = f"127.0.0.1:{MonitoringPorts().kafka_metrics_port or kafka_port + 2}"
    pg_port, prom_port = free_port(), free_port()
    (home / "prometheus.yml").write_text(yaml.safe_dump(scrape_config(e2e, kafka_metrics, f"127.0.0.1:{pg_port}")))
    url = f"http://127.0.0.1:{prom_port}"
    dsn = e2e.pg_dsn + ("&" if "?" in e2e.pg_dsn else "?") + "sslmode=disable"

    async def exporter_up(_service: ServiceProcess) -> bool:
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                return "pg_up 1" in (await client.get(f"http://127.0.0.1:{pg_port}/metrics")).text
        except httpx.TransportError:
            return False

    procs = [
        ServiceProcess("pg_exporter", [f"--web.listen-address=127.0.0.1:{pg_port}"], {"DATA_SOURCE_NAME": dsn},
                       exporter_up, home / "pg_exporter.log", program=(PG_EXPORTER,)),
        ServiceProcess("prometheus", [f"--config.file={home / 'prometheus.yml'}",
                                      f"--storage.tsdb.path={home / 'data'}",
                                      f"--web.listen-address=127.0.0.1:{prom_port}"], {}, prometheus_ready(url),
                       home / "prometheus.log", program=(PROMETHEUS,)),
    ]
    try:
        for p in procs:
            p.start()
        await wait_ready(procs, 30)
        yield url
    finally:
        stop_all(procs)
        shutil.rmtree(home / "data", ignore_errors=True)


async def every_kind_of_traffic(stack: Stack) -> None:
    """What a day brings: a cohort registered, hours logged (one retried, one overlapping), confirmed by a
    mentor's tool, an assessment, a forged webhook, a tampered link, and one undecodable record."""
    async with httpx.AsyncClient(timeout=10) as client:
        coord = Coordinator(stack, client)
        programme = new_id("prog")
        await coord.programme(programme, level="graduaat", ects=120, phases=2)
        mentor = await coord.workplace_with_mentor()
        placements = [await coord.enrol_and_place(programme, mentor) for _ in range(2)]
        logged = [(await log_hours(stack, client, p, [480, 420]))[0] for p in placements]
        auth = {**bearer(stack, Role.STUDENT, placements[0].student_id), "Idempotency-Key": str(uuid.uuid4())}
        day = (date.today() - timedelta(days=5)).isoformat()
        timed = {"entry_id": str(uuid7()), "placement_id": placements[0].placement_id, "work_date": day,
                 "start_time": "08:00", "end_time": "12:00", "duration_minutes": 240, "activity": "work"}
        for _ in range(2):  # a phone that lost the first answer sends the same request again
            sent = await client.post(f"{stack.placement_url}/v1/me/entries", json=timed, headers=auth)
            assert sent.status_code == 201, sent.text
        overlap = {**timed, "entry_id": str(uuid7()), "start_time": "11:00", "end_time": "13:00",
                   "duration_minutes": 120}
        refused = await client.post(f"{stack.placement_url}/v1/me/entries", json=overlap,
                                    headers={**auth, "Idempotency-Key": str(uuid.uuid4())})
        assert refused.status_code == 422, refused.text
        assert (await confirm_hours(stack, client, mentor.mentor_id, logged)).status_code == 202
        assessment = {"type": "assessment.recorded", "timestamp": datetime.now(UTC).isoformat(), "data": {
            "mentor_id": mentor.mentor_id, "assessment_id": new_id("as"), "placement_id": placements[0].placement_id,
            "moment": "mid_term", "assessed_on": date.today().isoformat(),
            "outcomes": [{"outcome_id": "LO1", "kind": "skill", "level": "achieved"}]}}
        assert (await post_webhook(stack, client, assessment)).status_code == 202
        body = json.dumps(assessment).encode()
        forged = {**signed(stack, f"msg_{uuid.uuid4().hex}", body), "webhook-signature": "v1,AAAA"}
        assert (await client.post(f"{stack.mentor_url}/webhooks/{stack.source_id}", content=body,
                                  headers=forged)).status_code == 401
        assert (await client.get(f"{stack.mentor_url}/confirm/not-a-real-token")).status_code >= 400
    producer = new_producer(stack.bootstrap, "werkplek-e2e-telemetry")
    await producer.start()
    try:  # hour accounting, mentor feedback and the reports send it to the topic's DLQ and carry on
        await producer.send_and_wait("placement.time_entry.logged.v1", b"{not json", key=new_id("stu").encode())
    finally:
        await producer.stop()


async def empty_queries(url: str, queries: list[telemetry.Query]) -> list[str]:
    """The queries that return no number (an empty result, or only NaN: Grafana draws nothing)."""
    empty = []
    async with httpx.AsyncClient(timeout=10) as client:
        for q in queries:
            r = await client.get(f"{url}/api/v1/query", params={"query": telemetry.substitute(q.expr, RATE_INTERVAL)})
            assert r.status_code == 200, f"{q.where}: {r.text}"
            values = [float(s["value"][1]) for s in r.json()["data"]["result"]]
            if not any(not math.isnan(v) for v in values):
                empty.append(f"{q.where}: {q.expr}")
    return empty


@pytest.fixture(scope="module")
async def traffic(e2e: Stack, prometheus: str) -> str:
    await every_kind_of_traffic(e2e)
    return prometheus


async def test_every_panel_shows_data(traffic: str) -> None:
    queries = telemetry.panel_queries()
    assert len(queries) >= 60
    last: list[list[str]] = [[]]

    async def all_shown() -> bool:
        last[0] = await empty_queries(traffic, queries)
        return not last[0]

    try:
        await eventually(all_shown, timeout=DEADLINE_S)
    except AssertionError:
        raise AssertionError("panels without data after {}s:\n{}".format(DEADLINE_S, "\n".join(last[0]))) from None


async def test_a_renamed_metric_leaves_its_panel_empty(traffic: str, tmp_path: Path) -> None:
    """The check above on a deliberately broken copy: one metric renamed in one panel."""
    broken = [telemetry.Query("broken / Reports kept up to date / A", "max(werkplek_reports_kept)")]
    intact = [q for q in telemetry.panel_queries() if "werkplek_reports_known" in q.expr]
    assert intact and await empty_queries(traffic, intact) == []
    assert await empty_queries(traffic, broken) == ["broken / Reports kept up to date / A: max(werkplek_reports_kept)"]


async def test_every_alert_evaluates_on_metrics_that_exist(traffic: str) -> None:
    alerts = telemetry.alert_queries()
    names = {q.where.removeprefix("alert ") for q in alerts}
    async with httpx.AsyncClient(timeout=10) as client:
        async def evaluated() -> bool:
            groups = (await client.get(f"{traffic}/api/v1/rules")).json()["data"]["groups"]
            health = {r["name"]: r["health"] for g in groups for r in g["rules"]}
            assert not [n for n, h in health.items() if h == "err"], groups
            return set(health) == names and all(h == "ok" for h in health.values())

        await eventually(evaluated, timeout=DEADLINE_S)
        needed = sorted({m for q in alerts for m in telemetry.metric_names(q.expr)} - telemetry.CLUSTER_ONLY)

        async def all_exist() -> bool:
            return await empty_queries(traffic, [telemetry.Query(m, f"group({m})") for m in needed]) == []

        await eventually(all_exist, timeout=DEADLINE_S)
