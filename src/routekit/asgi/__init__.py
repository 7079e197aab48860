"""routekit.asgi: Traefik's routing inside an ASGI application.

`Router` is an ASGI app that routes HTTP and WebSocket scopes by Traefik rules, to ASGI apps
mounted in process or to upstream servers through routekit's proxy (balancers, the pooled h11
client, middlewares, Traefik's statuses); `RouteMiddleware` wraps an app and routes only what
matches.  Routes come from a list of `routekit.Route`, a `Configuration`, or a `Watcher` of
live providers.  The matched route is in ``scope["routekit"]`` (a `RouteInfo`).

Proxied WebSockets need wsproto: ``pip install 'routekit[asgi]'``.
"""

from __future__ import annotations

from ._info import RouteInfo as RouteInfo
from ._router import Options as Options
from ._router import RouteMiddleware as RouteMiddleware
from ._router import Router as Router
from ._source import APPS_PROVIDER as APPS_PROVIDER
from ._source import apps_provider as apps_provider
from ._types import ASGIApp as ASGIApp
from ._types import Message as Message
from ._types import Receive as Receive
from ._types import Scope as Scope
from ._types import Send as Send

__all__ = [
    "APPS_PROVIDER",
    "ASGIApp",
    "Message",
    "Options",
    "Receive",
    "RouteInfo",
    "RouteMiddleware",
    "Router",
    "Scope",
    "Send",
    "apps_provider",
]
