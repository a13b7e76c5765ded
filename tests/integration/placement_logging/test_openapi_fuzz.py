"""Schemathesis against the OpenAPI 3.1 document of a running API process: whatever it generates
(with a student's and with a coordinator's token), the API never answers 5xx."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from werkplek_common.auth import Role
from werkplek_common.settings import REPO_ROOT

from .conftest import token

ST = Path(sys.executable).parent / "schemathesis"


@pytest.mark.parametrize("role", [Role.STUDENT, Role.COORDINATOR])
def test_no_5xx_for_generated_requests(server, pl_settings, role):
    bearer = token(pl_settings, role, f"fuzz-{uuid.uuid4().hex[:6]}", "inst-fuzz")
    done = subprocess.run(
        [str(ST), "run", f"{server}/openapi.json", "--checks", "not_a_server_error", "--max-examples", "25",
         "--header", f"Authorization: Bearer {bearer}", "--header", f"Idempotency-Key: {uuid.uuid4()}",
         "--seed", "7", "--request-timeout", "10"],
        capture_output=True, text=True, timeout=400, cwd=REPO_ROOT, env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
