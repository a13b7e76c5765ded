"""Idempotency-Key semantics (IETF draft) and client entry ids: a phone that resends never creates a
second entry."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import asyncpg
from werkplek_placement_logging.ledger_sql import student_lock

from tests.support import eventually

from .conftest import entry, idem


async def test_missing_key_is_400_and_stores_nothing(api, cohort, pg):
    r = await api.post("/v1/me/entries", json=entry(cohort.placement, cohort.start), headers=cohort.student_auth)
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"] == [{"field": "header.Idempotency-Key", "message": "required"}]
    assert await pg.fetchval("SELECT count(*) FROM pl_entry WHERE student_id = $1", cohort.student) == 0


async def test_retry_after_completion_gets_the_stored_response(api, cohort, pg):
    body, key = entry(cohort.placement, cohort.start), idem()
    first = await api.post("/v1/me/entries", json=body, headers={**cohort.student_auth, **key})
    again = await api.post("/v1/me/entries", json=body, headers={**cohort.student_auth, **key})
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await pg.fetchval("SELECT count(*) FROM pl_entry_revision WHERE student_id = $1", cohort.student) == 1


async def test_same_key_with_another_payload_is_422(api, cohort, pg):
    key = idem()
    first = await api.post("/v1/me/entries", json=entry(cohort.placement, cohort.start),
                           headers={**cohort.student_auth, **key})
    assert first.status_code == 201
    other = await api.post("/v1/me/entries", json=entry(cohort.placement, cohort.start),
                           headers={**cohort.student_auth, **key})
    assert other.status_code == 422 and other.json()["type"].endswith("/idempotency-key-reused")
    assert await pg.fetchval("SELECT count(*) FROM pl_entry WHERE student_id = $1", cohort.student) == 1


async def test_retry_while_the_first_is_in_flight_is_409(api, cohort, pg, pl_settings):
    body, key = entry(cohort.placement, cohort.start), idem()
    blocker = await asyncpg.connect(pl_settings.service_dsn)
    tx = blocker.transaction()
    await tx.start()
    await blocker.execute("SELECT pg_advisory_xact_lock($1)", student_lock(cohort.student))  # hold the student
    first = asyncio.create_task(api.post("/v1/me/entries", json=body, headers={**cohort.student_auth, **key}))

    async def first_waits() -> bool:  # the first request holds its key and waits for the student lock
        return await pg.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                                 " AND objid = $1::bigint::oid", student_lock(cohort.student) & 0xFFFFFFFF) > 0
    try:
        await eventually(first_waits, timeout=10, what="first request in flight")
        retry = await api.post("/v1/me/entries", json=body, headers={**cohort.student_auth, **key})
        assert retry.status_code == 409 and retry.headers["retry-after"] == "1"
        assert retry.json()["type"].endswith("/idempotency-key-in-flight")
    finally:
        await tx.rollback()
        await blocker.close()
    assert (await first).status_code == 201
    after = await api.post("/v1/me/entries", json=body, headers={**cohort.student_auth, **key})
    assert after.status_code == 201 and after.headers["idempotent-replayed"] == "true"


async def test_50_concurrent_identical_posts_create_exactly_one_entry(api, cohort, pg):
    body, key = entry(cohort.placement, cohort.start), idem()
    replies = await asyncio.gather(*[api.post("/v1/me/entries", json=body, headers={**cohort.student_auth, **key})
                                     for _ in range(50)])
    codes = [r.status_code for r in replies]
    assert set(codes) <= {201, 409} and codes.count(201) >= 1, codes
    assert len({r.content for r in replies if r.status_code == 201}) == 1  # the one stored answer
    assert await pg.fetchval("SELECT count(*) FROM pl_entry WHERE student_id = $1", cohort.student) == 1
    assert await pg.fetchval("SELECT count(*) FROM pl_entry_revision WHERE student_id = $1", cohort.student) == 1


async def test_a_resent_entry_id_under_a_new_key_is_not_a_second_entry(api, cohort, pg, pl_settings):
    body = entry(cohort.placement, cohort.start + timedelta(days=1))
    first = await api.post("/v1/me/entries", json=body, headers={**cohort.student_auth, **idem()})
    again = await api.post("/v1/me/entries", json=body, headers={**cohort.student_auth, **idem()})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["entry_id"] == body["entry_id"]
    assert await pg.fetchval("SELECT count(*) FROM pl_entry WHERE student_id = $1", cohort.student) == 1
    assert await pg.fetchval("SELECT count(*) FROM outbox WHERE producer = $1 AND key = $2::bytea",
                             pl_settings.outbox_producer, cohort.student.encode()) >= 1
    logged = await pg.fetchval("SELECT count(*) FROM outbox WHERE producer = $1 AND topic = "
                               "'placement.time_entry.logged.v1' AND key = $2::bytea",
                               pl_settings.outbox_producer, cohort.student.encode())
    assert logged == 1


async def test_a_batch_retry_gets_the_same_per_item_results(api, cohort, pg):
    items = [entry(cohort.placement, cohort.start + timedelta(days=i)) for i in range(5)]
    key = idem()
    first = await api.post("/v1/me/entries/batch", json={"entries": items}, headers={**cohort.student_auth, **key})
    again = await api.post("/v1/me/entries/batch", json={"entries": items}, headers={**cohort.student_auth, **key})
    assert first.status_code == again.status_code == 200 and first.content == again.content
    fresh = await api.post("/v1/me/entries/batch", json={"entries": items},
                           headers={**cohort.student_auth, "Idempotency-Key": str(uuid.uuid4())})
    assert [x["status"] for x in fresh.json()["results"]] == [200] * 5
    assert await pg.fetchval("SELECT count(*) FROM pl_entry WHERE student_id = $1", cohort.student) == 5
