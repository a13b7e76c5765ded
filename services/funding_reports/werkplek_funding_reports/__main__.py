"""`python -m werkplek_funding_reports worker`: the report worker (thin entry point)."""

from __future__ import annotations

import asyncio
import logging
import signal

import typer
from werkplek_common.kafka import new_producer
from werkplek_common.logs import configure_logging
from werkplek_common.metrics import serve_metrics
from werkplek_common.shutdown import bounded

from .config import DEV_KEY, Settings
from .worker import ReportWorker

app = typer.Typer(add_completion=False, help="werkplek funding reports service")


async def _run(cfg: Settings) -> None:
    producer = new_producer(cfg.kafka_bootstrap, "werkplek-funding-reports")
    await producer.start()
    worker = ReportWorker(cfg, producer)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.stop)
    try:
        await worker.run()
    finally:
        await bounded(producer.stop(), "producer stop")


@app.command()
def worker() -> None:
    """Rebuild the cohort from the input topics and keep every funding report up to date."""
    cfg = Settings()
    configure_logging("funding-reports", cfg.log_level, cfg.log_json)
    if cfg.reports_pseudonym_key.get_secret_value() == DEV_KEY:
        logging.getLogger(__name__).warning("using the development pseudonym key; set WERKPLEK_REPORTS_PSEUDONYM_KEY")
    serve_metrics(cfg.reports_metrics_port, cfg.metrics_host)
    asyncio.run(_run(cfg))


@app.callback()
def main() -> None:
    """Subcommands keep room for more (`worker` is the only one)."""


if __name__ == "__main__":
    app()
