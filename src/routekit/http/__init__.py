"""routekit.http: what carries requests — HTTP/1.1 server and client on h11 and anyio.

`forwarded_headers` (the entry point's ``forwardedHeaders`` step), `upstream_headers` (the
proxy's hop-by-hop clean-up and ``X-Forwarded-For``) and `downstream_headers` (the response's
clean-up) follow Traefik's behaviour on h11-style header lists; `request_head_problem` and
`raw_head_problem` refuse the request heads h11 accepts but a proxy must not forward, and
`filter_trailers` keeps framing and routing fields out of trailers.  `ServerConnection` is the
server side of one connection without I/O (h11 plus those checks, error answers and keep-alive);
`serve_connection` drives it over an anyio stream and `EntryPointServer` listens on an entry
point's address (plain HTTP and TLS by SNI with `Certificates`).  `Client` is the pooled client
the proxy and the providers share; `tunnel` carries upgraded connections.  Plain requests and
responses take a strict fast path beside h11 on both sides (`FAST_PATH`; see docs/proxy.md).
"""

from __future__ import annotations

from ._client import Client as Client
from ._fast import FAST_PATH as FAST_PATH
from ._framing import HeadProblem as HeadProblem
from ._framing import filter_trailers as filter_trailers
from ._framing import raw_head_problem as raw_head_problem
from ._framing import request_head_problem as request_head_problem
from ._headers import ForwardedHeaders as ForwardedHeaders
from ._headers import Headers as Headers
from ._headers import downstream_headers as downstream_headers
from ._headers import forwarded_headers as forwarded_headers
from ._headers import is_managed_header as is_managed_header
from ._headers import is_upgrade as is_upgrade
from ._headers import upstream_headers as upstream_headers
from ._listen import EntryPointServer as EntryPointServer
from ._listen import parse_address as parse_address
from ._serve import NO_BODY as NO_BODY
from ._serve import Drain as Drain
from ._serve import Handler as Handler
from ._serve import Response as Response
from ._serve import Timeouts as Timeouts
from ._serve import Tunnel as Tunnel
from ._serve import serve_connection as serve_connection
from ._server import Body as Body
from ._server import EndOfMessage as EndOfMessage
from ._server import Limits as Limits
from ._server import Refused as Refused
from ._server import RequestHead as RequestHead
from ._server import ServerConnection as ServerConnection
from ._server import error_response as error_response
from ._tls import Certificates as Certificates
from ._tls import certificate_names as certificate_names
from ._tls import client_context as client_context
from ._tls import pem_path as pem_path
from ._tunnel import tunnel as tunnel
from ._upstream import ClientResponse as ClientResponse
from ._upstream import Origin as Origin
from ._upstream import PoolFull as PoolFull
from ._upstream import PoolLimits as PoolLimits
from ._upstream import Upgraded as Upgraded
from ._upstream import UpstreamError as UpstreamError
from ._upstream import UpstreamTimeout as UpstreamTimeout
from ._wire import ProtocolWire as ProtocolWire
from ._wire import StreamWire as StreamWire
from ._wire import Wire as Wire

__all__ = [
    "FAST_PATH",
    "NO_BODY",
    "Body",
    "Certificates",
    "Client",
    "ClientResponse",
    "Drain",
    "EndOfMessage",
    "EntryPointServer",
    "ForwardedHeaders",
    "Handler",
    "HeadProblem",
    "Headers",
    "Limits",
    "ProtocolWire",
    "Origin",
    "PoolFull",
    "PoolLimits",
    "Refused",
    "RequestHead",
    "Response",
    "ServerConnection",
    "StreamWire",
    "Timeouts",
    "Tunnel",
    "Upgraded",
    "UpstreamError",
    "UpstreamTimeout",
    "Wire",
    "certificate_names",
    "client_context",
    "downstream_headers",
    "error_response",
    "filter_trailers",
    "forwarded_headers",
    "is_managed_header",
    "is_upgrade",
    "parse_address",
    "pem_path",
    "raw_head_problem",
    "request_head_problem",
    "serve_connection",
    "tunnel",
    "upstream_headers",
]
