"""Tool onboarding through the API, no shell: register a tool and receive its secret once; a webhook
signed with it is accepted; rotate: old and new accepted during the grace period, only the new one
after; set and re-enable the endpoint; retire: refused. Every action audited; other institutions see
nothing."""

from __future__ import annotations

from werkplek_common.auth import Role
from werkplek_common.devidp import mint

from tests.unit.mentor_feedback import factories as f


def bearer(cfg, institution: str = "inst-1", sub: str = "coord-1") -> dict[str, str]:
    return {"authorization": f"Bearer {mint(cfg.data_dir, role=Role.COORDINATOR, sub=sub, institution=institution)}"}


async def bind(world, source: str) -> str:
    """A mentor of the world's placement pl_c, now bound to the tool (as placement logging would say)."""
    await world.apply(f.mentor(world.mentor_c, source))
    return world.mentor_c


async def confirm(send, source: str, secret: str, mentor: str, entry) -> int:
    r = await send(source, "hours.confirmed", {"mentor_id": mentor, "entries": [{"entry_id": str(entry)}]},
                   secrets=[secret])
    return r.status_code


async def test_register_rotate_and_retire_a_tool(world, api, cfg, clock, send):
    source = f.uid("tool")
    created = await api.post("/v1/sources", json={"source_id": source}, headers=bearer(cfg))
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    first = created.json()["secret"]
    assert first.startswith("whsec_") and created.json()["secret_id"]
    shown = (await api.get(f"/v1/sources/{source}", headers=bearer(cfg))).json()
    assert first not in str(shown) and [s["secret_id"] for s in shown["secrets"]] == [created.json()["secret_id"]]
    again = await api.post("/v1/sources", json={"source_id": source}, headers=bearer(cfg))
    assert again.status_code == 409 and first not in again.text

    mentor = await bind(world, source)
    assert await confirm(send, source, first, mentor, await world.entry(world.pl_c)) == 202

    rotated = await api.post(f"/v1/sources/{source}/rotations", json={"grace_period_s": 3600}, headers=bearer(cfg))
    assert rotated.status_code == 201
    second = rotated.json()["secret"]
    assert second != first
    assert await confirm(send, source, first, mentor, await world.entry(world.pl_c)) == 202  # within the grace
    assert await confirm(send, source, second, mentor, await world.entry(world.pl_c)) == 202
    clock.now += 3601
    assert await confirm(send, source, first, mentor, await world.entry(world.pl_c)) == 401  # grace over
    assert await confirm(send, source, second, mentor, await world.entry(world.pl_c)) == 202

    endpoint = {"url": "https://tool.example/hooks"}
    assert (await api.put(f"/v1/sources/{source}/endpoint", json=endpoint, headers=bearer(cfg))).status_code == 204
    await world.pool.execute("UPDATE mf_sources SET endpoint_disabled_at = now() WHERE source_id = $1", source)
    assert (await api.put(f"/v1/sources/{source}/endpoint", json=endpoint, headers=bearer(cfg))).status_code == 204
    state = (await api.get(f"/v1/sources/{source}", headers=bearer(cfg))).json()
    assert (state["endpoint_url"], state["endpoint_disabled_at"]) == (endpoint["url"], None)  # re-enabled
    bad = await api.put(f"/v1/sources/{source}/endpoint", json={"url": "ftp://x"}, headers=bearer(cfg))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("body.url")

    assert (await api.delete(f"/v1/sources/{source}", headers=bearer(cfg))).status_code == 204
    assert await confirm(send, source, second, mentor, await world.entry(world.pl_c)) == 401
    assert (await api.delete(f"/v1/sources/{source}", headers=bearer(cfg))).status_code == 204  # idempotent
    refused = await api.post(f"/v1/sources/{source}/rotations", headers=bearer(cfg))
    assert refused.status_code == 409

    trail = (await api.get(f"/v1/sources/{source}/audit", headers=bearer(cfg))).json()["items"]
    assert [(t["action"], t["actor"]) for t in trail] == [
        ("registered", "coord-1"), ("secret_rotated", "coord-1"), ("endpoint_set", "coord-1"),
        ("endpoint_set", "coord-1"), ("retired", "coord-1")]
    assert trail[3]["detail"]["was_disabled"] is True and all(t["at"] for t in trail)
    assert first not in str(trail) and second not in str(trail)


async def test_another_institution_sees_and_changes_nothing(api, cfg):
    source = f.uid("tool")
    await api.post("/v1/sources", json={"source_id": source}, headers=bearer(cfg))
    other = bearer(cfg, "inst-other", "coord-9")
    for call in (api.get(f"/v1/sources/{source}", headers=other),
                 api.post(f"/v1/sources/{source}/rotations", headers=other),
                 api.put(f"/v1/sources/{source}/endpoint", json={"url": "https://x.example"}, headers=other),
                 api.delete(f"/v1/sources/{source}", headers=other),
                 api.get(f"/v1/sources/{source}/audit", headers=other)):
        assert (await call).status_code == 404
    assert source not in str((await api.get("/v1/sources", headers=other)).json())
    assert source in str((await api.get("/v1/sources", headers=bearer(cfg))).json())
    student = {"authorization": f"Bearer {mint(cfg.data_dir, role=Role.STUDENT, sub='s-1', institution='inst-1')}"}
    assert (await api.post("/v1/sources", json={"source_id": f.uid("t")}, headers=student)).status_code == 403
    trail = (await api.get(f"/v1/sources/{source}/audit", headers=bearer(cfg))).json()["items"]
    assert [t["action"] for t in trail] == ["registered"]
