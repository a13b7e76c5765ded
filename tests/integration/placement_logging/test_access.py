"""Authentication (JWT attacks → 401) and the BOLA matrix: a student with another student's ids and a
coordinator with another institution's ids get 404 on every route, never a hint that it exists."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkplek_common.auth import Role
from werkplek_common.devidp import DEV_AUDIENCE, DEV_ISSUER, KID, paths

from .conftest import bearer, entry, idem, make_cohort, placement_doc, token


def _claims(**over):
    now = int(time.time())
    claims = {"iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "sub": "stu-x", "iat": now, "exp": now + 600,
              "werkplek_role": "student"}
    claims.update(over)
    return claims


def _b64(doc) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")


def _attacks(settings) -> dict[str, str | None]:
    private = paths(settings.data_dir)[0].read_bytes()
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = serialization.load_pem_private_key(private, None).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    hmac_header = _b64({"alg": "HS256", "typ": "JWT", "kid": KID})
    body = _b64(_claims())
    import hashlib
    import hmac

    sig = hmac.new(public_pem, f"{hmac_header}.{body}".encode(), hashlib.sha256).digest()
    return {
        "missing": None,
        "expired": token(settings, Role.STUDENT, "stu-x", ttl_s=-120),
        "alg_none": f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': KID})}.{body}.",
        "wrong_audience": jwt.encode(_claims(aud="someone-else"), private, "RS256", headers={"kid": KID}),
        "wrong_issuer": jwt.encode(_claims(iss="https://evil.example"), private, "RS256", headers={"kid": KID}),
        "unknown_key": jwt.encode(_claims(), stranger, "RS256", headers={"kid": "other-key"}),
        "forged_with_known_kid": jwt.encode(_claims(), stranger, "RS256", headers={"kid": KID}),
        "hs256_with_public_key": f"{hmac_header}.{body}.{base64.urlsafe_b64encode(sig).decode().rstrip('=')}",
        "no_role": jwt.encode({k: v for k, v in _claims().items() if k != "werkplek_role"}, private, "RS256",
                              headers={"kid": KID}),
        "garbage": "not.a.jwt",
    }


@pytest.mark.parametrize("attack", ["missing", "expired", "alg_none", "wrong_audience", "wrong_issuer",
                                    "unknown_key", "forged_with_known_kid", "hs256_with_public_key", "no_role",
                                    "garbage"])
async def test_bad_tokens_are_401(api, pl_settings, cohort, attack, pg):
    value = _attacks(pl_settings)[attack]
    headers = {"Authorization": f"Bearer {value}"} if value else {}
    r = await api.post("/v1/me/entries", json=entry(cohort.placement, cohort.start), headers={**headers, **idem()})
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json" and "www-authenticate" in r.headers
    r = await api.get("/v1/programmes", headers=headers)
    assert r.status_code == 401
    assert await pg.fetchval("SELECT count(*) FROM pl_entry WHERE student_id = $1", cohort.student) == 0


async def test_bola_student_matrix(api, pl_settings, cohort):
    other = await make_cohort(api, pl_settings, cohort.institution)
    body = entry(other.placement, other.start + timedelta(days=1))
    r = await api.post("/v1/me/entries", json=body, headers={**other.student_auth, **idem()})
    assert r.status_code == 201
    theirs, tag = body["entry_id"], r.headers["etag"]
    me = cohort.student_auth
    calls = [
        ("GET", f"/v1/me/entries/{theirs}", None, {}),
        ("PATCH", f"/v1/me/entries/{theirs}", {"duration_minutes": 5}, {"If-Match": tag}),
        ("DELETE", f"/v1/me/entries/{theirs}", None, {"If-Match": tag}),
    ]
    for method, path, doc, extra in calls:
        r = await api.request(method, path, json=doc, headers={**me, **extra})
        assert r.status_code == 404, (method, path, r.text)
    listed = await api.get("/v1/me/entries", params={"placement_id": other.placement}, headers=me)
    assert listed.json()["items"] == []
    mine = await api.get("/v1/me/placements", headers=me)
    assert [p["id"] for p in mine.json()["items"]] == [cohort.placement]
    logged = await api.post("/v1/me/entries", json=entry(other.placement, other.start), headers={**me, **idem()})
    assert logged.status_code == 422 and logged.json()["errors"][0]["field"] == "placement_id"
    # a student on coordinator routes: forbidden by role
    for path in (f"/v1/placements/{cohort.placement}", f"/v1/programmes/{cohort.programme}", "/v1/shares"):
        assert (await api.get(path, headers=me)).status_code == 403
    after = await api.get(f"/v1/me/entries/{theirs}", headers=other.student_auth)
    assert after.json()["revision"] == 1 and after.json()["status"] == "pending"


async def test_bola_coordinator_matrix(api, pl_settings, cohort):
    other = await make_cohort(api, pl_settings)  # another institution
    x = cohort.coordinator
    reads = [f"/v1/programmes/{other.programme}", f"/v1/workplaces/{other.workplace}", f"/v1/mentors/{other.mentor}",
             f"/v1/placements/{other.placement}", f"/v1/enrolments/{other.student}/2026-2027"]
    for path in reads:
        r = await api.get(path, headers=x)
        assert r.status_code == 404, (path, r.text)
    writes = [
        (f"/v1/programmes/{other.programme}", {"name": "Taken", "level": "graduaat", "ects": 90, "phases": 2}),
        (f"/v1/workplaces/{other.workplace}", {"name": "Taken", "sector": "x", "environment": "simulated"}),
        (f"/v1/mentors/{other.mentor}", {"workplace_id": cohort.workplace, "trained": False}),
        (f"/v1/enrolments/{other.student}/2026-2027", {"programme_id": cohort.programme, "phase": 1,
                                                       "status": "regular", "age_band": "over_25"}),
        (f"/v1/placements/{other.placement}", placement_doc(cohort.student, cohort.workplace, cohort.mentor,
                                                            cohort.start, cohort.end)),
        (f"/v1/placements/{other.placement}/ending", {"ended_on": other.start.isoformat(), "reason": "cancelled"}),
    ]
    for path, doc in writes:
        r = await api.put(path, json=doc, headers=x)
        assert r.status_code == 404, (path, r.text)
    # references to another institution's objects inside a body are refused as unknown
    doc = placement_doc(cohort.student, other.workplace, other.mentor, cohort.start, cohort.end)
    r = await api.put(f"/v1/placements/{cohort.placement}-2", json=doc, headers=x)
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"workplace_id", "mentor_id"}
    for path in ("/v1/programmes", "/v1/workplaces", "/v1/placements", "/v1/enrolments"):
        ids = [i["id"] for i in (await api.get(path, params={"limit": 500}, headers=x)).json()["items"]]
        assert not {other.programme, other.workplace, other.placement} & set(ids)
    unchanged = await api.get(f"/v1/placements/{other.placement}", headers=other.coordinator)
    assert unchanged.json()["version"] == 1


async def test_a_coordinator_token_without_institution_is_refused(api, pl_settings):
    r = await api.get("/v1/programmes", headers=bearer(pl_settings, Role.COORDINATOR, "c-9"))
    assert r.status_code == 401
