"""Access to personal data by staff (docs/adr/0074): funding staff see pseudonymous trajectories; a
coordinator of the student's institution can learn the student behind one, another institution's
coordinator cannot (404, like an unknown one), and every read of personal data by staff is logged."""

from __future__ import annotations

from werkplek_common.auth import Role
from werkplek_events.pseudonyms import pseudonym

from tests.integration.placement_logging.conftest import bearer, make_cohort, new_id


def _key(pl_settings) -> bytes:
    return pl_settings.reports_pseudonym_key.get_secret_value().encode()


async def test_a_coordinator_reveals_their_own_student_and_the_read_is_logged(api, pl_settings, pg):
    c = await make_cohort(api, pl_settings)
    trajectory = pseudonym(_key(pl_settings), c.student)
    other_coord = bearer(pl_settings, Role.COORDINATOR, new_id("coord"), new_id("inst"))
    funding = bearer(pl_settings, Role.FUNDING, "funding-1")
    for who, status in ((other_coord, 404), (funding, 403), (c.student_auth, 403)):
        r = await api.get(f"/v1/trajectories/{trajectory}", headers=who)
        assert r.status_code == status, (who, r.text)
    assert await pg.fetchval("SELECT count(*) FROM pl_personal_reads WHERE subject_id = $1", c.student) == 0
    assert (await api.get("/v1/trajectories/t-0123456789abcdef", headers=c.coordinator)).status_code == 404
    assert (await api.get("/v1/trajectories/not-a-pseudonym", headers=c.coordinator)).status_code == 422

    r = await api.get(f"/v1/trajectories/{trajectory}", headers=c.coordinator)
    assert r.status_code == 200 and r.json() == {"trajectory": trajectory, "student_id": c.student}
    logged = await pg.fetch("SELECT * FROM pl_personal_reads WHERE subject_id = $1", c.student)
    assert [(x["what"], x["role"], x["institution_id"]) for x in logged] == \
        [("trajectory_revealed", "coordinator", c.institution)]


async def test_a_coordinators_read_of_a_mentors_address_is_logged(api, pl_settings, pg):
    c = await make_cohort(api, pl_settings)
    url = f"/v1/mentors/{c.mentor}/contact"
    assert (await api.put(url, json={"email": "an@azgroeninge.be"}, headers=c.coordinator)).status_code == 201
    assert (await api.get(url, headers=c.coordinator)).status_code == 200
    rows = await pg.fetch("SELECT what, reader FROM pl_personal_reads WHERE subject_id = $1", c.mentor)
    assert [r["what"] for r in rows] == ["mentor_contact"] and rows[0]["reader"].startswith("coord")
