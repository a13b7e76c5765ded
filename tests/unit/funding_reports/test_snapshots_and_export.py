"""Snapshot periods and ids; exports written atomically."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from werkplek_events import FundingReportPublished, FundingTrajectoriesPublished, Watermark
from werkplek_funding_reports.domain.keys import ReportKey
from werkplek_funding_reports.domain.privacy import publishable, suppress
from werkplek_funding_reports.domain.report import build_draft, trajectory_draft
from werkplek_funding_reports.export import ExportError, atomic_write, csv_text, render_text
from werkplek_funding_reports.snapshots import period_label, snapshot_id, to_snapshot

from .cohort import YEAR, cohort, entries

KEY = ReportKey("inst-1", "prog-g", YEAR)


def report() -> FundingReportPublished:
    draft = build_draft(cohort(), entries(), YEAR)
    return FundingReportPublished(report_id=KEY.report_id, scope=KEY.scope, institution_id="inst-1",
                                  programme_id="prog-g", academic_year=YEAR, version=3,
                                  generated_at=datetime(2026, 11, 2, tzinfo=UTC), watermark=Watermark(),
                                  sections=publishable(draft, suppress({KEY: draft}, 5)[KEY]))


def trajectories() -> FundingTrajectoriesPublished:
    return FundingTrajectoriesPublished(report_id=KEY.report_id, scope=KEY.scope, institution_id="inst-1",
                                        programme_id="prog-g", academic_year=YEAR, version=1,
                                        generated_at=datetime(2026, 11, 2, tzinfo=UTC), watermark=Watermark(),
                                        sections=publishable(trajectory_draft(cohort()), set()))


def test_period_labels():
    day = date(2026, 12, 31)
    assert [period_label(day, e) for e in ("day", "week", "month", "never")] == [
        "2026-12-31", "2026-W53", "2026-12", None]


def test_snapshot_ids_fit_the_id_limit():
    assert snapshot_id("prog-g:2026-2027", "2026-12") == "prog-g:2026-2027:2026-12"
    long = snapshot_id("inst:" + "x" * 50 + ":2026-2027", "20261231T235959")
    assert len(long) <= 64 and long.endswith(":20261231T235959")


def test_a_snapshot_copies_the_report():
    snap = to_snapshot(report(), "prog-g:2026-2027:2026-12", date(2026, 12, 1))
    assert snap.sections == report().sections and snap.version == 3 and snap.as_of == date(2026, 12, 1)


def test_csv_and_text_mark_suppressed_cells():
    text = csv_text(report())
    assert text.splitlines()[0] == "section,row,column,value,suppressed,reason"
    assert "target_groups,working_student,students,,yes," in text
    assert "rules_applied,build_up,version,2,,exact_minutes_phase_1_to_current_never_falling" in text
    rows = csv_text(trajectories())
    assert "dual_criteria,t-s02,co_creation,0,,not_signed_by_workplace" in rows
    assert "0 (not_signed_by_workplace)" in render_text(trajectories())


def test_an_as_of_export_says_it_was_recomputed():
    instant = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)
    text = csv_text(report(), as_of=instant)
    assert "report,as_of,value,2026-12-01T23:59:00+00:00,," in text
    assert "report,recomputed,value,replayed from the input topics,," in text


def test_a_failed_write_leaves_nothing(tmp_path):
    def boom(path):
        path.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(ExportError, match="No space left"):
        atomic_write(tmp_path / "r.csv", boom)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ExportError, match="does not exist"):
        atomic_write(tmp_path / "no" / "r.csv", lambda p: p.write_text("x"))
