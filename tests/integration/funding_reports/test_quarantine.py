"""One report that cannot be published never stops the others. A programme id of 55–64 characters
(valid for the contract, and for the API before its limits were derived from the report id) makes
`<programme>:<year>` longer than a report id may be: the worker used to raise on its own output,
crash, and crash again on every replay. Now that report is quarantined (its DLQ, a metric) and every
other report, the institution's roll-up included, keeps being published."""

from __future__ import annotations

import json

from prometheus_client import REGISTRY
from werkplek_events import FundingReportPublished, topic_for
from werkplek_events.limits import ID_MAX, institution_report_id, programme_report_id

from tests.support import read_until
from tests.unit.funding_reports.story import Story, short

from .conftest import cell, published_while_running, send
from .test_worker import M, N, cohort_events


def quarantined(error: str) -> float:
    return REGISTRY.get_sample_value("werkplek_report_quarantines_total", {"error": error}) or 0.0


async def test_a_report_id_that_does_not_fit_quarantines_that_report_only(stack, producer, pg, start_worker):
    normal = Story()
    # 60 characters, from before the limits; its own id each run (a programme registered again in another
    # institution would take the students of earlier runs along, the topics keep them)
    legacy = Story(inst=normal.inst, prog=f"p-{short()}-" + "x" * 47)
    overflowing = programme_report_id(legacy.prog, legacy.year)
    assert len(overflowing) > ID_MAX
    before = quarantined("ValidationError")
    worker = await start_worker([normal.inst])
    await send(producer, [legacy.programme(), *(legacy.enrol(f"s-{short()}") for _ in range(N))])
    await send(producer, cohort_events(normal))

    report = await published_while_running(worker, stack.kafka_bootstrap,
                                           programme_report_id(normal.prog, normal.year),
                                           lambda r: cell(r, "target_groups", "all", "students").value == N + M)
    assert report.programme_id == normal.prog
    roll = await published_while_running(worker, stack.kafka_bootstrap,
                                         institution_report_id(normal.inst, normal.year),
                                         lambda r: cell(r, "target_groups", "all", "students").value == N + M + N)
    assert roll.programme_id is None  # the roll-up still counts the quarantined programme's students

    dlq = topic_for(FundingReportPublished).dlq
    assert dlq is not None
    records = await read_until(stack.kafka_bootstrap, [dlq], lambda rs: any(r.key == overflowing.encode() for r in rs))
    dead = next(r for r in records if r.key == overflowing.encode())
    headers = {k: v.decode() for k, v in dead.headers}
    assert headers["dlq_error_type"] == "ValidationError" and "report_id" in headers["dlq_error"]
    assert headers["dlq_consumer"] == "funding-reports"
    assert json.loads(dead.value)["programme_id"] == legacy.prog
    # its report of the year and of the year its cohort closes (success is reported then): both ids overflow
    assert quarantined("ValidationError") == before + 2
    # one report set aside, not the unit: the runtime quarantined no key of either stage
    groups = [worker.cfg.consumer_group, worker.cfg.members_consumer_group]
    assert await pg.fetchval("SELECT count(*) FROM runtime_quarantine WHERE consumer_group = ANY($1)", groups) == 0

    # more input for the quarantined programme, sent first (so recomputed no later than the other):
    # no second DLQ record, no crash, the other report follows its input
    await send(producer, [legacy.enrol(f"s-{short()}"), normal.enrol(f"{normal.prog}-late")])
    await published_while_running(worker, stack.kafka_bootstrap, programme_report_id(normal.prog, normal.year),
                                  lambda r: cell(r, "target_groups", "all", "students").value == N + M + 1)
    assert quarantined("ValidationError") == before + 2
