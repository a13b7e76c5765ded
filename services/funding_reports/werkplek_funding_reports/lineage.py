"""Lineage of one figure: which (pseudonymous) students are behind it, with their confirmed time
entries and recorded assessments. The cohort is rebuilt by replaying the input topics (no group, so
nothing is committed), the same fold the worker uses, so the figure is recomputed, not guessed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiokafka import ConsumerRecord
from werkplek_events import DecodeError, decode, topic_for

from .domain.figures import Ref
from .domain.keys import ReportKey
from .domain.privacy import suppressed_cells
from .domain.pseudonym import pseudonym
from .domain.report import build_draft
from .domain.state import INPUTS, Cohort
from .domain.views import views_for
from .kafka_io import open_reader, read_to_end


async def replay(bootstrap: str, progress: Callable[[int], None] | None = None) -> Cohort:
    cohort = Cohort()

    async def apply(rec: ConsumerRecord) -> None:
        try:
            cohort.apply(decode(rec.topic, rec.value, rec.headers))
        except DecodeError:
            pass  # the worker sent it to the DLQ; it is in no figure

    consumer = await open_reader(bootstrap, [topic_for(e).name for e in INPUTS], client_id="werkplek-lineage")
    try:
        await read_to_end(consumer, apply, progress=progress)
    finally:
        await consumer.stop()
    return cohort


def explain(cohort: Cohort, key: ReportKey, ref: Ref, key_bytes: bytes, min_count: int) -> dict[str, Any]:
    """Raises KeyError when the report or the figure does not exist."""
    views = views_for(cohort, key, lambda sid: pseudonym(key_bytes, sid))
    if not views:
        raise KeyError(f"no students in report {key.report_id}")
    draft = build_draft(views)
    figure = draft.figure(ref)
    students = sorted(figure.members, key=lambda sid: pseudonym(key_bytes, sid))
    return {
        "report_id": key.report_id, "section": ref[0], "row": ref[1], "column": ref[2],
        "value": None if figure.value is None else str(figure.value),
        "suppressed_when_published": ref in suppressed_cells(draft, min_count),
        "students": [{
            "trajectory": pseudonym(key_bytes, sid),
            "confirmed_entries": [str(e) for e in cohort.confirmed_entries(sid)],
            "assessments": sorted(cohort.assessments.get(sid, {})),
        } for sid in students],
    }
