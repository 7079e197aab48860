"""routekit: Traefik-style routing as a Python library.

Rules (``Host(`a.com`) && PathPrefix(`/api`)``, v1 ``Host:a.com;PathPrefix:/api``), route tables,
balancers, Traefik-compatible configuration and providers, as plain composable objects.

``import routekit`` is light: the names below are imported on first use, and nothing here imports
an event loop or a network library until an I/O face is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports
from .errors import BadRequest as BadRequest
from .errors import ConfigError as ConfigError
from .errors import MalformedResponse as MalformedResponse
from .errors import NoServerAvailable as NoServerAvailable
from .errors import Problem as Problem
from .errors import ProviderError as ProviderError
from .errors import RoutekitError as RoutekitError
from .errors import RuleSyntaxError as RuleSyntaxError
from .request import Headers as Headers
from .request import Request as Request

if TYPE_CHECKING:
    from .balance import Failover as Failover
    from .balance import LeastRequests as LeastRequests
    from .balance import Mirror as Mirror
    from .balance import PowerOfTwoChoices as PowerOfTwoChoices
    from .balance import Random as Random
    from .balance import RoundRobin as RoundRobin
    from .balance import Server as Server
    from .balance import Sticky as Sticky
    from .balance import WeightedRoundRobin as WeightedRoundRobin
    from .config import Configuration as Configuration
    from .config import StaticConfiguration as StaticConfiguration
    from .config import load_config as load_config
    from .config import load_static as load_static
    from .config import loads_config as loads_config
    from .config import loads_static as loads_static
    from .config import read_config as read_config
    from .config import reads_config as reads_config
    from .routing import Match as Match
    from .routing import Route as Route
    from .routing import RouteTable as RouteTable
    from .routing import TCPRouteTable as TCPRouteTable
    from .rules import Rule as Rule
    from .rules import TCPConnection as TCPConnection
    from .rules import parse_rule as parse_rule
    from .rules import parse_tcp_rule as parse_tcp_rule
    from .rules import translate as translate
    from .runtime import Runtime as Runtime
    from .runtime import Watcher as Watcher
    from .runtime import build as build

__version__ = "0.1.0"

__all__ = [
    # errors
    "BadRequest",
    "ConfigError",
    "MalformedResponse",
    "NoServerAvailable",
    "Problem",
    "ProviderError",
    "RoutekitError",
    "RuleSyntaxError",
    # requests and rules
    "Headers",
    "Request",
    "Rule",
    "TCPConnection",
    "parse_rule",
    "parse_tcp_rule",
    "translate",
    # routing
    "Match",
    "Route",
    "RouteTable",
    "TCPRouteTable",
    # balancers
    "Failover",
    "LeastRequests",
    "Mirror",
    "PowerOfTwoChoices",
    "Random",
    "RoundRobin",
    "Server",
    "Sticky",
    "WeightedRoundRobin",
    # configuration and runtime
    "Configuration",
    "Runtime",
    "Watcher",
    "build",
    "StaticConfiguration",
    "load_config",
    "load_static",
    "loads_config",
    "loads_static",
    "read_config",
    "reads_config",
]

_LAZY = {
    "Rule": ".rules",
    "TCPConnection": ".rules",
    "parse_rule": ".rules",
    "parse_tcp_rule": ".rules",
    "translate": ".rules",
    "Match": ".routing",
    "Route": ".routing",
    "RouteTable": ".routing",
    "TCPRouteTable": ".routing",
    "Failover": ".balance",
    "LeastRequests": ".balance",
    "Mirror": ".balance",
    "PowerOfTwoChoices": ".balance",
    "Random": ".balance",
    "RoundRobin": ".balance",
    "Server": ".balance",
    "Sticky": ".balance",
    "WeightedRoundRobin": ".balance",
    "Configuration": ".config",
    "StaticConfiguration": ".config",
    "load_config": ".config",
    "load_static": ".config",
    "loads_config": ".config",
    "loads_static": ".config",
    "read_config": ".config",
    "reads_config": ".config",
    "Runtime": ".runtime",
    "Watcher": ".runtime",
    "build": ".runtime",
}


__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY, __all__)
