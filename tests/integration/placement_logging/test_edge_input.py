"""Nothing the edge accepts can break what comes after it. Text PostgreSQL cannot store (U+0000) or
that is not Unicode at all (a lone surrogate, which a JSON escape can carry) used to answer 500 from
registry PUTs and entries, and one such entry failed its whole 500-entry batch, so a phone resending
it never got through. Now each is a 422 naming the field, and a batch refuses only that item. Text is
stored as NFC. Bodies over the limit are refused with 413 before the token is even looked at."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from werkplek_common.http import DRAIN_BYTES

from .conftest import entry, idem, new_id, placement_doc


def raw(doc: str, auth: dict[str, str]) -> dict[str, object]:
    """A JSON body as a client may write it, escapes included (httpx would refuse to encode some)."""
    return {"content": doc.encode(), "headers": {"content-type": "application/json", **auth}}


@pytest.mark.parametrize(("name", "fault"), [('"ward\\u0000round"', "U+0000"), ('"x\\ud800y"', "lone surrogate"),
                                             ('"bell\\u0007"', "control character U+0007")])
async def test_text_that_cannot_be_stored_is_a_422_naming_the_field(api, cohort, name, fault):
    r = await api.put(f"/v1/programmes/{new_id('prog')}",
                      **raw(f'{{"name": {name}, "level": "graduaat", "ects": 120, "phases": 2}}', cohort.coordinator))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    [error] = r.json()["errors"]
    assert error["field"] == "body.name" and fault in error["message"]


async def test_a_learning_outcome_title_with_nul_is_refused_and_nothing_is_stored(api, cohort, pg):
    doc = placement_doc(cohort.student, cohort.workplace, cohort.mentor, cohort.start, cohort.end)
    doc["learning_agreement"]["outcomes"][0]["title"] = "Basic\x00care"  # type: ignore[index]
    pid = new_id("pl")
    r = await api.put(f"/v1/placements/{pid}", json=doc, headers=cohort.coordinator)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "body.learning_agreement.outcomes.0.title"
    assert await pg.fetchval("SELECT count(*) FROM pl_placement WHERE id = $1", pid) == 0


async def test_text_is_stored_as_nfc(api, cohort):
    r = await api.put(f"/v1/workplaces/{new_id('wp')}", headers=cohort.coordinator,
                      json={"name": "Cafe\u0301 de\u0301 Paris", "sector": "horeca", "environment": "authentic"})
    assert r.status_code == 201, r.text
    assert r.json()["body"]["name"] == "Café dé Paris"


async def test_one_unstorable_entry_refuses_that_item_only(api, cohort, pg):
    good = [entry(cohort.placement, cohort.start + timedelta(days=d)) for d in (1, 2)]
    bad = entry(cohort.placement, cohort.start + timedelta(days=3), description="night\x00shift")
    r = await api.post("/v1/me/entries/batch", json={"entries": [good[0], bad, good[1]]},
                       headers={**cohort.student_auth, **idem()})
    assert r.status_code == 200, r.text
    assert [item["status"] for item in r.json()["results"]] == [201, 422, 201]
    assert r.json()["results"][1]["problem"]["errors"][0]["field"] == "description"
    single = await api.post("/v1/me/entries", json=bad, headers={**cohort.student_auth, **idem()})
    assert single.status_code == 422 and "U+0000" in single.json()["detail"]
    stored = await pg.fetchval("SELECT count(*) FROM pl_entry WHERE student_id = $1", cohort.student)
    assert stored == 2
    refusals = await api.get("/v1/me/refusals", headers=cohort.student_auth)  # kept as sent, but storable
    [kept] = [r for r in refusals.json()["items"] if r["entry_id"] == bad["entry_id"]]
    assert kept["entry"]["description"] == "night\ufffdshift"


async def test_a_forged_cursor_never_reaches_the_database(api, cohort):
    for cursor in ("AA", "2D8", "////"):  # NUL, a lone surrogate's UTF-8 bytes, bytes that are not UTF-8
        r = await api.get("/v1/programmes", params={"cursor": cursor}, headers=cohort.coordinator)
        assert r.status_code == 400, (cursor, r.text)
        assert r.json()["errors"] == [{"field": "query.cursor", "message": "not a cursor of this API"}]
    r = await api.get("/v1/me/entries", params={"placement_id": "pl\x00"}, headers=cohort.student_auth)
    assert r.status_code == 422


async def test_a_body_over_the_limit_is_refused_before_authentication(api, pl_settings):
    limit = pl_settings.max_body_bytes
    r = await api.put(f"/v1/programmes/{new_id('p')}", content=b"{" + b" " * limit + b"}",
                      headers={"content-type": "application/json"})  # no token at all
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/problem+json" and r.json()["max_bytes"] == limit
    taken = 0

    async def chunks():  # no Content-Length: refused while it is read
        nonlocal taken
        for _ in range(200):
            taken += 64 * 1024
            yield b" " * (64 * 1024)

    r = await api.post("/v1/me/entries/batch", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["max_bytes"] == pl_settings.max_batch_body_bytes
    assert taken <= pl_settings.max_batch_body_bytes + 64 * 1024 + DRAIN_BYTES  # the rest was dropped, not kept


async def test_the_limit_holds_on_a_real_server_too(server, pl_settings):
    """Through uvicorn's HTTP parser, with a declared length and with a chunked body."""
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        r = await client.post("/v1/me/entries", content=b"x" * (pl_settings.max_body_bytes + 1))
        assert r.status_code == 413, r.text

        async def chunks():
            for _ in range(100):
                yield b" " * (64 * 1024)

        r = await client.post("/v1/me/entries", content=chunks())
        assert r.status_code == 413 and r.headers["connection"] == "close"


async def test_an_idempotency_key_is_printable_ascii(api, cohort):
    body = entry(cohort.placement, cohort.start)
    for key in ("caf\xe9".encode("latin-1"), b"a\x01b", b"k" * 256):
        r = await api.post("/v1/me/entries", json=body, headers={**cohort.student_auth, "Idempotency-Key": key})
        assert r.status_code == 400, (key, r.text)
        assert r.json()["errors"][0]["field"] == "header.Idempotency-Key"
