"""The dashboards cover every metric the code registers, are generated from their one source, and
reach Grafana without a click: locally through the provisioning files, in a cluster as labelled ConfigMaps.
Whether each panel returns data is proven live, by tests/e2e/test_telemetry.py."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import yaml

from tests import telemetry

ROOT = telemetry.ROOT
PROVISIONING = ROOT / "infra" / "grafana" / "provisioning"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dashboards", ROOT / "infra" / "grafana" / "dashboards.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["dashboards"] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def uncovered(queries: list[telemetry.Query], registered: dict[str, set[str]]) -> list[str]:
    used = set().union(*(telemetry.metric_names(q.expr) for q in queries))
    return sorted(family for family, samples in registered.items() if not samples & used)


def test_every_registered_metric_has_a_panel() -> None:
    """A new metric without a panel fails here: add one to infra/grafana/dashboards.py."""
    registered = telemetry.registered_metrics()
    assert len(registered) >= 39
    assert uncovered(telemetry.panel_queries(), registered) == []


def test_the_coverage_check_catches_a_metric_without_a_panel(tmp_path: Path) -> None:
    for path in telemetry.DASHBOARDS.glob("*.json"):
        board = json.loads(path.read_text())
        board["panels"] = [p for p in board["panels"] if "Snapshots" not in p["title"]]
        (tmp_path / path.name).write_text(json.dumps(board))
    registered = telemetry.registered_metrics()
    assert uncovered(telemetry.panel_queries(tmp_path), registered) == ["werkplek_report_snapshots"]
    new = {**registered, "werkplek_mails_sent": {"werkplek_mails_sent_total"}}
    assert uncovered(telemetry.panel_queries(), new) == ["werkplek_mails_sent"]


def test_dashboards_are_generated_from_their_source() -> None:
    generator = _generator()
    assert generator.main(["--check"]) == 0, "run python3 infra/grafana/dashboards.py"
    uids = [json.loads(p.read_text())["uid"] for p in sorted(telemetry.DASHBOARDS.glob("*.json"))]
    assert len(uids) == len(set(uids)) == 7


def test_every_area_has_a_dashboard() -> None:
    titles = " | ".join(json.loads(p.read_text())["title"] for p in telemetry.DASHBOARDS.glob("*.json")).lower()
    for area in ("ingest", "accounting", "freshness", "mentor feedback", "deliveries", "outcome progress",
                 "funding reports", "kafka", "postgresql"):
        assert area in titles


def test_every_panel_reads_the_provisioned_datasource() -> None:
    for path in telemetry.DASHBOARDS.glob("*.json"):
        board = json.loads(path.read_text())
        assert board["templating"]["list"][0] == {**board["templating"]["list"][0], "name": "datasource",
                                                  "type": "datasource", "query": "prometheus"}
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] == "${datasource}", (path.name, panel["title"])
            assert panel["targets"], (path.name, panel["title"])


def test_grafana_provisioning_points_at_the_dashboards() -> None:
    (source,) = yaml.safe_load((PROVISIONING / "datasources" / "werkplek.yaml").read_text())["datasources"]
    assert source["type"] == "prometheus" and source["isDefault"]
    assert source["url"] == "http://127.0.0.1:${WERKPLEK_PROM_PORT}"
    (provider,) = yaml.safe_load((PROVISIONING / "dashboards" / "werkplek.yaml").read_text())["providers"]
    assert provider["type"] == "file"
    path = provider["options"]["path"].replace("${WERKPLEK_ROOT}", str(ROOT))
    assert Path(path) == telemetry.DASHBOARDS


def test_kube_prometheus_stack_selects_the_monitoring_resources() -> None:
    monitoring = ROOT / "deploy" / "k8s" / "components" / "monitoring"
    docs = [d for f in ("podmonitor.yaml", "prometheusrule.yaml") for d in yaml.safe_load_all((monitoring / f)
            .read_text()) if d]
    assert {d["kind"] for d in docs} == {"PodMonitor", "PrometheusRule"}
    for doc in docs:
        assert doc["metadata"]["labels"]["release"] == "kube-prometheus-stack", doc["metadata"]["name"]
    kust = yaml.safe_load((monitoring / "kustomization.yaml").read_text())
    (generator,) = kust["configMapGenerator"]
    assert generator["options"]["labels"]["grafana_dashboard"] == "1"
    assert sorted(Path(f).name for f in generator["files"]) == sorted(p.name for p in
                                                                       telemetry.DASHBOARDS.glob("*.json"))
