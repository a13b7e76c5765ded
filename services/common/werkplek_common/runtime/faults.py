"""Quiet logs under faults. While the broker is gone, aiokafka writes the same few lines many times a
second and a retry loop would add one per attempt: thousands of identical lines per outage.

- `RepeatFilter` (on the root handler, so it covers aiokafka's own loggers): a warning or error is
  logged the first time; repeats of the same line (same logger, same message template) within
  `interval` are counted, not written; the first repeat after the interval is written with the count
  ("[repeated 312 times in the last 60 s]") and starts a new interval. `flush()` writes what is still
  counted (at a recovery).
- `Outage`: one dependency that can be unreachable. Its first failure is logged, later ones only
  counted, and its recovery is logged once, with how long it lasted."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

MAX_KEYS = 1000  # distinct lines tracked; the oldest is forgotten beyond


class RepeatFilter(logging.Filter):
    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval, self.clock = interval, clock
        self._seen: OrderedDict[tuple[str, str], list[float | int]] = OrderedDict()  # -> [window start, repeats]
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or getattr(record, "repeat_summary", False):
            return True
        key = (record.name, str(record.msg))
        now = self.clock()
        with self._lock:
            seen = self._seen.get(key)
            if seen is None:
                self._remember(key, now)
                return True
            start, repeats = seen
            if now - start < self.interval:
                seen[1] = repeats + 1
                return False
            self._seen[key] = [now, 0]
        if repeats:
            _annotate(record, f"[repeated {repeats} times in the last {now - start:.0f} s]")
        return True

    def _remember(self, key: tuple[str, str], now: float) -> None:
        self._seen[key] = [now, 0]
        while len(self._seen) > MAX_KEYS:
            self._seen.popitem(last=False)

    def flush(self, logger: logging.Logger) -> int:
        """Write one line per message still counted, and forget them all (so the next occurrence is
        written again). Returns the number of lines written."""
        with self._lock:
            pending = [(name, msg, int(repeats)) for (name, msg), (_, repeats) in self._seen.items() if repeats]
            self._seen.clear()
        for name, msg, repeats in pending:
            logger.warning(f"{name}: {msg!r} repeated {repeats} more times before the recovery",
                           extra={"repeat_summary": True, "fields": {"logger": name, "repeats": repeats}})
        return len(pending)


def _annotate(record: logging.LogRecord, note: str) -> None:
    record.msg = f"{record.msg} {note}"
    fields = dict(getattr(record, "fields", {}))
    fields["repeats_note"] = note
    record.fields = fields


REPEATS = RepeatFilter()  # the one configure_logging installs


class Outage:
    def __init__(self, what: str, logger: logging.Logger, clock: Callable[[], float] = time.monotonic) -> None:
        self.what, self.log, self.clock = what, logger, clock
        self.since: float | None = None
        self.failures = 0

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException) -> None:
        self.failures += 1
        if self.since is None:
            self.since = self.clock()
            self.log.warning(f"{self.what} unreachable; waiting for it (retrying with backoff)",
                             extra={"fields": {"dependency": self.what, "error": repr(exc)}})

    def ok(self) -> None:
        if self.since is None:
            return
        took, failures = self.clock() - self.since, self.failures
        self.since, self.failures = None, 0
        REPEATS.flush(self.log)
        self.log.warning(f"{self.what} reachable again after {took:.0f} s", extra={"repeat_summary": True, "fields": {
            "dependency": self.what, "seconds": round(took, 1), "failed_attempts": failures}})
