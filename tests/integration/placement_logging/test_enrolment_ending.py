"""Ending an enrolment (EnrolmentEnded): the ending is stored on the enrolment and its event staged in
the same transaction; the same ending again changes nothing; another ending of an ended enrolment, an
ending before the academic year, another institution's enrolment and a student's token are refused."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date

import httpx
import pytest
from aiokafka import ConsumerRecord
from werkplek_common.auth import Role
from werkplek_common.outbox import OutboxRelay
from werkplek_events import EnrolmentEnded, StudentEnrolled, decode, topic_for
from werkplek_placement_logging.app import build
from werkplek_placement_logging.config import Settings

from tests.support import end_offsets, eventually, read_until

from .conftest import Cohort, bearer, make_cohort, new_id

YEAR = "2026-2027"  # make_cohort enrols its student for this year
TOPIC = topic_for(EnrolmentEnded).name
PROBLEM = "application/problem+json"


def _path(student: str, year: str = YEAR) -> str:
    return f"/v1/enrolments/{student}/{year}"


def _ending(ended_on: str = "2027-02-15", reason: str = "dropped_out") -> dict[str, str]:
    return {"ended_on": ended_on, "reason": reason}


async def _staged(pg, producer: str, student: str) -> int:
    """EnrolmentEnded rows this session staged for the student (nobody relays the session's producer)."""
    return await pg.fetchval("SELECT count(*) FROM outbox WHERE producer = $1 AND topic = $2 AND key = $3::bytea",
                             producer, TOPIC, student.encode())


async def _stored(api: httpx.AsyncClient, c: Cohort) -> dict:
    r = await api.get(_path(c.student), headers=c.coordinator)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
async def own_api(stack) -> AsyncIterator[httpx.AsyncClient]:
    """The API with an outbox producer of its own, so the relay of this test publishes only its rows."""
    cfg = Settings(outbox_producer=f"pl-ending-{uuid.uuid4().hex[:8]}", backlog_refresh_s=60)
    app = build(cfg)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pl.test") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client
            await app.state.registry.pool.execute("DELETE FROM outbox WHERE producer = $1", cfg.outbox_producer)


def _read_to(ends: dict) -> Callable[[list[ConsumerRecord]], bool]:
    """Done once every partition that had records has been read to its end offset."""
    def done(records: list[ConsumerRecord]) -> bool:
        last: dict[int, int] = {}
        for r in records:
            last[r.partition] = max(last.get(r.partition, -1), r.offset)
        return all(last.get(tp.partition, -1) >= end - 1 for tp, end in ends.items() if end > 0)
    return done


async def test_ending_reaches_its_topic_once(own_api, producer, stack):
    cfg: Settings = own_api.app.state.settings
    c = await make_cohort(own_api, cfg)
    relay = OutboxRelay(own_api.app.state.registry.pool, producer, cfg.outbox_producer, batch_size=50)
    task = asyncio.create_task(relay.run())
    try:
        r = await own_api.put(f"{_path(c.student)}/ending", json=_ending(), headers=c.coordinator)
        assert r.status_code == 200, r.text
        assert r.headers["etag"] == '"2"' and r.json()["version"] == 2
        body = r.json()["body"]
        assert body["ended_on"] == "2027-02-15" and body["end_reason"] == "dropped_out"
        assert body["programme_id"] == c.programme and body["phase"] == 1  # the terms are kept
        again = await own_api.put(f"{_path(c.student)}/ending", json=_ending(), headers=c.coordinator)
        assert again.status_code == 200 and again.json() == r.json() and again.headers["etag"] == '"2"'

        async def drained() -> bool:
            return await own_api.app.state.registry.pool.fetchval(
                "SELECT count(*) FROM outbox WHERE producer = $1", cfg.outbox_producer) == 0
        await eventually(drained, timeout=30, what="outbox relayed")
    finally:
        relay.stop()
        await task
    ends = await end_offsets(stack.kafka_bootstrap, [TOPIC])
    records = await read_until(stack.kafka_bootstrap, [TOPIC], _read_to(ends), timeout=60)
    mine = [r for r in records if r.key == c.student.encode()]
    assert len(mine) == 1  # the repeated ending published nothing
    event = decode(TOPIC, mine[0].value, list(mine[0].headers))
    assert isinstance(event, EnrolmentEnded)
    assert (event.student_id, event.programme_id, event.academic_year) == (c.student, c.programme, YEAR)
    assert event.ended_on == date(2027, 2, 15) and event.reason == "dropped_out"


async def test_same_ending_twice_stages_one_event(api, pl_settings, pg, cohort):
    path = f"{_path(cohort.student)}/ending"
    first = await api.put(path, json=_ending("2027-06-30", "graduated"), headers=cohort.coordinator)
    second = await api.put(path, json=_ending("2027-06-30", "graduated"), headers=cohort.coordinator)
    assert first.status_code == second.status_code == 200
    assert first.json()["version"] == second.json()["version"] == 2
    assert await _staged(pg, pl_settings.outbox_producer, cohort.student) == 1


async def test_another_ending_of_an_ended_enrolment_is_409(api, pl_settings, pg, cohort):
    path = f"{_path(cohort.student)}/ending"
    assert (await api.put(path, json=_ending(), headers=cohort.coordinator)).status_code == 200
    for other in (_ending("2027-03-01"), _ending(reason="transferred")):
        r = await api.put(path, json=other, headers=cohort.coordinator)
        assert r.status_code == 409 and r.headers["content-type"] == PROBLEM
        assert "2027-02-15" in r.json()["detail"]
    stored = await _stored(api, cohort)
    assert stored["version"] == 2 and stored["body"]["end_reason"] == "dropped_out"
    assert await _staged(pg, pl_settings.outbox_producer, cohort.student) == 1


async def test_an_ended_enrolment_cannot_be_re_enrolled(api, pl_settings, pg, cohort):
    assert (await api.put(f"{_path(cohort.student)}/ending", json=_ending(),
                          headers=cohort.coordinator)).status_code == 200
    terms = {"programme_id": cohort.programme, "phase": 1, "status": "regular", "age_band": "under_21",
             "dual_track": True}
    for doc in (terms, {**terms, "phase": 2}):
        r = await api.put(_path(cohort.student), json=doc, headers=cohort.coordinator)
        assert r.status_code == 409 and "2027-02-15" in r.json()["detail"], r.text
    stored = await _stored(api, cohort)
    assert stored["version"] == 2 and stored["body"]["ended_on"] == "2027-02-15" and stored["body"]["phase"] == 1
    enrolled = await pg.fetchval("SELECT count(*) FROM outbox WHERE producer = $1 AND key = $2::bytea"
                                 " AND topic = $3", pl_settings.outbox_producer, cohort.student.encode(),
                                 topic_for(StudentEnrolled).name)
    assert enrolled == 1  # the enrolment of make_cohort only


async def test_an_ending_before_the_academic_year_is_422_and_stores_nothing(api, pl_settings, pg, cohort):
    path = f"{_path(cohort.student)}/ending"
    r = await api.put(path, json=_ending("2026-08-31"), headers=cohort.coordinator)
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert [e["field"] for e in r.json()["errors"]] == ["ended_on"]
    stored = await _stored(api, cohort)
    assert stored["version"] == 1 and "ended_on" not in stored["body"]
    assert await _staged(pg, pl_settings.outbox_producer, cohort.student) == 0
    first_day = await api.put(path, json=_ending("2026-09-01", "transferred"), headers=cohort.coordinator)
    assert first_day.status_code == 200, first_day.text


async def test_a_malformed_ending_names_its_fields(api, cohort):
    path = f"{_path(cohort.student)}/ending"
    r = await api.put(path, json={"ended_on": "15/02/2027", "reason": "expelled", "note": "x"},
                      headers=cohort.coordinator)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"body.ended_on", "body.reason", "body.note"}
    assert "ended_on" not in (await _stored(api, cohort))["body"]


async def test_unknown_or_another_institutions_enrolment_is_404(api, pl_settings, pg, cohort):
    other = await make_cohort(api, pl_settings)  # another institution
    for path, who in ((f"{_path(cohort.student)}/ending", other.coordinator),
                      (f"{_path(new_id('stu'))}/ending", cohort.coordinator),
                      (f"{_path(cohort.student, '2027-2028')}/ending", cohort.coordinator)):
        r = await api.put(path, json=_ending(), headers=who)
        assert r.status_code == 404 and r.headers["content-type"] == PROBLEM, (path, r.text)
        assert r.json()["title"] == "No such enrolment"
    assert (await _stored(api, cohort))["version"] == 1
    assert await _staged(pg, pl_settings.outbox_producer, cohort.student) == 0


async def test_a_student_cannot_end_an_enrolment(api, pl_settings, pg, cohort):
    path = f"{_path(cohort.student)}/ending"
    r = await api.put(path, json=_ending(), headers=cohort.student_auth)
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
    assert (await api.put(path, json=_ending())).status_code == 401
    coordinator_without_institution = bearer(pl_settings, Role.COORDINATOR, new_id("coord"))
    assert (await api.put(path, json=_ending(), headers=coordinator_without_institution)).status_code == 401
    assert (await _stored(api, cohort))["version"] == 1
    assert await _staged(pg, pl_settings.outbox_producer, cohort.student) == 0
