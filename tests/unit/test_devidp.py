"""The dev identity provider: processes starting together end with one matching key pair."""

from __future__ import annotations

import concurrent.futures as cf
from pathlib import Path

from werkplek_common import devidp
from werkplek_common.auth import Role, TokenVerifier


def test_concurrent_first_use_leaves_one_matching_key_pair(tmp_path: Path):
    with cf.ProcessPoolExecutor(4) as pool:
        jwks_paths = set(pool.map(devidp.ensure_keys, [tmp_path] * 12))
    assert jwks_paths == {devidp.paths(tmp_path)[1]}
    assert sorted(p.name for p in (tmp_path / "dev-idp").iterdir()) == ["jwks.json", "private.pem"]
    token = devidp.mint(tmp_path, role=Role.STUDENT, sub="s-1", institution="inst-1")
    verifier = TokenVerifier(issuer=devidp.DEV_ISSUER, audience=devidp.DEV_AUDIENCE, jwks_file=jwks_paths.pop())
    assert verifier.verify(token).subject == "s-1"
