"""Operator commands: `topics` (create from the registry), `migrate`, `status`, and the stream
runtime's quarantine (keys whose handling failed: their records go to the DLQ until released).

    python -m werkplek_common.cli topics | migrate | status [--watch SECONDS]
    python -m werkplek_common.cli quarantine [GROUP] | release GROUP KEY
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from werkplek_events import all_topic_names

from .db import discover, migrate
from .kafka import ensure_topics
from .settings import CommonSettings


async def cmd_topics(cfg: CommonSettings) -> int:
    result = await ensure_topics(cfg.kafka_bootstrap)
    counts = {k: sum(1 for v in result.values() if v == k) for k in ("created", "updated", "unchanged")}
    print(f"topics: {len(result)} in registry; " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    return 0


async def cmd_migrate(cfg: CommonSettings) -> int:
    applied = await migrate(cfg.pg_dsn, cfg.migrations_root)
    print(f"migrations: {len(applied)} applied" + (f" ({', '.join(applied)})" if applied else ", schema up to date"))
    return 0


async def _kafka_status(cfg: CommonSettings) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=cfg.kafka_bootstrap, request_timeout_ms=3000)
    try:
        await asyncio.wait_for(admin.start(), 5)
    except Exception:
        return "kafka DOWN"
    consumer = AIOKafkaConsumer(bootstrap_servers=cfg.kafka_bootstrap, request_timeout_ms=3000)
    try:
        wanted = all_topic_names()
        present = [t for t in await admin.list_topics() if t in set(wanted)]
        described = await admin.describe_topics(present) if present else []
        parts = [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]
        await consumer.start()
        consumer.assign(parts)  # end_offsets needs metadata for the partitions: assigning fetches it
        ends = await consumer.end_offsets(parts) if parts else {}
        return f"kafka up, topics {len(present)}/{len(wanted)}, {sum(ends.values())} events"
    except Exception as exc:  # leaders still being elected, a broker restart: say so, keep watching
        return f"kafka up, offsets unavailable ({type(exc).__name__})"
    finally:
        await consumer.stop()
        await admin.close()


async def _pg_status(cfg: CommonSettings) -> str:
    try:
        conn = await asyncio.wait_for(asyncpg.connect(cfg.pg_dsn), 5)
    except Exception:
        return "postgres DOWN"
    try:
        applied = await conn.fetchval("SELECT count(*) FROM schema_migrations")
        backlog = await conn.fetchval("SELECT count(*) FROM outbox")
        return f"postgres up, migrations {applied}/{len(discover(cfg.migrations_root))}, outbox backlog {backlog}"
    except asyncpg.UndefinedTableError:
        return "postgres up, migrations not applied"
    finally:
        await conn.close()


async def cmd_quarantine(cfg: CommonSettings, group: str | None) -> int:
    conn = await asyncpg.connect(cfg.pg_dsn)
    try:
        rows = await conn.fetch("SELECT consumer_group, key, records, since, reason FROM runtime_quarantine"
                                " WHERE $1::text IS NULL OR consumer_group = $1 ORDER BY since", group)
    finally:
        await conn.close()
    for r in rows:
        print(f"{r['consumer_group']}\t{r['key']}\t{r['records']} records\tsince {r['since']:%Y-%m-%d %H:%M}"
              f"\t{r['reason']}")
    return 0


async def cmd_release(cfg: CommonSettings, group: str, key: str) -> int:
    """The key is handled again from its next record on (a running worker reads the quarantine when
    it is assigned its partitions: restart it). Its records on the DLQ stay there; republish them to
    their source topics if they should count (headers dlq_source_topic/partition/offset)."""
    conn = await asyncpg.connect(cfg.pg_dsn)
    try:
        done = await conn.execute("DELETE FROM runtime_quarantine WHERE consumer_group = $1 AND key = $2", group, key)
    finally:
        await conn.close()
    if done.endswith(" 0"):
        print(f"no quarantined key {key!r} in {group!r}", file=sys.stderr)
        return 3
    print(f"released {key!r} of {group!r}; restart the worker to take it up again")
    return 0


async def cmd_status(cfg: CommonSettings, watch: float) -> int:
    while True:
        kafka, pg = await asyncio.gather(_kafka_status(cfg), _pg_status(cfg))
        line = f"{time.strftime('%H:%M:%S')}  {kafka} | {pg}"
        if not watch:
            print(line)
            return 0 if "DOWN" not in line else 1
        print("\r" + line.ljust(110), end="", flush=True, file=sys.stdout)
        await asyncio.sleep(watch)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="werkplek-stack")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("topics", help="create or reconcile every topic of the registry (idempotent)")
    sub.add_parser("migrate", help="apply pending SQL migrations (each once)")
    status = sub.add_parser("status", help="one status line of the stack")
    status.add_argument("--watch", type=float, default=0, help="refresh every N seconds")
    quarantine = sub.add_parser("quarantine", help="the keys consumers quarantined, with the reason")
    quarantine.add_argument("group", nargs="?", help="one consumer group only")
    release = sub.add_parser("release", help="release a quarantined key of a consumer group")
    release.add_argument("group")
    release.add_argument("key")
    args = parser.parse_args(argv)
    cfg = CommonSettings()
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # a broker still electing leaders is not news here
    if args.cmd == "topics":
        return asyncio.run(cmd_topics(cfg))
    if args.cmd == "migrate":
        return asyncio.run(cmd_migrate(cfg))
    if args.cmd == "quarantine":
        return asyncio.run(cmd_quarantine(cfg, args.group))
    if args.cmd == "release":
        return asyncio.run(cmd_release(cfg, args.group, args.key))
    try:
        return asyncio.run(cmd_status(cfg, args.watch))
    except KeyboardInterrupt:
        print()
        return 0


if __name__ == "__main__":
    sys.exit(main())
