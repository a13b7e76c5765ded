"""The relay nudge: at most one NOTIFY per interval, and never an event committed without a NOTIFY
following it within two intervals."""

from __future__ import annotations

import time

from werkplek_common.outbox import CHANNEL
from werkplek_placement_logging.nudge import RelayNudge

from tests.support import eventually


class FakePool:
    def __init__(self) -> None:
        self.sent: list[tuple[float, tuple[object, ...]]] = []

    async def execute(self, query: str, *args: object) -> None:
        assert "pg_notify" in query
        self.sent.append((time.monotonic(), args))


async def test_the_first_write_of_an_interval_notifies_itself_the_next_do_not():
    nudge = RelayNudge(FakePool(), "p", interval=60)
    assert nudge.claim() is True
    assert nudge.claim() is False
    assert nudge.claim() is False


async def test_a_write_committed_without_notify_is_followed_by_one_within_two_intervals():
    pool = FakePool()
    nudge = RelayNudge(pool, "prod", interval=0.05)
    assert nudge.claim() is True
    assert nudge.claim() is False
    committed = time.monotonic()
    nudge.committed_without()
    nudge.committed_without()  # a second one in the same interval shares the pending NOTIFY
    await eventually(lambda: len(pool.sent) == 1, timeout=2, what="the trailing NOTIFY", poll=0.001)
    sent_at, args = pool.sent[0]
    assert args == (CHANNEL, "prod")
    assert sent_at - committed <= 2 * 0.05 + 0.05  # within two intervals (plus scheduling slack)
    assert nudge.claim() is False  # the trailing NOTIFY counts for its interval


async def test_a_notifying_commit_sent_after_them_covers_writes_committed_without():
    pool = FakePool()
    nudge = RelayNudge(pool, "p", interval=0.02)
    assert nudge.claim() is True
    nudge.committed_without()
    nudge.notified(time.monotonic())  # a NOTIFY carried by a COMMIT sent after that commit
    assert nudge._pending is not None
    nudge._pending.cancel()
    nudge._fire()  # what the timer does when due (called now rather than waited for)
    assert pool.sent == [] and not nudge._tasks


async def test_a_notifying_commit_sent_before_them_does_not_cover_them():
    pool = FakePool()
    nudge = RelayNudge(pool, "p", interval=0.02)
    assert nudge.claim() is True
    sent_before = time.monotonic()
    nudge.committed_without()
    nudge.notified(sent_before)  # its COMMIT went out before that commit was reported
    await eventually(lambda: len(pool.sent) == 1, timeout=2, what="the trailing NOTIFY", poll=0.001)


async def test_interval_zero_notifies_every_write():
    nudge = RelayNudge(FakePool(), "p", interval=0)
    assert all(nudge.claim() for _ in range(5))


async def test_close_cancels_a_pending_notify():
    pool = FakePool()
    nudge = RelayNudge(pool, "p", interval=0.02)
    nudge.claim()
    nudge.committed_without()
    nudge.close()
    assert nudge._pending is None and pool.sent == []  # the timer is gone, nothing was sent
