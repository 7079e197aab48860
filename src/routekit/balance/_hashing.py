"""`ConsistentHash`: the same key always reaches the same child, with minimal disruption.

Two algorithms, chosen with ``algorithm=``:

- ``"ring"`` (default): each child owns ``round(vnodes · weight)`` points on a 64-bit ring; a key
  goes to the first point at or after its hash.  O(log n) per pick.
- ``"rendezvous"`` (highest random weight, Traefik v3.6 ``hrw``): every child scores the key and
  the best score wins (``weight / -ln(u)`` for weighted children).  O(n) per pick, but no
  memory per child and an exact 1/n share in expectation.

With either, when a child leaves (or goes down) only the keys it owned move; when one joins,
only the keys it takes move.  benchmarks/results/balance.md has the measurements behind the default.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from collections.abc import Callable, Iterable
from hashlib import blake2b
from typing import TYPE_CHECKING, Any, Final, Literal, final

import attrs

from ..errors import ConfigError
from ._group import ChildSpec, Clock, PassiveHealth, _Member
from ._node import Child
from ._random import _Sampled

if TYPE_CHECKING:
    from ..request import Request

__all__ = ["ClientIPKey", "ConsistentHash", "CookieKey", "HashKey", "HeaderKey"]

#: Takes the request, returns the string to hash (``None`` when the request has no such key).
HashKey = Callable[["Request"], "str | None"]

_MASK: Final = (1 << 64) - 1


def hash64(text: str) -> int:
    """A stable 64-bit hash (unlike ``hash()``, the same in every process)."""
    return int.from_bytes(blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest())


def _mix(z: int) -> int:
    # splitmix64's finaliser: spreads the combined key/child hash over all 64 bits.
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


@final
@attrs.frozen
class ClientIPKey:
    """Hash the client's IP address (the connection peer, never ``X-Forwarded-For``)."""

    def __call__(self, request: Request) -> str | None:
        """The client IP, or ``None`` when unknown."""
        return request.client_ip

    def __str__(self) -> str:
        return "client IP"


@final
@attrs.frozen
class HeaderKey:
    """Hash the first value of a request header (any case)."""

    name: str

    def __call__(self, request: Request) -> str | None:
        """The header value, or ``None`` when absent."""
        return request.headers.get(self.name)

    def __str__(self) -> str:
        return f"header {self.name}"


@final
@attrs.frozen
class CookieKey:
    """Hash the value of a request cookie."""

    name: str

    def __call__(self, request: Request) -> str | None:
        """The cookie value, or ``None`` when absent."""
        return request.cookies.get(self.name)

    def __str__(self) -> str:
        return f"cookie {self.name}"


@final
class ConsistentHash(_Sampled):
    """Send every request with the same key (client IP, header, cookie) to the same child.

    Down children are skipped: their keys go where they would go if the child had left, and
    come back when it is up again.  Requests without a key (or ``pick()`` with no request) are
    spread at random by weight with ``rng``.
    """

    kind = "hash"

    def __init__(
        self,
        children: Iterable[ChildSpec] = (),
        *,
        key: HashKey | None = None,
        algorithm: Literal["ring", "rendezvous"] = "ring",
        vnodes: int = 160,
        name: str | None = None,
        clock: Clock | None = None,
        passive: PassiveHealth | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if algorithm not in ("ring", "rendezvous"):
            raise ConfigError(
                f"ConsistentHash: algorithm must be 'ring' or 'rendezvous', got {algorithm!r}"
            )
        if isinstance(vnodes, bool) or not isinstance(vnodes, int) or vnodes < 1:
            raise ConfigError(f"ConsistentHash: vnodes must be an integer >= 1, got {vnodes!r}")
        self._key: HashKey = key if key is not None else ClientIPKey()
        self._algorithm = algorithm
        self._vnodes = vnodes
        super().__init__(children, name=name, clock=clock, passive=passive, rng=rng)

    def _setup(self) -> None:
        super()._setup()
        self._built = -1  # the `_changes` count the ring / scores were built for
        self._points: list[int] = []
        self._owners: list[_Member] = []
        self._seeds: list[tuple[int, float, _Member]] = []
        self._uniform = True
        self._cache: dict[tuple[str, float], list[int]] = {}

    @property
    def algorithm(self) -> str:
        """``"ring"`` or ``"rendezvous"``."""
        return self._algorithm

    def _child_points(self, m: _Member) -> list[int]:
        points = self._cache.get((m.key, m.weight))
        if points is None:
            count = max(1, round(self._vnodes * m.weight))
            points = [hash64(f"{m.key}#{j}") for j in range(count)]
            self._cache[(m.key, m.weight)] = points
        return points

    def _build(self) -> None:
        active = self._sample()
        if self._algorithm == "ring":
            pairs = sorted(
                ((p, m.seq, m) for m in active for p in self._child_points(m)),
                key=lambda t: (t[0], t[1]),
            )
            self._points = [p for p, _, _ in pairs]
            self._owners = [m for _, _, m in pairs]
            live = {m.key for m in self._members.values()}
            self._cache = {k: v for k, v in self._cache.items() if k[0] in live}
        else:
            self._seeds = [(hash64(m.key), m.weight, m) for m in active]
            self._uniform = len({m.weight for m in active}) == 1
        self._built = self._changes

    def child_for(self, key: str) -> Child:
        """The child that takes requests whose key is *key*; raise `NoServerAvailable` if none."""
        return self._owner(key).child

    def _owner(self, key: str) -> _Member:
        if self._built != self._changes:
            self._build()
        elif not self._active:
            raise self._unavailable()
        h = hash64(key)
        if self._algorithm == "ring":
            i = bisect_left(self._points, h)
            return self._owners[i if i < len(self._points) else 0]
        best: _Member | None = None
        best_score = -1.0
        if self._uniform:
            for seed, _, m in self._seeds:
                score = float(_mix(h ^ seed))
                if score > best_score:
                    best, best_score = m, score
        else:
            for seed, weight, m in self._seeds:
                # u in (0, 1); -weight / ln(u) is the weighted rendezvous score.
                u = ((_mix(h ^ seed) >> 11) + 0.5) * 2.0**-53
                score = -weight / math.log(u)
                if score > best_score:
                    best, best_score = m, score
        assert best is not None
        return best

    def _choose(self, request: Request | None) -> _Member:
        key = self._key(request) if request is not None else None
        if key is None:
            self._sample()
            return self._draw()
        return self._owner(key)

    def _preview(self) -> str:
        return f"by {self._key}"

    def _options(self) -> dict[str, Any]:
        return {
            **super()._options(),
            "key": self._key,
            "algorithm": self._algorithm,
            "vnodes": self._vnodes,
        }
