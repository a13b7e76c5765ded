"""The student app's part of the stack for the browser tests: Keycloak (started by infra/test.sh),
the nginx proxy (started here, routed to this session's services), demo students made in Keycloak
with the same `sub` as in the registry."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
from pydantic_settings import BaseSettings, SettingsConfigDict
from werkplek_common.settings import REPO_ROOT


class AppStackSettings(BaseSettings):
    """The ports infra/keycloak/keycloak.sh and infra/proxy/proxy.sh use (same env variables)."""

    model_config = SettingsConfigDict(env_prefix="WERKPLEK_", extra="ignore", frozen=True)
    keycloak_port: int = 18080
    proxy_port: int = 18000
    browser_only: str = ""  # a developer's aid: run only the browser scenarios whose name matches
    data_dir: Path = REPO_ROOT / ".data"

    @property
    def idp_url(self) -> str:
        return f"http://127.0.0.1:{self.keycloak_port}"

    @property
    def issuer(self) -> str:
        return f"{self.idp_url}/realms/werkplek"

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"


AUDIENCE = "werkplek-placement"
PASSWORD = "werkplek"  # the demo users' password (infra/keycloak/realm.json); tests' users get it too


def placement_oidc_env(cfg: AppStackSettings) -> dict[str, str]:
    """The placement API trusts the project's Keycloak (the app) and the dev IdP (the other tests)."""
    return {"WERKPLEK_OIDC_ISSUER": cfg.issuer, "WERKPLEK_OIDC_AUDIENCE": AUDIENCE,
            "WERKPLEK_OIDC_JWKS_URL": f"{cfg.issuer}/protocol/openid-connect/certs",
            "WERKPLEK_OIDC_TRUST_DEV_IDP": "true"}


def keycloak_admin_password(cfg: AppStackSettings) -> str:
    return (cfg.data_dir / "keycloak" / "admin.pass").read_text().strip()


def keycloak_admin_token(cfg: AppStackSettings) -> str:
    password = keycloak_admin_password(cfg)
    r = httpx.post(f"{cfg.idp_url}/realms/master/protocol/openid-connect/token", timeout=30,
                   data={"grant_type": "password", "client_id": "admin-cli", "username": "admin", "password": password})
    r.raise_for_status()
    return str(r.json()["access_token"])


def add_students(cfg: AppStackSettings, students: list[tuple[str, str]], institution: str) -> None:
    """Students as the institution's IdP has them: id (the token's `sub`) = the registry's student id.
    The partial import keeps the given ids (the users endpoint would make up its own)."""
    users = [{"id": sid, "username": sid, "enabled": True, "emailVerified": True, "firstName": first,
              "lastName": "Test", "email": f"{sid}@werkplek.test",
              "attributes": {"werkplek_role": ["student"], "werkplek_institution": [institution]},
              "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}]} for sid, first in students]
    r = httpx.post(f"{cfg.idp_url}/admin/realms/werkplek/partialImport", timeout=60,
                   headers={"Authorization": f"Bearer {keycloak_admin_token(cfg)}"},
                   json={"ifResourceExists": "OVERWRITE", "users": users})
    assert r.status_code == 200, r.text


def proxy(action: str, placement_url: str, mentor_url: str) -> None:
    env = {**os.environ, "WERKPLEK_PROXY_PLACEMENT_UPSTREAM": placement_url.removeprefix("http://"),
           "WERKPLEK_PROXY_MENTOR_UPSTREAM": mentor_url.removeprefix("http://")}
    done = subprocess.run(["bash", str(REPO_ROOT / "infra/proxy/proxy.sh"), action], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, f"proxy.sh {action}: {done.stdout}{done.stderr}"
