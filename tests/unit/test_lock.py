"""requirements.lock agrees with pyproject.toml: same pins, every package hashed, nothing stale or missing.

Fails after a pin is added or changed in pyproject.toml without `make lock`, or after a hand edit of the lock.
"""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

from packaging.markers import Marker
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _lockfile() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lockfile", ROOT / "infra" / "lockfile.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["lockfile"] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


lockfile = _lockfile()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK = lockfile.parse((ROOT / "requirements.lock").read_text())


def _declared() -> dict[str, list[Requirement]]:
    parts = {"main": PYPROJECT["project"]["dependencies"], **PYPROJECT["dependency-groups"]}
    parts["build-system"] = PYPROJECT["build-system"]["requires"]
    return {part: [Requirement(r) for r in reqs] for part, reqs in parts.items()}


def _applies_here(entry: Any) -> bool:  # a lockfile.Entry
    return not entry.marker or Marker(entry.marker).evaluate()


def _closure(roots: list[Requirement]) -> set[str]:
    """Every distribution the roots need on this interpreter, read from the installed packages' metadata."""
    seen: set[str] = set()
    todo = [(r, frozenset(r.extras)) for r in roots]
    while todo:
        req, extras = todo.pop()
        name = lockfile.normalise(req.name)
        key = f"{name}[{','.join(sorted(extras))}]"
        if key in seen:
            continue
        seen.add(key)
        for raw in md.requires(name) or []:
            child = Requirement(raw)
            wanted = child.marker is None or any(
                child.marker.evaluate({"extra": e}) for e in (extras or {""})
            )
            if wanted:
                todo.append((child, frozenset(child.extras)))
    return {k.split("[")[0] for k in seen}


def test_every_pyproject_pin_is_locked_at_the_same_version() -> None:
    for part, reqs in _declared().items():
        for req in reqs:
            pins = [s.version for s in req.specifier if s.operator == "=="]
            assert pins, f"{part}: {req} is not pinned with == (the lock is the only other place versions live)"
            locked = LOCK.get(lockfile.normalise(req.name))
            assert locked is not None, f"{part}: {req.name} is not in requirements.lock: run `make lock`"
            assert locked.version == pins[0], (
                f"{part}: pyproject pins {req.name}=={pins[0]}, the lock has {locked.version}: run `make lock`"
            )


def test_every_locked_package_has_hashes_and_a_reason() -> None:
    for entry in LOCK.values():
        assert entry.hashes, f"{entry.name} has no --hash in requirements.lock"
        assert entry.parents, f"{entry.name} is in requirements.lock but nothing pulls it in"


def test_the_lock_is_exactly_what_pyproject_needs() -> None:
    declared = [r for reqs in _declared().values() for r in reqs]
    needed = _closure(declared)
    locked = {n for n, e in LOCK.items() if _applies_here(e)}
    assert needed - locked == set(), "needed but not locked: run `make lock`"
    assert locked - needed == set(), "locked but needed by nothing in pyproject.toml: run `make lock`"
    for name in locked:
        assert md.version(name) == LOCK[name].version, f"{name}: .venv does not match the lock: run `make install`"


def test_the_image_part_is_the_runtime_closure_without_dev_tools() -> None:
    image = {n for n, e in lockfile.part(LOCK, "main").items() if _applies_here(e)}
    assert image == _closure(_declared()["main"])
    assert {"pytest", "mypy", "ruff", "uv"}.isdisjoint(image)
    assert set(lockfile.part(LOCK, "build")) >= {"pip", "setuptools", "wheel"}


def test_the_licence_is_an_spdx_expression() -> None:
    assert PYPROJECT["project"]["license"] == "EUPL-1.2"
