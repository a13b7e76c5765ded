"""An outbox relay of one producer as a process of its own, for tests that pause (SIGSTOP), resume or
kill it: `python -m tests.integration.relay_process PRODUCER BATCH_SIZE`. It is the services' relay
(werkplek_common.outbox) with the settings of the environment, and nothing else."""

from __future__ import annotations

import asyncio
import signal
import sys

from werkplek_common.db import create_pool
from werkplek_common.kafka import new_producer
from werkplek_common.logs import configure_logging
from werkplek_common.metrics import serve_metrics
from werkplek_common.outbox import OutboxRelay
from werkplek_common.settings import CommonSettings

from tests.support import COMMON_TABLES_IN, dsn_of


async def main(producer: str, batch_size: int) -> None:
    cfg = CommonSettings()
    pool = await create_pool(dsn_of(cfg, COMMON_TABLES_IN), min_size=1, max_size=4, limits=cfg.pg_limits)
    kafka = new_producer(cfg.kafka_bootstrap, f"relay-{producer}")
    await kafka.start()
    relay = OutboxRelay(pool, kafka, producer, batch_size=batch_size, lease_s=cfg.outbox_lease_s)
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, relay.stop)
    try:
        await relay.run()
    finally:
        await kafka.stop()
        await pool.close()


if __name__ == "__main__":
    settings = CommonSettings()
    configure_logging("relay", settings.log_level, settings.log_json)
    serve_metrics(settings.metrics_port)
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
