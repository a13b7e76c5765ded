"""Operator commands: `topics` (create from the registry), `migrate`, `status`, `urls`, and the
stream runtime's quarantine (keys whose handling failed: their records go to the DLQ until released).

    python -m werkplek_common.cli topics | migrate | status [--watch SECONDS] | urls
    python -m werkplek_common.cli quarantine [GROUP] | release GROUP KEY
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from dataclasses import dataclass

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from werkplek_events import FundingReportPublished, all_topic_names, topic_for

from .db import discover, migrate, services
from .kafka import client_options, ensure_topics
from .settings import CommonSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Watched:
    """A service `make run` starts (infra/Procfile), where it answers, and the consumer group it uses."""

    name: str
    port: int  # its HTTP port (APIs) or metrics port (workers), as infra/Procfile and prometheus.yml set them
    group: str | None = None


WATCHED = (
    Watched("placement-api", 8001),
    Watched("placement-worker", 9101, "placement_logging-decisions"),
    Watched("hour-accounting", 9102, "werkplek-hour-accounting"),
    Watched("mentor-api", 8002),
    Watched("mentor-worker", 9103, "mentor-feedback"),
    Watched("outcome-progress", 9105, "werkplek-outcome-progress"),
    Watched("funding-reports", 9104, "werkplek-funding-reports"),
)
REPORTS_TOPIC = topic_for(FundingReportPublished).name


@dataclass(frozen=True)
class Link:
    """A page a person opens while `make run` is up."""

    what: str
    url: str


def links(cfg: CommonSettings) -> list[Link]:
    """Every URL a newcomer needs. Other parts (the app's proxy, the mail catcher, the IdP) add a row here."""
    prom = cfg.prom_port
    return [Link("placement API docs", "http://127.0.0.1:8001/docs"),
            Link("mentor API docs", "http://127.0.0.1:8002/docs"),
            Link("Prometheus (alerts, queries)", f"http://127.0.0.1:{prom}"),
            Link("Prometheus targets (is every service scraped?)", f"http://127.0.0.1:{prom}/targets")]


def cmd_urls(cfg: CommonSettings) -> int:
    rows = links(cfg)
    width = max(len(r.what) for r in rows)
    for r in rows:
        print(f"  {r.what.ljust(width)}  {r.url}")
    return 0


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
    admin = AIOKafkaAdminClient(bootstrap_servers=cfg.kafka_bootstrap, request_timeout_ms=3000, **client_options())
    try:
        await asyncio.wait_for(admin.start(), 5)
    except Exception:
        return "kafka DOWN"
    consumer = AIOKafkaConsumer(bootstrap_servers=cfg.kafka_bootstrap, request_timeout_ms=3000, **client_options())
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
        # as the owner: every service's schema (each keeps its own ledger and outbox, docs/adr/0009)
        schemas = services(cfg.migrations_root)
        applied = backlog = 0
        for schema in [*schemas, "keys"]:
            applied += await conn.fetchval(f"SELECT count(*) FROM {schema}.schema_migrations")  # noqa: S608 (a service folder's name)
        for schema in schemas:
            backlog += await conn.fetchval(f"SELECT count(*) FROM {schema}.outbox")  # noqa: S608 (a service folder's name)
        found = discover(cfg.migrations_root)  # common's count once per service schema
        wanted = sum(len(schemas) if m.service == "common" and not m.shared_schema else 1 for m in found)
        return f"postgres up, migrations {applied}/{wanted}, outbox backlog {backlog}"
    except asyncpg.UndefinedTableError:
        return "postgres up, migrations not applied"
    finally:
        await conn.close()


async def cmd_quarantine(cfg: CommonSettings, group: str | None) -> int:
    conn = await asyncpg.connect(cfg.pg_dsn)
    try:
        query = " UNION ALL ".join(  # every service's schema has its quarantine (service folders' names)
            f"SELECT consumer_group, key, records, since, reason FROM {schema}.runtime_quarantine"  # noqa: S608
            " WHERE $1::text IS NULL OR consumer_group = $1" for schema in services(cfg.migrations_root))
        rows = await conn.fetch(query + " ORDER BY since", group)
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
        done = " 0"
        for schema in services(cfg.migrations_root):  # a group's quarantine is in its service's schema
            found = await conn.execute(f"DELETE FROM {schema}.runtime_quarantine WHERE consumer_group = $1"  # noqa: S608
                                       " AND key = $2", group, key)
            done = found if not found.endswith(" 0") else done
    finally:
        await conn.close()
    if done.endswith(" 0"):
        print(f"no quarantined key {key!r} in {group!r}", file=sys.stderr)
        return 3
    print(f"released {key!r} of {group!r}; restart the worker to take it up again")
    return 0
async def _service_state(client: httpx.AsyncClient, service: Watched) -> str:
    """up (its /readyz answers 200), not ready (it answers otherwise: a worker not yet in its group,
    fenced or stuck), or DOWN (nothing listens: the process is gone)."""
    try:
        r = await client.get(f"http://127.0.0.1:{service.port}/readyz")
    except httpx.HTTPError:
        return "DOWN"
    return "up" if r.status_code == 200 else f"not ready ({r.status_code})"


async def _lags(cfg: CommonSettings, watched: tuple[Watched, ...]) -> dict[str, int | None]:
    """Each watched group's lag: records on the broker it has not committed (None: not known yet)."""
    groups = [s.group for s in watched if s.group]
    out: dict[str, int | None] = dict.fromkeys(groups)
    admin = AIOKafkaAdminClient(bootstrap_servers=cfg.kafka_bootstrap, request_timeout_ms=3000, **client_options())
    consumer = AIOKafkaConsumer(bootstrap_servers=cfg.kafka_bootstrap, request_timeout_ms=3000, **client_options())
    try:
        await asyncio.wait_for(admin.start(), 5)
        committed = {g: await admin.list_consumer_group_offsets(g) for g in groups}
        parts = sorted({tp for offsets in committed.values() for tp in offsets})
        await consumer.start()
        consumer.assign(parts)
        ends = await consumer.end_offsets(parts) if parts else {}
        for g, offsets in committed.items():
            if offsets:
                out[g] = sum(max(0, ends[tp] - meta.offset) for tp, meta in offsets.items() if tp in ends)
    except Exception as exc:  # the broker down or electing: the services' lines still say what they can
        log.debug("consumer lag unavailable: %s", exc)
    finally:
        await consumer.stop()
        await admin.close()
    return out


async def _outcomes(cfg: CommonSettings) -> str:
    """What the system has produced: students with a share, report versions published."""
    shares: object = "?"
    try:
        conn = await asyncio.wait_for(asyncpg.connect(cfg.pg_dsn), 5)
        try:
            shares = await conn.fetchval("SELECT count(*) FROM hour_accounting.share_read_model")
        finally:
            await conn.close()
    except Exception as exc:  # postgres down or not migrated: its own part of the line says which
        log.debug("shares unavailable: %s", exc)
    reports: object = "?"
    consumer = AIOKafkaConsumer(bootstrap_servers=cfg.kafka_bootstrap, request_timeout_ms=3000, **client_options())
    try:
        await asyncio.wait_for(consumer.start(), 5)
        parts = [TopicPartition(REPORTS_TOPIC, p) for p in consumer.partitions_for_topic(REPORTS_TOPIC) or ()]
        consumer.assign(parts)
        reports = sum((await consumer.end_offsets(parts)).values()) if parts else 0
    except Exception as exc:
        log.debug("report offsets unavailable: %s", exc)
    finally:
        await consumer.stop()
    return f"students with a share {shares} | report versions published {reports}"


async def status_lines(cfg: CommonSettings, watched: tuple[Watched, ...] = WATCHED) -> list[str]:
    """The status block: the stack, then one line per service (up / not ready / DOWN, lag), then outcomes."""
    async with httpx.AsyncClient(timeout=1.5) as client:
        (kafka, pg, outcomes), lags, states = await asyncio.gather(
            asyncio.gather(_kafka_status(cfg), _pg_status(cfg), _outcomes(cfg)), _lags(cfg, watched),
            asyncio.gather(*(_service_state(client, s) for s in watched)))
    width = max(len(s.name) for s in watched)
    lines = [f"{time.strftime('%H:%M:%S')}  {kafka} | {pg}"]
    for service, state in zip(watched, states, strict=True):
        known = lags.get(service.group) if service.group else None
        lag = "" if service.group is None else f"  lag {'?' if known is None else known}"
        lines.append(f"  {service.name.ljust(width)}  {state}{lag}")
    lines.append(f"  {outcomes}")
    return lines


async def cmd_status(cfg: CommonSettings, watch: float) -> int:
    shown = 0
    while True:
        lines = await status_lines(cfg)
        if not watch:
            print("\n".join(lines))
            return 1 if "DOWN" in lines[0] else 0  # the stack's state; services may simply not be started
        # redraw the block in place: up to its first line, then each line cleared and written again
        up = f"\x1b[{shown}F" if shown else ""
        print(up + "\n".join(f"\x1b[2K{line}" for line in lines), flush=True, file=sys.stdout)
        shown = len(lines)
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
    sub.add_parser("urls", help="every URL a person needs while make run is up")
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
    if args.cmd == "urls":
        return cmd_urls(cfg)
    try:
        return asyncio.run(cmd_status(cfg, args.watch))
    except KeyboardInterrupt:
        print()
        return 0


if __name__ == "__main__":
    sys.exit(main())
