"""Outbound webhooks against a real local receiver: failures are retried with backoff (and after
Retry-After when asked), success delivers, 410 disables the endpoint; every attempt is recorded and
each request is signed with Standard Webhooks."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn
from werkplek_mentor_feedback.confirmations import form_requests
from werkplek_mentor_feedback.outbound import Deliverer
from werkplek_mentor_feedback.signing import verify
from werkplek_mentor_feedback.sources import set_endpoint

from tests.support import eventually


class Receiver:
    """Answers from a script of statuses (last one repeats) and keeps every request."""

    def __init__(self, script: list[tuple[int, dict[str, str]]]) -> None:
        self.script = script
        self.requests: list[tuple[dict[str, str], bytes, float]] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while (msg := await receive())["type"] != "lifespan.shutdown":
                await send({"type": msg["type"] + ".complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        self.requests.append(({k.decode(): v.decode() for k, v in scope["headers"]}, body, time.time()))
        status, headers = self.script[min(len(self.requests) - 1, len(self.script) - 1)]
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.encode(), v.encode()) for k, v in headers.items()]})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
async def receiver():
    app = Receiver([(500, {}), (503, {"retry-after": "1"}), (200, {}), (410, {})])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    await eventually(lambda: _true(server.started), timeout=10, what="receiver started")
    port = server.servers[0].sockets[0].getsockname()[1]
    yield app, f"http://127.0.0.1:{port}/hooks"
    server.should_exit = True
    await task


async def _true(value) -> bool:
    return bool(value)


async def test_retry_schedule_then_delivery_then_410_disables(world, pool, cfg, receiver):
    app, url = receiver
    await set_endpoint(pool, world.source_b, url)
    first = await world.entry(world.pl_b)
    [request] = await _requests_of(pool, cfg, world.mentor_b)
    assert request.channel.value == "webhook" and request.entry_ids == [first]
    async with httpx.AsyncClient() as client:
        deliverer = Deliverer(pool, cfg, client, rand=lambda: 1.0)  # jitter at its maximum: a known schedule

        async def delivered() -> bool:
            await deliverer.deliver_due()
            return await pool.fetchval("SELECT state FROM mf_outbound_deliveries WHERE request_id = $1",
                                       request.request_id) != "pending"

        await eventually(delivered, timeout=15, what="first delivery settled")
        attempts = await pool.fetch("SELECT a.* FROM mf_outbound_attempts a JOIN mf_outbound_deliveries d USING"
                                    " (delivery_id) WHERE d.request_id = $1 ORDER BY attempt", request.request_id)
        assert [(a["attempt"], a["status_code"], a["result"]) for a in attempts] == \
            [(1, 500, "retry"), (2, 503, "retry"), (3, 200, "delivered")]
        first_wait = (attempts[0]["next_attempt_at"] - attempts[0]["attempted_at"]).total_seconds()
        assert first_wait == pytest.approx(cfg.mentor_outbound_base_delay_s, abs=0.01)  # backoff, jitter at max
        second_wait = (attempts[1]["next_attempt_at"] - attempts[1]["attempted_at"]).total_seconds()
        assert second_wait == pytest.approx(1.0, abs=0.01)  # Retry-After wins over the backoff
        assert app.requests[2][2] - app.requests[1][2] >= 0.99

        headers, body, _ = app.requests[-1]
        assert verify(world.secrets[world.source_b], headers, body, now=time.time()).webhook_id.startswith("msg_")
        assert len({h["webhook-id"] for h, _, _ in app.requests}) == 1  # one message id across its retries

        await pool.execute("UPDATE mf_entries SET logged_at = logged_at - interval '1 day' WHERE entry_id = $1",
                           await world.entry(world.pl_b))
        [second] = await _requests_of(pool, cfg, world.mentor_b)
        await eventually(lambda: _settled(deliverer, pool, second.request_id), timeout=10, what="410 handled")
    assert await pool.fetchval("SELECT state FROM mf_outbound_deliveries WHERE request_id = $1",
                               second.request_id) == "disabled"
    assert await pool.fetchval("SELECT endpoint_disabled_at IS NOT NULL FROM mf_sources WHERE source_id = $1",
                               world.source_b)
    third = await world.entry(world.pl_b)
    await pool.execute("UPDATE mf_entries SET logged_at = logged_at - interval '1 day' WHERE entry_id = $1", third)
    [fallback] = await _requests_of(pool, cfg, world.mentor_b)
    assert fallback.channel.value == "link"  # the tool is gone: the mentor gets a link instead
    assert len(app.requests) == 4


async def _settled(deliverer: Deliverer, pool, request_id: str) -> bool:
    await deliverer.deliver_due()
    state = await pool.fetchval("SELECT state FROM mf_outbound_deliveries WHERE request_id = $1", request_id)
    return state != "pending"


async def _requests_of(pool, cfg, mentor_id: str) -> list:
    return [e for e in await form_requests(pool, cfg, b"k", now=datetime.now(UTC)) if e.mentor_id == mentor_id]
