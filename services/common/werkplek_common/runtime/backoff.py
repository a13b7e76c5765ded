"""Capped exponential backoff with jitter, for waiting on a broker or database that is not there.
Pure: the caller sleeps."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    first: float = 0.5
    cap: float = 30.0
    factor: float = 2.0
    jitter: float = 0.2  # ± this fraction, so that many workers do not retry in step
    _next: float = field(default=0.0, init=False)

    def delay(self) -> float:
        """The next wait: first, first×factor, … up to cap."""
        base = self._next or self.first
        self._next = min(self.cap, base * self.factor)
        return base * (1 + random.uniform(-self.jitter, self.jitter))

    def reset(self) -> None:
        self._next = 0.0
