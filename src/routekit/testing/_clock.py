"""`FakeClock`: a manual clock to inject as ``clock=`` wherever routekit reads the time."""

from __future__ import annotations

import math
from typing import final

__all__ = ["FakeClock"]


@final
class FakeClock:
    """A monotonic clock that only moves when told to: ``clock()`` returns now, in seconds.

    Pass it as ``clock=`` to anything that measures time (passive health cool-downs, throttles) to
    make time-dependent behaviour deterministic in tests::

        clock = FakeClock()
        clock.advance(10.0)
        assert clock() == 10.0
    """

    __slots__ = ("_now",)

    def __init__(self, start: float = 0.0) -> None:
        if not math.isfinite(start):
            raise ValueError(f"FakeClock start must be a finite number, got {start!r}")
        self._now = float(start)

    def __call__(self) -> float:
        """The current time in seconds."""
        return self._now

    @property
    def now(self) -> float:
        """The current time in seconds (same as calling the clock)."""
        return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward by *seconds* (never backwards) and return the new time."""
        if not (seconds >= 0 and math.isfinite(seconds)):
            raise ValueError(f"FakeClock.advance() needs a finite number >= 0, got {seconds!r}")
        self._now += seconds
        return self._now

    def __repr__(self) -> str:
        return f"<FakeClock now={self._now!r}>"
