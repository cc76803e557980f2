"""Exponential backoff with full jitter, for the daemon's retries after transient failures.

"Full jitter" (AWS Architecture Blog, *Exponential Backoff and Jitter*) draws
the delay uniformly from the whole window instead of adding a little noise to
a fixed delay; it spreads retries best when many clients fail at once (an
outage of Google's API, a laptop waking up).

The window never starts below the normal interval: a 429 or a 5xx asks us to
poll *less*, so a retry is never sooner than the next ordinary pass would be.
After ``n`` consecutive failures the delay is drawn from
``[interval, min(cap, interval * 2**n)]``.
"""

from __future__ import annotations

import random

DEFAULT_CAP = 15 * 60.0


class Backoff:
    """Consecutive-failure counter that hands out jittered delays."""

    def __init__(self, interval: float, cap: float = DEFAULT_CAP,
                 rng: random.Random | None = None) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.interval = float(interval)
        # an interval longer than the cap is still the floor: never poll faster than asked
        self.cap = max(float(cap), self.interval)
        self.failures = 0
        self._rng = rng or random.Random()

    def window(self) -> tuple[float, float]:
        """The ``(low, high)`` bounds the next delay will be drawn from."""
        exponent = min(self.failures, 32)  # 2**32 intervals is past any cap
        return self.interval, min(self.cap, self.interval * 2.0**exponent)

    def next_delay(self) -> float:
        """Record one more failure and return the seconds to wait before retrying."""
        self.failures += 1
        low, high = self.window()
        return self._rng.uniform(low, high)

    def reset(self) -> None:
        """A pass succeeded: the next failure starts again from the interval."""
        self.failures = 0
