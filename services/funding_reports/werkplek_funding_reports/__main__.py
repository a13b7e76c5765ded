"""`python -m werkplek_funding_reports worker`: the report worker (thin entry point)."""

from __future__ import annotations

import asyncio
import logging

import typer
from werkplek_common.logs import configure_logging
from werkplek_common.runtime.collector import tune_gc

from .config import DEV_KEY, Settings
from .worker import build

app = typer.Typer(add_completion=False, help="werkplek funding reports service")


@app.command()
def worker() -> None:
    """Keep every funding report up to date (both stages; health and metrics on the metrics port)."""
    cfg = Settings()
    configure_logging("funding-reports", cfg.log_level, cfg.log_json)
    if cfg.reports_pseudonym_key.get_secret_value() == DEV_KEY:
        logging.getLogger(__name__).warning("using the development pseudonym key; set WERKPLEK_REPORTS_PSEUDONYM_KEY")
    built = build(cfg)
    tune_gc()  # the cohorts are many small objects: full collections were up to 40 % of a recompute
    raise typer.Exit(asyncio.run(built.run()))


@app.callback()
def main() -> None:
    """Subcommands keep room for more (`worker` is the only one)."""


if __name__ == "__main__":
    app()
