"""routekit.proxy: the reverse proxy — `Proxy`, the request path, and `Gateway`, a whole one.

`Proxy` routes each request with the current `Runtime`, takes a server from the service's
balancer, forwards the request with the pooled client and streams the answer back (statuses,
headers and upgrades as Traefik's).  `Gateway` serves entry points with a `Runtime` or a
`Watcher`: ``async with Gateway(watcher, entry_points) as gateway: await gateway.wait()``.
`AccessLog` writes Traefik's access log from the exchanges the proxies observe.
"""

from __future__ import annotations

from ._access_log import AccessLog as AccessLog
from ._access_log import access_fields as access_fields
from ._access_log import common_line as common_line
from ._gateway import Gateway as Gateway
from ._gateway import load_certificates as load_certificates
from ._proxy import Exchange as Exchange
from ._proxy import Proxy as Proxy

__all__ = [
    "AccessLog",
    "Exchange",
    "Gateway",
    "Proxy",
    "access_fields",
    "common_line",
    "load_certificates",
]
