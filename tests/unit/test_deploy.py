"""The Kubernetes deployment and the alerts are valid, hardened and in step with their sources.

Manifests are rendered from deploy/k8s/overlays/production by a small kustomize renderer (kubectl is
not part of the project's install); where kubectl is installed, its output must be the same. Core
kinds are checked by kubernetes-validate, custom resources against their operators' CRDs (deploy/crds/),
made strict: an unknown field fails here where the API server would drop it silently.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from jsonschema import Draft4Validator
from werkplek_common.settings import CommonSettings
from werkplek_events import (
    TOPICS,
    FundingReportPublished,
    FundingTrajectoriesPublished,
    all_topic_names,
    k8s,
    topic_for,
)
from werkplek_funding_reports.domain.state import INPUTS

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
PRODUCTION = K8S / "overlays" / "production"
CRDS = ROOT / "deploy" / "crds"
RULES = ROOT / "infra" / "prometheus" / "rules"
DASHBOARD = K8S / "components" / "monitoring" / "dashboards" / "werkplek.json"
PROMTOOL = "/usr/bin/promtool"
K8S_VERSION = "1.33.0"
IMAGE = "ghcr.io/werkplek/werkplek"
CLUSTER_SCOPED = {"Namespace"}
Doc = dict[str, Any]

# name -> (command, HTTP port or None, metrics port or None): the services and how they start.
SERVICES: dict[str, tuple[list[str], int | None, int | None]] = {
    "placement-logging-api": (["python", "-m", "werkplek_placement_logging", "api"], 8001, None),
    "placement-logging-worker": (["python", "-m", "werkplek_placement_logging", "worker"], None, 9101),
    "hour-accounting": (["python", "-m", "werkplek_hour_accounting", "worker"], None, 9102),
    "mentor-feedback-api": (["python", "-m", "werkplek_mentor_feedback", "api"], 8002, None),
    "mentor-feedback-worker": (["python", "-m", "werkplek_mentor_feedback", "worker"], None, 9103),
    "outcome-progress": (["python", "-m", "werkplek_mentor_feedback", "progress"], None, 9105),
    "funding-reports": (["python", "-m", "werkplek_funding_reports", "worker"], None, 9104),
}


# --- a kustomize renderer for the fields deploy/k8s uses, and nothing else -----------------------

class UnsupportedKustomization(ValueError):
    pass


KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "namespace", "resources", "components", "images", "configMapGenerator"}


def render(directory: Path) -> list[Doc]:
    kust = yaml.safe_load((directory / "kustomization.yaml").read_text())
    if unknown := set(kust) - KUSTOMIZATION_FIELDS:
        raise UnsupportedKustomization(f"{directory}: {sorted(unknown)}")
    docs: list[Doc] = []
    for entry in kust.get("resources", []):
        path = directory / entry
        docs += render(path) if path.is_dir() else [d for d in yaml.safe_load_all(path.read_text()) if d]
    for entry in kust.get("components", []):
        docs += render(directory / entry)
    docs += [_generated_config_map(directory, gen) for gen in kust.get("configMapGenerator", [])]
    for doc in docs:
        if "namespace" in kust and doc["kind"] not in CLUSTER_SCOPED:
            doc["metadata"]["namespace"] = kust["namespace"]
        for image in kust.get("images", []):
            if set(image) != {"name", "newTag"}:
                raise UnsupportedKustomization(f"images: {sorted(image)}")
            for container in _containers(doc):
                if container["image"].split(":")[0] == image["name"]:
                    container["image"] = f"{image['name']}:{image['newTag']}"
    return docs


def _generated_config_map(directory: Path, gen: Doc) -> Doc:
    if set(gen) - {"name", "files", "options"} or gen["options"] != {**gen["options"], "disableNameSuffixHash": True}:
        raise UnsupportedKustomization(f"configMapGenerator {gen['name']}: only files without a name hash")
    data = {Path(f).name: (directory / f).read_text() for f in gen["files"]}
    meta = {"name": gen["name"], "labels": gen["options"].get("labels", {})}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def _pod_spec(doc: Doc) -> Doc | None:
    spec: Doc | None = doc.get("spec", {}).get("template", {}).get("spec")
    return spec


def _containers(doc: Doc) -> Iterator[Doc]:
    pod = _pod_spec(doc) or {}
    yield from pod.get("initContainers", []) + pod.get("containers", [])


def _key(doc: Doc) -> tuple[str, str, str]:
    return doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"]


@pytest.fixture(scope="module")
def rendered() -> list[Doc]:
    return render(PRODUCTION)


def _of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def test_renderer_agrees_with_kustomize_and_refuses_what_it_cannot_render(rendered: list[Doc], tmp_path: Path) -> None:
    if kubectl := shutil.which("kubectl"):
        out = subprocess.run([kubectl, "kustomize", str(PRODUCTION)], capture_output=True, text=True, check=True)
        theirs = [d for d in yaml.safe_load_all(out.stdout) if d]
        assert sorted(theirs, key=_key) == sorted(rendered, key=_key)
    doctored = shutil.copytree(K8S, tmp_path / "k8s")
    kust = doctored / "overlays" / "production" / "kustomization.yaml"
    kust.write_text(kust.read_text() + "patches: []\n")
    with pytest.raises(UnsupportedKustomization, match="patches"):
        render(kust.parent)


# --- schemas -------------------------------------------------------------------------------------

def _strict(schema: Doc) -> Doc:
    """Structural CRD schema -> JSON Schema that rejects unknown fields, as kubectl's strict field
    validation does; x-kubernetes-preserve-unknown-fields keeps a part open."""
    out = dict(schema)
    if "properties" in out:
        out["properties"] = {k: _strict(v) for k, v in out["properties"].items()}
        if "additionalProperties" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
    for key in ("items", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = _strict(out[key])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in out:
            out[key] = [_strict(s) for s in out[key]]
    return out


@pytest.fixture(scope="module")
def crd_validators() -> dict[tuple[str, str], Draft4Validator]:
    validators = {}
    for path in sorted(CRDS.rglob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = _strict(version["schema"]["openAPIV3Schema"])
            validators[(f"{group}/{version['name']}", kind)] = Draft4Validator(schema)
    assert len(validators) >= 9, f"CRDs missing under {CRDS}"
    return validators


def schema_errors(doc: Doc, crd_validators: dict[tuple[str, str], Draft4Validator]) -> list[str]:
    name = "/".join(_key(doc))
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", doc["metadata"]["name"]):
        return [f"{name}: metadata.name is not a DNS-1123 subdomain"]
    if validator := crd_validators.get((doc["apiVersion"], doc["kind"])):
        return [f"{name}: {'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
    try:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        return [f"{name}: {doc['apiVersion']} {doc['kind']} is neither a core kind nor in {CRDS}"]
    except kubernetes_validate.ValidationError as exc:
        return [f"{name}: {exc.message}"]
    return []


def test_every_manifest_validates(rendered: list[Doc], crd_validators: dict) -> None:
    errors = [e for doc in rendered for e in schema_errors(doc, crd_validators)]
    assert errors == []
    kinds = {d["kind"] for d in rendered}
    assert {"Deployment", "Job", "Kafka", "KafkaNodePool", "KafkaTopic", "Cluster", "PodMonitor",
            "PrometheusRule", "ScaledObject"} <= kinds


DOCTORED: dict[str, tuple[str, Callable[[Doc], None]]] = {
    "unknown field of a custom resource": ("Kafka", lambda d: d["spec"]["kafka"].update(replicas=3)),
    "missing required field": ("KafkaNodePool", lambda d: d["spec"].pop("roles")),
    "wrong type in a core kind": ("Deployment", lambda d: d["spec"].update(replicas="two")),
    "underscore in a name": ("KafkaTopic", lambda d: d["metadata"].update(name="a_b")),
}


@pytest.mark.parametrize("case", DOCTORED)
def test_schema_check_catches(case: str, rendered: list[Doc], crd_validators: dict) -> None:
    kind, doctor = DOCTORED[case]
    doc = copy.deepcopy(_of_kind(rendered, kind)[0])
    doctor(doc)
    assert schema_errors(doc, crd_validators)


# --- hardening -----------------------------------------------------------------------------------

def hardening_problems(doc: Doc) -> list[str]:
    pod = _pod_spec(doc)
    if pod is None:
        return []
    out = [] if pod.get("automountServiceAccountToken") is False else ["automountServiceAccountToken is not false"]
    pod_sc = pod.get("securityContext", {})
    emptydirs = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
    for c in _containers(doc):
        sc = {**pod_sc, **c.get("securityContext", {})}  # the container's setting wins over the pod's
        checks = {
            "runAsNonRoot": sc.get("runAsNonRoot") is True and sc.get("runAsUser", 1) != 0,
            "allowPrivilegeEscalation false": sc.get("allowPrivilegeEscalation") is False,
            "readOnlyRootFilesystem": sc.get("readOnlyRootFilesystem") is True,
            "capabilities drop ALL": sc.get("capabilities", {}).get("drop") == ["ALL"]
            and not sc["capabilities"].get("add"),
            "seccompProfile RuntimeDefault": sc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
            "requests and limits": all(set(c.get("resources", {}).get(k, {})) >= {"cpu", "memory"}
                                       for k in ("requests", "limits")),
            "/tmp on an emptyDir": any(m["mountPath"] == "/tmp" and m["name"] in emptydirs
                                       for m in c.get("volumeMounts", [])),
            "the werkplek image": c["image"].startswith(IMAGE + ":"),
        }
        if any(p["name"] == "http" for p in c.get("ports", [])):
            checks["liveness /healthz and readiness /readyz"] = (
                c.get("livenessProbe", {}).get("httpGet") == {"path": "/healthz", "port": "http"}
                and c.get("readinessProbe", {}).get("httpGet") == {"path": "/readyz", "port": "http"})
        out += [f"{doc['metadata']['name']}/{c['name']}: {what}" for what, ok in checks.items() if not ok]
    return out


def test_every_container_is_hardened(rendered: list[Doc]) -> None:
    workloads = _of_kind(rendered, "Deployment") + _of_kind(rendered, "Job")
    assert len(workloads) == len(SERVICES) + 1
    assert [p for doc in workloads for p in hardening_problems(doc)] == []


def _pod(d: Doc) -> Doc:
    return d["spec"]["template"]["spec"]


def _api(d: Doc) -> Doc:
    return _pod(d)["containers"][0]


HARDENING_DOCTORED: dict[str, Callable[[Doc], None]] = {
    "runAsNonRoot": lambda d: _pod(d)["securityContext"].pop("runAsNonRoot"),
    "runAsNonRoot ": lambda d: _pod(d)["securityContext"].update(runAsUser=0),
    "readOnlyRootFilesystem": lambda d: _api(d)["securityContext"].update(readOnlyRootFilesystem=False),
    "capabilities drop ALL": lambda d: _api(d)["securityContext"]["capabilities"].update(add=["NET_ADMIN"]),
    "allowPrivilegeEscalation false": lambda d: _api(d)["securityContext"].pop("allowPrivilegeEscalation"),
    "seccompProfile RuntimeDefault": lambda d: _pod(d)["securityContext"].pop("seccompProfile"),
    "requests and limits": lambda d: _api(d)["resources"].pop("limits"),
    "/tmp on an emptyDir": lambda d: _api(d).update(volumeMounts=[]),
    "liveness /healthz and readiness /readyz": lambda d: _api(d).pop("readinessProbe"),
    "automountServiceAccountToken": lambda d: _pod(d).pop("automountServiceAccountToken"),
}


@pytest.mark.parametrize("flaw", HARDENING_DOCTORED)
def test_hardening_check_catches(flaw: str, rendered: list[Doc]) -> None:
    doc = copy.deepcopy(next(d for d in rendered if d["metadata"]["name"] == "placement-logging-api"))
    HARDENING_DOCTORED[flaw](doc)
    assert any(flaw.strip() in p for p in hardening_problems(doc))


def test_services_start_with_their_commands_and_ports(rendered: list[Doc]) -> None:
    deployments = {d["metadata"]["name"]: d for d in _of_kind(rendered, "Deployment")}
    assert set(deployments) == set(SERVICES)
    for name, (command, http, metrics) in SERVICES.items():
        container = _api(deployments[name])
        ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
        assert (container["command"], ports.get("http"), ports.get("metrics")) == (command, http, metrics), name
    services = {s["metadata"]["name"]: s for s in _of_kind(rendered, "Service")}
    assert set(services) == {n for n, (_, http, _) in SERVICES.items() if http}
    migrate = _api(_of_kind(rendered, "Job")[0])
    assert migrate["command"] == ["python", "-m", "werkplek_common.cli", "migrate"]


def _settings_of(module: str) -> type[CommonSettings]:
    config = importlib.import_module(f"{module}.config")
    (cls,) = {c for c in vars(config).values()
              if isinstance(c, type) and issubclass(c, CommonSettings) and c is not CommonSettings}
    return cls


def env_problems(docs: list[Doc]) -> list[str]:
    """Every variable a container gets is a setting of its service (a typo would be ignored silently),
    every shared ConfigMap key a setting of some service, and every port the one its process binds."""
    maps = {d["metadata"]["name"]: d.get("data", {}) for d in _of_kind(docs, "ConfigMap")}
    problems, used = [], set()
    for doc in _of_kind(docs, "Deployment") + _of_kind(docs, "Job"):
        for c in _containers(doc):
            module = c["command"][2].removesuffix(".cli")
            if importlib.util.find_spec(f"{module}.__main__" if module != "werkplek_common" else module) is None:
                problems.append(f"{c['command']}: no such module")
                continue
            fields = set(_settings_of(module).model_fields) if module != "werkplek_common" else set(
                CommonSettings.model_fields)
            own = {e["name"]: e.get("value") for e in c.get("env", [])}
            shared = {k for ref in c.get("envFrom", []) for k in maps.get(ref["configMapRef"]["name"], {})}
            problems += [f"{doc['metadata']['name']}: {n} is no setting" for n in own
                         if n.removeprefix("WERKPLEK_").lower() not in fields or not n.startswith("WERKPLEK_")]
            used |= {n for n in shared if n.removeprefix("WERKPLEK_").lower() in fields}
            bound = {int(v) for n, v in own.items() if n.endswith("_PORT") and v}
            problems += [f"{doc['metadata']['name']}: nothing binds port {p['containerPort']}"
                         for p in c.get("ports", []) if p["containerPort"] not in bound]
    shared_keys = {k for m in maps.values() for k in m if k.startswith("WERKPLEK_")}
    return problems + [f"ConfigMap key {k} is no setting of a service that reads it" for k in shared_keys - used]


def test_environment_matches_the_services_settings(rendered: list[Doc]) -> None:
    assert env_problems(rendered) == []


@pytest.mark.parametrize("doctor", ["typo", "port", "key"])
def test_environment_check_catches(doctor: str, rendered: list[Doc]) -> None:
    docs = copy.deepcopy(rendered)
    api = _api(next(d for d in docs if d["metadata"]["name"] == "placement-logging-api"))
    config = next(d for d in docs if d["metadata"]["name"] == "werkplek-config")
    {"typo": lambda: api["env"].append({"name": "WERKPLEK_KAFKA_BOOTSTRAPS", "value": "x"}),
     "port": lambda: api["ports"][0].update(containerPort=8080),
     "key": lambda: config["data"].update(WERKPLEK_NO_SUCH_THING="1")}[doctor]()
    assert len(set(env_problems(docs)) - set(env_problems(rendered))) == 1


EXTERNAL_SECRETS = {"werkplek-mentor-feedback", "werkplek-funding-reports"}  # created per installation


def test_references_resolve(rendered: list[Doc]) -> None:
    """What one manifest names, another provides: ConfigMaps, Secrets, selectors, the Kafka bootstrap."""
    names = {kind: {d["metadata"]["name"] for d in _of_kind(rendered, kind)} for kind in {d["kind"] for d in rendered}}
    (cluster,) = _of_kind(rendered, "Cluster")
    secrets = EXTERNAL_SECRETS | {f"{cluster['metadata']['name']}-app"}  # CloudNativePG's application Secret
    for c in (c for d in rendered for c in _containers(d)):
        assert {r["configMapRef"]["name"] for r in c.get("envFrom", [])} <= names["ConfigMap"]
        assert {e["valueFrom"]["secretKeyRef"]["name"] for e in c.get("env", []) if "valueFrom" in e} <= secrets
    pods = [d["spec"]["template"]["metadata"]["labels"] for d in _of_kind(rendered, "Deployment")]
    for selecting in _of_kind(rendered, "Service") + _of_kind(rendered, "PodDisruptionBudget"):
        selector = selecting["spec"]["selector"]
        selector = selector.get("matchLabels", selector)
        assert sum(selector.items() <= labels.items() for labels in pods) == 1, selecting["metadata"]["name"]
    (kafka,) = _of_kind(rendered, "Kafka")
    bootstrap = f"{kafka['metadata']['name']}-kafka-bootstrap:9092"
    config = next(d for d in rendered if d["metadata"]["name"] == "werkplek-config")
    (scaled,) = _of_kind(rendered, "ScaledObject")
    assert config["data"]["WERKPLEK_KAFKA_BOOTSTRAP"] == scaled["spec"]["triggers"][0]["metadata"]["bootstrapServers"]
    assert config["data"]["WERKPLEK_KAFKA_BOOTSTRAP"] == bootstrap
    assert scaled["spec"]["scaleTargetRef"]["name"] in names["Deployment"]


def test_hour_accounting_scales_on_lag_up_to_its_partitions(rendered: list[Doc]) -> None:
    (scaled,) = _of_kind(rendered, "ScaledObject")
    partitions = {spec.partitions for spec in TOPICS if spec.key_fields == ("student_id",)}
    assert scaled["spec"]["scaleTargetRef"]["name"] == "hour-accounting"
    assert scaled["spec"]["maxReplicaCount"] <= min(partitions)
    assert [t["type"] for t in scaled["spec"]["triggers"]] == ["kafka"]
    app_id = _settings_of("werkplek_hour_accounting").model_fields["accounting_app_id"].default
    assert scaled["spec"]["triggers"][0]["metadata"]["consumerGroup"] == app_id  # faust's group id


# --- generated from the registry and the rules: no drift -----------------------------------------

def test_kafka_topics_are_the_registry(rendered: list[Doc]) -> None:
    topics = {t["spec"]["topicName"]: t for t in _of_kind(rendered, "KafkaTopic")}
    assert sorted(topics) == sorted(all_topic_names())
    for spec in TOPICS:
        assert topics[spec.name]["spec"]["partitions"] == spec.partitions
        assert topics[spec.name]["spec"]["config"] == spec.configs()
        if spec.dlq:
            assert topics[spec.dlq]["spec"]["partitions"] == spec.partitions
    assert {t["spec"]["replicas"] for t in topics.values()} == {3}
    (kafka,) = _of_kind(rendered, "Kafka")
    assert {t["metadata"]["labels"]["strimzi.io/cluster"] for t in topics.values()} == {kafka["metadata"]["name"]}


def test_prometheus_rule_is_the_rules_file(rendered: list[Doc]) -> None:
    (rule,) = _of_kind(rendered, "PrometheusRule")
    assert rule["spec"] == yaml.safe_load((RULES / "werkplek.yml").read_text())


def test_generated_manifests_are_committed() -> None:
    assert k8s.drift() == [], "run `python -m werkplek_events.k8s` and commit the result"


def test_drift_is_detected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "topics.yaml"
    stale.write_text(k8s.TOPICS_FILE.read_text().replace("partitions: 8", "partitions: 6", 1))
    monkeypatch.setattr(k8s, "TOPICS_FILE", stale)
    assert k8s.drift() == [stale]
    assert k8s.main(["--check"]) == 1


# --- alert rules, dashboard, local Prometheus ----------------------------------------------------

def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60)


def test_promtool_checks_and_unit_tests_pass() -> None:
    for args in (("check", "rules", str(RULES / "werkplek.yml")),
                 ("test", "rules", str(RULES / "werkplek_test.yml")),
                 ("check", "config", str(ROOT / "infra" / "prometheus" / "prometheus.yml"))):
        result = _promtool(*args)
        assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_cover_every_alert_and_can_fail(tmp_path: Path) -> None:
    rules = yaml.safe_load((RULES / "werkplek.yml").read_text())
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    cases = yaml.safe_load((RULES / "werkplek_test.yml").read_text())
    tested = {t["alertname"] for case in cases["tests"] for t in case["alert_rule_test"]}
    assert tested == alerts
    weaker = (RULES / "werkplek.yml").read_text().replace("> 1000", "> 100000")
    (tmp_path / "werkplek.yml").write_text(weaker)
    shutil.copy(RULES / "werkplek_test.yml", tmp_path)
    result = _promtool("test", "rules", str(tmp_path / "werkplek_test.yml"))
    assert result.returncode != 0 and "WerkplekOutboxBacklogHigh" in result.stdout + result.stderr


def _dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]]


def test_dashboard_queries_parse(tmp_path: Path) -> None:
    """Each query as a recording rule, so promtool parses it (Grafana's $__rate_interval made 5m)."""
    rules = [{"record": f"dashboard:panel_{i}", "expr": e.replace("$__rate_interval", "5m")}
             for i, e in enumerate(_dashboard_exprs())]
    path = tmp_path / "dashboard.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = _promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


EXTERNAL_METRICS = {"up", "kafka_consumergroup_lag"}  # Prometheus itself; Strimzi's Kafka Exporter


def _base_name(metric: str) -> str:
    return re.sub(r"(_total)?(_bucket|_count|_sum)?$", "", metric)


def test_alerts_and_dashboard_use_metrics_the_services_define() -> None:
    """A metric renamed in a service would leave an alert that can never fire, silently."""
    code = "\n".join(p.read_text() for p in (ROOT / "services").rglob("*.py"))
    defined = {_base_name(m) for m in re.findall(r"(?:Counter|Gauge|Histogram|Summary)\(\s*\"(werkplek_\w+)\"", code)}
    rules = yaml.safe_load((RULES / "werkplek.yml").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]] + _dashboard_exprs()
    metric = r"\b(?:werkplek_\w+|kafka_\w+|up)\b(?=\s*[{\[)]|\s*$|\s)"  # a name, not a label or function
    used = {_base_name(m) for e in exprs for m in re.findall(metric, e)}
    assert used - defined - EXTERNAL_METRICS == set()
    assert {"werkplek_dlq_records", "werkplek_outbox_backlog_events", "werkplek_http_requests"} <= used


def test_dashboard_is_shipped_to_grafana(rendered: list[Doc]) -> None:
    (cm,) = [d for d in _of_kind(rendered, "ConfigMap") if "grafana_dashboard" in d["metadata"]["labels"]]
    assert json.loads(cm["data"]["werkplek.json"]) == json.loads(DASHBOARD.read_text())


def _reads(user: Doc, topic: str) -> bool:
    for acl in user["spec"]["authorization"]["acls"]:
        res = acl["resource"]
        name, pattern = res.get("name", ""), res.get("patternType", "literal")
        matches = topic == name if pattern == "literal" else topic.startswith(name)
        if res["type"] == "topic" and matches and "Read" in acl["operations"] and acl.get("type", "allow") == "allow":
            return True
    return False


def test_only_auditors_read_the_per_trajectory_rows(rendered: list[Doc]) -> None:
    """docs/adr/0052: staff read the suppressed reports; individual rows and raw inputs need the auditor."""
    kafka = _of_kind(rendered, "Kafka")[0]["spec"]["kafka"]
    assert kafka["authorization"]["type"] == "simple"
    plain = next(li for li in kafka["listeners"] if li["name"] == "plain")
    assert plain["networkPolicyPeers"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "werkplek"}}}]
    assert all(li.get("authentication") for li in kafka["listeners"] if li["name"] != "plain")
    users = {u["metadata"]["name"]: u for u in _of_kind(rendered, "KafkaUser")}
    trajectories = topic_for(FundingTrajectoriesPublished).name
    assert not _reads(users["werkplek-funding-staff"], trajectories)
    assert _reads(users["werkplek-funding-staff"], topic_for(FundingReportPublished).name)
    staff = users["werkplek-funding-staff"]
    assert not any(_reads(staff, t) for t in all_topic_names() if not t.startswith("reporting."))
    assert _reads(users["werkplek-funding-auditor"], trajectories)
    assert all(_reads(users["werkplek-funding-auditor"], topic_for(e).name) for e in INPUTS)
