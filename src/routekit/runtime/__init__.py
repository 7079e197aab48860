"""The runtime: `build` a `Configuration` into a `Runtime`, and a `Watcher` that keeps one current.

- `build(config, previous=...)` → `Runtime`: a route table per entry point, a balancer tree per
  service, a resolved middleware chain per router; what cannot be built is reported, not raised.
- `prepare(config, previous=...)` → `Prepared`: the part of `build` that reads no balancer's
  state, safe on a worker thread; `Prepared.finish()` on the balancers' thread gives the runtime.
- `Runtime.route(request, entry_point)` → `RoutingDecision` (router, service balancer,
  middlewares, params) or ``None``.
- `Watcher(providers)` merges providers (``name@provider``), throttles them like Traefik, keeps
  the last good version of broken elements and swaps in a new `Runtime` after each change.

`Watcher` is imported on first use: building and routing need no event loop library (anyio).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from ._build import DEFAULT_ENTRY_POINTS as DEFAULT_ENTRY_POINTS
from ._build import DEFAULT_PROVIDER_PRECEDENCE as DEFAULT_PROVIDER_PRECEDENCE
from ._build import Prepared as Prepared
from ._build import build as build
from ._build import prepare as prepare
from ._runtime import NO_TRANSPORTS as NO_TRANSPORTS
from ._runtime import RouterTarget as RouterTarget
from ._runtime import RoutingDecision as RoutingDecision
from ._runtime import Runtime as Runtime
from ._runtime import TCPRoutingDecision as TCPRoutingDecision
from ._tcp import TCPTarget as TCPTarget
from ._throttle import Throttle as Throttle

if TYPE_CHECKING:
    from ._health import HealthChecks as HealthChecks
    from ._health import probe_target as probe_target
    from ._watcher import Watcher as Watcher

__all__ = [
    "DEFAULT_ENTRY_POINTS",
    "DEFAULT_PROVIDER_PRECEDENCE",
    "HealthChecks",
    "NO_TRANSPORTS",
    "Prepared",
    "RouterTarget",
    "RoutingDecision",
    "Runtime",
    "TCPRoutingDecision",
    "TCPTarget",
    "Throttle",
    "Watcher",
    "build",
    "prepare",
    "probe_target",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    globals(),
    {"Watcher": "._watcher", "HealthChecks": "._health", "probe_target": "._health"},
    __all__,
)
