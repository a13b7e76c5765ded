"""What the dashboards and alerts ask of Prometheus, and what the code registers: shared by the unit
guard (tests/unit/test_dashboards.py) and the live test (tests/e2e/test_telemetry.py)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = ROOT / "deploy" / "k8s" / "components" / "monitoring" / "dashboards"
RULES = ROOT / "infra" / "prometheus" / "rules" / "werkplek.yml"
PACKAGES = ("werkplek_common", "werkplek_events", "werkplek_placement_logging", "werkplek_hour_accounting",
            "werkplek_mentor_feedback", "werkplek_funding_reports")
# Series that exist only in the cluster (Strimzi's Kafka Exporter); each query using one has a local fallback.
CLUSTER_ONLY = {"kafka_consumergroup_lag"}


@dataclass(frozen=True)
class Query:
    where: str  # "<dashboard uid> / <panel title> / <refId>" or "alert <name>"
    expr: str


def panel_queries(directory: Path = DASHBOARDS) -> list[Query]:
    out = []
    for path in sorted(directory.glob("*.json")):
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            out += [Query(f"{board['uid']} / {panel['title']} / {t['refId']}", t["expr"]) for t in panel["targets"]]
    return out


def alert_queries(rules: Path = RULES) -> list[Query]:
    doc = yaml.safe_load(rules.read_text())
    return [Query(f"alert {r['alert']}", r["expr"]) for g in doc["groups"] for r in g["rules"] if "alert" in r]


def substitute(expr: str, rate_interval: str) -> str:
    """Grafana's variables as Grafana fills them with "All" selected: $__rate_interval, and `.*` for ours."""
    expr = expr.replace("$__rate_interval", rate_interval)
    return re.sub(r"\$\{?(programme|database)\}?", ".*", expr)


def metric_names(expr: str) -> set[str]:
    """Metric names in a query: identifiers before a selector or range, not functions, labels or keywords."""
    expr = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)  # label values may look like names
    names = set(re.findall(r"\b([a-z_][a-z0-9_]*)\b(?=\s*(?:\{|\[|\)|$|\s+(?:or|and|unless|offset|>|<|/|\*|-|\+)))",
                           expr))
    keywords = {"by", "without", "on", "ignoring", "group_left", "group_right", "or", "and", "unless", "offset",
                "bool", "le", "sum", "max", "min", "rate", "increase"}
    grouped = set(re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", expr))
    labels = {label.strip() for g in grouped for label in g.split(",")}
    return {n for n in names if n not in keywords and n not in labels}


def registered_metrics() -> dict[str, set[str]]:
    """Every werkplek_* metric the code registers, as family name -> the sample names it exports.
    Imports every module of the project's packages (not __main__), so a metric in a new module counts."""
    for package in PACKAGES:
        pkg = importlib.import_module(package)
        for info in pkgutil.walk_packages(pkg.__path__, f"{package}."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
    families: dict[str, set[str]] = {}
    for collector, names in list(REGISTRY._collector_to_names.items()):  # no public listing
        family = getattr(collector, "_name", "")
        if family.startswith("werkplek_"):
            families[family] = {n for n in names if not n.endswith("_created")}
    return families
