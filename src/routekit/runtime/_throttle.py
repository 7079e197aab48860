"""Per-provider throttling of configuration snapshots, decided synchronously.

Traefik's aggregator gives each provider a one-slot "ring" channel and a forwarder that takes a
message, forwards it, then sleeps ``providersThrottleDuration`` (default 2 s;
``pkg/provider/aggregator/aggregator.go`` ``maybeThrottledProvide``).  The effect: the first
change applies at once (leading edge); changes arriving during the pause collapse into the latest
one, which applies when the pause ends.  `Throttle` is that behaviour as a pure object — the
caller supplies the time, asks whether something is due, and sleeps until :attr:`deadline`.
"""

from __future__ import annotations

import math
from typing import Generic, TypeVar, final

__all__ = ["Throttle"]

T = TypeVar("T")


@final
class Throttle(Generic[T]):
    """Leading-edge, latest-wins throttle: at most one item per *duration* seconds.

    Args:
        duration: minimum seconds between two released items; ``0`` releases everything at once.
    """

    __slots__ = ("_duration", "_has_pending", "_next_release", "_pending")

    def __init__(self, duration: float) -> None:
        if duration < 0 or math.isnan(duration):
            raise ValueError(f"throttle duration must be >= 0, got {duration!r}")
        self._duration = duration
        self._next_release = -math.inf
        self._pending: T | None = None
        self._has_pending = False

    @property
    def duration(self) -> float:
        """Seconds between two released items."""
        return self._duration

    def offer(self, item: T, now: float) -> T | None:
        """Offer a new item; return it if it may be applied now, else keep it as the pending one."""
        if now >= self._next_release:
            self._next_release = now + self._duration
            self._pending, self._has_pending = None, False
            return item
        # A newer item replaces any older pending one: only the latest state matters.
        self._pending, self._has_pending = item, True
        return None

    def due(self, now: float) -> T | None:
        """Return the pending item if its time has come (and start a new pause), else ``None``."""
        if not self._has_pending or now < self._next_release:
            return None
        item = self._pending
        self._pending, self._has_pending = None, False
        self._next_release = now + self._duration
        return item

    @property
    def deadline(self) -> float | None:
        """When the pending item becomes due, or ``None`` when nothing is pending."""
        return self._next_release if self._has_pending else None

    def __repr__(self) -> str:
        state = f"pending until {self._next_release:.3f}" if self._has_pending else "idle"
        return f"<Throttle {self._duration}s {state}>"
