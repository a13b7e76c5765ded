"""Issue 6, end to end on the real broker: hours logged through the placement API and confirmed
through a mentor's webhook change the programme's funding report on
reporting.funding_report.published.v1 within seconds.

Six students of one fresh programme, so the cohort figures are not suppressed (counts below 5 are).
The figures that must change are the quartiles of the real share: ratios over six students, exact,
and visible. The bands are not: all six share one band, so showing it would reveal the empty ones."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from aiokafka import ConsumerRecord
from werkplek_events import DecodeError, FundingReportPublished, FundingTrajectoriesPublished, decode, topic_for
from werkplek_events.reporting import ReportCell

from tests.e2e.flow import Coordinator, confirm_hours, log_hours, new_id
from tests.e2e.stack import Stack, backlog
from tests.support import read_until

REPORTS = topic_for(FundingReportPublished).name
R = TypeVar("R", FundingReportPublished, FundingTrajectoriesPublished)
DEADLINE_S = 30.0
# A micro-credential of 3 ECTS at 25 hours per ECTS: a study load of 4,500 minutes.
CONFIRMED = [480, 480, 540, 600, 660, 720]  # per student; each also logs 60 minutes left pending
# quartiles of the exact shares (sorted minutes 480, 480, 540, 600, 660, 720 of 4500), by linear
# interpolation between order statistics at positions 1.25, 2.5 and 3.75 of 0..5:
# q1 = 480 + 0.25 × 60 = 495 → 0.1100; median = (540 + 600) / 2 = 570 → 0.12667 → 0.1267;
# q3 = 600 + 0.75 × 60 = 645 → 0.14333 → 0.1433. (Shares rounded first would give 0.1266 and 0.1434:
# the report works on exact minutes.)
EXPECTED = {"q1": Decimal("0.1100"), "median": Decimal("0.1267"), "q3": Decimal("0.1433")}


def cell(report: FundingReportPublished, section: str, row: str, column: str) -> ReportCell:
    sec = next(s for s in report.sections if s.name == section)
    return next(r for r in sec.rows if r.label == row).cells[column]


def real_share(report: FundingReportPublished, row: str) -> Decimal | None:
    return cell(report, "share_distribution", row, "real_share").value


async def report_when(stack: Stack, report_id: str, check: Callable[[Any], bool], what: str,
                      kind: type[R] = FundingReportPublished) -> R:  # type: ignore[assignment]
    """The first version of the report on its topic that passes `check` (read from the beginning); `kind`
    FundingTrajectoriesPublished reads the per-trajectory rows from their access-restricted topic."""
    seen: list[R] = []

    def done(records: list[ConsumerRecord]) -> bool:
        seen.clear()
        for r in records:
            if r.key == report_id.encode():
                try:
                    event = decode(r.topic, r.value, r.headers)
                except DecodeError:
                    continue
                assert isinstance(event, kind)
                seen.append(event)
        return any(check(e) for e in seen)

    try:
        await read_until(stack.bootstrap, [topic_for(kind).name], done, timeout=DEADLINE_S)
    except AssertionError as exc:
        last = seen[-1].model_dump_json() if seen else "none"
        behind = await backlog(stack.bootstrap, stack.reports_group)
        raise AssertionError(f"{what}: {exc}; last version of {report_id}: {last}; the report worker has about "
                             f"{behind} records on the broker still to handle") from None
    return next(e for e in seen if check(e))


async def test_confirmed_hours_change_the_funding_report(e2e: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        coord = Coordinator(e2e, client)
        programme = new_id("prog")
        await coord.programme(programme, level="microcredential", ects=3, hours_per_ects=25, phases=1)
        mentor = await coord.workplace_with_mentor()
        placements = [await coord.enrol_and_place(programme, mentor) for _ in CONFIRMED]
        to_confirm = [(await log_hours(e2e, client, p, [minutes, 60]))[0]
                      for p, minutes in zip(placements, CONFIRMED, strict=True)]
        report_id = f"{programme}:{coord.year}"

        before = await report_when(e2e, report_id, lambda r: real_share(r, "students") == 6,
                                   "the report to count the six students' shares")
        assert [real_share(before, q) for q in EXPECTED] == [Decimal("0.0000")] * 3

        answer = await confirm_hours(e2e, client, mentor.mentor_id, to_confirm)
        assert answer.status_code == 202, answer.text
        confirmed_at = time.monotonic()
        after = await report_when(e2e, report_id, lambda r: {q: real_share(r, q) for q in EXPECTED} == EXPECTED,
                                  "the report to show the quartiles of the confirmed hours")
        print(f"\nwebhook accepted -> report version {after.version} seen: {time.monotonic() - confirmed_at:.2f}s")

    assert after.version > before.version
    assert after.generated_at > before.generated_at
    assert real_share(after, "students") == 6
    assert cell(after, "share_distribution", "10% to <20%", "real_share").suppressed
    assert (after.institution_id, after.programme_id) == (e2e.institution, programme)
