"""`python -m werkplek_hour_accounting worker | rebuild`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from werkplek_common.logs import configure_logging
from werkplek_common.metrics import serve_metrics

from .config import AccountingSettings
from .rebuild import run_rebuild
from .worker import run_worker


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="werkplek_hour_accounting")
    parser.add_argument("command", choices=["worker", "rebuild"])
    args = parser.parse_args(argv)
    settings = AccountingSettings()
    configure_logging("hour_accounting", settings.log_level, settings.log_json)
    if args.command == "worker":
        return asyncio.run(run_worker(settings))  # serves health and metrics on the metrics port
    serve_metrics(settings.metrics_port)
    asyncio.run(run_rebuild(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
