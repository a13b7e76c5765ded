"""Issue 3, end to end: a student reads their own share through the placement API. Before hour
accounting has computed it the answer is a 404 problem document (never a made-up value); after a
mentor confirmed hours it is the ShareUpdated document hour accounting published, from placement
logging's own read model of the share topic (it never reads hour accounting's table)."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
import httpx
from werkplek_common.auth import Role

from tests.e2e.flow import Coordinator, bearer, confirm_hours, log_hours, new_id, share_decimal, share_when
from tests.e2e.stack import Stack
from tests.support import eventually

LOAD = 90 * 30 * 60  # graduaat of 90 ECTS at 30 hours per ECTS, in minutes
DEADLINE_S = 30.0


async def test_student_reads_their_share_once_it_is_computed(e2e: Stack, pg: asyncpg.Connection) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        coord = Coordinator(e2e, client)
        programme, mentor = new_id("prog"), await coord.workplace_with_mentor()
        await coord.programme(programme, level="graduaat", ects=90, hours_per_ects=30, phases=2)
        student = new_id("stu")
        auth = bearer(e2e, Role.STUDENT, student)
        early = await client.get(f"{e2e.placement_url}/v1/me/share", headers=auth)
        assert early.status_code == 404, early.text
        assert early.headers["content-type"].startswith("application/problem+json")
        problem = early.json()
        assert (problem["status"], problem["title"]) == (404, "The share has not been computed yet")
        assert problem["type"].endswith("share-not-computed") and problem["detail"]

        placement = await coord.enrol_and_place(programme, mentor, student=student)
        entries = await log_hours(e2e, client, placement, [420, 360])
        answer = await confirm_hours(e2e, client, placement.mentor_id, entries)
        assert answer.status_code == 202, answer.text
        stored = await share_when(e2e, pg, placement.student_id, lambda d: d["confirmed_minutes"] == 780,
                                  timeout=DEADLINE_S, what="the confirmed hours in hour accounting's read model")
        # placement logging answers from its own read model, fed by the share topic: it follows shortly
        answers: list[httpx.Response] = []

        async def caught_up() -> bool:
            answers.append(await client.get(f"{e2e.placement_url}/v1/me/share", headers=auth))
            return answers[-1].status_code == 200 and answers[-1].json()["confirmed_minutes"] == 780

        await eventually(caught_up, timeout=DEADLINE_S, what="the share in placement logging's read model")
        mine = answers[-1]

    assert mine.status_code == 200, mine.text
    doc = mine.json()
    assert doc["version"] >= stored["version"] and mine.headers["etag"] == f'"{doc["version"]}"'
    assert (doc["student_id"], doc["programme_id"]) == (placement.student_id, programme)
    assert (doc["confirmed_minutes"], doc["study_load_minutes"]) == (780, LOAD)
    assert Decimal(doc["real_share"]) == share_decimal(780, LOAD) == Decimal("0.0048")
