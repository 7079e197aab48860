"""Test kit shipped with routekit: hypothesis strategies and deterministic stand-ins.

- ``rules(syntax=...)``: valid rules (`routekit.rules.Rule`) printable in that syntax.
- ``requests()``: `routekit.Request` values biased to hit the hosts and paths rules use.
- ``connections()``: `routekit.rules.TCPConnection` values for ``rules("tcp")``.
- ``route_tables()``: `routekit.RouteTable` values built from generated rules.
- ``configurations()``: `routekit.config.Configuration` values with every option of the model.
- ``FakeClock``: a manually advanced clock for balancers, health checks and throttles.

The strategies need ``hypothesis`` (installed with the ``test`` extra); importing this package
does not import it until a strategy is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ._clock import FakeClock as FakeClock
    from ._configs import configurations as configurations
    from ._requests import connections as connections
    from ._requests import requests as requests
    from ._rules import rules as rules
    from ._tables import route_tables as route_tables

__all__ = ["FakeClock", "configurations", "connections", "requests", "route_tables", "rules"]

_WHERE = {
    "FakeClock": "._clock",
    "configurations": "._configs",
    "connections": "._requests",
    "requests": "._requests",
    "rules": "._rules",
    "route_tables": "._tables",
}


__getattr__, __dir__ = lazy_exports(__name__, globals(), _WHERE, __all__)
