"""The probes: /healthz answers 200 while every part is alive, /readyz only when every part is ready
and turning; a part whose loop stopped turning is reported stuck, then not alive; a dead part is
neither; any other path is the Prometheus exposition."""

from __future__ import annotations

import json
from typing import Any

from werkplek_common.runtime.health import Health, wsgi_app

from .test_faults import Clock


def get(health: Health, path: str) -> tuple[str, Any]:
    status: list[str] = []
    body = b"".join(wsgi_app(health)({"PATH_INFO": path, "REQUEST_METHOD": "GET", "QUERY_STRING": ""},
                                     lambda s, _headers: status.append(s)))
    return status[0], json.loads(body) if path.endswith("z") else body.decode()


def test_ready_only_when_every_part_is_ready_and_turning():
    clock = Clock()
    health = Health()
    consumer = health.part("consumer", clock=clock, stuck_after=60, live_after=300)
    relay = health.part("relay", clock=clock)
    assert get(health, "/readyz")[0].startswith("503") and get(health, "/healthz")[0].startswith("200")
    consumer.not_ready("kafka unreachable")
    relay.ready()
    status, body = get(health, "/readyz")
    assert status.startswith("503") and body["parts"]["consumer"]["reason"] == "kafka unreachable"
    consumer.ready()
    assert get(health, "/readyz")[0].startswith("200")
    clock.now += 61  # the loop stopped turning
    status, body = get(health, "/readyz")
    assert status.startswith("503") and body["parts"]["consumer"]["reason"].startswith("stuck")
    clock.now += 240
    assert get(health, "/healthz")[0].startswith("503")
    consumer.beat()
    relay.beat()
    assert get(health, "/healthz")[0].startswith("200") and get(health, "/readyz")[0].startswith("200")
    consumer.dead("5 failures")
    assert get(health, "/healthz")[0].startswith("503") and get(health, "/readyz")[0].startswith("503")


def test_other_paths_are_the_metrics():
    status, text = get(Health(), "/metrics")
    assert status.startswith("200") and "werkplek_consumer_ready" in text
