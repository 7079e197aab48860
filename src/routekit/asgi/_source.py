"""Where the ASGI face's routes come from: a route list, a `Configuration`, or a `Watcher`.

Each becomes a runtime source (an object with a ``runtime`` attribute, read once per request)
and a table of mounted apps by service name.  A configuration's services can only name URLs,
so a mounted app is a service by name: ``apps={"site": app}`` is the service ``site@asgi``,
served by the provider `apps_provider` makes (Traefik's own services are named the same way:
``api@internal``).  In a `Configuration` given directly, the plain ``site`` works too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Final, Protocol, final

import attrs

from ..config import (
    Configuration,
    HTTPConfiguration,
    LoadBalancer,
    Server,
    Service,
    upgrade_rules,
    validate,
)
from ..config import Router as RouterModel
from ..errors import ConfigError, Problem
from ..providers import StaticProvider
from ..routing import Route
from ..runtime import Runtime, build
from ._types import ASGIApp

if TYPE_CHECKING:
    from ..runtime import Watcher

__all__ = ["APPS_PROVIDER", "Source", "apps_provider", "from_config", "from_routes", "from_watcher"]

#: The provider name of mounted apps: ``apps={"site": app}`` is the service ``site@asgi``.
APPS_PROVIDER: Final = "asgi"
# The server of a mounted app's stand-in service.  `.invalid` never resolves (RFC 2606 §2): the
# face answers such a service's requests with the app and never forwards them.
_NOWHERE: Final = "http://mounted-app.invalid"


class Source(Protocol):
    """Anything with a current `Runtime` (a `Watcher`, or a fixed one)."""

    @property
    def runtime(self) -> Runtime:
        """The runtime to route with now."""
        ...


@final
class _Fixed:
    """A runtime that never changes."""

    __slots__ = ("runtime",)

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime


def _stand_in() -> Service:
    return Service(load_balancer=LoadBalancer(servers=(Server(url=_NOWHERE),)))


def _checked_apps(apps: Mapping[str, ASGIApp]) -> dict[str, ASGIApp]:
    for name, app in apps.items():
        if not isinstance(name, str) or not name or "@" in name:
            raise ConfigError(f"apps: {name!r} is not a service name (no '@', not empty)")
        if not callable(app):
            raise ConfigError(f"apps.{name}: expected an ASGI application, got {app!r}")
    return dict(apps)


def apps_provider(apps: Mapping[str, ASGIApp]) -> StaticProvider:
    """The provider that names the mounted *apps* as services ``NAME@asgi``, for a `Watcher`."""
    services = {name: _stand_in() for name in _checked_apps(apps)}
    config = Configuration(http=HTTPConfiguration(services=services))
    return StaticProvider(config, name=APPS_PROVIDER)


def _v1_upgraded(config: Configuration) -> tuple[Configuration, tuple[Problem, ...]]:
    """*config* with its v1 rules in v3 and their modifiers (``PathPrefixStrip``…) as the
    middlewares they stand for, as when a v1 file is loaded: a stripped prefix is then a mount
    like any ``stripPrefix``.  v2 rules stay as they are (their templates give `RouteInfo.params`).
    """
    v1 = {n: r for n, r in config.http.routers.items() if r.rule_syntax == "v1"}
    if not v1:
        return config, ()
    part, problems = upgrade_rules(attrs.evolve(config, http=attrs.evolve(config.http, routers=v1)))
    routers = {**config.http.routers, **part.http.routers}
    return attrs.evolve(config, http=attrs.evolve(part.http, routers=routers)), problems


def _built(
    config: Configuration, entry_points: Sequence[str] | None, apps: Sequence[str] = ()
) -> Runtime:
    """The runtime of *config* with stand-ins for *apps* (both spellings of each name);
    `ConfigError` listing every problem that left something out."""
    config, upgraded = _v1_upgraded(config)
    services = dict(config.http.services)
    services.update((name, _stand_in()) for name in apps)
    checked = validate(attrs.evolve(config, http=attrs.evolve(config.http, services=services)))
    config = checked.config
    # Names with "@" are for the merged configuration of a watcher, which validation does not
    # see: the qualified stand-ins are added after it.
    services = dict(config.http.services)
    services.update((f"{name}@{APPS_PROVIDER}", _stand_in()) for name in apps)
    config = attrs.evolve(config, http=attrs.evolve(config.http, services=services))
    runtime = build(config, entry_points=entry_points)
    found = (*upgraded, *checked.problems, *runtime.problems)
    errors = [p for p in found if p.severity == "error"]
    if errors:
        raise ConfigError(errors)
    return runtime


def from_config(
    config: Configuration, apps: Mapping[str, ASGIApp], entry_points: Sequence[str] | None
) -> tuple[Source, dict[str, ASGIApp]]:
    """The source and mounted apps of a configuration given directly."""
    apps = _checked_apps(apps)
    clash = sorted(set(apps) & set(config.http.services))
    if clash:
        raise ConfigError(
            [Problem(f"http.services.{n}", "is both a service and a mounted app") for n in clash]
        )
    by_service = {**apps, **{f"{n}@{APPS_PROVIDER}": app for n, app in apps.items()}}
    return _Fixed(_built(config, entry_points, tuple(apps))), by_service


def from_watcher(
    watcher: Watcher, apps: Mapping[str, ASGIApp]
) -> tuple[Source, dict[str, ASGIApp]]:
    """The source and mounted apps of a watcher (which must follow `apps_provider`)."""
    apps = _checked_apps(apps)
    if apps and not any(p.name == APPS_PROVIDER for p in watcher.providers):
        raise ConfigError(
            "the watcher follows no provider of mounted apps: add "
            "routekit.asgi.apps_provider(apps) to its providers"
        )
    return watcher, {f"{name}@{APPS_PROVIDER}": app for name, app in apps.items()}


def _service(route: Route) -> Service | None:
    """The service a route's target describes; ``None`` for an ASGI app."""
    target = route.target
    if isinstance(target, Service):
        return target
    if isinstance(target, str):
        target = (target,)
    if isinstance(target, Sequence) and target and all(isinstance(u, str) for u in target):
        servers = tuple(Server(url=url) for url in target)
        return Service(load_balancer=LoadBalancer(servers=servers))
    if callable(target):
        return None
    raise ConfigError(
        f"route {route.name!r}: the target must be an ASGI app, a server URL, a list of them "
        f"or a routekit.config.Service, got {target!r}"
    )


def from_routes(
    routes: Iterable[Route], entry_points: Sequence[str] | None
) -> tuple[Source, dict[str, ASGIApp]]:
    """The source and mounted apps of a route list: each route is a router and its service."""
    routers: dict[str, RouterModel] = {}
    services: dict[str, Service] = {}
    apps: dict[str, ASGIApp] = {}
    for route in routes:
        if not isinstance(route, Route):
            raise ConfigError(f"expected a routekit.Route, got {type(route).__name__}")
        if route.name in routers:
            raise ConfigError(f"the route name {route.name!r} is used twice")
        service = _service(route)
        if service is None:
            service = _stand_in()
            apps[route.name] = route.target
        services[route.name] = service
        routers[route.name] = RouterModel(
            rule=route.rule.source,
            rule_syntax=route.rule.syntax,
            service=route.name,
            priority=route.priority if route.explicit_priority else 0,
        )
    config = Configuration(http=HTTPConfiguration(routers=routers, services=services))
    return _Fixed(_built(config, entry_points)), apps
