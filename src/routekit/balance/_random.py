"""Balancers that draw at random: `Random`, `PowerOfTwoChoices`; and `LeastRequests`."""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, final

from ._group import ChildSpec, Clock, Group, PassiveHealth, _Member

if TYPE_CHECKING:
    from ..request import Request

__all__ = ["LeastRequests", "PowerOfTwoChoices", "Random"]


class _Sampled(Group):
    """A group that keeps its active members in a list with cumulative weights for drawing."""

    def __init__(
        self,
        children: Iterable[ChildSpec] = (),
        *,
        name: str | None = None,
        clock: Clock | None = None,
        passive: PassiveHealth | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._rng = rng if rng is not None else random.Random()
        super().__init__(children, name=name, clock=clock, passive=passive)

    def _setup(self) -> None:
        self._active: list[_Member] = []
        self._cum: list[float] = []
        self._total = 0.0
        # Counts the changes of the active set; `_sample` (and subclasses' own tables) compare
        # it with the count they were built for.
        self._changes = 0
        self._sampled = -1

    def _activate(self, m: _Member) -> None:
        self._changes += 1

    def _deactivate(self, m: _Member) -> None:
        self._changes += 1

    def _sample(self) -> list[_Member]:
        """The active members in insertion order (rebuilt after any change); raise if none."""
        if self._sampled != self._changes:
            self._active = [m for m in self._members.values() if m.active]
            total = 0.0
            cum = []
            for m in self._active:
                total += m.weight
                cum.append(total)
            self._cum, self._total, self._sampled = cum, total, self._changes
        if not self._active:
            raise self._unavailable()
        return self._active

    def _draw(self) -> _Member:
        """One active member drawn with probability weight / Σweights (call `_sample` first)."""
        active = self._active
        i = bisect_right(self._cum, self._rng.random() * self._total)
        return active[i] if i < len(active) else active[-1]

    def _preview(self) -> str:
        return "random"

    def _options(self) -> dict[str, Any]:
        return {**super()._options(), "rng": self._rng}


@final
class Random(_Sampled):
    """Each pick draws a child at random with probability weight / Σweights (seedable ``rng=``)."""

    kind = "random"

    def _choose(self, request: Request | None) -> _Member:
        self._sample()
        return self._draw()


@final
class PowerOfTwoChoices(_Sampled):
    """Draw two children by weight and take the one with fewer requests in flight per weight.

    In-flight requests are counted by leases (`Balancer.acquire`), so use ``acquire`` rather than
    ``pick`` with this balancer.  Traefik v3.5+ ``p2c``.
    """

    kind = "p2c"

    def _choose(self, request: Request | None) -> _Member:
        active = self._sample()
        a = self._draw()
        if len(active) == 1:
            return a
        b = self._draw()
        for _ in range(3):
            if b is not a:
                break
            b = self._draw()
        else:
            # A dominant weight keeps drawing the same child: compare with its neighbour.
            b = active[(active.index(a) + 1) % len(active)]
        return b if b.inflight * a.weight < a.inflight * b.weight else a


@final
class LeastRequests(_Sampled):
    """Take the child with the fewest requests in flight per weight; ties go round-robin.

    The score is ``(inflight + 1) / weight`` (Traefik's ``leasttime`` without the latency term).
    A pick scans every child: O(n).  Count requests with `Balancer.acquire`.
    """

    kind = "leastrequests"

    def _setup(self) -> None:
        super()._setup()
        self._rot = 0

    def _best(self) -> tuple[int, _Member]:
        active = self._sample()
        n = len(active)
        start = self._rot % n
        best_i, best, best_score = (
            start,
            active[start],
            (active[start].inflight + 1) / active[start].weight,
        )
        for i in range(start + 1, start + n):
            m = active[i % n]
            score = (m.inflight + 1) / m.weight
            if score < best_score:
                best_i, best, best_score = i, m, score
        return best_i, best

    def _choose(self, request: Request | None) -> _Member:
        i, m = self._best()
        self._rot = i + 1
        return m

    def _preview(self) -> str:
        return self._best()[1].key
