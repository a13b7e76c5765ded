"""The repository stands alone: a clone with nothing beside it must pass `make test`, and its docs
must not send a reader to files a user of the project does not have. Every tracked text file is
scanned for references that leave the repository: relative paths that climb above its root, paths
of the machine it was developed on, and Python path arithmetic that steps out of the checkout."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RELATIVE = re.compile(r"(?<![\w.])((?:\.\./)+)([\w][\w./-]*)")
MACHINE = re.compile(r"(?<![\w.])/work/|\.\./shared\b|\bshared/(?:k8s-crds|seed|DOMAIN\.md)")
# `ROOT.parent / "x"`, `REPO_ROOT.parent`: a path computed from the checkout that leaves it
ESCAPE = re.compile(r"\b(?:ROOT|REPO_ROOT|REPO)\.parent\b")
BINARY = {".png", ".ico", ".woff", ".woff2", ".xlsx", ".gz", ".zip", ".jar"}
SKIP = {"package-lock.json"}  # registry metadata, not references


def tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / p for p in out.decode().split("\0") if p]


def outside(file: Path, climb: str, rest: str) -> bool:
    """True when `climb + rest`, read relative to the file's folder, lands outside the repository."""
    target = (file.parent / (climb + rest)).resolve()
    return ROOT not in target.parents and target != ROOT


def offences(file: Path, text: str) -> list[str]:
    found = []
    for lineno, line in enumerate(text.splitlines(), 1):
        where = f"{file.relative_to(ROOT)}:{lineno}"
        found += [f"{where}: {m.group(0)}" for m in MACHINE.finditer(line)]
        found += [f"{where}: {m.group(0)}" for m in ESCAPE.finditer(line)]
        found += [f"{where}: {m.group(0)}" for m in RELATIVE.finditer(line) if outside(file, m.group(1), m.group(2))]
    return found


def test_no_tracked_file_refers_outside_the_repository() -> None:
    files = [f for f in tracked_files() if f.is_file() and f.suffix not in BINARY and f.name not in SKIP
             and f != Path(__file__).resolve()]
    assert len(files) > 100, "git ls-files found too few files: is this a checkout?"
    found = [o for f in files for o in offences(f, f.read_text(errors="replace"))]
    assert not found, "references outside the repository:\n" + "\n".join(found)


SHARED = "sha" + "red"


@pytest.mark.parametrize(("line", "bad"), [
    # the bad examples are put together here, so that no line of this file is itself such a reference
    ("see `../" + SHARED + "/DOMAIN.md`", True),
    ("Rules (../../../" + SHARED + "/DOMAIN.md)", True),
    ('CRDS = ROOT.parent / "' + SHARED + '" / "k8s-crds"', True),
    ("copied from /work/" + SHARED + "/seed", True),
    ("see `../README.md`", False),  # inside: services/x/README.md -> services/README.md
    ("the `docs/domain.md` page", False),
])
def test_the_scan_tells_inside_from_outside(line: str, bad: bool) -> None:
    where = ROOT / "services" / "x" / "README.md"
    assert bool(offences(where, line)) is bad
