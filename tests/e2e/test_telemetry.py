"""Issue 10, live: every dashboard panel and every alert asks a real Prometheus for something the running
services export. Debian's Prometheus (as `make run` uses) scrapes the seven e2e services, the broker's
JMX exporter and Debian's postgres_exporter every second; once it has scraped each of them, a little
traffic of every kind is sent, and each panel query (Grafana's variables substituted as Grafana does
with "All") must return at least one number over the time since then, as a Grafana panel over its time
range does: a p99 of a burst of requests lies in the panel for as long as the burst is in its range,
however long the slowest pipeline takes. A panel that shows nothing in Grafana fails here: a renamed or
dropped metric, a wrong label.
Each alert's expression must evaluate without error in Prometheus's own rule engine and every metric it
names must have series (the ones only a cluster has excepted, each with a local fallback)."""

from __future__ import annotations

import json
import math
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

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
RATE_INTERVAL = "2m"  # what Grafana's $__rate_interval becomes here
STEP_S = 2  # of the range queries: a panel's resolution, as Grafana would pick for a short range
# Deadlines, not waits (each check returns as soon as it holds): on two cores shared with a load average
# of 30, the slowest pipeline (entry -> share -> report) took over a minute in a full `make test`.
DEADLINE_S = 300.0


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
            # the JMX exporter reads the broker's MBeans: seconds when other engineers load the machine
            {"job_name": "kafka", "scrape_interval": "10s", "scrape_timeout": "10s",
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
        await every_target_scraped(url)
        yield url
    finally:
        stop_all(procs)
        shutil.rmtree(home / "data", ignore_errors=True)


async def every_target_scraped(url: str) -> None:
    """Every target scraped successfully at least once (not necessarily at the same moment: a JMX scrape
    of the broker may time out now and then on a loaded machine) before any traffic: an observation that
    precedes a histogram's first sample never shows in rate(), so its p99 panel would stay empty."""
    seen: set[str] = set()
    targets: set[str] = set()

    async def scraped() -> bool:
        async with httpx.AsyncClient(timeout=5) as client:
            active = (await client.get(f"{url}/api/v1/targets")).json()["data"]["activeTargets"]
        targets.update(t["scrapeUrl"] for t in active)
        seen.update(t["scrapeUrl"] for t in active if t["health"] == "up")
        return bool(targets) and seen == targets

    try:
        await eventually(scraped, timeout=DEADLINE_S, poll=0.5)
    except AssertionError:
        raise AssertionError(f"never scraped successfully: {sorted(targets - seen)}") from None


async def every_kind_of_traffic(stack: Stack) -> None:
    """What a day brings: a cohort registered, hours logged (one retried, one overlapping), confirmed by a
    mentor's tool, an assessment, a forged webhook, a tampered link, another institution's coordinator
    asking for this one's programme, and one undecodable record."""
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
        other = bearer(stack, Role.COORDINATOR, "coord-elsewhere", institution=f"{stack.institution}-other")
        probe = await client.get(f"{stack.placement_url}/v1/programmes/{programme}", headers=other)
        assert probe.status_code == 404, probe.text  # another institution's programme: as if unknown, and counted
    producer = new_producer(stack.bootstrap, "werkplek-e2e-telemetry")
    await producer.start()
    try:  # hour accounting, mentor feedback and the reports send it to the topic's DLQ and carry on
        await producer.send_and_wait("placement.time_entry.logged.v1", b"{not json", key=new_id("stu").encode())
    finally:
        await producer.stop()


@dataclass(frozen=True)
class Traffic:
    url: str  # of Prometheus
    since: float  # when the traffic began (epoch seconds): the start of every panel's time range


async def empty_queries(traffic: Traffic, queries: list[telemetry.Query]) -> list[str]:
    """The queries that return no number from the traffic's start until now (an empty result, or only
    NaN: Grafana draws nothing)."""
    empty = []
    window = {"start": f"{traffic.since:.3f}", "end": f"{time.time():.3f}", "step": str(STEP_S)}
    async with httpx.AsyncClient(timeout=10) as client:
        for q in queries:
            r = await client.get(f"{traffic.url}/api/v1/query_range",
                                 params={"query": telemetry.substitute(q.expr, RATE_INTERVAL), **window})
            assert r.status_code == 200, f"{q.where}: {r.text}"
            values = [float(v) for s in r.json()["data"]["result"] for _, v in s["values"]]
            if not any(not math.isnan(v) for v in values):
                empty.append(f"{q.where}: {q.expr}")
    return empty


@pytest.fixture(scope="module")
async def traffic(e2e: Stack, prometheus: str) -> Traffic:
    since = time.time()
    await every_kind_of_traffic(e2e)
    return Traffic(prometheus, since)


async def test_every_panel_shows_data(traffic: Traffic, capsys: pytest.CaptureFixture[str]) -> None:
    queries = telemetry.panel_queries()
    assert len(queries) >= 60
    last: list[list[str]] = [[]]

    async def all_shown() -> bool:
        last[0] = await empty_queries(traffic, queries)
        return not last[0]

    try:
        await eventually(all_shown, timeout=DEADLINE_S, poll=STEP_S)
    except AssertionError:
        message = "panels without data {:.0f}s after the traffic began:\n{}".format(
            time.time() - traffic.since, "\n".join(last[0]))
        with capsys.disabled():  # now, not when the whole suite ends (a long run may be cut short)
            print(f"\n{message}", flush=True)
        raise AssertionError(message) from None


async def test_a_renamed_metric_leaves_its_panel_empty(traffic: Traffic) -> None:
    """The check above on a deliberately broken copy: one metric renamed in one panel."""
    broken = [telemetry.Query("broken / Quarantine / A", "max(werkplek_reports_quarantine)")]
    intact = [q for q in telemetry.panel_queries() if "werkplek_reports_quarantined" in q.expr]
    assert intact and await empty_queries(traffic, intact) == []
    assert await empty_queries(traffic, broken) == ["broken / Quarantine / A: max(werkplek_reports_quarantine)"]


async def test_every_alert_evaluates_on_metrics_that_exist(traffic: Traffic) -> None:
    alerts = telemetry.alert_queries()
    names = {q.where.removeprefix("alert ") for q in alerts}
    async with httpx.AsyncClient(timeout=10) as client:
        async def evaluated() -> bool:
            groups = (await client.get(f"{traffic.url}/api/v1/rules")).json()["data"]["groups"]
            health = {r["name"]: r["health"] for g in groups for r in g["rules"]}
            assert not [n for n, h in health.items() if h == "err"], groups
            return set(health) == names and all(h == "ok" for h in health.values())

        await eventually(evaluated, timeout=DEADLINE_S)
        needed = sorted({m for q in alerts for m in telemetry.metric_names(q.expr)} - telemetry.CLUSTER_ONLY)

        async def all_exist() -> bool:
            return await empty_queries(traffic, [telemetry.Query(m, f"group({m})") for m in needed]) == []

        await eventually(all_exist, timeout=DEADLINE_S)
