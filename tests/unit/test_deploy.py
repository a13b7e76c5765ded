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
DASHBOARDS = K8S / "components" / "monitoring" / "dashboards"
PROMTOOL = "/usr/bin/promtool"
K8S_VERSION = "1.33.0"
IMAGE = "ghcr.io/werkplek/werkplek"
APP_IMAGE = "ghcr.io/werkplek/student-app"  # the student app's static files (deploy/Dockerfile, target student-app)
CLUSTER_SCOPED = {"Namespace"}
Doc = dict[str, Any]

# name -> (command, HTTP port or None, metrics port or None): the services and how they start.
SERVICES: dict[str, tuple[list[str], int | None, int | None]] = {
    "placement-logging-api": (["python", "-m", "werkplek_placement_logging", "api"], 8001, None),
    "placement-logging-worker": (["python", "-m", "werkplek_placement_logging", "worker"], None, 9101),
    "hour-accounting": (["python", "-m", "werkplek_hour_accounting", "worker"], None, 9102),
    "mentor-feedback-api": (["python", "-m", "werkplek_mentor_feedback", "api"], 8002, None),
    "mentor-feedback-worker": (["python", "-m", "werkplek_mentor_feedback", "worker"], None, 9103),
    "mentor-feedback-notifier": (["python", "-m", "werkplek_mentor_feedback", "notifier"], None, 9106),
    "outcome-progress": (["python", "-m", "werkplek_mentor_feedback", "progress"], None, 9105),
    "funding-reports": (["python", "-m", "werkplek_funding_reports", "worker"], None, 9104),
}
WEB = {"student-app": 8080}  # workloads that are not a werkplek process: name -> HTTP port


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
            "the werkplek image": c["image"].startswith((IMAGE + ":", APP_IMAGE + ":")),
            "image pulled Always": c.get("imagePullPolicy") == "Always",  # the pull secret checked on every start
            "ephemeral-storage requests and limits": all(
                "ephemeral-storage" in c.get("resources", {}).get(k, {}) for k in ("requests", "limits")),
        }
        if doc["kind"] == "Deployment":  # a long-running process: probed on the port that serves HTTP
            port = next((p["name"] for p in c.get("ports", []) if p["name"] in ("http", "metrics")), None)
            checks["liveness /healthz and readiness /readyz"] = port is not None and (
                c.get("livenessProbe", {}).get("httpGet") == {"path": "/healthz", "port": port}
                and c.get("readinessProbe", {}).get("httpGet") == {"path": "/readyz", "port": port})
        out += [f"{doc['metadata']['name']}/{c['name']}: {what}" for what, ok in checks.items() if not ok]
    return out


def test_every_container_is_hardened(rendered: list[Doc]) -> None:
    workloads = _of_kind(rendered, "Deployment") + _of_kind(rendered, "Job")
    assert len(workloads) == len(SERVICES) + len(WEB) + 1
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
    "image pulled Always": lambda d: _api(d).update(imagePullPolicy="IfNotPresent"),
    "ephemeral-storage requests and limits": lambda d: _api(d)["resources"]["limits"].pop("ephemeral-storage"),
}
# A worker (probed on its metrics port) without a liveness probe, or probed on a port it does not serve.
WORKER_DOCTORED: dict[str, Callable[[Doc], None]] = {
    "no liveness probe": lambda d: _api(d).pop("livenessProbe"),
    "readiness on the wrong port": lambda d: _api(d)["readinessProbe"]["httpGet"].update(port="http"),
}


@pytest.mark.parametrize("flaw", HARDENING_DOCTORED)
def test_hardening_check_catches(flaw: str, rendered: list[Doc]) -> None:
    doc = copy.deepcopy(next(d for d in rendered if d["metadata"]["name"] == "placement-logging-api"))
    HARDENING_DOCTORED[flaw](doc)
    assert any(flaw.strip() in p for p in hardening_problems(doc))


@pytest.mark.parametrize("flaw", WORKER_DOCTORED)
def test_a_worker_without_its_probes_is_caught(flaw: str, rendered: list[Doc]) -> None:
    doc = copy.deepcopy(next(d for d in rendered if d["metadata"]["name"] == "hour-accounting"))
    assert hardening_problems(doc) == []
    WORKER_DOCTORED[flaw](doc)
    assert hardening_problems(doc) == ["hour-accounting/worker: liveness /healthz and readiness /readyz"]


def test_services_start_with_their_commands_and_ports(rendered: list[Doc]) -> None:
    deployments = {d["metadata"]["name"]: d for d in _of_kind(rendered, "Deployment")}
    assert set(deployments) == set(SERVICES) | set(WEB)
    for name, port in WEB.items():
        assert {p["name"]: p["containerPort"] for p in _api(deployments[name])["ports"]} == {"http": port}
    for name, (command, http, metrics) in SERVICES.items():
        container = _api(deployments[name])
        ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
        assert (container["command"], ports.get("http"), ports.get("metrics")) == (command, http, metrics), name
    services = {s["metadata"]["name"]: s for s in _of_kind(rendered, "Service")}
    assert set(services) == {n for n, (_, http, _) in SERVICES.items() if http} | set(WEB)
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
            if "command" not in c:  # not a werkplek process (the student app's web server)
                continue
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


EXTERNAL_SECRETS = {"werkplek-mentor-feedback", "werkplek-funding-reports", "werkplek-smtp",  # created per installation
                    "werkplek-keys", *(f"werkplek-pg-{s}" for s in ("placement-logging", "hour-accounting",
                                                                    "mentor-feedback", "funding-reports"))}


def test_references_resolve(rendered: list[Doc]) -> None:
    """What one manifest names, another provides: ConfigMaps, Secrets, selectors, the Kafka bootstrap."""
    names = {kind: {d["metadata"]["name"] for d in _of_kind(rendered, kind)} for kind in {d["kind"] for d in rendered}}
    (cluster,) = _of_kind(rendered, "Cluster")
    (kafka,) = _of_kind(rendered, "Kafka")
    secrets = EXTERNAL_SECRETS | {f"{cluster['metadata']['name']}-app"}  # CloudNativePG's application Secret
    secrets |= names["KafkaUser"] | {f"{kafka['metadata']['name']}-cluster-ca-cert"}  # written by Strimzi
    for c in (c for d in rendered for c in _containers(d)):
        assert {r["configMapRef"]["name"] for r in c.get("envFrom", [])} <= names["ConfigMap"]
        assert {e["valueFrom"]["secretKeyRef"]["name"] for e in c.get("env", []) if "valueFrom" in e} <= secrets
    for pod in (_pod_spec(d) or {} for d in rendered):
        assert {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v} <= secrets
        assert {v["configMap"]["name"] for v in pod.get("volumes", []) if "configMap" in v} <= names["ConfigMap"]
    auth = {t["metadata"]["name"]: t["spec"] for t in _of_kind(rendered, "TriggerAuthentication")}
    for trigger in (t for s in _of_kind(rendered, "ScaledObject") for t in s["spec"]["triggers"]):
        spec = auth[trigger["authenticationRef"]["name"]]
        assert {r["name"] for r in spec["secretTargetRef"]} <= secrets
        assert {r["name"] for r in spec.get("configMapTargetRef", [])} <= names["ConfigMap"]
    pods = [d["spec"]["template"]["metadata"]["labels"] for d in _of_kind(rendered, "Deployment")]
    for selecting in _of_kind(rendered, "Service") + _of_kind(rendered, "PodDisruptionBudget"):
        selector = selecting["spec"]["selector"]
        selector = selector.get("matchLabels", selector)
        assert sum(selector.items() <= labels.items() for labels in pods) == 1, selecting["metadata"]["name"]
    tls = next(x["port"] for x in kafka["spec"]["kafka"]["listeners"] if x["name"] == "tls")
    bootstrap = f"{kafka['metadata']['name']}-kafka-bootstrap:{tls}"
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
    app_id = _settings_of("werkplek_hour_accounting").model_fields["consumer_group"].default
    assert scaled["spec"]["triggers"][0]["metadata"]["consumerGroup"] == app_id  # the consumer group


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
    return [t["expr"] for f in sorted(DASHBOARDS.glob("*.json"))
            for p in json.loads(f.read_text())["panels"] for t in p["targets"]]


def test_dashboard_queries_parse(tmp_path: Path) -> None:
    """Each query as a recording rule, so promtool parses it (Grafana's $__rate_interval made 5m)."""
    rules = [{"record": f"dashboard:panel_{i}", "expr": e.replace("$__rate_interval", "5m")}
             for i, e in enumerate(_dashboard_exprs())]
    path = tmp_path / "dashboard.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = _promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


# Prometheus itself; Strimzi's Kafka Exporter; the brokers' JMX exporter (kafka_*, jvm_*); postgres_exporter
EXTERNAL_METRICS = re.compile(r"up|kafka_consumergroup_lag|(kafka|jvm|pg)_[a-z0-9_]+")


def _base_name(metric: str) -> str:
    return re.sub(r"(_total)?(_bucket|_count|_sum)?$", "", metric)


def test_alerts_and_dashboard_use_metrics_the_services_define() -> None:
    """A metric renamed in a service would leave an alert that can never fire, silently."""
    code = "\n".join(p.read_text() for p in (ROOT / "services").rglob("*.py"))
    defined = {_base_name(m) for m in re.findall(r"(?:Counter|Gauge|Histogram|Summary)\(\s*\"(werkplek_\w+)\"", code)}
    rules = yaml.safe_load((RULES / "werkplek.yml").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]] + _dashboard_exprs()
    metric = r"\b(?:werkplek_\w+|kafka_\w+|jvm_\w+|pg_\w+|up)\b(?=\s*[{\[)]|\s*$|\s)"  # a name, not a label
    used = {_base_name(m) for e in exprs for m in re.findall(metric, e)}
    assert {m for m in used - defined if not EXTERNAL_METRICS.fullmatch(m)} == set()
    assert {"werkplek_dlq_records", "werkplek_outbox_backlog_events", "werkplek_http_requests"} <= used


def test_dashboard_is_shipped_to_grafana(rendered: list[Doc]) -> None:
    (cm,) = [d for d in _of_kind(rendered, "ConfigMap") if "grafana_dashboard" in d["metadata"]["labels"]]
    files = sorted(DASHBOARDS.glob("*.json"))
    assert len(files) >= 7 and set(cm["data"]) == {f.name for f in files}
    for f in files:
        assert json.loads(cm["data"][f.name]) == json.loads(f.read_text())


# --- availability: disruption budgets and autoscaling --------------------------------------------

def _selects(selector: Doc, labels: dict[str, str]) -> bool:
    """A label selector (matchLabels and matchExpressions with In / NotIn / Exists) against pod labels."""
    if not selector:
        return True
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for e in selector.get("matchExpressions", []):
        value = labels.get(e["key"])
        ok = {"In": value in e.get("values", []), "NotIn": value not in e.get("values", []),
              "Exists": value is not None, "DoesNotExist": value is None}[e["operator"]]
        if not ok:
            return False
    return True


def _pod_labels(docs: list[Doc]) -> dict[str, dict[str, str]]:
    return {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
            for d in _of_kind(docs, "Deployment") + _of_kind(docs, "Job")}


def disruption_problems(docs: list[Doc]) -> list[str]:
    """Every Deployment is covered by exactly one PodDisruptionBudget that allows an eviction at some
    point (minAvailable below its least replicas), so a node drain neither takes all pods nor hangs."""
    hpa_min = {h["spec"]["scaleTargetRef"]["name"]: h["spec"]["minReplicas"]
               for h in _of_kind(docs, "HorizontalPodAutoscaler")}
    problems = []
    for d in _of_kind(docs, "Deployment"):
        name, labels = d["metadata"]["name"], d["spec"]["template"]["metadata"]["labels"]
        budgets = [b for b in _of_kind(docs, "PodDisruptionBudget") if _selects(b["spec"]["selector"], labels)]
        if len(budgets) != 1:
            problems.append(f"{name}: {len(budgets)} PodDisruptionBudgets")
            continue
        least = hpa_min.get(name, d["spec"].get("replicas", 1))
        if budgets[0]["spec"].get("minAvailable", 0) >= least:
            problems.append(f"{name}: minAvailable {budgets[0]['spec']['minAvailable']} of {least} blocks every drain")
    return problems


def test_every_deployment_has_one_disruption_budget(rendered: list[Doc]) -> None:
    assert disruption_problems(rendered) == []
    docs = [d for d in copy.deepcopy(rendered)
            if (d["kind"], d["metadata"]["name"]) != ("PodDisruptionBudget", "outcome-progress")]
    assert disruption_problems(docs) == ["outcome-progress: 0 PodDisruptionBudgets"]


def test_the_apis_scale_on_cpu_from_two_replicas(rendered: list[Doc]) -> None:
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in _of_kind(rendered, "HorizontalPodAutoscaler")}
    assert set(hpas) == {"placement-logging-api", "mentor-feedback-api"}
    deployments = {d["metadata"]["name"]: d for d in _of_kind(rendered, "Deployment")}
    for name, hpa in hpas.items():
        assert hpa["spec"]["minReplicas"] >= 2 and hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
        assert "replicas" not in deployments[name]["spec"], f"{name}: replicas would fight the autoscaler"
        assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]


# --- network policies: default deny, then exactly each workload's flows --------------------------

# What each workload may receive from and send to (peers classified below). Anything else fails.
FLOWS: dict[str, tuple[set[str], set[str]]] = {
    "placement-logging-api": ({"gateway:http", "prometheus:http"}, {"postgres", "internet:443"}),
    "mentor-feedback-api": ({"gateway:http", "prometheus:http"}, {"postgres", "internet:443"}),
    "student-app": ({"gateway:http"}, set()),
    "placement-logging-worker": ({"prometheus:metrics"}, {"kafka", "postgres"}),
    "hour-accounting": ({"prometheus:metrics"}, {"kafka", "postgres"}),
    "mentor-feedback-worker": ({"prometheus:metrics"}, {"kafka", "postgres", "internet:443"}),
    "mentor-feedback-notifier": ({"prometheus:metrics"}, {"kafka", "postgres", "internet:465,587"}),
    "outcome-progress": ({"prometheus:metrics"}, {"kafka", "postgres"}),
    "funding-reports": ({"prometheus:metrics"}, {"kafka", "postgres"}),  # both stages' state (docs/adr/0005)
    "migrate": (set(), {"postgres"}),
}
PRIVATE = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}


def _peer(peer: Doc, ports: list[Doc]) -> str:
    """One peer of a rule, by what it is: the gateway, Prometheus, Kafka's brokers, PostgreSQL, the
    internet (never the cluster's private ranges), DNS; anything else by its selector."""
    numbers = sorted(str(p["port"]) for p in ports)
    pods = peer.get("podSelector", {}).get("matchLabels", {})
    spaces = peer.get("namespaceSelector", {}).get("matchLabels", {})
    if spaces == {"werkplek.io/ingress": "true"} and not pods:
        return f"gateway:{','.join(numbers)}"
    if spaces == {"werkplek.io/monitoring": "true"} and pods == {"app.kubernetes.io/name": "prometheus"}:
        return f"prometheus:{','.join(numbers)}"
    if pods == {"strimzi.io/cluster": "werkplek", "strimzi.io/name": "werkplek-kafka"} and numbers == ["9093"]:
        return "kafka"
    if pods == {"cnpg.io/cluster": "werkplek-pg"} and numbers == ["5432"]:
        return "postgres"
    block = peer.get("ipBlock", {})
    if block.get("cidr") == "0.0.0.0/0" and PRIVATE <= set(block.get("except", [])):
        return f"internet:{','.join(numbers)}"
    return json.dumps(peer, sort_keys=True) + f" ports {numbers}"


def network_problems(docs: list[Doc]) -> list[str]:
    policies = _of_kind(docs, "NetworkPolicy")
    deny = [p for p in policies if p["spec"]["podSelector"] == {} and not p["spec"].get("ingress")
            and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"} and not p["spec"].get("egress")]
    problems = [] if deny else ["no default-deny NetworkPolicy for the whole namespace"]
    dns = {json.dumps(p["spec"], sort_keys=True) for p in policies if p["metadata"]["name"] == "dns"}
    for name, labels in _pod_labels(docs).items():
        own = [p for p in policies if p["spec"]["podSelector"] != {} and _selects(p["spec"]["podSelector"], labels)]
        if not own:
            problems.append(f"{name}: no NetworkPolicy of its own")
            continue
        ingress = {_peer(peer, r.get("ports", []))
                   for p in own for r in p["spec"].get("ingress", []) for peer in r.get("from", [])}
        egress = {_peer(peer, r.get("ports", []))
                  for p in own for r in p["spec"].get("egress", []) for peer in r.get("to", [])}
        if any(not r.get("from") for p in own for r in p["spec"].get("ingress", [])) or any(
                not r.get("to") for p in own for r in p["spec"].get("egress", [])):
            problems.append(f"{name}: a rule without peers (it would allow every address)")
        if (ingress, egress) != FLOWS.get(name):
            problems.append(f"{name}: flows {sorted(ingress)} -> {sorted(egress)}, expected {FLOWS.get(name)}")
    if len(dns) != 1:
        problems.append("no single dns egress policy")
    return problems


def test_the_database_admits_every_workload_that_may_reach_it(rendered: list[Doc]) -> None:
    """The other end of the "postgres" flows above: the database's own policy (CloudNativePG's pods)
    admits exactly the workloads allowed to send to it (the notifier and funding reports were once
    allowed out but not in)."""
    (policy,) = [d for d in _of_kind(rendered, "NetworkPolicy")
                 if d["spec"]["podSelector"].get("matchLabels") == {"cnpg.io/cluster": "werkplek-pg"}]
    admitted = {v for rule in policy["spec"]["ingress"] for peer in rule.get("from", [])
                for expr in peer.get("podSelector", {}).get("matchExpressions", [])
                if expr["key"] == "app.kubernetes.io/name" for v in expr["values"]}
    assert admitted == {w for w, (_, out) in FLOWS.items() if "postgres" in out}


def test_network_is_denied_by_default_then_opened_per_workload(rendered: list[Doc]) -> None:
    assert network_problems(rendered) == []
    kafka = [p["name"] for p in _of_kind(rendered, "Kafka")[0]["spec"]["kafka"]["listeners"]
             if p.get("networkPolicyPeers")]
    assert kafka == ["tls"]  # Strimzi writes the tls listener's ingress policy from these peers


NETWORK_DOCTORED: dict[str, tuple[Callable[[list[Doc]], list[Doc]], str]] = {
    "a workload without a NetworkPolicy": (
        lambda docs: [d for d in docs if (d["kind"], d["metadata"]["name"]) != ("NetworkPolicy", "funding-reports")],
        "funding-reports: no NetworkPolicy of its own"),
    "no default deny": (
        lambda docs: [d for d in docs if d["metadata"]["name"] != "default-deny"],
        "no default-deny NetworkPolicy for the whole namespace"),
    "a worker allowed to the internet": (
        lambda docs: [_with_egress(d, {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]})
                      if (d["kind"], d["metadata"]["name"]) == ("NetworkPolicy", "hour-accounting") else d
                      for d in docs],
        "hour-accounting: flows"),
}


def _with_egress(policy: Doc, rule: Doc) -> Doc:
    policy = copy.deepcopy(policy)
    policy["spec"]["egress"].append(rule)
    return policy


@pytest.mark.parametrize("case", NETWORK_DOCTORED)
def test_network_check_catches(case: str, rendered: list[Doc]) -> None:
    doctor, expected = NETWORK_DOCTORED[case]
    problems = network_problems(doctor(copy.deepcopy(rendered)))
    assert len(problems) == 1 and problems[0].startswith(expected), problems


# --- Kafka users: one per service, least privilege, in step with what the code consumes ----------

def user_problems(docs: list[Doc]) -> list[str]:
    problems = []
    for user in _of_kind(docs, "KafkaUser"):
        name = user["metadata"]["name"]
        if user["spec"]["authentication"]["type"] != "scram-sha-512":
            problems.append(f"{name}: not SCRAM-SHA-512")
        for acl in user["spec"]["authorization"]["acls"]:
            res = acl["resource"]
            if "*" in res.get("name", "*") or "All" in acl["operations"] or res["type"] == "cluster":
                problems.append(f"{name}: wildcard ACL {res} {acl['operations']}")
            elif res.get("patternType") == "prefix" and len(res["name"]) < 8:
                problems.append(f"{name}: prefix ACL {res['name']!r} reaches other services' topics")
            if acl.get("type", "allow") != "allow":
                problems.append(f"{name}: deny rules are not expected")
    users = {u["metadata"]["name"] for u in _of_kind(docs, "KafkaUser")}
    for d in _of_kind(docs, "Deployment"):
        env = {e["name"]: e for c in _containers(d) for e in c.get("env", [])}
        if "WERKPLEK_KAFKA_SASL_USERNAME" not in env:
            continue
        user = env["WERKPLEK_KAFKA_SASL_USERNAME"]["value"]
        secret = env["WERKPLEK_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
        if user != d["metadata"]["name"] or user not in users or secret != {"name": user, "key": "password"}:
            problems.append(f"{d['metadata']['name']}: signs in as {user!r} with {secret}")
    return problems


def test_every_kafka_user_has_least_privilege(rendered: list[Doc]) -> None:
    assert user_problems(rendered) == []
    users = {u["metadata"]["name"]: u for u in _of_kind(rendered, "KafkaUser")}
    kafka_clients = {d["metadata"]["name"] for d in _of_kind(rendered, "Deployment")
                     if "WERKPLEK_KAFKA_SASL_USERNAME" in {e["name"] for c in _containers(d) for e in c.get("env", [])}}
    assert kafka_clients == {"placement-logging-worker", "hour-accounting", "mentor-feedback-worker",
                             "mentor-feedback-notifier", "outcome-progress", "funding-reports"}
    assert set(users) == kafka_clients | {k8s.FUNDING_STAFF, k8s.FUNDING_AUDITOR, k8s.KEDA}
    staff = users[k8s.FUNDING_STAFF]["spec"]["authorization"]["acls"]
    assert {op for a in staff for op in a["operations"]} == {"Read", "Describe"}
    assert {a["resource"]["name"] for a in staff if a["resource"]["type"] == "topic"} == {
        t.name for t in TOPICS if t.name.startswith("reporting.funding_report.")}  # not members, not trajectories
    listeners = {x["name"]: x for x in _of_kind(rendered, "Kafka")[0]["spec"]["kafka"]["listeners"]}
    assert {x["authentication"]["type"] for x in listeners.values()} == {"scram-sha-512"}
    assert all(x["tls"] for x in listeners.values()) and listeners["external"]["type"] != "internal"
    assert _of_kind(rendered, "Kafka")[0]["spec"]["kafka"]["authorization"]["type"] == "simple"


def test_a_wildcard_acl_is_caught(rendered: list[Doc]) -> None:
    docs = copy.deepcopy(rendered)
    user = next(u for u in docs if u["kind"] == "KafkaUser" and u["metadata"]["name"] == "funding-reports")
    user["spec"]["authorization"]["acls"].append(
        {"resource": {"type": "topic", "name": "*", "patternType": "literal"}, "operations": ["Read"]})
    assert user_problems(docs) == ["funding-reports: wildcard ACL {'type': 'topic', 'name': '*', 'patternType': "
                                   "'literal'} ['Read']"]


def _code_reads() -> dict[str, set[str]]:
    """What each service's code subscribes to (or reads by assignment), from the services themselves."""
    from werkplek_events import topic_for
    from werkplek_funding_reports import members, reports
    from werkplek_funding_reports.book import REPORTS, SNAPSHOTS, TRAJECTORIES
    from werkplek_hour_accounting import processor, programmes
    from werkplek_mentor_feedback import notifications, progress_worker, projection
    from werkplek_placement_logging import decisions
    return {"placement-logging-worker": set(decisions.TOPICS), "mentor-feedback-worker": set(projection.TOPICS),
            "mentor-feedback-notifier": set(notifications.TOPICS), "outcome-progress": set(progress_worker.CONSUMED),
            "hour-accounting": {*processor.INPUT_TOPICS, programmes.TOPIC},
            "funding-reports": {*members.STUDENT_TOPICS, *(topic_for(e).name for e in members.REFERENCE),
                                reports.TOPIC, REPORTS, SNAPSHOTS, TRAJECTORIES}}


def test_kafka_users_are_in_step_with_the_code_and_the_registry() -> None:
    reads = {c.user: {topic_name(e) for e in c.reads} for c in k8s.CLIENTS}
    assert reads == _code_reads()
    writers = [topic_name(e) for c in k8s.CLIENTS for e in c.writes]
    assert sorted(writers) == sorted(t.name for t in TOPICS), "every registry topic has exactly one writer"
    for c in k8s.CLIENTS:
        cfg = {"placement-logging-worker": ("werkplek_placement_logging", "decisions_consumer_group"),
               "mentor-feedback-worker": ("werkplek_mentor_feedback", "consumer_group"),
               "mentor-feedback-notifier": ("werkplek_mentor_feedback", "notifier_consumer_group"),
               "outcome-progress": ("werkplek_mentor_feedback", "progress_consumer_group"),
               "hour-accounting": ("werkplek_hour_accounting", "consumer_group"),
               "funding-reports": ("werkplek_funding_reports", "consumer_group")}[c.user]
        assert c.group == _settings_of(cfg[0]).model_fields[cfg[1]].default, c.user
    (reports,) = [c for c in k8s.CLIENTS if c.user == "funding-reports"]
    members = _settings_of("werkplek_funding_reports").model_fields["members_consumer_group"].default
    assert reports.more_groups == (members,), "the members stage's group has its ACL too"


def topic_name(event: type) -> str:
    return next(t.name for t in TOPICS if t.event is event)


# --- kube-score ----------------------------------------------------------------------------------

KUBE_SCORE = ROOT / ".data" / "tools" / "bin" / "kube-score"  # installed by infra/install.sh (go install)
# kube-score knows the core kinds; the operators' resources are checked against their CRDs above.
KUBE_SCORE_KINDS = {"Deployment", "Job", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler",
                    "NetworkPolicy", "ConfigMap", "Namespace"}


def kube_score(docs: list[Doc]) -> list[dict[str, Any]]:
    manifests = yaml.safe_dump_all([d for d in docs if d["kind"] in KUBE_SCORE_KINDS], sort_keys=False)
    result = subprocess.run([str(KUBE_SCORE), "score", "--output-format", "json", "-"], input=manifests,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode in (0, 1), result.stderr  # 1: some check is not OK (a finding)
    return json.loads(result.stdout)


def criticals(report: list[dict[str, Any]]) -> list[str]:
    return [f"{obj['object_name']}: {check['check']['name']}: {[c['summary'] for c in check.get('comments') or []]}"
            for obj in report for check in obj["checks"] if check["grade"] == 1 and not check["skipped"]]


def test_kube_score_finds_nothing_critical(rendered: list[Doc]) -> None:
    assert KUBE_SCORE.is_file(), "kube-score is missing: run `make install`"
    assert criticals(kube_score(rendered)) == []
    broken = copy.deepcopy(_of_kind(rendered, "Deployment"))
    for d in broken:
        d["spec"]["template"]["spec"]["containers"][0]["resources"].pop("limits")
    assert len(criticals(kube_score(broken))) >= len(broken)


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
    assert all(li.get("authentication") for li in kafka["listeners"])
    users = {u["metadata"]["name"]: u for u in _of_kind(rendered, "KafkaUser")}
    trajectories = topic_for(FundingTrajectoriesPublished).name
    staff, auditor = users["funding-staff"], users["funding-auditor"]
    readers = {name for name, u in users.items() if _reads(u, trajectories)}
    assert readers - {"funding-reports"} == {"funding-auditor"}  # no person but an auditor
    assert _reads(staff, topic_for(FundingReportPublished).name)
    assert not any(_reads(staff, t) for t in all_topic_names() if not t.startswith("reporting."))
    assert all(_reads(auditor, topic_for(e).name) for e in INPUTS)  # `--as-of` and `lineage` replay them
