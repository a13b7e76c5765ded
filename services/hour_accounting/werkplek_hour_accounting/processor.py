"""Hour accounting as a processor of the stream runtime (werkplek_common.runtime): per student, the
pure accounting step (process.py) over the state the runtime keeps in PostgreSQL (statecodec.py),
ShareUpdated and StudentRiskStatusChanged to the outbox, the latest share to `share_read_model`, all
in the runtime's one transaction per chunk. The state is tagged with the programme of the current
enrolment, so a programme that arrives or changes re-evaluates exactly its students; the period is
the accounting day, so each day every student is evaluated once on the new date (targets to date,
projections and statuses move without any event)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import asyncpg
from werkplek_common.runtime import Context, Processor
from werkplek_events import Event, ShareUpdated, StudentRiskStatusChanged, topic_for

from . import metrics, statecodec
from .domain import STUDENT_EVENTS, Programme, StudentState, new_state
from .process import BatchResult, account_student
from .readmodel import upsert_shares

INPUT_TOPICS = [topic_for(cls).name for cls in STUDENT_EVENTS]
SOURCE = "/werkplek/hour-accounting"  # ce_source of the outputs: this, "/", the consumer group


def programme_tag(programme_id: str) -> str:
    return f"programme:{programme_id}"


class Accounting(Processor[StudentState]):
    topics = INPUT_TOPICS

    def __init__(self, group: str, programmes: Mapping[str, Programme], today: Callable[[], date], *,
                 rebuild: bool = False) -> None:
        self.name, self.source = group, f"{SOURCE}/{group}"
        self.programmes, self.today, self.rebuild = programmes, today, rebuild

    def initial(self, key: str) -> StudentState:
        return new_state(key)

    def handle(self, state: StudentState, events: Sequence[Event], ctx: Context) -> tuple[StudentState, list[Event]]:
        result = BatchResult()
        account_student(state, list(events), self.programmes, ctx.today, result, force=ctx.reevaluate)
        new = result.states.get(state.student_id)
        if new is None:
            return state, []
        return new, [*result.updates, *result.risks]

    def dump(self, state: StudentState) -> bytes:
        return statecodec.dump(state)

    def load(self, key: str, blob: bytes) -> StudentState:
        return statecodec.load(key, blob)

    def tags(self, state: StudentState) -> Iterable[str]:
        enrolment = state.current_enrolment()
        return (programme_tag(enrolment.programme_id),) if enrolment else ()

    def period(self, now: datetime) -> str:
        return self.today().isoformat()

    async def write(self, conn: asyncpg.Connection, outputs: Sequence[Any], ctx: Context) -> None:
        await upsert_shares(conn, [o for o in outputs if isinstance(o, ShareUpdated)], force=ctx.rebuild)

    def committed(self, outputs: Sequence[Any]) -> None:
        if self.rebuild or not outputs:
            return
        risks = [o for o in outputs if isinstance(o, StudentRiskStatusChanged)]
        metrics.SHARES.inc(len(outputs) - len(risks))
        for risk in risks:
            metrics.RISKS.labels(str(risk.worsened).lower()).inc()
