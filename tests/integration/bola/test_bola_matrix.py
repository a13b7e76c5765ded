"""The BOLA matrix, generated from the OpenAPI documents of both APIs: every operation × every
principal its security schemes admit (each role's bearer token, the mentor's tool signing webhooks,
the holder of a confirmation link, nobody) × another tenant's and another student's ids, in the
path, the query and the body. A route added to either API is in the matrix as soon as it is in its
document. For each request: no 5xx; the status and its media type are declared by the document; a
2xx carries no marker of the victim's data; and at the end nothing of the victims has changed."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest
from prometheus_client import REGISTRY
from uuid6 import uuid7
from werkplek_common.auth import Role
from werkplek_common.openapi import operations
from werkplek_mentor_feedback.api import build_app as build_mentor_api
from werkplek_mentor_feedback.config import MentorFeedbackSettings
from werkplek_mentor_feedback.signing import signed_headers
from werkplek_placement_logging.app import build as build_placement_api
from werkplek_placement_logging.config import Settings

from tests.support import connect_observer, dsn_of

from .generate import VARIANTS, Call, calls, own_and_target
from .world import Person, World, bearer, build, victim_state

LINK_KEY = b"bola-link-key"
FORGED_LINK = "forged." + "1" * 10 + "." + "A" * 43
NEW = "<new>"  # a fresh id of the principal's own making (a new entry's UUIDv7)


@dataclass
class Principal:
    name: str
    scheme: str | None  # the security scheme it authenticates with; None: sends no credentials
    own: Person  # whose objects are its own
    headers: Callable[[Call, bytes], dict[str, str]]
    victims: tuple[str, ...]  # the targets it may not touch: "other_tenant", "other_student"
    body_self: dict[str, str] = field(default_factory=dict)  # ids that stay its own in the `body-self` variant
    link: str = FORGED_LINK  # the confirmation link it holds


def principals(world: World, settings: Settings) -> list[Principal]:
    a = world.attacker
    both = ("other_tenant", "other_student")

    def token(role: Role, sub: str, institution: str | None = None) -> Callable[[Call, bytes], dict[str, str]]:
        headers = bearer(settings, role, sub, institution)
        return lambda _call, _body: headers

    def signed(_call: Call, body: bytes) -> dict[str, str]:
        return signed_headers([a.secret], f"msg_{uuid.uuid4().hex}", int(time.time()), body)

    return [
        Principal("student", "HTTPBearer", a, token(Role.STUDENT, a.student, a.institution), both, {"entry": NEW}),
        Principal("coordinator", "HTTPBearer", a, token(Role.COORDINATOR, "coord-a", a.institution),
                  ("other_tenant",)),  # the other student is the coordinator's own
        Principal("mentor", "HTTPBearer", a, token(Role.MENTOR, a.mentor), both),
        Principal("funding", "HTTPBearer", a, token(Role.FUNDING, "funding-1"), both),
        Principal("ops", "HTTPBearer", a, token(Role.OPS, "ops-1"), both),
        Principal("mentor tool", "StandardWebhooks", a, signed, both, {"mentor": a.mentor}),
        Principal("link holder", "", a, lambda _c, _b: {}, both, link=world.link_token),
        Principal("nobody", None, a, lambda _c, _b: {}, both),
    ]


@dataclass
class Apis:
    placement: httpx.AsyncClient
    mentor: httpx.AsyncClient
    world: World
    settings: Settings
    pg: asyncpg.Connection


@pytest.fixture(scope="module")
async def apis(stack) -> AsyncIterator[Apis]:
    settings = Settings(outbox_producer=f"bola-{uuid.uuid4().hex[:8]}", backlog_refresh_s=60)
    mentor_cfg = MentorFeedbackSettings(mentor_dev_sources=(), mentor_link_secret=LINK_KEY.decode())
    placement_app = build_placement_api(settings)
    pool = await asyncpg.create_pool(dsn_of(settings, "mentor_feedback"), min_size=1, max_size=4)
    mentor_app = build_mentor_api(mentor_cfg, pool=pool, key=LINK_KEY)
    conn = await connect_observer(settings, "placement_logging", "mentor_feedback")  # the victims' state
    async with placement_app.router.lifespan_context(placement_app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=placement_app), base_url="http://pl") as pl, \
                httpx.AsyncClient(transport=httpx.ASGITransport(app=mentor_app), base_url="http://mf") as mf:
            world = await build(pl, settings, LINK_KEY)
            try:
                yield Apis(pl, mf, world, settings, conn)
            finally:
                await conn.execute("DELETE FROM placement_logging.outbox WHERE producer = $1", settings.outbox_producer)
                await conn.close()
                await pool.close()


def schemes(op: dict[str, Any]) -> set[str]:
    """The schemes an operation accepts; "" for an operation declared public (`security: []`)."""
    found = {name for requirement in op.get("security", []) for name in requirement}
    return found or {""}


def declared(op: dict[str, Any], status: int, media: str) -> bool:
    response = op["responses"].get(str(status))
    if response is None:
        return False
    return status < 400 or media.split(";")[0] in response.get("content", {})


async def send(client: httpx.AsyncClient, call: Call, who: Principal) -> httpx.Response:
    content = b""
    headers: dict[str, str] = {"Idempotency-Key": str(uuid.uuid4())}
    if call.method in ("PATCH", "DELETE", "PUT"):
        headers["If-Match"] = "*"
    if call.media == "application/json":
        content = json.dumps(call.body).encode()
        headers["content-type"] = call.media
    elif call.media:
        content = httpx.QueryParams(call.body).__str__().encode()
        headers["content-type"] = call.media
    headers.update(who.headers(call, content))
    return await client.request(call.method, call.path, params=call.params, content=content, headers=headers)


def tenant_refusals() -> float:
    return sum(s.value for m in REGISTRY.collect() if m.name == "werkplek_tenant_refusals"
               for s in m.samples if s.name.endswith("_total"))


def role_refused(who: Principal, r: httpx.Response) -> bool:
    """Refused before any id was looked at: no credentials, or not the role: no other ids will differ."""
    return who.scheme is None or (r.status_code == 403 and r.json().get("title") == "Forbidden")


def requests(who: Principal, targets: dict[str, Person]) -> list[tuple[str, str, dict[str, str], dict[str, str]]]:
    """(target, variant, path ids, body ids) for a principal: every victim, every placement of its ids."""
    out = []
    for target_name in who.victims:
        for variant in (*VARIANTS, "body-self") if who.body_self else VARIANTS:
            path_ids, body_ids = own_and_target(who.own, targets[target_name], variant.removesuffix("-self"))
            if variant == "body-self":
                body_ids.update({k: str(uuid7()) if v == NEW else v for k, v in who.body_self.items()})
            out.append((target_name, variant, path_ids, body_ids))
    return out


async def test_no_principal_reaches_another_tenants_or_students_data(apis: Apis) -> None:
    world, problems, covered = apis.world, [], set()
    seen: Counter[tuple[str, int]] = Counter()
    before_state = await victim_state(apis.pg, world)
    refusals_before = tenant_refusals()
    targets = {"other_tenant": world.other_tenant, "other_student": world.other_student}
    documents = [("placement", apis.placement, apis.placement._transport.app.openapi()),  # type: ignore[attr-defined]
                 ("mentor", apis.mentor, apis.mentor._transport.app.openapi())]  # type: ignore[attr-defined]
    for api, client, doc in documents:
        for path, method, op in operations(doc):
            for who in principals(world, apis.settings):
                if who.scheme is not None and who.scheme not in schemes(op):
                    continue
                for target_name, variant, path_ids, body_ids in requests(who, targets):
                    answers = []
                    for call in calls(path, method, op, doc, path_ids, body_ids, who.link):
                        r = await send(client, call, who)
                        seen[(api, r.status_code)] += 1
                        covered.add((api, method, path))
                        answers.append(r)
                        where = (f"{api} {call.method} {call.path} {call.label} as {who.name} with the "
                                 f"{target_name}'s ids ({variant}): {r.status_code}")
                        problems += check(op, r, targets[target_name], where)
                    if all(role_refused(who, r) for r in answers):
                        break
    assert not problems, "\n".join(problems)
    assert covered == {(api, m, p) for api, _, doc in documents for p, m, _ in operations(doc)}
    assert await victim_state(apis.pg, world) == before_state, "a victim's data changed"
    assert tenant_refusals() > refusals_before
    print(f"\nBOLA matrix: {sum(seen.values())} requests, answers {dict(sorted(seen.items()))}")


def check(op: dict[str, Any], r: httpx.Response, target: Person, where: str) -> list[str]:
    media = r.headers.get("content-type", "")
    if r.status_code >= 500:
        return [f"{where} {r.text[:300]}"]
    if not declared(op, r.status_code, media):
        return [f"{where} {media} is not declared in the OpenAPI document"]
    if r.status_code < 300 and target.marker in r.text:
        return [f"{where} answered with the victim's data"]
    return []


async def test_the_matrix_sees_a_leak_when_there_is_one(apis: Apis) -> None:
    """The oracle itself: the attacker's own data carries a marker too, and their own reads show it."""
    world = apis.world
    own = await apis.placement.get(f"/v1/placements/{world.attacker.placement}",
                                   headers=bearer(apis.settings, Role.COORDINATOR, "c", world.attacker.institution))
    assert own.status_code == 200 and world.attacker.marker in own.text
