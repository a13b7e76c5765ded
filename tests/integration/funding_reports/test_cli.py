"""The staff CLI against the real broker: list, show, export (CSV round-trip, XLSX), bad input,
snapshots that never change, and the lineage of a figure."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook
from werkplek_events import Event, FundingReportSnapshotted, decode
from werkplek_funding_reports.book import SNAPSHOTS

from tests.support import read_until
from tests.unit.funding_reports.story import Story

from .conftest import cell, run_cli, send, wait_for_report

N = 6


@pytest.fixture
async def ready(stack, producer, start_worker):
    """A worker (monthly snapshots), and a programme report with N dual students (one of them with a
    confirmed entry)."""
    story = Story()
    worker = await start_worker([story.inst], reports_snapshot_every="month")
    events: list[Event] = [story.programme()]
    for n in range(N):
        events += story.dual_trajectory(f"{story.prog}-s{n}")
    events += [story.enrol(f"{story.prog}-n{n}") for n in range(5)]  # non-dual: the dual count stays visible
    entry = uuid.uuid4()
    events += [*story.worked(f"{story.prog}-s0", f"pl-{story.prog}-s0", entry),
               story.assessed(f"{story.prog}-s0", f"pl-{story.prog}-s0", f"as-{story.prog}")]
    await send(producer, events)
    rid = f"{story.prog}:{story.year}"
    report = await wait_for_report(stack.kafka_bootstrap, rid,
                                   lambda r: cell(r, "target_groups", "all", "dual_track").value == N)
    return story, worker, report, entry


async def cli(stack, *args: str) -> tuple[int, str, str]:
    return await run_cli(*args, bootstrap=stack.kafka_bootstrap)


async def test_list_and_show(stack, ready):
    story, _, report, _ = ready
    code, out, err = await cli(stack, "list")
    assert code == 0 and report.report_id in out and "reading" in err
    code, out, _ = await cli(stack, "show", "--programme", story.prog, "--year", story.year)
    assert code == 0 and "== dual_criteria" in out and f"report_id: {report.report_id}" in out


async def test_unknown_programme_or_year_is_a_clear_error(stack, ready):
    story, *_ = ready
    code, out, err = await cli(stack, "show", "--programme", f"nope-{uuid.uuid4().hex[:6]}", "--year", story.year)
    assert code == 3 and "no funding report" in err and out == ""
    code, _, err = await cli(stack, "export", "--programme", story.prog, "--year", "2030-2031", "--out", "/tmp/x.csv")
    assert code == 3 and f"it has reports for {story.year}" in err


async def test_csv_export_has_a_bom_and_round_trips(stack, ready, tmp_path):
    story, _, report, _ = ready
    out = tmp_path / "report.csv"
    code, _, err = await cli(stack, "export", "--programme", story.prog, "--year", story.year,
                             "--format", "csv", "--out", str(out))
    assert code == 0, err
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    figures = {(r["section"], r["row"], r["column"]): r for r in rows if r["section"] != "report"}
    expected = {(s.name, r.label, c): v for s in report.sections for r in s.rows for c, v in r.cells.items()}
    assert figures.keys() == expected.keys()
    for ref, c in expected.items():
        got = figures[ref]
        assert (D(got["value"]) if got["value"] else None) == c.value, ref
        assert (got["suppressed"] == "yes") == c.suppressed and (got["reason"] or None) == c.reason, ref


async def test_xlsx_export_has_one_sheet_per_section(stack, ready, tmp_path):
    story, _, report, _ = ready
    out = tmp_path / "report.xlsx"
    code, _, err = await cli(stack, "export", "--programme", story.prog, "--year", story.year,
                             "--format", "xlsx", "--out", str(out))
    assert code == 0, err
    wb = load_workbook(out)
    assert wb.sheetnames == ["report", *(s.name for s in report.sections)]
    ws = wb["target_groups"]
    header = [c.value for c in ws[1]]
    all_row = next(r for r in ws.iter_rows(values_only=True) if r[0] == "all")
    assert all_row[header.index("dual_track")] == N
    assert list(tmp_path.iterdir()) == [out]


async def test_unwritable_path_leaves_no_file(stack, ready, tmp_path):
    story, *_ = ready
    base = ["export", "--programme", story.prog, "--year", story.year, "--format", "xlsx", "--out"]
    code, _, err = await cli(stack, *base, str(tmp_path / "missing" / "r.xlsx"))
    assert code == 4 and "does not exist" in err
    target = tmp_path / "a-directory"
    target.mkdir()
    code, _, err = await cli(stack, *base, str(target))
    assert code == 4 and "cannot write" in err
    assert list(tmp_path.iterdir()) == [target] and list(target.iterdir()) == []


async def test_snapshots_never_change(stack, producer, ready):
    story, _, report, _ = ready
    label = f"audit-{uuid.uuid4().hex[:6]}"
    code, out, err = await cli(stack, "snapshot", "--programme", story.prog, "--year", story.year, "--label", label)
    assert code == 0, err
    sid = out.strip()
    code, _, err = await cli(stack, "snapshot", "--programme", story.prog, "--year", story.year, "--label", label)
    assert code == 1 and "never changed" in err

    await send(producer, [story.enrol(f"{story.prog}-late")])
    newer = await wait_for_report(stack.kafka_bootstrap, report.report_id, lambda r: r.version > report.version)
    month = f"{datetime.now(UTC):%Y-%m}"
    scheduled = {f"{report.report_id}:{month}", f"inst:{story.inst}:{story.year}:{month}"}  # programme and roll-up
    recs = await read_until(stack.kafka_bootstrap, [SNAPSHOTS], lambda rs: {r.key for r in rs} >= {
        k.encode() for k in {sid, *scheduled}})
    mine = [decode(r.topic, r.value, r.headers) for r in recs if r.key == sid.encode()]
    assert len(mine) == 1 and isinstance(mine[0], FundingReportSnapshotted)
    assert mine[0].version == report.version < newer.version and mine[0].sections == report.sections
    assert sorted(r.key.decode() for r in recs if r.key.decode() in scheduled) == sorted(scheduled)  # once each

    code, out, _ = await cli(stack, "show", "--programme", story.prog, "--year", story.year, "--snapshot", sid)
    assert code == 0 and f"snapshot_id: {sid}" in out and f"version: {report.version}\n" in out
    code, _, err = await cli(stack, "show", "--programme", story.prog, "--year", story.year, "--snapshot", "nope")
    assert code == 3 and "no snapshot" in err


async def test_lineage_names_pseudonymous_students_and_their_evidence(stack, ready):
    story, _, _, entry = ready
    code, out, err = await cli(stack, "lineage", "--programme", story.prog, "--year", story.year,
                               "target_groups", "all", "dual_track")
    assert code == 0, err
    answer = json.loads(out)
    assert answer["value"] == str(N) and len(answer["students"]) == N and not answer["suppressed_when_published"]
    assert all(s["trajectory"].startswith("t-") and story.prog not in s["trajectory"] for s in answer["students"])
    assert all(len(s["confirmed_entries"]) >= 1 for s in answer["students"])  # every dual trajectory's own
    [first] = [s for s in answer["students"] if f"as-{story.prog}" in s["assessments"]]
    assert str(entry) in first["confirmed_entries"] and len(first["confirmed_entries"]) == 2
    code, _, err = await cli(stack, "lineage", "--programme", story.prog, "--year", story.year, "nope", "a", "b")
    assert code == 3 and "no figure" in err
