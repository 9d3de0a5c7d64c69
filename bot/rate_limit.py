"""Per-user question limits: a sliding window of the last minute."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Literal

Verdict = Literal["allow", "warn", "drop"]
"""allow: answer it; warn: refuse with a note (first refusal in a flood); drop: refuse silently."""


class RateLimiter:
    """At most ``per_minute`` questions per user in any 60 seconds; one note per flood."""

    window = 60.0

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._per_minute = per_minute
        self._clock = clock
        self._asked: dict[int, deque[float]] = {}
        self._warned: set[int] = set()
        self._last_sweep = clock()

    def check(self, user_id: int) -> Verdict:
        """Record one question from ``user_id`` and say whether to answer it."""
        now = self._clock()
        if now - self._last_sweep > self.window:
            self._sweep(now)
        asked = self._asked.setdefault(user_id, deque())
        while asked and asked[0] <= now - self.window:
            asked.popleft()
        if len(asked) < self._per_minute:
            asked.append(now)
            self._warned.discard(user_id)
            return "allow"
        if user_id in self._warned:
            return "drop"
        self._warned.add(user_id)
        return "warn"

    def _sweep(self, now: float) -> None:
        """Forget users who asked nothing in the last window, so memory stays bounded."""
        self._last_sweep = now
        for user_id in [u for u, asked in self._asked.items() if asked[-1] <= now - self.window]:
            del self._asked[user_id]
            self._warned.discard(user_id)
