"""Contact data through the registry API: a coordinator sets a mentor's e-mail address and language
and the institution's notification address; each change is one event on its own compacted topic
(the same contact again emits nothing), a removal publishes the contact as gone; another
institution sees nothing. And the early-warning list: GET /v1/shares?status=at_risk,behind."""

from __future__ import annotations

import json

import asyncpg
from werkplek_common.auth import Role
from werkplek_events import BY_NAME, InstitutionContactChanged, MentorContactChanged, decode
from werkplek_events.vocabulary import Language

from tests.integration.placement_logging.conftest import bearer, make_cohort, new_id


async def staged(pg: asyncpg.Connection, producer: str, key: str) -> list:
    rows = await pg.fetch("SELECT topic, value, headers FROM outbox WHERE producer = $1 AND key = $2 ORDER BY id",
                          producer, key.encode())
    return [decode(r["topic"], r["value"], [(k, v.encode()) for k, v in json.loads(r["headers"])])
            for r in rows if r["topic"] in BY_NAME and "contact" in r["topic"]]


async def test_a_mentor_contact_is_set_changed_and_removed(api, pl_settings, pg):
    c = await make_cohort(api, pl_settings)
    url = f"/v1/mentors/{c.mentor}/contact"
    assert (await api.get(url, headers=c.coordinator)).status_code == 404
    first = await api.put(url, json={"email": "an.peeters@azgroeninge.be", "language": "en"}, headers=c.coordinator)
    assert first.status_code == 201, first.text
    assert first.json() == {"subject_id": c.mentor, "email": "an.peeters@azgroeninge.be", "language": "en",
                            "version": 1}
    same = await api.put(url, json={"email": "an.peeters@azgroeninge.be", "language": "en"}, headers=c.coordinator)
    assert same.status_code == 200 and same.json()["version"] == 1
    changed = await api.put(url, json={"email": "an@azgroeninge.be"}, headers=c.coordinator)
    assert changed.status_code == 200 and changed.json()["language"] == "nl" and changed.json()["version"] == 2
    assert (await api.get(url, headers=c.coordinator)).json()["email"] == "an@azgroeninge.be"
    assert (await api.delete(url, headers=c.coordinator)).status_code == 204
    assert (await api.get(url, headers=c.coordinator)).status_code == 404
    assert (await api.delete(url, headers=c.coordinator)).status_code == 404
    events = await staged(pg, pl_settings.outbox_producer, c.mentor)
    assert [(type(e), e.email, e.language) for e in events] == [
        (MentorContactChanged, "an.peeters@azgroeninge.be", Language.EN), (MentorContactChanged, "an@azgroeninge.be",
                                                                           Language.NL),
        (MentorContactChanged, None, Language.NL)]
    assert all(e.institution_id == c.institution for e in events)
    body = await pg.fetchval("SELECT body::text FROM pl_mentor WHERE id = $1", c.mentor)
    assert "@" not in body  # the address is not in the registry body: it lives in pl_contact only


async def test_bad_addresses_and_other_institutions_are_refused(api, pl_settings):
    c = await make_cohort(api, pl_settings)
    url = f"/v1/mentors/{c.mentor}/contact"
    for bad in ({"email": "not an address"}, {"email": "a@b"}, {"email": "x@y.be", "language": "fr"},
                {"email": "x@y.be", "phone": "0470"}):
        r = await api.put(url, json=bad, headers=c.coordinator)
        assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith("body."), (bad, r.text)
    other = bearer(pl_settings, Role.COORDINATOR, new_id("coord"), new_id("inst"))
    assert (await api.put(url, json={"email": "x@y.be"}, headers=other)).status_code == 404
    assert (await api.get(url, headers=other)).status_code == 404
    assert (await api.put(f"/v1/mentors/{new_id('m')}/contact", json={"email": "x@y.be"},
                          headers=c.coordinator)).status_code == 404
    assert (await api.put(url, json={"email": "x@y.be"}, headers=c.student_auth)).status_code == 403


async def test_the_notification_address_is_the_coordinators_own_institutions(api, pl_settings, pg):
    c = await make_cohort(api, pl_settings)
    put = await api.put("/v1/notification-address", json={"email": "stage@hogent.be", "language": "nl"},
                        headers=c.coordinator)
    assert put.status_code == 201 and put.json()["subject_id"] == c.institution
    other = bearer(pl_settings, Role.COORDINATOR, new_id("coord"), new_id("inst"))
    assert (await api.get("/v1/notification-address", headers=other)).status_code == 404
    assert (await api.get("/v1/notification-address", headers=c.coordinator)).json()["email"] == "stage@hogent.be"
    (event,) = await staged(pg, pl_settings.outbox_producer, c.institution)
    assert isinstance(event, InstitutionContactChanged) and event.email == "stage@hogent.be"


async def test_shares_can_be_filtered_by_status(api, pl_settings, pg):
    inst = new_id("inst")
    cohorts = [await make_cohort(api, pl_settings, institution=inst) for _ in range(3)]
    for c, status in zip(cohorts, ("on_track", "at_risk", "behind"), strict=True):
        # placement logging's own view of the shares (its worker fills it from accounting.share.updated)
        await pg.execute("INSERT INTO pl_share_view(student_id, programme_id, version, status, real_share, body)"
                         " VALUES ($1, $2, 1, $3, 0.1, $4::jsonb)", c.student, c.programme, status,
                         json.dumps({"status": status}))
    coord = cohorts[0].coordinator

    async def listed(query: dict[str, str]) -> list[str]:
        r = await api.get("/v1/shares", params=query, headers=coord)
        assert r.status_code == 200, r.text
        return sorted(i["status"] for i in r.json()["items"])

    assert await listed({}) == ["at_risk", "behind", "on_track"]
    assert await listed({"status": "at_risk,behind"}) == ["at_risk", "behind"]
    assert await listed({"status": "behind"}) == ["behind"]
    wrong = await api.get("/v1/shares", params={"status": "at_risk,late"}, headers=coord)
    assert wrong.status_code == 422 and wrong.json()["errors"] == [
        {"field": "query.status", "message": "comma-separated statuses out of at_risk, behind, on_track"}]
