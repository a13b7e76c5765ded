"""The set-up scripts' "is it installed?" checks look at programs, not at themselves.

`command -v NAME` is true for a shell function called NAME as well as for a program on PATH. A script
that defines `chromium() { command -v chromium && return 0; ... }` therefore always finds "chromium"
and never installs it: CI failed that way once (the browser tests found no /usr/bin/chromium). Each
script under infra/ is read for the functions it defines and the names it probes with `command -v`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "infra").rglob("*.sh"))
DEFINES = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*\(\)\s*\{", re.MULTILINE)
PROBES = re.compile(r"\bcommand\s+-v\s+([A-Za-z_][\w.-]*)")


def shadowed(text: str) -> set[str]:
    """Names a script both defines as a function and probes with `command -v`."""
    return set(DEFINES.findall(text)) & set(PROBES.findall(text))


def test_the_check_sees_a_function_that_shadows_the_program() -> None:
    assert shadowed('chromium() {\n  command -v chromium >/dev/null && return 0\n}\n') == {"chromium"}
    assert shadowed('browser_binary() {\n  type -P chromium >/dev/null && return 0\n}\n') == set()


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_script_probes_a_program_named_like_one_of_its_functions(script: Path) -> None:
    assert not shadowed(script.read_text()), f"{script.relative_to(ROOT)}: use `type -P` or rename the function"
