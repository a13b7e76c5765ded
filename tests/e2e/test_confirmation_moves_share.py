"""Issue 5, end to end on the real broker: hours logged through the placement API and confirmed by a
mentor's tool through a signed webhook move the student's share in hour accounting's read model,
within seconds; the student then sees those entries as confirmed."""

from __future__ import annotations

import time
from decimal import Decimal

import asyncpg
import httpx

from tests.e2e.flow import (
    Coordinator,
    confirm_hours,
    entry_statuses,
    log_hours,
    new_id,
    share_decimal,
    share_when,
)
from tests.e2e.stack import Stack
from tests.support import eventually

LOAD = 120 * 27 * 60  # graduaat of 120 ECTS at the default 27 hours per ECTS, in minutes
DEADLINE_S = 30.0


async def test_a_confirmation_webhook_moves_the_students_share(e2e: Stack, pg: asyncpg.Connection) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        coord = Coordinator(e2e, client)
        programme = new_id("prog")
        await coord.programme(programme, level="graduaat", ects=120, phases=2)
        placement = await coord.enrol_and_place(programme, await coord.workplace_with_mentor())
        day_1, day_2, day_3 = await log_hours(e2e, client, placement, [480, 450, 240])

        before = await share_when(e2e, pg, placement.student_id, lambda d: d["pending_minutes"] == 1170,
                                  timeout=DEADLINE_S, what="the logged hours to be pending in hour accounting")
        assert (before["confirmed_minutes"], Decimal(before["real_share"])) == (0, Decimal("0.0000"))
        assert before["study_load_minutes"] == LOAD

        answer = await confirm_hours(e2e, client, placement.mentor_id, [day_1, day_2])
        assert answer.status_code == 202, answer.text
        assert (answer.json()["status"], answer.json()["kind"]) == ("accepted", "hours.confirmed")
        confirmed_at = time.monotonic()
        after = await share_when(e2e, pg, placement.student_id, lambda d: d["confirmed_minutes"] == 930,
                                 timeout=DEADLINE_S, what="the confirmation to reach hour accounting")
        took = time.monotonic() - confirmed_at
        print(f"\nwebhook accepted -> share moved in the read model: {took:.2f}s")

        assert Decimal(after["real_share"]) == share_decimal(930, LOAD) == Decimal("0.0048")
        assert (after["pending_minutes"], after["rejected_minutes"]) == (240, 0)
        assert after["version"] > before["version"]
        row = await pg.fetchrow("SELECT real_share, version FROM share_read_model WHERE student_id = $1",
                                placement.student_id)
        assert (row["real_share"], row["version"]) == (Decimal("0.0048"), after["version"])

        # the decisions also travel back to placement logging: the student sees which entries count
        want = {day_1: "confirmed", day_2: "confirmed", day_3: "pending"}
        seen: dict[str, str] = {}

        async def student_sees_decisions() -> bool:
            seen.update(await entry_statuses(e2e, client, placement.student_id))
            return seen == want

        await eventually(student_sees_decisions, timeout=DEADLINE_S, what="the student's entries to show decisions")
        assert seen == want
