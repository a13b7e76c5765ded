"""As-of by replay on the real broker: the report of a programme as it was at the instant of a
snapshot, recomputed from the input topics by the worker's own code path, is that snapshot; the CLI
exports it; a report that did not exist then, or never, is exit code 3."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from decimal import Decimal as D

from werkplek_events import Event, FundingReportSnapshotted, decode
from werkplek_funding_reports.book import SNAPSHOTS
from werkplek_funding_reports.config import Settings
from werkplek_funding_reports.domain.keys import ReportKey
from werkplek_funding_reports.domain.pseudonym import pseudonym
from werkplek_funding_reports.domain.publication import publication_set
from werkplek_funding_reports.domain.state import Cohort
from werkplek_funding_reports.replay import recompute, replay

from tests.support import read_until
from tests.unit.funding_reports.story import Story

from .conftest import run_cli, send, wait_for_report


def expected(events: list[Event], key: ReportKey) -> list:
    """The sections the worker must publish once it has read `events` (computed here, in process)."""
    cohort = Cohort()
    for e in events:
        cohort.apply(e)
    key_bytes = Settings().pseudonym_key
    return publication_set(cohort, key.set_key, lambda s: pseudonym(key_bytes, s), 5).reports[key]


def cohort(story: Story) -> list[Event]:
    events: list[Event] = [story.programme()]
    for n in range(6):
        events += [*story.dual_trajectory(f"{story.prog}-s{n}", 20_000 + 5_000 * n),
                   story.credits(f"{story.prog}-s{n}", 60, 50 + n)]
    for n in range(5):
        events += [story.enrol(f"{story.prog}-n{n}", status="working_student"), story.credits(f"{story.prog}-n{n}")]
    return events


async def snapshot_of(stack, story: Story) -> FundingReportSnapshotted:
    code, out, err = await run_cli("snapshot", "--programme", story.prog, "--year", story.year, "--label",
                                   f"audit-{uuid.uuid4().hex[:6]}", bootstrap=stack.kafka_bootstrap)
    assert code == 0, err
    sid = out.strip().encode()
    records = await read_until(stack.kafka_bootstrap, [SNAPSHOTS], lambda rs: any(r.key == sid for r in rs))
    snap = next(decode(r.topic, r.value, r.headers) for r in records if r.key == sid)
    assert isinstance(snap, FundingReportSnapshotted)
    return snap


async def test_as_of_the_instant_of_a_snapshot_is_that_snapshot(stack, producer, start_worker, tmp_path):
    story = Story()
    key = ReportKey(story.inst, story.prog, story.year)
    await start_worker([story.inst])
    events = cohort(story)
    await send(producer, events)
    want = expected(events, key)
    first = await wait_for_report(stack.kafka_bootstrap, key.report_id, lambda r: r.sections == want)
    snap = await snapshot_of(stack, story)
    assert snap.version == first.version

    later = [story.enrol(f"{story.prog}-late", status="side_entrant"), story.credits(f"{story.prog}-late", 40, 40)]
    await send(producer, later)
    newer = await wait_for_report(stack.kafka_bootstrap, key.report_id,
                                  lambda r: r.sections == expected(events + later, key))
    assert newer.sections != snap.sections

    cfg = Settings()
    then, mark = await replay(stack.kafka_bootstrap, snap.occurred_at)
    again = recompute(then, mark, key, cfg.pseudonym_key, cfg.reports_min_count, snap.occurred_at, snap.version)
    assert again is not None and again.sections == snap.sections
    now, mark = await replay(stack.kafka_bootstrap, datetime.now(UTC))
    assert recompute(now, mark, key, cfg.pseudonym_key, 5, datetime.now(UTC), 1).sections == newer.sections  # type: ignore[union-attr]

    out = tmp_path / "as-of.csv"
    code, _, err = await run_cli("export", "--programme", story.prog, "--year", story.year, "--as-of",
                                 snap.occurred_at.isoformat(), "--out", str(out), bootstrap=stack.kafka_bootstrap)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    meta = {r["row"]: r["value"] for r in rows if r["section"] == "report"}
    assert meta["as_of"] == snap.occurred_at.isoformat() and meta["version"] == str(snap.version)
    figures = {(r["section"], r["row"], r["column"]): (D(r["value"]) if r["value"] else None, r["suppressed"] == "yes")
               for r in rows if r["section"] != "report"}
    assert figures == {(s.name, r.label, c): (v.value, v.suppressed) for s in snap.sections for r in s.rows
                       for c, v in r.cells.items()}


async def test_as_of_a_report_that_did_not_exist_then_or_never_is_not_found(stack, producer, start_worker):
    story = Story()
    await start_worker([story.inst])
    await send(producer, cohort(story))
    await wait_for_report(stack.kafka_bootstrap, f"{story.prog}:{story.year}", lambda r: True)
    code, out, err = await run_cli("show", "--programme", story.prog, "--year", story.year, "--as-of",
                                   "2020-01-01", bootstrap=stack.kafka_bootstrap)
    assert code == 3 and "as of 2020-01-02T00:00:00+00:00" in err and out == ""
    code, _, err = await run_cli("show", "--programme", f"nope-{uuid.uuid4().hex[:6]}", "--year", story.year,
                                 "--as-of", datetime.now(UTC).isoformat(), bootstrap=stack.kafka_bootstrap)
    assert code == 3 and "no funding report" in err
    code, _, err = await run_cli("show", "--programme", story.prog, "--year", story.year, "--as-of", "yesterday",
                                 bootstrap=stack.kafka_bootstrap)
    assert code == 2 and "is not a date" in err
