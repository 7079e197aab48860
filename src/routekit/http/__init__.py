"""routekit.http: what carries requests — for now, the header rules of a reverse proxy.

`forwarded_headers` (the entry point's ``forwardedHeaders`` step), `upstream_headers` (the
proxy's hop-by-hop clean-up and ``X-Forwarded-For``) and `downstream_headers` (the response's
clean-up) follow Traefik's behaviour on h11-style header lists.  The h11 + anyio client and
server come next in this package.
"""

from __future__ import annotations

from ._headers import ForwardedHeaders as ForwardedHeaders
from ._headers import Headers as Headers
from ._headers import downstream_headers as downstream_headers
from ._headers import forwarded_headers as forwarded_headers
from ._headers import is_upgrade as is_upgrade
from ._headers import upstream_headers as upstream_headers

__all__ = [
    "ForwardedHeaders",
    "Headers",
    "downstream_headers",
    "forwarded_headers",
    "is_upgrade",
    "upstream_headers",
]
