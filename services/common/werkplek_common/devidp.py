"""The dev identity provider for local use: an RSA key pair under the data folder (made on first use,
never committed), its JWKS file, and a `token` command that mints tokens for a role and subject.
Production points the services at the institution's IdP (issuer, audience, JWKS URL) instead.

    python -m werkplek_common.devidp token --role student --sub s-0001 [--institution inst-1] [--ttl 3600]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .auth import INSTITUTION_CLAIM, ROLE_CLAIM, Role
from .settings import CommonSettings

DEV_ISSUER = "http://127.0.0.1/werkplek-dev-idp"
DEV_AUDIENCE = "werkplek"
KID = "werkplek-dev-1"


def paths(data_dir: Path) -> tuple[Path, Path]:
    folder = data_dir / "dev-idp"
    return folder / "private.pem", folder / "jwks.json"


def ensure_keys(data_dir: Path) -> Path:
    """Create the key pair and JWKS once; returns the JWKS path. Both files are written to temporary
    names and moved into place (JWKS last), so processes starting together never see a half pair."""
    private, jwks = paths(data_dir)
    if private.exists() and jwks.exists():
        return jwks
    private.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    doc = json.dumps({"keys": [{**public, "kid": KID, "use": "sig", "alg": "RS256"}]}, indent=2)
    tmp = private.parent / f".tmp-{os.getpid()}-{secrets.token_hex(4)}"
    (tmp.with_suffix(".pem")).write_bytes(pem)
    tmp.with_suffix(".pem").chmod(0o600)
    tmp.with_suffix(".json").write_text(doc)
    try:
        os.link(tmp.with_suffix(".pem"), private)  # fails if another process won the race: keep theirs
        os.replace(tmp.with_suffix(".json"), jwks)
    except FileExistsError:
        _wait_for(jwks)
    finally:
        for leftover in (tmp.with_suffix(".pem"), tmp.with_suffix(".json")):
            leftover.unlink(missing_ok=True)
    return jwks


def _wait_for(path: Path, seconds: float = 10.0) -> None:
    """The process that created the private key writes the JWKS right after; wait for it."""
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path} did not appear; remove {path.parent} and retry")
        time.sleep(0.01)


def mint(data_dir: Path, *, role: Role, sub: str, institution: str | None = None, ttl_s: int = 3600,
         audience: str = DEV_AUDIENCE, issuer: str = DEV_ISSUER) -> str:
    ensure_keys(data_dir)
    now = int(time.time())
    claims = {"iss": issuer, "aud": audience, "sub": sub, "iat": now, "exp": now + ttl_s, ROLE_CLAIM: role.value}
    if institution:
        claims[INSTITUTION_CLAIM] = institution
    return jwt.encode(claims, paths(data_dir)[0].read_bytes(), algorithm="RS256", headers={"kid": KID})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="token", description="mint a dev token")
    sub = parser.add_subparsers(dest="cmd", required=True)
    tok = sub.add_parser("token")
    tok.add_argument("--role", required=True, choices=[r.value for r in Role])
    tok.add_argument("--sub", required=True)
    tok.add_argument("--institution")
    tok.add_argument("--ttl", type=int, default=3600)
    sub.add_parser("jwks", help="print the JWKS path (created if missing)")
    args = parser.parse_args(argv)
    data_dir = CommonSettings().data_dir
    if args.cmd == "jwks":
        print(ensure_keys(data_dir))
        return 0
    print(mint(data_dir, role=Role(args.role), sub=args.sub, institution=args.institution, ttl_s=args.ttl))
    return 0


if __name__ == "__main__":
    sys.exit(main())
