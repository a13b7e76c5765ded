"""werkplek's Grafana dashboards, one per area, written as JSON to deploy/k8s/components/monitoring/dashboards/.

The one source of the dashboards: edit a panel here, run `python3 infra/grafana/dashboards.py`, commit
both. `--check` reports drift (tests/unit/test_dashboards.py runs it). The JSON files are what Grafana
loads: the local provisioning (infra/grafana/provisioning) and the ConfigMap of the monitoring
component. Every panel's query is evaluated against a live Prometheus by tests/e2e/test_telemetry.py,
and every metric the code registers must appear in some panel (tests/unit/test_dashboards.py).

Queries work unchanged locally and in Kubernetes: the werkplek targets carry job="werkplek" and
app=<service>; Kafka's metrics come from the JMX exporter with deploy/k8s/components/strimzi/kafka-metrics.yaml,
PostgreSQL's from postgres_exporter. Standard library only.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "components" / "monitoring" / "dashboards"
DS = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"


def rate(metric: str, by: str = "", selector: str = "") -> str:
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (rate({metric}{selector}[{RATE}]))"


def quantile(q: float, metric: str, by: str = "", selector: str = "") -> str:
    grouping = f"{by}, le" if by else "le"
    return f"histogram_quantile({q}, sum by ({grouping}) (rate({metric}_bucket{selector}[{RATE}])))"


@dataclass(frozen=True)
class Panel:
    title: str
    description: str
    targets: list[tuple[str, str]]  # (PromQL, legend)
    unit: str = "short"
    kind: str = "timeseries"  # or "stat", "table"
    width: int = 12


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    panels: list[Panel]
    variables: list[dict[str, Any]] = field(default_factory=list)


def query_variable(name: str, label: str, query: str) -> dict[str, Any]:
    """A multi-value variable from label values; `All` selects everything (regex `.*`)."""
    return {"name": name, "label": label, "type": "query", "datasource": DS, "query": {"query": query,
            "refId": f"{name}-values"}, "definition": query, "refresh": 2, "includeAll": True, "multi": True,
            "allValue": ".*", "current": {"selected": True, "text": ["All"], "value": ["$__all"]}, "hide": 0}


HTTP = Panel("HTTP requests by status class", "Requests per second of both APIs, by service and status class.",
             [(rate("werkplek_http_requests_total", "service, status_class"), "{{service}} {{status_class}}")], "reqps")
HTTP_LATENCY = Panel(
    "HTTP latency p50 / p99", "Latency of both APIs without the health and metrics routes (alert: p99 > 1 s).",
    [(quantile(0.5, "werkplek_http_request_duration_seconds", "service", '{route!~"/healthz|/readyz|/metrics"}'),
      "p50 {{service}}"),
     (quantile(0.99, "werkplek_http_request_duration_seconds", "service", '{route!~"/healthz|/readyz|/metrics"}'),
      "p99 {{service}}")], "s")
CONSUMER_LAG = Panel(
    "Consumer lag (records)",
    "Records each consumer group has still to handle, measured at the broker by Strimzi's Kafka Exporter; where "
    "there is none (the local stack) the stream runtime's own gauge stands in for each consumer.",
    [("sum by (consumergroup, topic) (kafka_consumergroup_lag) or label_replace(sum by (consumer, topic) "
      '(werkplek_consumer_lag_events), "consumergroup", "$1", "consumer", "(.*)")',
      "{{consumergroup}} {{topic}}")])
CONSUMERS = Panel(
    "Consumers: ready, quarantined keys, errors", "Per consumer of the stream runtime: 1 when ready (joined, "
    "not fenced, not stuck); keys in quarantine (alert WerkplekConsumerKeyQuarantined; list them with "
    "`python -m werkplek_common.cli quarantine`); failures its supervisor restarted after; rebalances.",
    [("max by (consumer) (werkplek_consumer_ready)", "ready {{consumer}}"),
     ("max by (consumer) (werkplek_consumer_quarantined_keys)", "quarantined {{consumer}}"),
     ("sum by (consumer) (increase(werkplek_consumer_quarantines_total[1h]))", "quarantines (1 h) {{consumer}}"),
     # errors carry their type, unknown before one happens: 0 for every ready-reporting consumer until then
     ("sum by (consumer) (increase(werkplek_consumer_errors_total[1h]))"
      " or sum by (consumer) (werkplek_consumer_ready) * 0", "errors (1 h) {{consumer}}"),
     ("sum by (consumer) (increase(werkplek_consumer_rebalances_total[1h]))", "rebalances (1 h) {{consumer}}")])

OVERVIEW = Dashboard("werkplek-overview", "werkplek: overview", "Is every service up and is the pipeline flowing?", [
    Panel("Services up", "1 when Prometheus can scrape the service (alert WerkplekTargetDown after 5 minutes at 0).",
          [('up{job="werkplek"}', "{{app}}")], kind="stat", width=24),
    Panel("Events produced per second", "Events written to Kafka, by topic (outbox relays and workers).",
          [(rate("werkplek_events_produced_total", "topic"), "{{topic}}")], "ops"),
    CONSUMER_LAG,
    CONSUMERS,
    Panel("Outbox backlog and relay lag", "Stored changes not yet on Kafka, and the age of the oldest (alerts: "
          "backlog > 1000 for 10 m, lag > 120 s for 5 m).",
          [("max by (producer) (werkplek_outbox_backlog_events)", "backlog {{producer}}"),
           ("max by (producer) (werkplek_outbox_relay_lag_seconds)", "oldest (s) {{producer}}")]),
    Panel("Outbox published per second, batch p99", "Rows each relay publishes, and the time of one batch.",
          [(rate("werkplek_outbox_published_total", "producer"), "published {{producer}}"),
           (quantile(0.99, "werkplek_outbox_batch_duration_seconds", "producer"), "batch p99 (s) {{producer}}")]),
    Panel("Outbox relay leases", "Replicas holding each relay's lease (1 in normal operation; 0 for longer than the "
          "lease's time to live means no replica publishes), and how often it changed hands in the last hour "
          "(taken; lost: a paused or cut-off holder found another replica had taken it).",
          [("sum by (lease) (werkplek_leases_held)", "held {{lease}}"),
           ("sum by (lease) (increase(werkplek_lease_taken_total[1h]))", "taken (1 h) {{lease}}"),
           ("sum by (lease) (increase(werkplek_lease_losses_total[1h]))", "lost (1 h) {{lease}}")]),
    Panel("Dead-lettered records", "Records a consumer could not decode or apply, sent to the topic's .dlq.",
          [("sum by (topic, consumer) (increase(werkplek_dlq_records_total[$__rate_interval]))",
            "{{consumer}} {{topic}}")]),
    HTTP, HTTP_LATENCY,
])

INGEST = Dashboard("werkplek-ingest", "werkplek: ingest (placement logging)",
                   "Time entries from students' phones and the registry kept by coordinators.", [
    Panel("Time entries stored per second",
          "Entries stored by kind: logged, duplicate (a retry), corrected, withdrawn.",
          [(rate("werkplek_time_entries_accepted_total", "kind"), "{{kind}}")], "ops"),
    Panel("Time entries refused per second", "Entries refused, by reason (overlap, outside the placement, …).",
          [(rate("werkplek_time_entries_refused_total", "reason"), "{{reason}}")], "ops"),
    Panel("Idempotent replays", "POSTs answered from the Idempotency-Key store: phones retrying after a lost answer.",
          [(rate("werkplek_idempotent_replays_total", "route"), "{{route}}")], "ops"),
    Panel("Registry changes", "Programmes, enrolments, workplaces, mentors and placements stored, by kind.",
          [("sum by (kind) (increase(werkplek_registry_changes_total[$__rate_interval]))", "{{kind}}")]),
    Panel("Mentor decisions applied to entries", "Confirmations and rejections from mentor feedback, by effect "
          "(applied, stale, duplicate, unknown entry).",
          [(rate("werkplek_entry_decisions_applied_total", "kind, effect"), "{{kind}} {{effect}}")], "ops"),
    Panel("Placement API requests by route", "Requests per second of the placement-logging API, by route.",
          [(rate("werkplek_http_requests_total", "route", '{service="placement_logging"}'), "{{route}}")], "reqps"),
    Panel("Requests for another institution's data", "Requests that named another institution's object or "
          "student (answered as unknown, nothing changed), by kind and where it was named. A steady rise is "
          "someone probing: see docs/security.md.",
          [("sum by (kind, via) (increase(werkplek_tenant_refusals_total[$__rate_interval]))",
            "{{kind}} via {{via}}")]),
    Panel("Erasures of students and mentors", "Erasure requests by coordinators (docs/privacy.md), by kind and "
          "outcome: requested, repeated (asked before: answered with the first erasure), completed.",
          [("sum by (kind, outcome) (increase(werkplek_erasures_total[$__rate_interval]))", "{{kind}} {{outcome}}")]),
    Panel("Shares and progress stored for the app", "ShareUpdated and OutcomeProgressUpdated events stored in "
          "placement logging's own read models (applied, or stale: an older version arriving late).",
          [(rate("werkplek_student_views_applied_total", "effect"), "{{effect}}")], "ops"),
])

HA = '{app="hour-accounting"}'  # its pods (the consumer label is the group, whose name is a setting)
ACCOUNTING = Dashboard("werkplek-accounting", "werkplek: hour accounting and freshness",
                       "Shares computed from the entries and decisions, and how fresh they are.", [
    Panel("Freshness: record produced → share committed", "Per input record, from its Kafka timestamp to its batch "
          "committed (p50, p99): how old the share a student reads can be.",
          [(quantile(0.5, "werkplek_consumer_processing_latency_seconds", selector=HA), "p50"),
           (quantile(0.99, "werkplek_consumer_processing_latency_seconds", selector=HA), "p99")], "s"),
    Panel("Input events accounted per second", "By event type.",
          [(rate("werkplek_consumer_events_total", "type", HA), "{{type}}")], "ops"),
    Panel("Share updates and risk changes per second", "ShareUpdated and StudentRiskStatusChanged committed to the "
          "outbox (worsened = true: a student moved towards at risk).",
          [(rate("werkplek_accounting_share_updates_total"), "share updates"),
           (rate("werkplek_accounting_risk_changes_total", "worsened"), "risk changes, worsened={{worsened}}")], "ops"),
    Panel("Batch duration p99", "Time to decode, account and commit one batch.",
          [(quantile(0.99, "werkplek_consumer_batch_duration_seconds", selector=HA), "p99")], "s"),
    Panel("Consumer lag per topic", "Records not yet committed (high watermark - stored next offset).",
          [(f"sum by (topic) (werkplek_consumer_lag_events{HA})", "{{topic}}")]),
    Panel("Daily re-evaluation and fenced batches", "Students evaluated by the daily pass; batches rolled back "
          "because another worker had moved the offsets (should stay at 0 outside a rebalance).",
          [(f"sum(increase(werkplek_consumer_reevaluated_keys_total{HA}[1h]))", "re-evaluated (1 h)"),
           (f"sum(increase(werkplek_consumer_fenced_total{HA}[1h]))", "fenced (1 h)")]),
    Panel("Students by status per programme", "Students per programme by share status, from the read model "
          "(every replica reports all: max, not sum).",
          [('max by (programme, status) (werkplek_accounting_students{programme=~"$programme"})',
            "{{programme}} {{status}}")], kind="table"),
    Panel("State in memory and programmes awaited", "Students whose state is cached in memory; programmes students "
          "wait for because they are not registered yet.",
          [(f"sum(werkplek_consumer_keys_in_memory{HA})", "students in memory"),
           ("max(werkplek_accounting_programmes_awaited)", "programmes awaited")]),
], [query_variable("programme", "Programme", "label_values(werkplek_accounting_students, programme)")])

MENTOR = Dashboard("werkplek-mentor-feedback", "werkplek: mentor feedback and deliveries",
                   "Webhooks from mentors' tools, confirmation links, and our webhooks to them.", [
    Panel("Inbound webhooks by result", "By payload kind and result (accepted, bad_signature, replay, …).",
          [(rate("werkplek_mentor_webhooks_received_total", "kind, result"), "{{kind}} {{result}}")], "reqps"),
    Panel("Webhook handling p99", "Time to verify and apply one webhook.",
          [(quantile(0.99, "werkplek_mentor_webhook_duration_seconds"), "p99")], "s"),
    Panel("Entry decisions by channel", "Confirmations, rejections and reversals applied, by channel (webhook, link).",
          [("sum by (decision, channel) (increase(werkplek_mentor_entry_decisions_total[$__rate_interval]))",
            "{{decision}} {{channel}}")]),
    Panel("Confirmation requests and link visits", "Requests formed for mentors, by channel; visits to the signed "
          "links, by result (shown, applied, used, expired, tampered).",
          [("sum by (channel) (increase(werkplek_mentor_confirmation_requests_total[$__rate_interval]))",
            "requests {{channel}}"),
           ("sum by (result) (increase(werkplek_mentor_link_requests_total[$__rate_interval]))", "links {{result}}")]),
    Panel("Outbound deliveries by result", "Our webhooks to mentors' tools: delivered, retry, failed, disabled.",
          [("sum by (result) (increase(werkplek_mentor_outbound_deliveries_total[$__rate_interval]))",
            "{{result}}")]),
    Panel("Mentor API requests by route", "Requests per second of the mentor-feedback API, by route.",
          [(rate("werkplek_http_requests_total", "route", '{service="mentor_feedback"}'), "{{route}}")], "reqps"),
    Panel("Mails by kind and result", "Mails to mentors and coordinators: sent, retry, bounced, failed, "
          "undeliverable (no address), expired (the link expired first), by kind of mail.",
          [("sum by (kind, result) (increase(werkplek_mentor_mails_total[$__rate_interval]))", "{{kind}} {{result}}")]),
    Panel("Mail queue", "Mails waiting to be sent (pending), waiting for an address (undeliverable), and those "
          "that bounced or failed in the last 7 days.",
          [("max by (state) (werkplek_mentor_mails_queued)", "{{state}}")]),
    Panel("Reminders, digests and fresh links", "Reminders to mentors whose hours wait for days, coordinators' "
          "daily digests, fresh links asked for by e-mail address.",
          [("sum(increase(werkplek_mentor_reminders_total[$__rate_interval]))", "reminders"),
           ("sum by (outcome) (increase(werkplek_mentor_digests_total[$__rate_interval]))", "digest {{outcome}}"),
           ("sum by (outcome) (increase(werkplek_mentor_fresh_links_total[$__rate_interval]))",
            "fresh link {{outcome}}")]),
    Panel("Tool onboarding", "Onboarding actions through the API: registered, secret_rotated, endpoint_set, "
          "endpoint_cleared, retired.",
          [("sum by (action) (increase(werkplek_mentor_source_changes_total[$__rate_interval]))", "{{action}}")]),
])

PROGRESS = Dashboard("werkplek-outcome-progress", "werkplek: outcome progress",
                     "Assessments by mentors and the learning-outcome progress computed from them.", [
    Panel("Outcome-progress versions per second", "OutcomeProgressUpdated emitted by the progress worker.",
          [(rate("werkplek_outcome_progress_updates_total"), "updates")], "ops"),
    Panel("Assessments recorded by moment", "Assessments mentors recorded (intermediate, final, …).",
          [("sum by (moment) (increase(werkplek_mentor_assessments_recorded_total[$__rate_interval]))",
            "{{moment}}")]),
    Panel("Outcomes assessed by level", "Learning-outcome assessments, by the level reached.",
          [("sum by (level) (increase(werkplek_mentor_outcomes_assessed_total[$__rate_interval]))", "{{level}}")]),
    Panel("Progress worker up", "1 when Prometheus can scrape the outcome-progress worker.",
          [('up{job="werkplek", app="outcome-progress"}', "{{instance}}")], kind="stat"),
])

REPORTS = Dashboard("werkplek-funding-reports", "werkplek: funding reports",
                    "Reports per programme and academic year for funding staff, and how fresh they are.", [
    Panel("Freshness: input event → report published", "From an input event's time to the published report version "
          "that reflects it (p50, p99).",
          [(quantile(0.5, "werkplek_report_input_lag_seconds"), "p50"),
           (quantile(0.99, "werkplek_report_input_lag_seconds"), "p99")], "s"),
    Panel("Report versions published", "By scope (programme, institution, pilot).",
          [("sum by (scope) (increase(werkplek_reports_published_total[$__rate_interval]))", "{{scope}}")]),
    Panel("Snapshots", "Immutable snapshots published, by trigger.",
          [("sum by (trigger) (increase(werkplek_report_snapshots_total[$__rate_interval]))", "{{trigger}}")]),
    Panel("Input events applied", "Events handled by the two stages (members: the students' facts; reports: "
          "the members' changes), by event type.",
          [(rate("werkplek_consumer_events_total", "consumer, type", '{app="funding-reports"}'),
            "{{consumer}} {{type}}")], "ops"),
    Panel("Report compute p99", "Time to compute one publication set (an institution's reports of a year).",
          [(quantile(0.99, "werkplek_report_compute_duration_seconds"), "p99")], "s"),
    Panel("Reports quarantined", "Reports set aside because they could not be published (on the report topic's "
          "DLQ; every other report goes on): how many now, and new ones by error type.",
          [("max(werkplek_reports_quarantined)", "quarantined now"),
           ("sum by (error) (increase(werkplek_report_quarantines_total[$__rate_interval]))", "new: {{error}}")]),
])

PLATFORM = Dashboard("werkplek-platform", "werkplek: Kafka and PostgreSQL",
                     "The broker (JMX exporter) and the database (postgres_exporter) the services depend on.", [
    Panel("Kafka: brokers and controller", "Active brokers and active controllers (exactly 1) seen by the KRaft "
          "controller; offline partitions (must be 0).",
          [("max(kafka_controller_kafkacontroller_activebrokercount)", "active brokers"),
           ("sum(kafka_controller_kafkacontroller_activecontrollercount)", "active controllers"),
           ("sum(kafka_controller_kafkacontroller_offlinepartitionscount)", "offline partitions")], kind="stat"),
    Panel("Kafka: under-replicated and under-min-ISR partitions", "Partitions with fewer in-sync replicas than "
          "configured, or than min.insync.replicas (producers with acks=all then fail).",
          [("sum(kafka_server_replicamanager_underreplicatedpartitions)", "under-replicated"),
           ("sum(kafka_server_replicamanager_underminisrpartitioncount)", "under min ISR")]),
    Panel("Kafka: messages in per second", "Records written to the brokers, all topics.",
          [("sum(rate(kafka_server_brokertopicmetrics_messagesin_total[$__rate_interval]))", "messages in")], "ops"),
    Panel("Kafka: bytes in / out per second", "Across all brokers.",
          [("sum(rate(kafka_server_brokertopicmetrics_bytesin_total[$__rate_interval]))", "in"),
           ("sum(rate(kafka_server_brokertopicmetrics_bytesout_total[$__rate_interval]))", "out")], "Bps"),
    Panel("Kafka: request time p99", "Time the broker takes to answer, by request type (ms).",
          [('max by (request) (kafka_network_requestmetrics_totaltimems{quantile="0.99"})', "{{request}}")], "ms"),
    Panel("Kafka: JVM heap used", "Heap of each broker.",
          [('sum by (instance) (jvm_memory_used_bytes{area="heap", job="kafka"})', "{{instance}}")], "bytes"),
    Panel("PostgreSQL: up and connections", "1 when the exporter reaches the database; connections by state.",
          [("max(pg_up)", "up"),
           ('sum by (state) (pg_stat_activity_count{datname=~"$database"})', "{{state}}")]),
    Panel("PostgreSQL: transactions per second", "Commits and rollbacks of the werkplek database.",
          [('sum(rate(pg_stat_database_xact_commit{datname=~"$database"}[$__rate_interval]))', "commits"),
           ('sum(rate(pg_stat_database_xact_rollback{datname=~"$database"}[$__rate_interval]))', "rollbacks")], "ops"),
    Panel("PostgreSQL: cache hit ratio", "Share of block reads served from shared buffers.",
          [('sum(rate(pg_stat_database_blks_hit{datname=~"$database"}[$__rate_interval])) / (sum(rate('
            'pg_stat_database_blks_hit{datname=~"$database"}[$__rate_interval])) + sum(rate('
            'pg_stat_database_blks_read{datname=~"$database"}[$__rate_interval])))', "hit ratio")], "percentunit"),
    Panel("PostgreSQL: database size and deadlocks", "Size on disk; deadlocks detected (should stay 0).",
          [('sum by (datname) (pg_database_size_bytes{datname=~"$database"})', "size {{datname}}"),
           ('sum(increase(pg_stat_database_deadlocks{datname=~"$database"}[1h]))', "deadlocks (1 h)")]),
], [query_variable("database", "Database",
                   'label_values(pg_database_size_bytes{datname!~"postgres|template.*"}, datname)')])

DASHBOARDS = [OVERVIEW, INGEST, ACCOUNTING, MENTOR, PROGRESS, REPORTS, PLATFORM]


def _panel(panel: Panel, pid: int, x: int, y: int) -> dict[str, Any]:
    height = 5 if panel.kind == "stat" else 8
    out: dict[str, Any] = {
        "id": pid, "type": panel.kind, "title": panel.title, "description": panel.description, "datasource": DS,
        "gridPos": {"h": height, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []}, "options": {},
        "targets": [{"refId": chr(ord("A") + i), "datasource": DS, "expr": expr, "legendFormat": legend}
                    for i, (expr, legend) in enumerate(panel.targets)],
    }
    if panel.kind == "table":
        for target in out["targets"]:
            target.update(format="table", instant=True)
        out["transformations"] = [{"id": "organize", "options": {"excludeByName": {"Time": True}}}]
    return out


def render(d: Dashboard) -> dict[str, Any]:
    panels, x, y, row_h = [], 0, 0, 0
    for pid, panel in enumerate(d.panels, start=1):
        if x + panel.width > 24:
            x, y = 0, y + row_h
        panels.append(_panel(panel, pid, x, y))
        row_h = panels[-1]["gridPos"]["h"] if x == 0 else max(row_h, panels[-1]["gridPos"]["h"])
        x += panel.width
    datasource = {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus",
                  "current": {}, "hide": 0}
    return {"uid": d.uid, "title": d.title, "description": d.description, "tags": ["werkplek"],
            "timezone": "browser", "schemaVersion": 39, "version": 1, "editable": True, "refresh": "30s",
            "time": {"from": "now-6h", "to": "now"}, "templating": {"list": [datasource, *d.variables]},
            "annotations": {"list": []}, "panels": panels}


def files() -> dict[Path, str]:
    return {OUT / f"{d.uid}.json": json.dumps(render(d), indent=1, ensure_ascii=False) + "\n" for d in DASHBOARDS}


def main(argv: list[str]) -> int:
    wanted = files()
    stale = [p for p, text in wanted.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    extra = [p for p in OUT.glob("*.json") if p not in wanted]
    if "--check" in argv:
        for p in stale + extra:
            print(f"drift: {p.name} differs from infra/grafana/dashboards.py (run python3 infra/grafana/dashboards.py)")
        return 1 if stale or extra else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for p in extra:
        p.unlink()
    for p, text in wanted.items():
        p.write_text(text, encoding="utf-8")
    print(f"{len(wanted)} dashboards written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
