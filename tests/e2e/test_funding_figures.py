"""Issue 13, end to end: what a coordinator records through the placement API (a pilot and its budget,
credits per enrolment and year, a workplace's sector) and what mentors confirm reaches the funding
reports: study efficiency per target group, dual next to non-dual, the pilot's evaluation with its
cost per trajectory and per confirmed hour."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx

from tests.e2e.flow import Coordinator, Placement, confirm_hours, log_hours, new_id
from tests.e2e.stack import Stack
from tests.e2e.test_report_reflects_confirmed_hours import cell, report_when

DUAL, OTHERS = 6, 5
CONFIRMED = 480  # minutes per pilot student: 6 × 8 h = 48 h for a year's budget of 60 000 euros


async def enrol_and_place(coord: Coordinator, programme: str, workplace: str, mentor: str, *, dual: bool,
                          pilot: str | None) -> Placement:
    student, placement = new_id("stu"), new_id("pl")
    start = date.today() - timedelta(days=30)
    body: dict[str, Any] = {"programme_id": programme, "phase": 1, "age_band": "21_to_25", "dual_track": dual,
                            "status": "regular" if dual else "working_student"}
    if pilot:
        body["pilot_id"] = pilot
    await coord.put(f"/enrolments/{student}/{coord.year}", body)
    credits = {"credits_taken": 60, "credits_earned": 54} if dual else {"credits_taken": 30, "credits_earned": 24}
    await coord.put(f"/enrolments/{student}/{coord.year}/credits", credits)
    await coord.put(f"/placements/{placement}", {
        "student_id": student, "academic_year": coord.year, "workplace_id": workplace, "mentor_id": mentor,
        "start_date": start.isoformat(), "end_date": (start + timedelta(days=120)).isoformat(),
        "planned_minutes": 300 * 60, "form": "dual" if dual else "internship",
        "continuum": {"learning_environment": 5, "extent": 4, "engagement": 4, "transfer": 4, "integration": 3,
                      "target_group": 2},
        "learning_agreement": {"outcomes": [
            {"outcome_id": "LO1", "title": "Wound care", "kind": "skill", "acquired_at": "workplace"},
            {"outcome_id": "LO2", "title": "Pharmacology", "kind": "knowledge", "acquired_at": "institution"}]}})
    return Placement(student, placement, mentor)


async def test_recorded_inputs_reach_the_funding_figures(e2e: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        coord = Coordinator(e2e, client)
        programme, pilot = new_id("prog"), new_id("pilot")
        await coord.programme(programme, level="graduaat", ects=120, hours_per_ects=27, phases=2)
        mentor = await coord.workplace_with_mentor()
        coded = await client.put(f"{e2e.placement_url}/v1/workplaces/{mentor.workplace_id}", headers=coord.auth,
                                 json={"name": "AZ Groeninge", "sector": "health", "environment": "authentic",
                                       "sector_code": "Q"})
        assert coded.status_code == 200, coded.text  # the sector code added to a registered workplace
        first = int(coord.year[:4])
        await coord.put(f"/pilots/{pilot}", {
            "name": "Proeftuin duaal zorg", "programme_ids": [programme],
            "partners": [{"name": "AZ Groeninge", "kind": "workplace", "workplace_id": mentor.workplace_id}],
            "start_date": f"{first}-09-01", "end_date": f"{first + 1}-08-31",
            "budget": [{"academic_year": coord.year, "amount_eur": "60000.00"}]})
        duals = [await enrol_and_place(coord, programme, mentor.workplace_id, mentor.mentor_id, dual=True,
                                       pilot=pilot) for _ in range(DUAL)]
        for _ in range(OTHERS):
            await enrol_and_place(coord, programme, mentor.workplace_id, mentor.mentor_id, dual=False, pilot=None)
        entries = [(await log_hours(e2e, client, p, [CONFIRMED]))[0] for p in duals]
        answer = await confirm_hours(e2e, client, mentor.mentor_id, entries)
        assert answer.status_code == 202, answer.text

    report = await report_when(e2e, f"{programme}:{coord.year}", lambda r: cell(
        r, "study_efficiency", "all", "students").value == DUAL + OTHERS, "credits of all eleven students")
    assert [cell(report, "study_efficiency", "all", c).value for c in ("credits_taken", "credits_earned",
                                                                       "efficiency")] == [
        510, 444, Decimal("0.8706")]  # 6 × 60 + 5 × 30 taken, 6 × 54 + 5 × 24 earned
    assert [cell(report, "dual_vs_non_dual", "study_efficiency", c).value for c in ("dual", "non_dual")] == [
        Decimal("0.9000"), Decimal("0.8000")]
    assert cell(report, "sectors", "Q", "placements").suppressed  # all eleven in Q would say "0 elsewhere"
    pilot_report = await report_when(e2e, f"pilot:{pilot}:{coord.year}", lambda r: cell(
        r, "cost", "confirmed_hours", "value").value == 48, "the pilot's confirmed hours")
    assert pilot_report.scope.value == "pilot" and pilot_report.pilot_id == pilot
    assert {row: cell(pilot_report, "cost", row, "value").value for row in (
        "budget_eur", "trajectories", "cost_per_trajectory", "cost_per_confirmed_hour")} == {
        "budget_eur": Decimal("60000.00"), "trajectories": DUAL, "cost_per_trajectory": Decimal("10000.00"),
        "cost_per_confirmed_hour": Decimal("1250.00")}
    assert cell(pilot_report, "target_groups", "all", "students").value == DUAL
