"""Limits before work on the webhook endpoint. A `webhook-timestamp` with a non-ASCII digit answered
500 without any secret (a registered source id was enough); a signed rejection whose comment holds
U+0000 answered 500 (and tools retry 5xx forever); one unauthenticated 200 MB POST took the API from
77 MB to 469 MB, because the body was read whole before the signature was checked. Now: 400 naming
the header, 422 naming the field, 413 before the body is read, and nothing stored in any case."""

from __future__ import annotations

import json

from werkplek_common.http import DRAIN_BYTES

from tests.unit.mentor_feedback import factories as f

from .test_webhooks import reject


async def test_a_timestamp_with_a_non_ascii_digit_is_a_400_naming_the_header(api, world, clock):
    body = f.message("hours.confirmed", {"mentor_id": world.mentor_a, "entries": []})
    headers = {**f.signed(world.secrets[world.source_a], body, ts=int(clock.now)),
               "webhook-timestamp": f"{int(clock.now)}²".encode("latin-1")}  # byte B2: "²" to the server
    r = await api.post(f"/webhooks/{world.source_a}", content=body, headers=headers)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == "webhook-timestamp"


async def test_a_signed_comment_that_cannot_be_stored_is_a_422_and_stores_nothing(send, world):
    e1 = await world.entry()
    data = reject(world.mentor_a, e1, comment="was\x00three hours")
    r = await send(world.source_a, "hours.rejected", data, body=json.dumps(
        {"type": "hours.rejected", "timestamp": "2026-12-01T10:00:00Z", "data": data}).encode())
    assert r.status_code == 422, r.text
    [error] = r.json()["errors"]
    assert error["field"] == "data.entries.0.comment" and "U+0000" in error["message"]
    assert await world.outbox(world.student) == []
    assert await world.pool.fetchval("SELECT count(*) FROM mf_decision_log WHERE entry_id = $1", e1) == 0


async def test_an_oversized_body_is_refused_before_it_is_read_or_verified(api, world, cfg):
    taken = 0

    async def upload():  # 200 MB, unauthenticated, without a Content-Length
        nonlocal taken
        for _ in range(200 * 16):
            taken += 64 * 1024
            yield b"x" * (64 * 1024)

    r = await api.post(f"/webhooks/{world.source_a}", content=upload())
    assert r.status_code == 413, r.text
    assert r.json()["max_bytes"] == cfg.mentor_max_body_bytes
    assert taken <= cfg.mentor_max_body_bytes + 64 * 1024 + DRAIN_BYTES  # not the 200 MB
    declared = await api.post(f"/webhooks/{world.source_a}", content=b"x" * (cfg.mentor_max_body_bytes + 1))
    assert declared.status_code == 413


async def test_a_path_id_that_is_no_id_is_a_422(api, world):
    r = await api.get("/students/a%00b/outcome-progress")
    assert r.status_code == 422, r.text
    r = await api.post("/webhooks/src%00", content=b"{}")
    assert r.status_code == 422, r.text
