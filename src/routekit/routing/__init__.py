"""Routes and route tables: which route a request goes to, why, and which routes can never win.

A :class:`RouteTable` orders its routes by (priority descending, provider precedence, name) and
answers :meth:`RouteTable.match` through an index of exact hosts, exact paths and path prefixes,
with the same result as trying every route in that order.  A :class:`TCPRouteTable` does the same
for TCP routes and connections (`~routekit.rules.TCPConnection`), indexed by TLS server name.
"""

from __future__ import annotations

from ._explain import Explanation, Verdict
from ._lint import Shadowing
from ._route import Match, Route
from ._table import RouteTable, TCPRouteTable

__all__ = ["Explanation", "Match", "Route", "RouteTable", "Shadowing", "TCPRouteTable", "Verdict"]
