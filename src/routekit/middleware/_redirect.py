"""redirectScheme and redirectRegex: the URL the client asked for, rewritten, as a redirect.

As Traefik's ``master:pkg/middlewares/redirect``: the request URL is rebuilt from the scheme
(TLS, or — for redirectScheme — a trusted ``X-Forwarded-Proto``), the ``Host`` and the target;
the regular expression rewrites it (Go's ``ReplaceAllString``); a URL that changed is answered
302 (307 for other methods than GET), or 301 (308) when permanent, with ``Location``; one that
did not change goes on to the service.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from ..config import RedirectRegex, RedirectScheme
from ..http import Response
from ..rules import compile_regexp
from ._call import Call, Layer, Next, get_header

__all__ = ["redirect_status", "request_url", "scheme_location", "scheme_request_url"]

# Traefik's own pattern (``redirect_scheme.go``), fixed: run with Python's re, not as a user's
# regexp (the backtracking guard of routekit's re fallback would refuse its optional groups).
_SCHEME_URL: Final = re.compile(r"^(https?://)?(\[[\w:.]+\]|[\w._-]+)?(:\d+)?(.*)$", re.ASCII)
_REASONS: Final = {
    301: "Moved Permanently",
    302: "Found",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
}


def redirect_status(method: bytes, *, permanent: bool) -> int:
    """Traefik's redirect status: 302/307, or 301/308 when permanent (307/308: not GET)."""
    if permanent:
        return 301 if method == b"GET" else 308
    return 302 if method == b"GET" else 307


def request_url(*, tls: bool, host: str, target: str) -> str:
    """The URL a request asked for, as redirectRegex matches it (Traefik's ``rawURL``)."""
    return f"{'https' if tls else 'http'}://{host}{target}"


def split_host(host: str) -> tuple[str, str]:
    """Go's ``net.SplitHostPort`` leniently: ``("h", ":8080")``, or ``(host, "")``."""
    if host.startswith("["):
        end = host.find("]")
        if end > 0 and host[end + 1 : end + 2] == ":":
            return host[: end + 1], host[end + 1 :]
        return host, ""
    name, colon, port = host.rpartition(":")
    if colon and ":" not in name:
        return name, ":" + port
    return host, ""


def scheme_request_url(*, tls: bool, host: str, target: str, forwarded_proto: str | None) -> str:
    """The URL a request asked for, as redirectScheme sees it (Traefik's
    ``clientRequestURL``): a trusted ``X-Forwarded-Proto`` says the scheme, and a port that is
    the scheme's default is left out."""
    name, port = split_host(host)
    scheme = "https" if tls else "http"
    if forwarded_proto:
        proto = forwarded_proto.lower()
        if proto in ("http", "ws"):
            scheme = "http"
        elif proto in ("https", "wss"):
            scheme = "https"
    if (scheme, port) in (("http", ":80"), ("https", ":443")):
        port = ""
    return f"{scheme}://{name}{port}{target}"


_Rewrite = Callable[[str], "str | None"]


def scheme_location(url: str, scheme: str, port: str) -> str:
    """Where redirectScheme sends *url*: its host and the rest, with *scheme* and *port*
    (``:8443``, or ``""``) instead of its own — Traefik's pattern and replacement."""
    m = _SCHEME_URL.match(url)
    assert m is not None  # every part of the pattern is optional: it always matches
    return f"{scheme}://{m[2] or ''}{port}{m[4]}"


def _redirect_layer(rewrite: _Rewrite, permanent: bool, scheme: bool) -> Layer:
    def layer(next_: Next) -> Next:
        async def handle(call: Call) -> Response:
            if scheme:
                proto = get_header(call.headers, b"x-forwarded-proto")
                old = scheme_request_url(
                    tls=call.tls,
                    host=call.host,
                    target=call.target,
                    forwarded_proto=proto.decode("latin-1") if proto is not None else None,
                )
            else:
                old = request_url(tls=call.tls, host=call.host, target=call.target)
            new = rewrite(old)
            if new is not None and new != old:
                status = redirect_status(call.method, permanent=permanent)
                headers = [
                    (b"location", new.encode("utf-8", "surrogateescape")),
                    (b"content-type", b"text/plain; charset=utf-8"),
                ]
                return Response(status, headers, _REASONS[status].encode())
            return await next_(call)

        return handle

    return layer


def build_redirect_scheme(model: RedirectScheme) -> Layer:
    """The redirectScheme layer."""
    default = (model.scheme, model.port) in (("http", "80"), ("https", "443"))
    port = f":{model.port}" if model.port and not default else ""
    return _redirect_layer(
        lambda url: scheme_location(url, model.scheme, port), model.permanent, True
    )


def build_redirect_regex(model: RedirectRegex) -> Layer:
    """The redirectRegex layer (its expression compiled now)."""
    regex = compile_regexp(model.regex)

    def rewrite(url: str) -> str | None:
        return regex.replace_all(url, model.replacement) if regex.search(url) else None

    return _redirect_layer(rewrite, model.permanent, False)
