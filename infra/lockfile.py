"""Reads requirements.lock (written by `make lock`, i.e. `uv pip compile --generate-hashes`).

The lock is one file for every Python package; each entry carries its hashes and a `# via` note naming
what pulls it in: `werkplek (pyproject.toml)` for the project's own dependencies,
`werkplek (pyproject.toml:<group>)` for a dependency group, or other locked packages. From those notes
this picks the part of the lock an installation needs, hashes intact:

    python3 infra/lockfile.py requirements.lock main build   # what the image installs (no dev tools)

Standard library only: the image runs it before anything is installed.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")
_PROJECT = re.compile(r"^werkplek \(pyproject\.toml(?::([a-z0-9_-]+))?\)$")


@dataclass(frozen=True)
class Entry:
    name: str
    version: str
    marker: str  # PEP 508 environment marker, "" when the package is needed everywhere
    block: str  # the entry's lines as written: pin, marker, hashes, via notes
    hashes: tuple[str, ...]
    parents: tuple[str, ...]  # locked package names, or "part:<main|group>" for the project itself


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(text: str) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    for block in _blocks(text):
        pin = _PIN.match(block[0])
        if pin is None:
            raise ValueError(f"not a pinned requirement in the lock: {block[0]!r}")
        name = normalise(pin.group(1))
        entries[name] = Entry(
            name=name,
            version=pin.group(2),
            marker=block[0].partition(";")[2].rstrip("\\ ").strip(),
            block="\n".join(block),
            hashes=tuple(re.findall(r"--hash=(sha256:[0-9a-f]{64})", "\n".join(block))),
            parents=tuple(_parents(block)),
        )
    return entries


def _blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            blocks.append([line])
        elif blocks and line.strip():
            blocks[-1].append(line)
    return blocks


def _parents(block: list[str]) -> list[str]:
    notes = [line.strip().lstrip("#").strip() for line in block if line.strip().startswith("#")]
    names = [n.removeprefix("via").strip() for n in notes]
    out = []
    for n in filter(None, names):
        project = _PROJECT.match(n)
        out.append(f"part:{project.group(1) or 'main'}" if project else normalise(n))
    return out


def part(entries: dict[str, Entry], *parts: str) -> dict[str, Entry]:
    """The entries pulled in, directly or through other entries, by the named parts of the project."""
    chosen = {n for n, e in entries.items() if any(p in e.parents for p in (f"part:{x}" for x in parts))}
    grew = True
    while grew:
        grown = {n for n, e in entries.items() if chosen.intersection(e.parents)} - chosen
        chosen |= grown
        grew = bool(grown)
    return {n: entries[n] for n in sorted(chosen)}


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as lock:
        entries = parse(lock.read())
    for entry in part(entries, *argv[1:]).values():
        print(entry.block)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
