"""Erasure through the API (docs/adr/0072), on the real PostgreSQL and Kafka: a coordinator of the
subject's institution erases a student or mentor; another institution's coordinator, or an unknown
subject, gets a 404 and nothing changes; a second request answers with the first erasure; an erasure
interrupted between its steps is finished by the worker's sweep; the audit log holds no id. Full
removal (`remove_from_figures`, a student only) travels on `SubjectErased`; it can be added to an
erasure that kept the figures (its last step runs again), never taken back (409)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from datetime import date, timedelta

import orjson
import pytest
from werkplek_common.auth import Role
from werkplek_common.db import create_pool
from werkplek_common.keystore import KeyStore
from werkplek_common.outbox import OutboxRelay
from werkplek_common.settings import REPO_ROOT
from werkplek_events import SubjectErased, TimeEntryLogged, decode, topic_for
from werkplek_placement_logging import erasure
from werkplek_placement_logging.uow_pg import Registry

from tests.integration.placement_logging.conftest import bearer, entry, idem, make_cohort, new_id
from tests.support import eventually, read_until, relay_until_drained

# unique per run: the scans below look through tables other runs write too
SECRET = f"wondverzorging bij mevrouw Janssens, kamer {uuid.uuid4().hex[:8]}"


async def _log(api, c, text: str = SECRET) -> str:
    doc = entry(c.placement, date.today() - timedelta(days=1), description=text)
    r = await api.post("/v1/me/entries", json=doc, headers={**c.student_auth, **idem()})
    assert r.status_code in (200, 201), r.text
    return str(doc["entry_id"])


async def _hits(pg, text: str) -> list[str]:
    """Tables of placement logging, the key store and the outbox that hold `text` anywhere."""
    tables = [(r["table_schema"], r["table_name"]) for r in await pg.fetch(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND"
        " ((table_schema = 'placement_logging' AND (table_name LIKE 'pl\\_%' OR table_name = 'outbox'))"
        " OR (table_schema = 'keys' AND table_name = 'data_keys'))")]
    assert len(tables) > 3, tables
    return [t for schema, t in tables if await pg.fetchval(
        f"SELECT count(*) FROM {schema}.{t} x WHERE position($1 in x::text) > 0", text)]


async def _relay(pool, pl_settings, producer) -> None:
    name = pl_settings.outbox_producer
    await relay_until_drained(OutboxRelay(pool, producer, name), pool, name)


async def test_a_student_is_erased_once_by_their_own_institution(api, pl_settings, pg, stack, producer):
    c = await make_cohort(api, pl_settings)
    other = bearer(pl_settings, Role.COORDINATOR, new_id("coord"), new_id("inst"))
    entry_id = await _log(api, c)
    pool = await create_pool(pl_settings.service_dsn)
    try:
        await _relay(pool, pl_settings, producer)  # the entry reaches Kafka sealed under the student's key
        body = {"subject_kind": "student", "subject_id": c.student}
        for who, doc in ((other, body), (c.coordinator, {"subject_kind": "student", "subject_id": new_id("stu")}),
                         (c.coordinator, {"subject_kind": "mentor", "subject_id": c.student})):
            refused = await api.post("/v1/erasures", json=doc, headers=who)
            assert refused.status_code == 404, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
        assert await _hits(pg, SECRET)  # nothing changed
        assert await pg.fetchval("SELECT count(*) FROM pl_erasure WHERE institution_id = $1", c.institution) == 0

        done = await api.post("/v1/erasures", json=body, headers=c.coordinator)
        assert done.status_code == 201, done.text
        doc = done.json()
        assert doc["status"] == "completed" and doc["removed"]["data_keys"] == 1 and doc["removed"]["entries"] == 1
        again = await api.post("/v1/erasures", json=body, headers=c.coordinator)
        assert again.status_code == 200 and again.json()["erasure_id"] == doc["erasure_id"]
        assert (await api.get(done.headers["Location"], headers=c.coordinator)).json()["status"] == "completed"
        assert (await api.get(done.headers["Location"], headers=other)).status_code == 404

        await _relay(pool, pl_settings, producer)
        assert await _hits(pg, SECRET) == []
        audit = await pg.fetchrow("SELECT * FROM pl_erasure WHERE erasure_id = $1", uuid.UUID(doc["erasure_id"]))
        assert c.student not in str(dict(audit))  # the audit log names the subject by a hash only
        # the student's entry stays with its hours; its text is gone from the ledger and the record on Kafka
        mine = await api.get(f"/v1/me/entries/{entry_id}", headers=c.student_auth)
        assert mine.status_code == 200 and mine.json()["description"] == "" and mine.json()["duration_minutes"] == 60
        logged_topic, erased_topic = topic_for(TimeEntryLogged).name, topic_for(SubjectErased).name

        def both_read(rs: list) -> bool:  # the two topics are read in no set order: wait for both records
            return all(any(r.key == c.student.encode() and r.topic == t for r in rs)
                       for t in (logged_topic, erased_topic))

        recs = await read_until(stack.kafka_bootstrap, [logged_topic, erased_topic], both_read)
        keys = KeyStore()
        lookup = await keys.lookup_for(pool, [r.headers for r in recs])
        mine_on_kafka = [decode(r.topic, r.value, r.headers, lookup) for r in recs if r.key == c.student.encode()]
        logged = [e for e in mine_on_kafka if isinstance(e, TimeEntryLogged)]
        assert logged and all(e.description == "" and e.redacted == {"description": "erased"} for e in logged)
        assert all(SECRET.encode() not in r.value for r in recs)
        erased = [e for e in mine_on_kafka if isinstance(e, SubjectErased)]
        assert [str(e.erasure_id) for e in erased] == [doc["erasure_id"]]
    finally:
        await pool.close()


async def test_a_mentor_is_erased_with_a_tombstone_for_their_contact(api, pl_settings, pg):
    c = await make_cohort(api, pl_settings)
    email = f"{new_id('an')}@azgroeninge.be"
    assert (await api.put(f"/v1/mentors/{c.mentor}/contact", json={"email": email},
                          headers=c.coordinator)).status_code == 201
    done = await api.post("/v1/erasures", json={"subject_kind": "mentor", "subject_id": c.mentor},
                          headers=c.coordinator)
    assert done.status_code == 201 and done.json()["removed"]["contacts"] == 1
    assert (await api.get(f"/v1/mentors/{c.mentor}/contact", headers=c.coordinator)).status_code == 404
    tomb = await pg.fetchrow("SELECT value, headers FROM outbox WHERE producer = $1 AND topic = $2 AND key = $3"
                             " ORDER BY id DESC LIMIT 1", pl_settings.outbox_producer,
                             "placement.mentor.contact_changed.v1", c.mentor.encode())
    assert tomb is not None and tomb["value"] == b""
    assert [t for t in await _hits(pg, email) if t != "outbox"] == []  # the staged change goes out sealed


async def _half_done(api, c, monkeypatch):
    """An erasure whose API process "dies" after destroying the keys: its next step raises."""
    async def crash(*_a, **_k):
        raise ConnectionResetError("killed between steps")

    with monkeypatch.context() as m:
        m.setattr(erasure, "_remove_local", crash)
        half = await api.post("/v1/erasures", json={"subject_kind": "student", "subject_id": c.student},
                              headers=c.coordinator)
    assert half.status_code == 202, half.text
    return half


async def test_an_erasure_interrupted_between_steps_is_finished_by_the_sweep(api, pl_settings, pg, monkeypatch):
    c = await make_cohort(api, pl_settings)
    await _log(api, c)
    half = await _half_done(api, c, monkeypatch)
    row = await pg.fetchrow("SELECT * FROM pl_erasure WHERE erasure_id = $1", uuid.UUID(half.json()["erasure_id"]))
    assert row["keys_destroyed_at"] is not None and row["completed_at"] is None
    assert "pl_entry" in await _hits(pg, SECRET)
    reg = Registry(api.app.state.registry.pool, pl_settings.outbox_producer, pl_settings.event_source)
    assert await erasure.resume(reg, KeyStore()) >= 1
    assert await erasure.resume(reg, KeyStore()) == 0
    row = await pg.fetchrow("SELECT * FROM pl_erasure WHERE erasure_id = $1", row["erasure_id"])
    assert row["completed_at"] is not None
    assert not {"pl_entry", "pl_entry_revision", "pl_idempotency"} & set(await _hits(pg, SECRET))
    assert await pg.fetchval("SELECT count(*) FROM pl_erasure_work WHERE erasure_id = $1", row["erasure_id"]) == 0


@pytest.mark.parametrize("doc", [{"subject_kind": "workplace", "subject_id": "x"}, {"subject_kind": "student"},
                                 {"subject_kind": "student", "subject_id": "x", "extra": 1},
                                 {"subject_kind": "student", "subject_id": "x", "remove_from_figures": "ja"},
                                 {"subject_kind": "mentor", "subject_id": "x", "remove_from_figures": True}])
async def test_a_malformed_request_is_a_422(api, pl_settings, doc):
    c = await make_cohort(api, pl_settings)
    r = await api.post("/v1/erasures", json=doc, headers=c.coordinator)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_full_removal_of_a_mentor_is_refused_and_changes_nothing(api, pl_settings, pg):
    c = await make_cohort(api, pl_settings)
    r = await api.post("/v1/erasures", json={"subject_kind": "mentor", "subject_id": c.mentor,
                                             "remove_from_figures": True}, headers=c.coordinator)
    assert r.status_code == 422 and "student only" in r.json()["detail"], r.text
    assert await pg.fetchval("SELECT count(*) FROM pl_erasure WHERE institution_id = $1", c.institution) == 0


async def _staged(pg, pl_settings, student: str) -> list[SubjectErased]:
    """The `SubjectErased` events staged for the student, in order (no relay runs in these tests)."""
    rows = await pg.fetch("SELECT topic, value, headers FROM outbox WHERE producer = $1 AND topic = $2 AND key = $3"
                          " ORDER BY id", pl_settings.outbox_producer, topic_for(SubjectErased).name, student.encode())
    out = []
    for r in rows:
        headers = orjson.loads(r["headers"]) if isinstance(r["headers"], str) else r["headers"]
        event = decode(r["topic"], r["value"], [(k, v.encode()) for k, v in headers])
        assert isinstance(event, SubjectErased)
        out.append(event)
    return out


async def test_full_removal_is_asked_with_the_erasure_and_cannot_be_taken_back(api, pl_settings, pg):
    c = await make_cohort(api, pl_settings)
    await _log(api, c)
    full = {"subject_kind": "student", "subject_id": c.student, "remove_from_figures": True}
    done = await api.post("/v1/erasures", json=full, headers=c.coordinator)
    assert done.status_code == 201, done.text
    doc = done.json()
    assert doc["remove_from_figures"] is True and doc["status"] == "completed" and doc["removed"]["entries"] == 1
    assert [(str(e.erasure_id), e.remove_from_figures) for e in await _staged(pg, pl_settings, c.student)] == \
        [(doc["erasure_id"], True)]
    audit = await pg.fetchrow("SELECT * FROM pl_erasure WHERE erasure_id = $1", uuid.UUID(doc["erasure_id"]))
    assert audit["remove_from_figures"] and audit["removal_asked_at"] is not None and audit["removal_asked_by"]
    again = await api.post("/v1/erasures", json=full, headers=c.coordinator)
    assert again.status_code == 200 and again.json() == doc
    keep = await api.post("/v1/erasures", json={**full, "remove_from_figures": False}, headers=c.coordinator)
    assert keep.status_code == 409 and keep.headers["content-type"].startswith("application/problem+json")
    assert doc["erasure_id"] in keep.json()["detail"]
    assert len(await _staged(pg, pl_settings, c.student)) == 1  # nothing more was said


async def test_full_removal_is_added_to_an_erasure_that_kept_the_figures(api, pl_settings, pg):
    c = await make_cohort(api, pl_settings)
    await _log(api, c)
    body = {"subject_kind": "student", "subject_id": c.student}
    first = await api.post("/v1/erasures", json=body, headers=c.coordinator)  # the default keeps the figures
    assert first.status_code == 201 and first.json()["remove_from_figures"] is False, first.text
    assert [e.remove_from_figures for e in await _staged(pg, pl_settings, c.student)] == [False]
    other = bearer(pl_settings, Role.COORDINATOR, new_id("coord"), new_id("inst"))
    assert (await api.post("/v1/erasures", json={**body, "remove_from_figures": True},
                           headers=other)).status_code == 404  # another institution still sees nothing

    added = await api.post("/v1/erasures", json={**body, "remove_from_figures": True}, headers=c.coordinator)
    assert added.status_code == 200, added.text
    doc = added.json()
    assert doc["erasure_id"] == first.json()["erasure_id"] and doc["remove_from_figures"] is True
    assert doc["status"] == "completed" and doc["removed"] == first.json()["removed"]  # counts of the first run kept
    staged = await _staged(pg, pl_settings, c.student)
    assert [(str(e.erasure_id), e.remove_from_figures) for e in staged] == [(doc["erasure_id"], False),
                                                                          (doc["erasure_id"], True)]
    assert await pg.fetchval("SELECT count(*) FROM pl_erasure_work WHERE erasure_id = $1",
                             uuid.UUID(doc["erasure_id"])) == 0  # the id is gone again
    assert (await api.post("/v1/erasures", json={**body, "remove_from_figures": True},
                           headers=c.coordinator)).status_code == 200
    assert (await api.post("/v1/erasures", json=body, headers=c.coordinator)).status_code == 409
    assert len(await _staged(pg, pl_settings, c.student)) == 2


async def test_the_worker_process_finishes_an_erasure_the_api_left_half_done(api, pl_settings, pg, monkeypatch):
    """The API process "dies" after destroying the keys (its next step raises); a real worker process,
    started afterwards, finds the recorded erasure and completes it; it is then killed (SIGKILL)."""
    c = await make_cohort(api, pl_settings)
    await _log(api, c)
    half = await _half_done(api, c, monkeypatch)
    erasure_id = uuid.UUID(half.json()["erasure_id"])
    tag = uuid.uuid4().hex[:8]
    env = {**os.environ, "WERKPLEK_OUTBOX_PRODUCER": pl_settings.outbox_producer, "WERKPLEK_LOG_LEVEL": "WARNING",
           "WERKPLEK_DECISIONS_CONSUMER_GROUP": f"pl-erasure-{tag}",
           "WERKPLEK_VIEWS_CONSUMER_GROUP": f"pl-erasure-views-{tag}",
           "WERKPLEK_METRICS_PORT": "0"}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "werkplek_placement_logging", "worker", env=env,
                                                cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        async def completed() -> bool:
            return await pg.fetchval("SELECT completed_at IS NOT NULL FROM pl_erasure WHERE erasure_id = $1",
                                     erasure_id)
        await eventually(completed, timeout=60, what="the worker's sweep to complete the erasure")
    finally:
        proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), 30)
    assert "pl_entry" not in await _hits(pg, SECRET)
    assert (await api.get(f"/v1/erasures/{erasure_id}", headers=c.coordinator)).json()["status"] == "completed"
