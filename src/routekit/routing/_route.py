"""`Route` and `Match`: the values a `RouteTable` is made of and answers with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal, final

import attrs

from ..errors import ConfigError
from ..rules import Rule, parse_rule, parse_tcp_rule

__all__ = ["MAX_PRIORITY", "Match", "Route", "Syntax"]

Syntax = Literal["auto", "v1", "v2", "v3"]
#: The highest priority a route may have: Go's MaxInt64 − 1000, as in Traefik.
MAX_PRIORITY: Final = 2**63 - 1 - 1000


@final
@attrs.frozen(init=False)
class Route:
    """A named rule, its priority and the target a matching request goes to.

    Args:
        name: unique within a table; the last tie-breaker of the table's order.  A configuration
            layer passes Traefik's qualified router name (``api@docker``).
        rule: a parsed :class:`~routekit.rules.Rule`, or rule text parsed with *syntax*.
        target: anything — a service name, an ASGI app, a balancer.
        priority: ``None`` or ``0`` takes the rule's default (its length in bytes, as Traefik's
            ``GetRulePriority``); any other value wins, negatives included.
        provider: the provider the route came from; ties on priority are broken by the table's
            ``provider_precedence`` (Traefik v3.7 ``providers.precedence``).
        syntax: how to parse *rule* when it is text.
        protocol: ``"tcp"`` parses rule text with `~routekit.rules.parse_tcp_rule`, for a
            :class:`TCPRouteTable`.

    Attributes:
        priority: the effective priority (the default already applied).
        explicit_priority: whether *priority* was given (``False`` when it is the rule's length).
    """

    name: str
    rule: Rule
    # Targets may be unhashable (a dict, a config object): compared, not hashed.
    target: Any = attrs.field(hash=False)
    priority: int
    provider: str | None
    explicit_priority: bool = attrs.field(eq=False, repr=False)

    def __init__(
        self,
        name: str,
        rule: Rule | str,
        target: Any,
        priority: int | None = None,
        *,
        provider: str | None = None,
        syntax: Syntax = "auto",
        protocol: Literal["http", "tcp"] = "http",
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"a route needs a non-empty name, got {name!r}")
        if isinstance(rule, str):
            if protocol == "tcp":
                if syntax == "v1":
                    raise ConfigError(f"route {name!r}: TCP rules have no v1 syntax")
                rule = parse_tcp_rule(rule, syntax=syntax)
            else:
                rule = parse_rule(rule, syntax=syntax)
        elif not isinstance(rule, Rule):
            raise ConfigError(
                f"route {name!r}: rule must be a Rule or rule text, got {type(rule).__name__}"
            )
        if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int)):
            raise ConfigError(f"route {name!r}: priority must be an integer, got {priority!r}")
        if priority is not None and priority > MAX_PRIORITY:
            # Traefik reserves the top 1000 values for its @internal routers (`mux.go`).
            raise ConfigError(
                f"route {name!r}: priority {priority} is above the maximum {MAX_PRIORITY}"
            )
        if provider is not None and (not isinstance(provider, str) or not provider):
            raise ConfigError(f"route {name!r}: provider must be a non-empty string or None")
        # Traefik: `priority: 0` (or unset) means "use the rule's length".
        effective = priority if priority else rule.priority
        self.__attrs_init__(name, rule, target, effective, provider, bool(priority))

    @property
    def qualified_name(self) -> str:
        """``name@provider`` (or the bare name when the route has no provider)."""
        if self.provider is None or "@" in self.name:
            return self.name
        return f"{self.name}@{self.provider}"

    def __str__(self) -> str:
        return f"{self.name} (priority {self.priority}): {self.rule}"


@final
@attrs.frozen
class Match:
    """The route a request matched and the template variables of its rule (usually empty)."""

    route: Route
    params: Mapping[str, str] = attrs.field(factory=dict, hash=False, repr=lambda p: repr(dict(p)))

    @property
    def target(self) -> Any:
        """Shortcut for ``match.route.target``."""
        return self.route.target
