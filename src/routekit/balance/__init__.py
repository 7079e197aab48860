"""Balancers: which backend takes a request.  Pure and synchronous, no I/O.

The protocol
------------
A balancer tree has `Server` leaves (a backend, identified by its URL) and `Balancer` nodes whose
children are servers or other balancers — a weighted service of load balancers is just a tree.

- ``pick(request=None) -> Server`` walks down the tree and returns the leaf, or raises
  `routekit.NoServerAvailable` (``status_hint`` 503) when nothing can be picked.
- ``acquire(request=None) -> Lease`` does the same and counts the request *in flight* at every
  level until ``lease.release(ok=None)``; ``lease.set_cookies`` are the ``Set-Cookie`` values of
  sticky levels, ``lease.mirrors`` the copies a `Mirror` asks for.  ``ok=False`` (or ``True``)
  feeds passive health.
- Balancers with children (all but `Sticky` and `Mirror`, which wrap one) have ``add``,
  ``remove``, ``set_weight``, ``drain``, ``mark_up``, ``mark_down``, ``report``, ``is_up``,
  ``children`` and ``rebuild(old, children)`` for reloads.  Children are given as a `Server`, a
  URL string, a balancer, or ``(child, weight)``.  Weight 0 means never picked.
- ``up`` is true while some child can be picked; ``add_status_listener(fn)`` hears the flips,
  which is how a parent learns that a child balancer has no healthy member left (propagation is
  always on, unlike Traefik where each level must declare ``healthCheck``).
- ``statistics()`` returns a `BalancerStats` snapshot; ``repr`` shows children, weights, health
  and the next pick: ``<WeightedRoundRobin 'api' [a=3, b=1 down | next: a]>``.
- Time and randomness are injected: ``clock=`` (seconds, ``time.monotonic`` by default;
  `routekit.testing.FakeClock` in tests) and ``rng=`` (a ``random.Random``).

Balancers are not thread-safe: use a tree from one thread (the event loop's), as the proxy and
the ASGI face do.
"""

from __future__ import annotations

from ._compose import Failover, Mirror
from ._group import ChildSpec, Clock, Group, PassiveHealth
from ._hashing import ClientIPKey, ConsistentHash, CookieKey, HashKey, HeaderKey
from ._node import Balancer, BalancerStats, Child, ChildStats, Lease, Server, StatusListener
from ._random import LeastRequests, PowerOfTwoChoices, Random
from ._sticky import Sticky, StickyCookie, sticky_cookie_name, sticky_cookie_value
from ._wrr import RoundRobin, WeightedRoundRobin

__all__ = [
    "Balancer",
    "BalancerStats",
    "Child",
    "ChildSpec",
    "ChildStats",
    "ClientIPKey",
    "Clock",
    "ConsistentHash",
    "CookieKey",
    "Failover",
    "Group",
    "HashKey",
    "HeaderKey",
    "Lease",
    "LeastRequests",
    "Mirror",
    "PassiveHealth",
    "PowerOfTwoChoices",
    "Random",
    "RoundRobin",
    "Server",
    "StatusListener",
    "Sticky",
    "StickyCookie",
    "WeightedRoundRobin",
    "sticky_cookie_name",
    "sticky_cookie_value",
]
