"""Entry points:

    python -m werkplek_mentor_feedback api | worker | notifier | progress
    python -m werkplek_mentor_feedback sources add SOURCE [--secret whsec_...] [--endpoint URL]
    python -m werkplek_mentor_feedback sources list | retire SOURCE SECRET | endpoint SOURCE [URL]
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from werkplek_common.logs import configure_logging

from . import SERVICE
from .config import MentorFeedbackSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="werkplek_mentor_feedback")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("api", help="the HTTP API (webhooks, confirmation links, progress queries)")
    sub.add_parser("worker", help="consumers, outbox relay, confirmation requests, outbound webhooks")
    sub.add_parser("notifier", help="mails to mentors and coordinators (SMTP), daily digests")
    sub.add_parser("progress", help="the learning-outcome progress worker")
    src = sub.add_parser("sources", help="sending sources and their secrets").add_subparsers(dest="action",
                                                                                             required=True)
    add = src.add_parser("add", help="register a source (if new) and a secret; prints the secret")
    add.add_argument("source")
    add.add_argument("--secret", help="whsec_...; generated when omitted")
    add.add_argument("--endpoint", help="the tool's URL for outbound webhooks")
    src.add_parser("list")
    retire = src.add_parser("retire", help="remove one secret after a rotation")
    retire.add_argument("source")
    retire.add_argument("secret")
    endpoint = src.add_parser("endpoint", help="set (or clear) the outbound URL; re-enables a disabled one")
    endpoint.add_argument("source")
    endpoint.add_argument("url", nargs="?")
    return parser


async def _sources(cfg: MentorFeedbackSettings, args: argparse.Namespace) -> int:
    import asyncpg

    from . import sources

    conn = await asyncpg.connect(cfg.service_dsn)
    try:
        if args.action == "add":
            print(await sources.add_secret(conn, args.source, args.secret, args.endpoint))
        elif args.action == "retire":
            return 0 if await sources.retire_secret(conn, args.source, args.secret) else 1
        elif args.action == "endpoint":
            await sources.set_endpoint(conn, args.source, args.url)
        else:
            for r in await sources.list_sources(conn):
                state = "disabled" if r["endpoint_disabled_at"] else (r["endpoint_url"] or "-")
                print(f"{r['source_id']}\tsecrets={r['secrets']}\tmentors={r['mentors']}\tendpoint={state}")
        return 0
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    cfg = MentorFeedbackSettings()
    configure_logging(SERVICE if args.cmd != "progress" else "outcome_progress", cfg.log_level, cfg.log_json)
    if args.cmd == "sources":
        return asyncio.run(_sources(cfg, args))
    if args.cmd == "api":
        import uvicorn

        from .api import build_app

        uvicorn.run(build_app(cfg), host=cfg.mentor_api_host, port=cfg.mentor_api_port, log_config=None,
                    access_log=False)
        return 0
    if args.cmd == "worker":
        from .worker import run_worker

        return asyncio.run(run_worker(cfg))
    if args.cmd == "notifier":
        from .notifier import run_notifier

        return asyncio.run(run_notifier(cfg))
    from .progress_worker import run_progress

    return asyncio.run(run_progress(cfg))


if __name__ == "__main__":
    sys.exit(main())
