"""Import a module in a fresh interpreter that refuses some top-level packages: how the unit tests hold
the use-case modules free of the database driver and the web framework (docs/adr/0008)."""

from __future__ import annotations

import subprocess
import sys

DRIVER_AND_WEB = frozenset({"asyncpg", "fastapi", "starlette"})


def import_refusing(module: str, refused: frozenset[str] = DRIVER_AND_WEB) -> subprocess.CompletedProcess[str]:
    """Import `module` where importing any of `refused` (directly or through another module) raises
    ImportError("<name> imported"); the finished interpreter, for its return code and stderr."""
    code = (
        "import sys\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {set(refused)!r}:\n"
        "            raise ImportError(f'{name} imported')\n"
        "sys.meta_path.insert(0, Refuse())\n"
        f"import {module}\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
