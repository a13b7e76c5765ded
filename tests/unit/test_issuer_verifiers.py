"""Several trusted issuers (make run: Keycloak for the app, the dev IdP for the simulator), each with
its own keys and audience, and claim names taken from config."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from werkplek_common import devidp
from werkplek_common.auth import IssuerVerifiers, Role, TokenVerifier


def other_idp(tmp_path: Path) -> tuple[TokenVerifier, Path]:
    """A second IdP (its own key pair) with its own issuer and audience, and its own claim names."""
    folder = tmp_path / "idp2"
    jwks = devidp.ensure_keys(folder)
    verifier = TokenVerifier(issuer="https://idp.hogeschool.test/realms/x", audience="werkplek-placement",
                             jwks_file=jwks, role_claim="hs_role", institution_claim="hs_school")
    return verifier, folder


def token_of(folder: Path, claims: dict[str, object]) -> str:
    now = int(time.time())
    return jwt.encode({"iat": now, "exp": now + 60, **claims}, devidp.paths(folder)[0].read_bytes(),
                      algorithm="RS256", headers={"kid": devidp.KID})


def test_each_issuer_is_verified_with_its_own_keys_audience_and_claim_names(tmp_path: Path) -> None:
    dev = TokenVerifier(issuer=devidp.DEV_ISSUER, audience=devidp.DEV_AUDIENCE, jwks_file=devidp.ensure_keys(tmp_path))
    idp, folder = other_idp(tmp_path)
    both = IssuerVerifiers(idp, dev)
    student = both.verify(devidp.mint(tmp_path, role=Role.STUDENT, sub="s-1", institution="inst-2"))
    assert (student.subject, student.institution_id) == ("s-1", "inst-2")
    theirs = token_of(folder, {"iss": idp.issuer, "aud": "werkplek-placement", "sub": "c-1", "hs_role": "coordinator",
                               "hs_school": "inst-1"})
    principal = both.verify(theirs)
    assert (principal.subject, principal.role, principal.institution_id) == ("c-1", Role.COORDINATOR, "inst-1")


def test_an_unknown_issuer_or_a_key_of_the_other_issuer_is_refused(tmp_path: Path) -> None:
    dev = TokenVerifier(issuer=devidp.DEV_ISSUER, audience=devidp.DEV_AUDIENCE, jwks_file=devidp.ensure_keys(tmp_path))
    idp, folder = other_idp(tmp_path)
    both = IssuerVerifiers(idp, dev)
    stranger = token_of(folder, {"iss": "https://evil.test", "aud": "werkplek-placement", "sub": "x", "hs_role": "ops"})
    with pytest.raises(jwt.InvalidTokenError, match="not trusted"):
        both.verify(stranger)
    # signed by the second IdP's key but claiming the dev issuer: the dev verifier's keys refuse it
    forged = token_of(folder, {"iss": devidp.DEV_ISSUER, "aud": devidp.DEV_AUDIENCE, "sub": "x",
                               "werkplek_role": "ops"})
    with pytest.raises(jwt.InvalidTokenError):
        both.verify(forged)
