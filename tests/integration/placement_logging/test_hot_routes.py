"""The ingest POSTs are dispatched without FastAPI's router (hot_routes.py): what the router gave them
must still hold — metrics by route template, problem documents, the relay woken after a commit —
and every other method on their paths still goes through the router."""

from __future__ import annotations

from werkplek_common.outbox import CHANNEL

from tests.support import eventually

from .conftest import entry, idem


def _count(metrics: str, route: str, status_class: str) -> float:
    total = 0.0
    for line in metrics.splitlines():
        if (line.startswith("werkplek_http_requests_total{") and f'route="{route}"' in line
                and 'method="POST"' in line and f'status_class="{status_class}"' in line):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_direct_posts_are_counted_by_route_template(api, cohort):
    before = (await api.get("/metrics")).text
    r = await api.post("/v1/me/entries", json=entry(cohort.placement, cohort.start),
                       headers={**cohort.student_auth, **idem()})
    assert r.status_code == 201
    b = await api.post("/v1/me/entries/batch", json={"entries": [entry(cohort.placement, cohort.start)]},
                       headers={**cohort.student_auth, **idem()})
    assert b.status_code == 200 and b.json()["accepted"] == 1
    after = (await api.get("/metrics")).text
    assert _count(after, "/v1/me/entries", "2xx") == _count(before, "/v1/me/entries", "2xx") + 1
    assert _count(after, "/v1/me/entries/batch", "2xx") == _count(before, "/v1/me/entries/batch", "2xx") + 1


async def test_a_refusal_is_the_routers_problem_document(api, cohort):
    r = await api.post("/v1/me/entries", json=entry(cohort.placement, cohort.start), headers=idem())
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["instance"] == "/v1/me/entries"
    bad = await api.post("/v1/me/entries", content=b"{not json", headers={**cohort.student_auth, **idem()})
    assert bad.status_code == 400 and bad.json()["type"].endswith("/malformed-json")


async def test_other_methods_on_the_paths_still_go_through_the_router(api, cohort):
    listed = await api.get("/v1/me/entries", headers=cohort.student_auth)
    assert listed.status_code == 200 and listed.json()["items"] == []
    put = await api.put("/v1/me/entries/batch", json={}, headers=cohort.student_auth)
    assert put.status_code == 405


async def test_the_relay_is_woken_after_entries_are_committed(api, cohort, pg, pl_settings):
    """Three commits in a row, however they fall into the nudge interval, give at least two NOTIFYs:
    the first carries its own, and a later one either carries its own or gets the trailing one."""
    wakes: list[str] = []

    def on_notify(_conn: object, _pid: int, _channel: str, payload: str) -> None:
        if payload == pl_settings.outbox_producer:
            wakes.append(payload)
    await pg.add_listener(CHANNEL, on_notify)
    try:
        for _ in range(3):
            r = await api.post("/v1/me/entries", json=entry(cohort.placement, cohort.start),
                               headers={**cohort.student_auth, **idem()})
            assert r.status_code == 201

        async def woken_twice() -> bool:
            await pg.execute("SELECT 1")  # notifications are delivered between statements
            return len(wakes) >= 2
        await eventually(woken_twice, timeout=10, what="two NOTIFYs for three commits")
    finally:
        await pg.remove_listener(CHANNEL, on_notify)
