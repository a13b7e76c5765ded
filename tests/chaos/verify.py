"""What a chaos run checks and measures. The end state: every student's confirmed, pending and rejected
minutes in hour accounting's read model equal the plan's, and placement logging's ledger shows every
decision. On the way (sampled every few seconds): each consumer group's lag and the longest time it
made no progress while behind (a stall), and each producer's outbox backlog."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from tests.support import SERVICES

from .workload import Plan

# The run looks across the services as the owner (docs/adr/0009): every service's outbox and offsets.
OUTBOXES = " UNION ALL ".join(f"SELECT producer FROM {s}.outbox" for s in SERVICES)
OFFSETS = " UNION ALL ".join(f"SELECT consumer_group, topic, partition, next_offset FROM {s}.runtime_offsets"
                             for s in SERVICES)
OUTBOX_LEFT = f"SELECT count(*) FROM ({OUTBOXES}) o"
VIEW = ("hour_accounting", "placement_logging", "mentor_feedback")  # share_read_model, pl_entry, mf_sources


async def connect(dsn: str) -> asyncpg.Connection:
    """The owner's session over the schemas the run reads (the services' own tables by their names)."""
    return await asyncpg.connect(dsn, server_settings={"search_path": ", ".join(VIEW)})

DECISIONS = ("confirmed", "pending", "rejected")


async def totals(pg: asyncpg.Connection, plan: Plan) -> dict[str, tuple[int, int, int]]:
    """Hour accounting's read model: (confirmed, pending, rejected) minutes per student of the plan."""
    rows = await pg.fetch("SELECT student_id, body::text AS body FROM share_read_model WHERE student_id = ANY($1)",
                          [s.student_id for s in plan.students])
    out = {}
    for r in rows:
        doc = orjson.loads(r["body"])
        out[r["student_id"]] = (doc["confirmed_minutes"], doc["pending_minutes"], doc["rejected_minutes"])
    return out


async def ledger(pg: asyncpg.Connection, plan: Plan) -> dict[str, tuple[int, int, int]]:
    """Placement logging's ledger: entries per decision (confirmed, pending, rejected) per student."""
    rows = await pg.fetch("SELECT student_id, decision, count(*) AS n FROM pl_entry WHERE student_id = ANY($1)"
                          " AND NOT withdrawn GROUP BY 1, 2", [s.student_id for s in plan.students])
    counts: dict[str, dict[str, int]] = {}
    for r in rows:
        counts.setdefault(r["student_id"], {})[r["decision"]] = r["n"]
    return {s: tuple(c.get(d, 0) for d in DECISIONS) for s, c in counts.items()}  # type: ignore[misc]


def expected_ledger(plan: Plan) -> dict[str, tuple[int, int, int]]:
    return {s.student_id: tuple(sum(1 for e in s.entries if e.decision == d)  # type: ignore[misc]
                                for d in DECISIONS) for s in plan.students}


@dataclass
class Verdict:
    students: int
    exact_totals: int
    exact_ledger: int
    mismatches: list[dict[str, Any]]

    @property
    def exact(self) -> bool:
        return self.exact_totals == self.exact_ledger == self.students


async def judge(pg: asyncpg.Connection, plan: Plan) -> Verdict:
    want = {s.student_id: s.expected() for s in plan.students}
    got, led, want_led = await totals(pg, plan), await ledger(pg, plan), expected_ledger(plan)
    bad = [{"student": s, "expected": want[s], "read_model": got.get(s), "ledger": led.get(s),
            "ledger_expected": want_led[s]} for s in want if got.get(s) != want[s] or led.get(s) != want_led[s]]
    return Verdict(len(want), sum(got.get(s) == w for s, w in want.items()),
                   sum(led.get(s) == w for s, w in want_led.items()), bad[:10])


@dataclass
class GroupWatch:
    max_lag: int = 0
    committed: int = -1
    behind_since: float | None = None  # last progress while behind
    max_stall_s: float = 0.0

    def sample(self, now: float, committed: int, lag: int) -> None:
        self.max_lag = max(self.max_lag, lag)
        if lag <= 0:
            self.behind_since = None
        elif committed > self.committed or self.behind_since is None:
            self.behind_since = now
        else:
            self.max_stall_s = max(self.max_stall_s, now - self.behind_since)
        self.committed = max(self.committed, committed)


@dataclass
class Monitor:
    bootstrap: str
    groups: dict[str, GroupWatch] = field(default_factory=dict)
    backlog: dict[str, int] = field(default_factory=dict)  # the largest outbox backlog per producer
    samples: int = 0
    failed_samples: int = 0  # the broker restarting, say

    async def sample(self, pg: asyncpg.Connection) -> None:
        for r in await pg.fetch(f"SELECT producer, count(*) AS n FROM ({OUTBOXES}) o GROUP BY 1"):
            self.backlog[r["producer"]] = max(self.backlog.get(r["producer"], 0), r["n"])
        stored = [(r["consumer_group"], TopicPartition(r["topic"], r["partition"]), r["next_offset"])
                  for r in await pg.fetch(OFFSETS)]
        try:
            lags = await asyncio.wait_for(group_lags(self.bootstrap, stored), 20)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # the run stops the sampler
            self.failed_samples += 1  # the Kafka client's own cancellation while the broker restarts
            return
        except Exception:
            self.failed_samples += 1
            return
        now = time.monotonic()
        for group, (committed, lag) in lags.items():
            self.groups.setdefault(group, GroupWatch()).sample(now, committed, lag)
        self.samples += 1

    def figures(self) -> dict[str, Any]:
        return {"max_lag": {g: w.max_lag for g, w in sorted(self.groups.items())},
                "max_stall_s": {g: round(w.max_stall_s, 1) for g, w in sorted(self.groups.items())},
                "max_outbox_backlog": dict(sorted(self.backlog.items())),
                "samples": self.samples, "failed_samples": self.failed_samples}


async def group_lags(bootstrap: str, stored: list[tuple[str, TopicPartition, int]] | None = None,
                     ) -> dict[str, tuple[int, int]]:
    """Per consumer group: (sum of committed offsets, records behind). The stream runtime keeps its
    groups' offsets in PostgreSQL with their state (`runtime_offsets`, passed as `stored`); a group
    there counts from those, any other from its offsets committed in Kafka."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="werkplek-chaos", request_timeout_ms=5000)
    await admin.start()
    try:
        groups = [g[0] for g in await admin.list_consumer_groups()]
        offsets: dict[str, dict[TopicPartition, int]] = {}
        for g in groups:
            offsets[g] = {tp: m.offset for tp, m in (await admin.list_consumer_group_offsets(g)).items()}
        in_pg: dict[str, dict[TopicPartition, int]] = {}
        for g, tp, n in stored or []:
            in_pg.setdefault(g, {})[tp] = n
        offsets.update(in_pg)
    finally:
        await admin.close()
    parts = sorted({tp for offs in offsets.values() for tp in offs})
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await consumer.start()
    try:
        ends: dict[TopicPartition, int] = dict(await consumer.end_offsets(parts)) if parts else {}
    finally:
        await consumer.stop()
    out = {}
    for g, offs in offsets.items():
        committed = {tp: n for tp, n in offs.items() if n >= 0}
        out[g] = (sum(committed.values()), sum(max(0, ends.get(tp, 0) - n) for tp, n in committed.items()))
    return out
