"""A worker on the stream runtime as a process of its own, for tests that pause (SIGSTOP) and resume
it: `python -m tests.integration.runtime_process NAME GROUP OUT_TOPIC PAUSE_FILE METRICS_PORT [KIND]`.

Its processor, `Tally`, keeps per student the phases enrolled in and who handled them (NAME), writes
them to the read model `test_runtime_fencing` and publishes one record per event on OUT_TOPIC (through
the outbox), all in the runtime's one transaction. A step that meets a student whose id ends in
"-pause" while PAUSE_FILE exists removes the file and stops its own process (SIGSTOP) right there,
in the middle of a batch: resumed, it goes on and commits that batch, by then a stale one.

KIND `decisions` runs placement logging's own decisions consumer instead (its `write` applies the
mentors' decisions to the ledger), with the same pause for an entry of a student ending in "-pause"."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
from werkplek_common.logs import configure_logging
from werkplek_common.runtime import Context, Options, Processor, Worker
from werkplek_common.settings import CommonSettings
from werkplek_events import Event, KafkaRecord, StudentEnrolled, topic_for
from werkplek_placement_logging.decisions import Decisions

from tests.support import COMMON_TABLES_IN, dsn_of

TOPIC = topic_for(StudentEnrolled).name
SESSION_TIMEOUT_S = 6.0  # the broker's smallest (group.min.session.timeout.ms): the test waits it out
State = tuple[tuple[int, ...], str]


class Tally(Processor[State]):
    topics = [TOPIC]

    def __init__(self, group: str, me: str, out_topic: str, pause_file: Path) -> None:
        self.name, self.source, self.me, self.out, self.pause_file = group, f"/test/{me}", me, out_topic, pause_file

    def initial(self, key: str) -> State:
        return (), ""

    def handle(self, state: State, events: Sequence[Event], ctx: Context) -> tuple[State, list[Any]]:
        mine = [e for e in events if isinstance(e, StudentEnrolled)]
        if mine and mine[0].student_id.endswith("-pause") and self.pause_file.exists():
            self.pause_file.unlink()
            os.kill(os.getpid(), signal.SIGSTOP)  # frozen here until the test resumes it
        phases = state[0] + tuple(e.phase for e in mine)
        outputs = [KafkaRecord(self.out, e.student_id.encode(), f"{e.event_id}:{self.me}".encode(), [])
                   for e in mine]
        return (phases, self.me), outputs

    def dump(self, state: State) -> bytes:
        return f"{','.join(map(str, state[0]))}|{state[1]}".encode()

    def load(self, key: str, blob: bytes) -> State:
        phases, me = blob.decode().split("|")
        return tuple(int(p) for p in phases.split(",") if p), me

    async def write(self, conn: asyncpg.Connection, outputs: Sequence[Any], ctx: Context) -> None:
        rows = [(r.key.decode(), r.value.decode().split(":")[1]) for r in outputs if isinstance(r, KafkaRecord)]
        await conn.executemany("INSERT INTO test_runtime_fencing (student_id, handled_by, events) VALUES ($1, $2, 1)"
                               " ON CONFLICT (student_id) DO UPDATE SET handled_by = excluded.handled_by,"
                               " events = test_runtime_fencing.events + 1", rows)


class PausingDecisions(Decisions):
    """Placement logging's decisions consumer, frozen once in the middle of a batch (see above)."""

    def __init__(self, group: str, pause_file: Path) -> None:
        super().__init__(group)
        self.pause_file = pause_file

    def handle(self, state: None, events: Sequence[Event], ctx: Context) -> tuple[None, Sequence[Event]]:
        if any(getattr(e, "student_id", "").endswith("-pause") for e in events) and self.pause_file.exists():
            self.pause_file.unlink()
            os.kill(os.getpid(), signal.SIGSTOP)
        return super().handle(state, events, ctx)


async def main(me: str, group: str, out_topic: str, pause_file: Path, port: int, kind: str = "tally") -> int:
    cfg = CommonSettings()
    worker = Worker(group, kafka_bootstrap=cfg.kafka_bootstrap, pg_dsn=dsn_of(cfg, COMMON_TABLES_IN), metrics_port=port,
                    limits=cfg.pg_limits, lease_s=cfg.outbox_lease_s)
    processor: Processor[Any] = (PausingDecisions(group, pause_file) if kind == "decisions"
                                 else Tally(group, me, out_topic, pause_file))
    worker.consumer(processor,
                    Options(group=group, session_timeout_s=SESSION_TIMEOUT_S, fetch_wait_ms=100),
                    outbox_producer=group)
    worker.relay(group)
    return await worker.run()


if __name__ == "__main__":
    configure_logging("runtime-test", "INFO", False)
    name, grp, out, pause, metrics_port = sys.argv[1:6]
    sys.exit(asyncio.run(main(name, grp, out, Path(pause), int(metrics_port), *sys.argv[6:7])))
