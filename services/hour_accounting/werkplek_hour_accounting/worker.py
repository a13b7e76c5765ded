"""`worker`: hour accounting on the stream runtime: the programme catalogue (every worker reads it
whole), a member of the consumer group (`consumer_group`) over the student topics, the outbox
relay, and the students-by-status gauges; health and metrics on the metrics port."""

from __future__ import annotations

import asyncio

from werkplek_common.runtime import Worker
from werkplek_common.runtime.collector import tune_gc
from werkplek_common.runtime.loop import sleep_unless_stopped

from . import metrics
from .config import AccountingSettings
from .service import Accountant


async def run_worker(cfg: AccountingSettings) -> int:
    accountant = Accountant(cfg)
    worker = Worker(cfg.consumer_group, kafka_bootstrap=cfg.kafka_bootstrap, pg_dsn=cfg.service_dsn,
                    metrics_port=cfg.metrics_port, metrics_host=cfg.metrics_host, limits=cfg.pg_limits,
                    lease_s=cfg.outbox_lease_s)
    programmes = accountant.catalogue.table(worker.dlq)
    worker.table(programmes)
    worker.consumer(accountant.processor, accountant.options(), outbox_producer=cfg.outbox_producer,
                    tables=[programmes], engine=accountant.engine)
    worker.relay(cfg.outbox_producer)
    worker.task("accounting-stats", lambda stop: refresh_stats(worker, accountant, stop))
    tune_gc()
    return await worker.run()


async def refresh_stats(worker: Worker, accountant: Accountant, stop: asyncio.Event) -> None:
    """Students by status per programme (from the read model), and programmes that students wait
    for; from the database, so every replica reports the same figure (the dashboard takes the max)."""
    assert worker.pool is not None
    group = accountant.cfg.consumer_group
    while not stop.is_set():
        rows = await worker.pool.fetch("SELECT programme_id, status, count(*) AS n FROM share_read_model"
                                       " GROUP BY 1, 2")
        metrics.STUDENTS_BY_STATUS.clear()
        for row in rows:
            metrics.STUDENTS_BY_STATUS.labels(row["programme_id"], row["status"]).set(row["n"])
        enrolled = await worker.pool.fetch("SELECT DISTINCT t FROM runtime_state, unnest(tags) AS t"
                                           " WHERE consumer_group = $1 AND t LIKE 'programme:%'", group)
        awaited = {r["t"].split(":", 1)[1] for r in enrolled} - set(accountant.catalogue.programmes)
        metrics.HELD_PROGRAMMES.set(len(awaited))
        await sleep_unless_stopped(stop, accountant.cfg.accounting_stats_interval_s)
