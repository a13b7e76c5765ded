"""What the student app reads: refused batch items are stored with their problem document until the
item is resent or withdrawn (so a lost batch reply loses nothing), the home screen in one request,
and the share and outcome-progress read models fed from events (idempotent by version)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

from werkplek_events import OutcomeProgressUpdated, ShareUpdated
from werkplek_placement_logging.read_models import apply_views, view_row

from tests.integration.placement_logging.conftest import entry, idem


async def test_refused_items_are_kept_until_resent_or_withdrawn(api, cohort) -> None:
    me = cohort.student_auth
    day = cohort.start + timedelta(days=3)
    good = entry(cohort.placement, day, start_time="09:00", end_time="12:00", duration_minutes=180)
    overlap = entry(cohort.placement, day, start_time="11:00", end_time="13:00", duration_minutes=120)
    future = entry(cohort.placement, date.today() + timedelta(days=5))
    key = idem()
    r = await api.post("/v1/me/entries/batch", json={"entries": [good, overlap, future]}, headers={**me, **key})
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    listed = (await api.get("/v1/me/refusals", headers=me)).json()["items"]
    by_id = {i["entry_id"]: i for i in listed}
    assert set(by_id) == {overlap["entry_id"], future["entry_id"]}
    assert "overlap" in by_id[overlap["entry_id"]]["problem"]["reasons"]
    assert by_id[overlap["entry_id"]]["entry"] == overlap  # as the phone sent it
    assert "future" in by_id[future["entry_id"]]["problem"]["reasons"]

    # the same batch replayed (a lost reply) stores nothing twice
    again = await api.post("/v1/me/entries/batch", json={"entries": [good, overlap, future]}, headers={**me, **key})
    assert again.headers.get("idempotent-replayed") == "true"
    assert len((await api.get("/v1/me/refusals", headers=me)).json()["items"]) == 2

    # edit and resend clears the refusal; withdrawing clears the other
    fixed = {**overlap, "start_time": "13:00", "end_time": "15:00"}
    resent = await api.post("/v1/me/entries/batch", json={"entries": [fixed]}, headers={**me, **idem()})
    assert resent.json()["accepted"] == 1, resent.text
    gone = await api.delete(f"/v1/me/refusals/{future['entry_id']}", headers=me)
    assert gone.status_code == 204
    assert (await api.get("/v1/me/refusals", headers=me)).json()["items"] == []
    twice = await api.delete(f"/v1/me/refusals/{future['entry_id']}", headers=me)
    assert twice.status_code == 404 and twice.headers["content-type"].startswith("application/problem+json")


async def test_refusals_are_the_students_own(api, cohort, pl_settings) -> None:
    from tests.integration.placement_logging.conftest import make_cohort
    other = await make_cohort(api, pl_settings)
    bad = entry(cohort.placement, date.today() + timedelta(days=9))
    await api.post("/v1/me/entries/batch", json={"entries": [bad]}, headers={**cohort.student_auth, **idem()})
    assert (await api.get("/v1/me/refusals", headers=other.student_auth)).json()["items"] == []
    assert (await api.delete(f"/v1/me/refusals/{bad['entry_id']}", headers=other.student_auth)).status_code == 404


async def test_home_is_one_read_of_share_outcomes_placements_and_refusals(api, cohort, pl_settings) -> None:
    me = cohort.student_auth
    empty = (await api.get("/v1/me/home", headers=me)).json()
    assert (empty["share"], empty["outcomes"], empty["refusals"]) == (None, None, [])
    assert [p["id"] for p in empty["placements"]] == [cohort.placement] and empty["server_time"]
    assert (await api.get("/v1/me/outcomes", headers=me)).status_code == 404

    share = ShareUpdated(student_id=cohort.student, programme_id=cohort.programme, version=2, as_of=date.today(),
                         confirmed_minutes=600, pending_minutes=60, rejected_minutes=0, planned_minutes=36000,
                         study_load_minutes=194400, target_to_date_minutes=9000, real_share=Decimal("0.0031"),
                         projected_share=Decimal("0.2"), status="behind")
    older = share.model_copy(update={"version": 1, "confirmed_minutes": 1, "event_id": uuid.uuid4()})
    progress = OutcomeProgressUpdated(student_id=cohort.student, version=1, outcomes=[
        {"outcome_id": "LO1", "kind": "skill", "latest_level": "achieved", "assessed_on": date.today()}],
        coverage={"skill": {"agreed": 1, "assessed": 1, "achieved": 1}}, achieved_share=Decimal("0.5"),
        never_assessed=["LO3"])
    pool = api.app.state.ledger.pool
    rows = [view_row(e) for e in (share, progress, share, older)]
    async with pool.acquire() as conn, conn.transaction():
        assert await apply_views(conn, [r for r in rows[:2] if r]) == {"applied": 2, "stale": 0}
    async with pool.acquire() as conn, conn.transaction():
        assert await apply_views(conn, [r for r in rows[2:] if r]) == {"applied": 0, "stale": 1}  # replay, older

    home = (await api.get("/v1/me/home", headers=me)).json()
    assert (home["share"]["version"], home["share"]["confirmed_minutes"]) == (2, 600)
    assert home["outcomes"]["outcomes"][0]["latest_level"] == "achieved"
    mine = await api.get("/v1/me/share", headers=me)
    assert mine.json()["confirmed_minutes"] == 600 and mine.headers["etag"] == '"2"'
    assert (await api.get("/v1/me/outcomes", headers=me)).json()["never_assessed"] == ["LO3"]
