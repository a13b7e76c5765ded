"""The report worker on the stream runtime, in two stages that scale out with the consumer groups:

1. `members` (group `members_consumer_group`): per student, its facts (members.py), repartitioned by
   institution;
2. `reports` (group `consumer_group`): per institution, its cohort rebuilt from its members' facts
   and the reference data, and every year's publication set (programme, roll-up and pilot reports,
   suppressed together; trajectory rows) (reports.py), published through the outbox with versions
   that only go up.

Both keep their state in PostgreSQL, so a start reads only the reference data (programmes, workplaces,
mentors, pilots: small compacted topics) and the records after the stored offsets: start-up no longer grows
with the history. N workers share the work; each unit's reports have one owner at a time."""

from __future__ import annotations

from werkplek_common.runtime import Options, Worker

from .config import Settings
from .members import Members, Reference
from .reports import Reports


def build(cfg: Settings) -> Worker:
    reference = Reference()
    worker = Worker(cfg.consumer_group, kafka_bootstrap=cfg.kafka_bootstrap, pg_dsn=cfg.service_dsn,
                    metrics_port=cfg.metrics_port, metrics_host=cfg.metrics_host, limits=cfg.pg_limits,
                    lease_s=cfg.outbox_lease_s)
    table = reference.table(worker.dlq)
    worker.table(table)
    worker.consumer(Members(cfg.members_consumer_group), Options(group=cfg.members_consumer_group),
                    outbox_producer=cfg.outbox_producer)
    worker.consumer(Reports(cfg.consumer_group, cfg, reference),
                    Options(group=cfg.consumer_group, linger_ms=int(cfg.reports_debounce_seconds * 1000)),
                    outbox_producer=cfg.outbox_producer, tables=[table], hot_keys=1_000, chunk=50)
    worker.relay(cfg.outbox_producer)
    return worker
