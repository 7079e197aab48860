"""errors: answers with a status in ``status`` get their page from another service.

As Traefik's ``master:pkg/middlewares/customerrors``: when the answer's status is in one of the
ranges (the gateway's own 502/503/504 included), the gateway asks ``service`` for
``GET <query>`` with the request's headers — ``{status}``, ``{originalStatus}`` and ``{url}``
(the request URL, query-escaped) filled in — and answers with that page's headers and body
under the original status (or the one ``statusRewrites`` maps it to).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Awaitable, Callable

from ..config import Errors, status_ranges
from ..errors import ConfigError
from ..http import NO_BODY, Response
from ._call import Call, Layer, Next, split_target

__all__ = ["error_page_target"]

#: Sends a call to the service of that name (the face that serves provides it).
ForwardTo = Callable[[Call, str], Awaitable[Response]]

_FRAMING = frozenset({b"content-length", b"transfer-encoding"})


def error_page_target(query: str, status: int, original: int, url: str) -> str:
    """The target of the error page request for *query* (``/{status}.html``)."""
    target = "/" + query.removeprefix("/")
    target = target.replace("{status}", str(status))
    target = target.replace("{originalStatus}", str(original))
    return target.replace("{url}", urllib.parse.quote_plus(url))


def build_errors(model: Errors, forward_to: ForwardTo | None) -> Layer:
    """The errors layer."""
    if forward_to is None:
        raise ConfigError("errors: this face cannot forward to another service")
    ranges = status_ranges(model.status)
    rewrites = [(status_ranges((key,))[0], code) for key, code in model.status_rewrites.items()]

    def layer(next_: Next) -> Next:
        async def handle(call: Call) -> Response:
            response = await next_(call)
            original = response.status
            if response.tunnel is not None or not any(lo <= original <= hi for lo, hi in ranges):
                return response
            closing = getattr(response.body, "aclose", None)
            if closing is not None:
                await closing()  # the server's own page is not sent
            status = next((code for (lo, hi), code in rewrites if lo <= original <= hi), original)
            url = f"{call.scheme}://{call.host}{call.target}"
            path, query = split_target(error_page_target(model.query, status, original, url))
            page = Call(
                method=b"GET",
                path=path,
                query=query,
                headers=[(k, v) for k, v in call.headers if k not in _FRAMING],
                body=NO_BODY,
                request=call.request,
                decision=call.decision,
                client_ip=call.client_ip,
                tls=call.tls,
                started=call.started,
            )
            answer = await forward_to(page, model.service)
            return Response(status, answer.headers, answer.body, checked=answer.checked)

        return handle

    return layer
