"""Issue 14 end to end, in Debian's Chromium at phone size: a coordinator registers a mentor without a
tool, with an e-mail address; the student logs three days; the notifier's mail arrives in the real
mail catcher (read through Mailpit's API); the mentor opens the link, sees the page in English and
in Dutch, rejects an entry without a reason (the form says what is missing), then confirms two,
rejects one with a reason, assesses two outcomes and signs the learning agreement. Hour accounting's
share moves, the outcome progress shows the assessments, the funding report's co-creation criterion
changes, and the used link says it was already done. Screenshots: .data/test/screenshots/."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
from playwright.async_api import Page, ViewportSize, async_playwright
from werkplek_common.auth import Role
from werkplek_events import FundingTrajectoriesPublished
from werkplek_mentor_feedback.i18n import hours

from tests.e2e.flow import Coordinator, bearer, new_id, share_when
from tests.e2e.stack import Stack
from tests.e2e.test_report_reflects_confirmed_hours import report_when
from tests.mailpit import Mailpit
from tests.support import eventually

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE: ViewportSize = {"width": 390, "height": 844}
MINUTES = [480, 450, 240]
DEADLINE_S = 60.0


async def register(coord: Coordinator, client: httpx.AsyncClient, stack: Stack) -> tuple[str, str, str, str, str]:
    """A dual-track student placed with a mentor who has no tool but an e-mail address (English); the
    institution signed the learning agreement, the workplace has not yet."""
    programme, workplace, mentor = new_id("prog"), new_id("wp"), new_id("mentor")
    student, placement = new_id("stu"), new_id("pl")
    await coord.programme(programme, level="graduaat", ects=120, phases=2)
    await coord.put(f"/workplaces/{workplace}", {"name": "UZ Gent", "sector": "health", "environment": "authentic"})
    await coord.put(f"/mentors/{mentor}", {"workplace_id": workplace, "trained": True})
    email = f"{mentor}@mentors.example"
    r = await client.put(f"{stack.placement_url}/v1/mentors/{mentor}/contact", json={"email": email, "language": "en"},
                         headers=coord.auth)
    assert r.status_code == 201, r.text
    await coord.put(f"/enrolments/{student}/{coord.year}", {"programme_id": programme, "phase": 1, "status": "regular",
                                                            "age_band": "21_to_25", "dual_track": True})
    start = date.today() - timedelta(days=30)
    await coord.put(f"/placements/{placement}", {
        "student_id": student, "academic_year": coord.year, "workplace_id": workplace, "mentor_id": mentor,
        "start_date": start.isoformat(), "end_date": (start + timedelta(days=120)).isoformat(),
        "planned_minutes": 300 * 60, "form": "dual",
        "continuum": {"learning_environment": 5, "extent": 4, "engagement": 4, "transfer": 4, "integration": 3,
                      "target_group": 2},
        "learning_agreement": {"outcomes": [
            {"outcome_id": "LO1", "title": "Patient care", "kind": "skill", "acquired_at": "workplace"},
            {"outcome_id": "LO2", "title": "Professional attitude", "kind": "attitude", "acquired_at": "workplace"},
            {"outcome_id": "LO3", "title": "Pharmacology", "kind": "knowledge", "acquired_at": "institution"}],
            "signed_by_institution_at": f"{start}T09:00:00Z"}})
    return programme, student, placement, mentor, email


async def log_days(stack: Stack, client: httpx.AsyncClient, student: str, placement: str) -> list[str]:
    """One batch from the phone (so one confirmation request holds all three): yesterday and before."""
    from uuid6 import uuid7

    entries: list[dict[str, Any]] = [{"entry_id": str(uuid7()), "placement_id": placement, "activity": "work",
                                      "description": "day shift",
                "work_date": (date.today() - timedelta(days=i + 1)).isoformat(), "duration_minutes": m}
               for i, m in enumerate(MINUTES)]
    r = await client.post(f"{stack.placement_url}/v1/me/entries/batch", json={"entries": entries},
                          headers={**bearer(stack, Role.STUDENT, student), "Idempotency-Key": new_id("k")})
    assert r.status_code == 200 and r.json()["accepted"] == 3, r.text
    return [str(e["entry_id"]) for e in entries]


def co_creation(report: FundingTrajectoriesPublished) -> str | None:
    """The trajectory's co-creation reason, from the per-trajectory rows (their own restricted topic)."""
    rows = [r for s in report.sections if s.name == "dual_criteria" for r in s.rows]
    return rows[0].cells["co_creation"].reason if len(rows) == 1 else None  # the programme's one trajectory


def entry_group(page: Page, day: int) -> Any:
    """The fieldset of the entry of `day` days ago, found by its legend as a screen reader would."""
    legend = f"{(date.today() - timedelta(days=day)).isoformat()} · {hours(MINUTES[day - 1])} · work"
    return page.get_by_role("group", name=legend)


async def test_a_mentor_decides_assesses_and_signs_from_the_mailed_link(e2e: Stack, pg: asyncpg.Connection) -> None:
    shots = e2e.data_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    async with httpx.AsyncClient(timeout=10) as client:
        coord = Coordinator(e2e, client)
        programme, student, placement, _, email = await register(coord, client, e2e)
        entry_ids = await log_days(e2e, client, student, placement)
        report_id = f"{programme}:{coord.year}"
        before = await report_when(e2e, report_id, lambda r: co_creation(r) == "not_signed_by_workplace",
                                   "the report to show the trajectory not yet signed by the workplace",
                                   kind=FundingTrajectoriesPublished)

        (mail,) = await Mailpit().wait_for(email, timeout=DEADLINE_S)
        assert mail.subject == "Hours await your confirmation (3 entries, 19h30)" and student not in mail.subject
        link = re.search(r"https?://\S+/confirm/\S+", mail.text)
        assert link is not None and f'href="{link[0]}"' in mail.html

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            context = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                                has_touch=True, locale="en-GB")
            page = await context.new_page()
            await page.goto(link[0])
            assert await page.get_attribute("html", "lang") == "en"  # the mentor's language
            await page.screenshot(path=shots / "mentor-page-en.png", full_page=True)
            await page.get_by_role("link", name="Nederlands").click()
            assert await page.get_attribute("html", "lang") == "nl"
            assert await page.get_by_role("heading", level=1).inner_text() == "Uren, beoordelingen en leerovereenkomst"
            await page.screenshot(path=shots / "mentor-page-nl.png", full_page=True)
            await page.get_by_role("link", name="English").click()

            await entry_group(page, 3).get_by_role("radio", name="Reject").check()
            await page.get_by_role("button", name="Send").click()
            alert = page.get_by_role("alert")
            assert "Choose a reason to reject this entry." in await alert.inner_text()
            await page.screenshot(path=shots / "mentor-page-en-error.png", full_page=True)
            assert await entry_group(page, 3).get_by_role("radio", name="Reject").is_checked()  # kept

            await entry_group(page, 1).get_by_role("radio", name="Confirm").check()
            await entry_group(page, 2).get_by_role("radio", name="Confirm").check()
            rejected = entry_group(page, 3)
            await rejected.get_by_label("Reason for rejecting").select_option("wrong_hours")
            await rejected.get_by_label("Explanation (needed to reject)").fill("It was 3 hours, not 4")
            assessment = page.get_by_role("group", name="Assess learning outcomes")
            await assessment.get_by_role("radio", name="Final").check()
            await assessment.get_by_label("Patient care (skill)", exact=True).select_option("achieved")
            await assessment.get_by_label("Professional attitude (attitude)", exact=True).select_option("developing")
            await assessment.get_by_label("Comment on Patient care").fill("Calm and precise")
            await page.get_by_role("checkbox", name="I sign this placement's learning agreement on behalf of the "
                                                    "workplace.").check()
            await page.get_by_role("button", name="Send").click()
            assert await page.get_by_role("heading", level=1).inner_text() == "Thank you"
            saved = "2 entries confirmed, 1 entry rejected, 2 learning outcomes assessed, 1 learning agreement signed"
            assert saved in await page.inner_text("main")
            await page.screenshot(path=shots / "mentor-page-en-done.png", full_page=True)
            await page.goto(link[0])
            assert "This link has already been used" in await page.inner_text("h1")
            await browser.close()

        after_share = await share_when(e2e, pg, student, lambda d: d["confirmed_minutes"] == 930,
                                       timeout=DEADLINE_S, what="the two confirmations to move the share")
        assert (after_share["pending_minutes"], after_share["rejected_minutes"]) == (0, 240)
        levels: dict[str, Any] = {}

        async def assessed() -> bool:
            r = await client.get(f"{e2e.mentor_url}/students/{student}/outcome-progress",
                                 headers=bearer(e2e, Role.STUDENT, student))
            levels.update({o["outcome_id"]: o["latest_level"] for o in r.json().get("outcomes", [])}
                          if r.status_code == 200 else {})
            return levels.get("LO1") == "achieved"

        await eventually(assessed, timeout=DEADLINE_S, what="the outcome progress to show the assessments")
        assert levels == {"LO1": "achieved", "LO2": "developing", "LO3": None}
        after = await report_when(e2e, report_id, lambda r: co_creation(r) == "developed_run_and_evaluated_together",
                                  "the report's co-creation criterion to be met", kind=FundingTrajectoriesPublished)
        assert after.version > before.version
        statuses = {i["entry_id"]: i["status"] for i in (await client.get(
            f"{e2e.placement_url}/v1/me/entries", headers=bearer(e2e, Role.STUDENT, student))).json()["items"]}
        assert [statuses[e] for e in entry_ids] == ["confirmed", "confirmed", "rejected"]
    assert len(await Mailpit().to(email)) == 1  # one request, one mail
