"""The student's read models as a plain function over events: which row an event makes, and that of
several versions only the newest is kept (so replaying a stream changes nothing)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from werkplek_events import OutcomeProgressUpdated, ShareUpdated, TimeEntryWithdrawn
from werkplek_placement_logging.read_models import OUTCOMES, SHARE, newest, view_row


def share(version: int, student: str = "stu-1") -> ShareUpdated:
    return ShareUpdated(student_id=student, programme_id="prog-1", version=version, as_of=date(2026, 11, 20),
                        confirmed_minutes=60 * version, pending_minutes=0, rejected_minutes=0, planned_minutes=0,
                        study_load_minutes=162000, target_to_date_minutes=1000, real_share=Decimal("0.0004"),
                        projected_share=Decimal("0.1"), status="at_risk")


def progress(version: int) -> OutcomeProgressUpdated:
    return OutcomeProgressUpdated(student_id="stu-1", version=version, outcomes=[], coverage={},
                                  achieved_share=Decimal("0"), never_assessed=[])


def test_a_share_event_makes_a_share_row_with_its_document() -> None:
    row = view_row(share(3))
    assert row is not None
    assert (row.view, row.student_id, row.version, row.programme_id, row.status) == (SHARE, "stu-1", 3, "prog-1",
                                                                                    "at_risk")
    assert row.body["confirmed_minutes"] == 180 and row.body["real_share"] == "0.0004"


def test_outcome_progress_makes_an_outcome_row_and_other_events_none() -> None:
    row = view_row(progress(2))
    assert row is not None and (row.view, row.version) == (OUTCOMES, 2)
    other = TimeEntryWithdrawn(entry_id="0190c6a0-0000-7000-8000-000000000000", student_id="stu-1",
                               placement_id="pl-1", revision=2, occurred_at="2026-11-20T10:00:00Z")
    assert view_row(other) is None


@given(st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=30))
def test_of_any_sequence_the_newest_version_wins_and_replaying_changes_nothing(versions: list[int]) -> None:
    rows = [r for r in (view_row(share(v)) for v in versions) if r is not None]
    kept = newest(rows)
    assert [r.version for r in kept] == [max(versions)]
    assert [r.version for r in newest(rows + rows)] == [max(versions)]
