"""What the chaos run starts, read from `infra/Procfile` (the list `make run` starts), so that it starts
whatever services exist: a `*_api` line is an HTTP API (one instance), a simulator is left out (the
run makes its own load), and every other line is a worker, started as N replicas. Every setting whose
name ends in `_port` (found on the services' settings classes) gets a free port per process: two
replicas of a worker cannot share the fixed ports of `make run`."""

from __future__ import annotations

import importlib
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from werkplek_common.settings import REPO_ROOT, CommonSettings

PROCFILE = REPO_ROOT / "infra" / "Procfile"


@dataclass(frozen=True)
class Service:
    name: str
    module: str  # of `python -m`
    args: tuple[str, ...]
    env: dict[str, str]  # the `env NAME=value` of its line

    @property
    def kind(self) -> str:
        if self.name.endswith("_api"):
            return "api"
        return "tool" if "simulat" in self.name or "simulat" in self.module else "worker"

    @property
    def package(self) -> str:
        return self.module.split(".")[0]


def parse(line: str) -> Service | None:
    """One `name: command` line; None for comments, blank lines and anything not `python -m`."""
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    name, command = line.split(":", 1)
    words = shlex.split(command)
    env: dict[str, str] = {}
    if words and words[0] == "env":
        words = words[1:]
        while words and "=" in words[0] and not words[0].startswith("-"):
            key, value = words.pop(0).split("=", 1)
            env[key] = value
    if len(words) < 3 or words[0] not in ("python", "python3") or words[1] != "-m":
        return None
    return Service(name.strip(), words[2], tuple(words[3:]), env)


def services(path: Path = PROCFILE) -> list[Service]:
    return [without_unset(s) for s in (parse(line) for line in path.read_text().splitlines()) if s is not None]


def without_unset(service: Service) -> Service:
    """`make run` points the APIs at Keycloak through variables its run script sets
    (`$WERKPLEK_APP_OIDC_ISSUER/...`); the chaos run starts no Keycloak and signs its tokens with the dev
    identity provider. An entry naming a variable that is not set is dropped, and with it the rest of
    its setting family (`WERKPLEK_OIDC_*`: an audience without its issuer would refuse every token), so
    the service takes its defaults, the dev identity provider's."""
    unset = {k for k, v in service.env.items() if "$" in v and os.path.expandvars(v) == v}
    families = {k.rsplit("_", 1)[0] for k in unset}
    env = {k: os.path.expandvars(v) for k, v in service.env.items()
           if k not in unset and not any(k.startswith(f + "_") for f in families)}
    return Service(service.name, service.module, service.args, env)


def settings_class(package: str) -> type[CommonSettings] | None:
    """The settings class a service's `config.py` defines (the subclass of CommonSettings there)."""
    try:
        module = importlib.import_module(f"{package}.config")
    except ImportError:
        return None
    found = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, CommonSettings)
             and v is not CommonSettings and v.__module__ == module.__name__]
    return found[0] if found else None


def port_fields(package: str) -> list[str]:
    cls = settings_class(package) or CommonSettings
    return sorted(f for f in cls.model_fields if f.endswith("_port"))


def api_port_field(package: str) -> str:
    """The port an API serves HTTP on: its one `*api_port` setting."""
    found = [f for f in port_fields(package) if f.endswith("api_port")]
    if len(found) != 1:
        raise RuntimeError(f"{package}: expected one *api_port setting, found {found}")
    return found[0]
