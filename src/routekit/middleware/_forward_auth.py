"""forwardAuth: ask an authentication server whether a request may pass.

As Traefik's ``master:pkg/middlewares/auth/forward.go``: the gateway sends a GET (the
request's own method with ``preserveRequestMethod``) to ``address`` with the request's headers
(only ``authRequestHeaders`` when given; hop-by-hop ones never), the ``X-Forwarded-*`` that
reached the middleware (kept only with ``trustForwardHeader``; without it every one Traefik
manages is dropped, ``X-Forwarded-Prefix`` and ``X-Real-Ip`` included), the gateway's own
``X-Forwarded-Method``, ``-Proto``, ``-Host``, ``-Port``, ``-Uri`` where none is left, the
client appended to ``X-Forwarded-For``, and the body with ``forwardBody`` (up to
``maxBodySize``; past it, 401).  A 2xx lets the request through with the
``authResponseHeaders`` (and those matching ``authResponseHeadersRegex``) copied from the
answer; any other status is the client's answer, with the server's headers and body (a relative
``Location`` resolved against ``address`` unless ``preserveLocationHeader``).  An
authentication server that cannot be reached is a 500.  Cookies the authentication server sets
that ``addAuthCookiesToResponse`` names reach the client on the final answer.  ``tls`` gives
the CA, the client certificate and key, or ``insecureSkipVerify``, for an ``https`` address.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import AsyncIterator, Callable, Sequence
from http.cookies import CookieError, SimpleCookie
from typing import Final

import attrs

from ..config import ClientCertificate, ForwardAuth, ServersTransport
from ..errors import ConfigError
from ..http import NO_BODY, Client, Origin, Response, UpstreamError, is_managed_header
from ..rules import compile_regexp
from ._call import Call, Layer, Next, add_header, get_header, remove_header, set_header
from ._redirect import split_host

__all__ = ["auth_request_headers"]

#: The most of an authentication server's answer body that is read (more: 401, as Traefik's
#: ``maxResponseBodySize``).
MAX_AUTH_BODY: Final = 1024 * 1024
_HOP: Final = frozenset(
    {b"connection", b"keep-alive", b"te", b"trailer", b"transfer-encoding", b"upgrade"}
)
ClientFor = Callable[[ServersTransport | None], Client | None]


def _port(host: str, proto: bytes | None, tls: bool) -> str:
    port = split_host(host)[1][1:]
    if port:
        return port
    return "443" if proto in (b"https", b"wss") or tls else "80"


def auth_request_headers(
    call: Call, *, trust: bool, allowed: tuple[bytes, ...]
) -> list[tuple[bytes, bytes]]:
    """The headers forwardAuth sends to the authentication server for *call*."""
    named = {
        token.strip().lower()
        for key, value in call.headers
        if key == b"connection"
        for token in value.split(b",")
    }
    out = [
        (k, v)
        for k, v in call.headers
        if k not in _HOP and k not in named and k not in (b"host", b"content-length")
    ]
    if not trust:
        # Traefik's DeleteXForwardedHeaders: every X-Forwarded-* it manages (X-Forwarded-Prefix,
        # X-Real-Ip… and their underscore spellings) goes; its own values are set below.
        out = [(k, v) for k, v in out if not is_managed_header(k)]
    if allowed:
        out = [(k, v) for k, v in out if k in allowed]
    if call.client_ip:
        prior = [v for k, v in out if k == b"x-forwarded-for"]
        ip = call.client_ip.encode()
        set_header(out, b"x-forwarded-for", b", ".join([*prior, ip]) if prior else ip)
    present = {k for k, _ in out}
    proto = get_header(out, b"x-forwarded-proto")
    for name, value in (
        (b"x-forwarded-method", call.method),
        (b"x-forwarded-proto", b"https" if call.tls else b"http"),
        (b"x-forwarded-port", _port(call.host, proto, call.tls).encode()),
        (b"x-forwarded-host", call.host.encode("latin-1", "replace")),
        (b"x-forwarded-uri", call.target.encode("latin-1", "replace")),
    ):
        if name not in present:
            out.append((name, value))
    return out


def _transport(model: ForwardAuth) -> ServersTransport | None:
    tls = model.tls
    if tls is None:
        return None
    return ServersTransport(
        insecure_skip_verify=tls.insecure_skip_verify,
        root_cas=(tls.ca,) if tls.ca else (),
        certificates=(ClientCertificate(cert_file=tls.cert, key_file=tls.key),)
        if tls.cert and tls.key
        else (),
    )


def _cookie_name(value: bytes) -> str | None:
    """The name of the cookie a ``Set-Cookie`` value sets, or ``None``."""
    try:
        jar = SimpleCookie(value.decode("latin-1"))
    except CookieError:
        return None
    return next(iter(jar), None)


async def _read(body: AsyncIterator[bytes], limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    async for chunk in body:
        size += len(chunk)
        if limit >= 0 and size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _canon(name: bytes) -> str:
    return "-".join(part.capitalize() for part in name.decode("latin-1").split("-"))


async def _replay(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _denied(
    model: ForwardAuth, status: int, headers: Sequence[tuple[bytes, bytes]], data: bytes
) -> Response:
    """The authentication server's refusal, as the client's answer."""
    relayed = [(k, v) for k, v in headers if k not in _HOP and k != b"content-length"]
    location = get_header(relayed, b"location")
    if location is not None and not model.preserve_location_header:
        resolved = urllib.parse.urljoin(model.address, location.decode("latin-1"))
        set_header(relayed, b"location", resolved.encode("latin-1", "replace"))
    return Response(status, relayed, data)


def build_forward_auth(model: ForwardAuth, client_for: ClientFor | None) -> Layer:
    """The forwardAuth layer."""
    if client_for is None:
        raise ConfigError("forwardAuth: this face has no HTTP client for the auth server")
    try:
        origin = Origin.from_url(model.address)
    except UpstreamError as exc:
        raise ConfigError(f"forwardAuth: address {model.address!r}: {exc}") from None
    parts = urllib.parse.urlsplit(model.address)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.netloc.encode("idna")
    transport = _transport(model)
    allowed = tuple(h.lower().encode("latin-1") for h in model.auth_request_headers)
    copied = tuple(h.lower().encode("latin-1") for h in model.auth_response_headers)
    regex = (
        compile_regexp(model.auth_response_headers_regex)
        if model.auth_response_headers_regex
        else None
    )
    cookies = frozenset(model.add_auth_cookies_to_response)
    user_field = model.header_field.lower().encode("latin-1") if model.header_field else b""

    def layer(next_: Next) -> Next:
        async def handle(call: Call) -> Response:
            client = client_for(transport)
            if client is None:
                return Response(500)
            body: bytes = b""
            if model.forward_body and call.body is not NO_BODY:
                read = await _read(call.body, model.max_body_size)
                if read is None:
                    return Response(401)
                body = read
                call.body = _replay(read)
            headers = [
                (b"host", host),
                *auth_request_headers(call, trust=model.trust_forward_header, allowed=allowed),
            ]
            method = call.method.decode("ascii") if model.preserve_request_method else "GET"
            try:
                answer = await client.request(
                    method, "", headers=headers, body=body, origin=origin, target=target
                )
                data = await _read(answer.iter_bytes(), MAX_AUTH_BODY)
            except UpstreamError:
                return Response(500)
            if data is None:
                return Response(401)
            if user_field:
                user = get_header(answer.headers, user_field)
                if user is not None:
                    call.user = user.decode("utf-8", "replace")
            if not 200 <= answer.status < 300:
                return _denied(model, answer.status, answer.headers, data)
            for name in copied:
                remove_header(call.headers, name)
                for key, value in answer.headers:
                    if key == name:
                        add_header(call.headers, name, value)
            if regex is not None:
                # Go matches the canonical header names (X-Auth-User): so do we.
                call.headers[:] = [(k, v) for k, v in call.headers if not regex.search(_canon(k))]
                call.headers.extend((k, v) for k, v in answer.headers if regex.search(_canon(k)))
            granted = [
                v for k, v in answer.headers if k == b"set-cookie" and _cookie_name(v) in cookies
            ]
            response = await next_(call)
            if not granted:
                return response
            relayed = [
                (k, v)
                for k, v in response.headers
                if k != b"set-cookie" or _cookie_name(v) not in cookies
            ]
            relayed.extend((b"set-cookie", v) for v in granted)
            return attrs.evolve(response, headers=relayed, checked=False)

        return handle

    return layer
