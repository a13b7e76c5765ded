"""python -m werkplek_placement_logging api | worker"""

from __future__ import annotations

import argparse
import asyncio
import sys

from werkplek_common.logs import configure_logging

from .config import SERVICE, Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="werkplek_placement_logging")
    parser.add_argument("command", choices=["api", "worker"])
    args = parser.parse_args(argv)
    cfg = Settings()
    configure_logging(SERVICE, cfg.log_level, cfg.log_json)
    if args.command == "worker":
        from . import worker

        return asyncio.run(worker.main(cfg))
    import uvicorn

    # loop/http "auto": uvloop and httptools when installed, else asyncio and h11
    uvicorn.run("werkplek_placement_logging.app:create", factory=True, host=cfg.api_host, port=cfg.api_port,
                workers=cfg.api_workers, loop="auto", http="auto", access_log=False, log_config=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
