"""`RouteInfo`: what the router decided about a request, in the scope for the app to read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import final

__all__ = ["RouteInfo"]


@final
class RouteInfo:
    """The route a request matched, as ``scope["routekit"]`` (and ``scope["state"]["routekit"]``,
    Starlette's ``request.state.routekit``).

    Attributes:
        router: the router's name (qualified, ``api@file``, when it came from a provider).
        service: the service's name (a mounted app's: ``site@asgi``, or the route's name).
        rule: the router's rule (a v1 rule in v3, as it is routed).
        params: the template variables of the rule (``{"name": "x"}``), usually empty.
        entry_point: the entry point the request was routed on.
        server: the URL of the server a proxied request was sent to, once the proxy chose one
            (``None`` for a mounted app); an ASGI middleware around the router reads it after.
    """

    __slots__ = ("entry_point", "params", "router", "rule", "server", "service")

    def __init__(  # noqa: PLR0917 - the fields, in order
        self,
        router: str,
        service: str,
        rule: str,
        params: Mapping[str, str],
        entry_point: str,
        server: str | None = None,
    ) -> None:
        self.router = router
        self.service = service
        self.rule = rule
        self.params = params
        self.entry_point = entry_point
        self.server = server

    def __repr__(self) -> str:
        server = f" via {self.server}" if self.server else ""
        return f"<RouteInfo {self.router} → {self.service}{server}>"
