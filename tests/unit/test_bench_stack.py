"""`make bench` runs on a stack of its own: other ports and another data folder than the `make run`
stack and the test stack, so a benchmark never writes into the topics and database a developer uses."""

from __future__ import annotations

import os
import subprocess

from werkplek_common.settings import REPO_ROOT

SHOWN = ("DATA", "KAFKA_PORT", "KAFKA_CONTROLLER_PORT", "PG_PORT", "WERKPLEK_KEYCLOAK_PORT", "WERKPLEK_PROXY_PORT",
         "MAILPIT_SMTP_PORT", "MAILPIT_HTTP_PORT")


def stack_of(script: str) -> dict[str, str]:
    """What a script's stack resolves to when nothing is set in the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WERKPLEK_")}
    show = "; ".join(f'echo "{name}=${{{name}:-}}"' for name in SHOWN)
    out = subprocess.run(["bash", "-c", f"source infra/{script} >/dev/null; {show}"], cwd=REPO_ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines())


def test_the_bench_stack_shares_nothing_with_the_run_and_test_stacks() -> None:
    bench, run, test = stack_of("benchenv.sh"), stack_of("lib.sh"), stack_of("testenv.sh")
    assert bench["DATA"].endswith("/.data/bench")
    for name in SHOWN:
        if name.startswith("WERKPLEK_") and not run[name]:
            continue  # not set by lib.sh: its scripts' own defaults apply to the run stack
        assert bench[name] not in (run[name], test[name]), name


def test_make_bench_uses_its_own_stack_and_stops_it() -> None:
    script = (REPO_ROOT / "infra" / "bench.sh").read_text()
    assert 'source "$(dirname "$0")/benchenv.sh"' in script
    assert "trap 'bash \"$ROOT/infra/down.sh\"' EXIT" in script
