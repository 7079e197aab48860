"""`WeightedRoundRobin` (smooth, exact, O(log n)) and `RoundRobin` (equal weights, fastest)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction
from functools import lru_cache
from heapq import heapify, heappop, heappush, heapreplace
from typing import TYPE_CHECKING, ClassVar, Final, Self, final

from ..errors import ConfigError
from ._group import Group, _Member

if TYPE_CHECKING:
    from ..request import Request

__all__ = ["RoundRobin", "WeightedRoundRobin"]

_Entry = tuple[float, int, _Member]

#: Largest common denominator for which float weights are turned into integers.
_MAX_SCALE: Final = 10**6
#: Above this, floats are no longer exact integers: such weights are used as they are.
_MAX_EXACT: Final = float(2**53)


@lru_cache(maxsize=4096)
def _denominator(weight: float) -> int:
    """The denominator of *weight* read as a short fraction (5 for 1.4), or 0 if it is not one."""
    if weight > _MAX_EXACT / _MAX_SCALE:
        return 0
    if weight.is_integer():
        return 1
    fraction = Fraction(weight).limit_denominator(_MAX_SCALE)
    # Only when *weight* is the float nearest to that fraction, i.e. what the user wrote.
    return fraction.denominator if float(fraction) == weight else 0


def _rate(weight: float, scale: int) -> float:
    """*weight* in a balancer's internal units: an exact integer when the scale allows it."""
    return float(round(weight * scale)) if scale else weight


@final
class WeightedRoundRobin(Group):
    """Weighted round-robin: exact proportions, smooth order, O(log n) per pick.

    Traefik v3 orders picks by earliest deadline first (EDF): each child's next deadline is
    ``k / weight`` and the smallest goes next.  EDF alone sends runs (5:1:1 gives ``a a a a a b
    c``), so routekit adds an *eligibility* rule (the quota method of Balinski and Young, the
    ``EEVDF`` of Stoica et al.): after ``n`` picks a child may take pick ``n + 1`` only if it has
    had fewer than ``(n + 1) · weight / Σweights`` picks.  Among eligible children the earliest
    deadline wins; ties go to the child added first (Go's heap in Traefik's
    ``pkg/server/service/loadbalancer/wrr/wrr.go`` has no tie-break: a routekit decision).
    Guarantees, for a balancer whose children did not change:

    - after any ``n`` picks every child's count is within 1 of ``n · weight / Σweights``;
    - over any window of ``k · Σweights`` picks each child gets exactly ``k · weight`` (when
      these are whole numbers: weights such as 0.1, 1.4 or 2/3 qualify, see below);
    - equal weights give plain round-robin in insertion order.

    Exactness needs exact arithmetic: a deadline such as ``7 / 1.4`` is not exactly 5 in binary
    floating point, and a rounding error decides a tie differently now and then.  So weights
    that are short fractions (a denominator up to 10⁶, as every decimal a user writes is) are
    scaled by their common denominator into integers, whose quotients round the same way when
    they are equal.  Other floats are used as they are; they stay smooth within 1.

    A child that joins, comes back up or is re-weighted starts at the current virtual time, so
    it gets its share from now on, never a catch-up burst; the others keep their positions.
    Its turns then fall between theirs wherever it joined, so later windows of ``k · Σweights``
    picks may be off by one; shares over time stay exact.
    Weight 0 and down children are not in the heaps at all, so they cost nothing per pick.
    """

    kind = "wrr"

    def _setup(self) -> None:
        # Virtual time is `v0 + n / w`: `n` picks since the total weight `w` last changed.
        self._v0 = 0.0
        self._n = 0
        self._w = 0.0
        # Common denominator of the active weights (0: none, weights used as they are).  Each
        # member's `rate` is its weight times this scale, and positions are in units of 1/scale.
        self._scale = 1
        self._elig: list[_Entry] = []  # by deadline: may be picked now
        self._inel: list[_Entry] = []  # by eligible time: ahead of their share

    def _now(self) -> float:
        return self._v0 + self._n / self._w if self._w else self._v0

    def _epoch(self) -> None:
        self._v0 = self._now()
        self._n = 0

    def _place(self, m: _Member) -> None:
        if m.e < self._v0 + (self._n + 1) / self._w:
            heappush(self._elig, (m.d, m.seq, m))
        else:
            heappush(self._inel, (m.e, m.seq, m))

    def _activate(self, m: _Member) -> None:
        self._epoch()
        before = self._scale
        scale = math.lcm(before, _denominator(m.weight))
        self._rescale(scale if scale <= _MAX_SCALE else 0)
        m.rate = _rate(m.weight, self._scale)
        self._start(m, self._v0)
        if self._scale and self._scale == before and self._w + m.rate < _MAX_EXACT:
            # Whole numbers in the same units: adding is exact, the same as summing afresh, and
            # keeps building a balancer of n children O(n log n) instead of O(n²).
            self._w += m.rate
        else:
            self._w = self._total()
        self._place(m)

    @staticmethod
    def _start(m: _Member, at: float) -> None:
        m.b = m.e = at
        m.c = 0
        m.d = at + 1 / m.rate

    def _unschedule(self, m: _Member) -> bool:
        """Take *m* out of whichever heap holds it; ``False`` if none does."""
        for heap in (self._elig, self._inel):
            for i, entry in enumerate(heap):
                if entry[2] is m:
                    heap[i] = heap[-1]
                    heap.pop()
                    heapify(heap)
                    return True
        return False

    def _deactivate(self, m: _Member) -> None:
        if not self._unschedule(m):
            # Never scheduled: a reload left out a child it is about to take down again.
            return
        self._epoch()
        self._rescale(self._common_scale(x for x in self._members.values() if x.active))
        self._w = self._total()

    @staticmethod
    def _common_scale(members: Iterable[_Member]) -> int:
        """The common denominator of the members' weights, 0 if they have none small enough."""
        scale = 1
        for m in members:
            scale = math.lcm(scale, _denominator(m.weight))
            if not scale or scale > _MAX_SCALE:
                return 0
        return scale

    def _rescale(self, scale: int) -> None:
        """Move to another common scale: rates and positions (virtual times) change units.

        Runs only when a weight with a new denominator comes or the last one goes; multiplying
        every position by the same factor keeps their order.  Call `_epoch` first.
        """
        if scale == self._scale:
            return
        ratio = (self._scale or 1) / (scale or 1)
        self._scale = scale
        self._v0 *= ratio
        for heap, at in ((self._elig, "d"), (self._inel, "e")):
            for i, (_, seq, m) in enumerate(heap):
                m.b *= ratio
                m.e *= ratio
                m.d *= ratio
                m.rate = _rate(m.weight, scale)
                heap[i] = (m.d if at == "d" else m.e, seq, m)
            heapify(heap)

    def _total(self) -> float:
        # Summed afresh (not kept as a running sum) so that no float residue builds up.
        return math.fsum(m.rate for m in self._members.values() if m.active)

    def _settle(self) -> _Member:
        """Order the heaps so that the top of the eligible heap is the next pick; return it.

        Moving children between the heaps is lazy: one that got ahead of its share stays in the
        deadline heap until it reaches the top, and most have become eligible again by then,
        so a pick is usually a single ``heapreplace``.
        """
        elig, inel = self._elig, self._inel
        vnext = self._v0 + (self._n + 1) / self._w
        while inel and inel[0][0] < vnext:
            _, seq, m = heappop(inel)
            heappush(elig, (m.d, seq, m))
        while True:
            if not elig:
                # Everyone is ahead of their share (a child left with credit): let virtual time
                # catch up with the earliest instead of stalling.
                first = inel[0][0]
                self._v0 = first - (self._n + 1) / self._w
                while inel and inel[0][0] <= first:
                    _, seq, m = heappop(inel)
                    heappush(elig, (m.d, seq, m))
                return elig[0][2]
            m = elig[0][2]
            if m.e < vnext:
                return m
            heappop(elig)
            heappush(inel, (m.e, m.seq, m))

    def _choose(self, request: Request | None) -> _Member:
        if not self._w:
            raise self._unavailable()
        m = self._settle()
        self._n += 1
        c = m.c = m.c + 1
        # Positions are `b + c / weight` rather than running sums, so that equal rationals
        # compare equal and the order repeats exactly every Σweights picks.
        m.e = m.b + c / m.rate
        d = m.d = m.b + (c + 1) / m.rate
        heapreplace(self._elig, (d, m.seq, m))
        return m

    def _preview(self) -> str:
        return self._settle().key

    def _adopt_positions(self, old: Self) -> None:
        self._elig.clear()
        self._inel.clear()
        # Children that were down or cooling in *old* are about to be taken out again by
        # `rebuild`: leave them out of the schedule now, so that taking them out moves nothing.
        live = [m for m in self._members.values() if m.active and m.pickable()]
        self._scale = self._common_scale(live)
        # Old positions are in units of 1/old scale; ours may differ if the weights changed.
        ratio = (old._scale or 1) / (self._scale or 1)
        now = old._now() * ratio
        fresh = False
        for m in live:
            m.rate = _rate(m.weight, self._scale)
            om = old._members.get(m.key)
            if om is not None and om.active and om.weight == m.weight:
                m.b, m.c, m.e, m.d = om.b * ratio, om.c, om.e * ratio, om.d * ratio
            else:
                self._start(m, now)
                fresh = True
        self._w = math.fsum(m.rate for m in live)
        if not fresh and ratio == 1 and self._w == old._w:
            # The same children: keep the exact virtual clock so the order continues bit for bit.
            self._v0, self._n = old._v0, old._n
        else:
            # Otherwise the clock restarts from now, exactly as `add` / `remove` would do it, so a
            # reload and the same changes made in place give the same order.
            self._v0, self._n = now, 0
        for m in live:
            self._place(m)


@final
class RoundRobin(Group):
    """Plain round-robin in insertion order: the fastest pick, for children of equal weight.

    Weights may only be 1 (take part) or 0 (never picked); use `WeightedRoundRobin` for others.
    Down children are skipped and the others keep their turn.
    """

    kind = "rr"
    weighted: ClassVar[bool] = False

    def _setup(self) -> None:
        self._ring: list[_Member] = []
        self._next = 0

    def _check_weight(self, key: str, weight: float) -> None:
        if weight not in (0.0, 1.0):
            raise ConfigError(
                f"{self._where()}: child {key!r} has weight {weight!r}; RoundRobin takes weights"
                " 0 or 1 only (use WeightedRoundRobin for other weights)"
            )

    def _rering(self, following: _Member | None) -> None:
        """Rebuild the ring of active members; *following* (or its successor) goes next."""
        ring = [m for m in self._members.values() if m.active]
        self._ring = ring
        self._next = 0
        if following is not None:
            for i, m in enumerate(ring):
                if m.seq >= following.seq:
                    self._next = i
                    break

    def _upcoming(self) -> _Member | None:
        ring = self._ring
        return ring[self._next % len(ring)] if ring else None

    def _activate(self, m: _Member) -> None:
        ring = self._ring
        if ring and m.seq < ring[-1].seq:
            self._rering(self._upcoming())
            return
        # Last in insertion order (every child while the balancer is being built): append it,
        # in O(1).  The turn stays where it was, back at the start if it had gone past the end.
        if self._next >= len(ring):
            self._next = 0
        ring.append(m)

    def _deactivate(self, m: _Member) -> None:
        upcoming = self._upcoming()
        if upcoming is m:
            # Hand the turn to whoever follows m in insertion order.
            i = self._ring.index(m) + 1
            upcoming = self._ring[i] if i < len(self._ring) else None
        self._rering(upcoming)

    def _choose(self, request: Request | None) -> _Member:
        ring = self._ring
        if not ring:
            raise self._unavailable()
        i = self._next
        if i >= len(ring):
            i = 0
        self._next = i + 1
        return ring[i]

    def _preview(self) -> str:
        m = self._upcoming()
        return m.key if m is not None else "none"

    def _adopt_positions(self, old: Self) -> None:
        upcoming = old._upcoming()
        target = self._members.get(upcoming.key) if upcoming is not None else None
        self._rering(target)
