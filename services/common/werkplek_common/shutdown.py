"""Stopping within a bound. With the broker gone, aiokafka's last steps wait for it indefinitely: a
final offset commit retries until the coordinator answers, leaving the group waits for it. A
process asked to stop must stop (Kubernetes kills it after its grace period anyway); every service
here is crash-safe, so what it could not commit is replayed by the next start."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import Any

log = logging.getLogger(__name__)
STEP_TIMEOUT_S = 5.0  # one shutdown step that talks to the broker


async def bounded(step: Awaitable[Any], what: str, timeout: float = STEP_TIMEOUT_S) -> bool:
    """Await a step of stopping (or a best-effort call such as a periodic commit) for at most
    `timeout` seconds; a failure or timeout is logged, not raised. True when it completed."""
    try:
        await asyncio.wait_for(step, timeout)
        return True
    except TimeoutError:
        log.warning(f"gave up waiting: {what}", extra={"fields": {"step": what, "seconds": timeout}})
    except Exception as exc:  # the broker or database is gone: nothing more to do for this step
        log.warning(f"failed: {what}: {exc!r}", extra={"fields": {"step": what, "error": repr(exc)}})
    return False


async def unless_stopped(step: Awaitable[Any], stop: asyncio.Event) -> bool:
    """Await `step` unless `stop` is set first: then `step` is cancelled. True when it completed. For
    the waits that have no timeout while the broker is gone (a consumer joining its group, a fetch
    while the group rebalances), so that SIGTERM still ends them."""
    task = asyncio.ensure_future(step)
    stopping = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        stopping.cancel()
        task.result()  # raises what the step raised
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    return False
