"""The headers middleware: custom request/response headers, CORS, and the security headers.

As Traefik's ``master:pkg/middlewares/headers`` (custom headers and CORS around the
``unrolled/secure`` options): a CORS preflight (``OPTIONS`` with ``Origin`` and
``Access-Control-Request-Method``) is answered 200 by the gateway itself; otherwise the custom
request headers are applied (an empty value removes the header; an empty ``X-Forwarded-For``
also stops the proxy from adding one), a request for a host outside ``allowedHosts`` is a
500 "Bad Host", and the answer gets the security headers, then the custom response headers
(which win), the CORS headers and ``Vary: Origin``.  Everything that does not depend on the
request is worked out when the middleware is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import final

import attrs

from ..config import Headers, headers_defined, valid_field
from ..errors import ConfigError
from ..http import Response
from ..rules import Regexp, compile_regexp
from ._call import (
    Call,
    Layer,
    Next,
    Step,
    get_header,
    plain,
    remove_header,
    set_header,
    with_fields,
)

__all__ = ["CORS", "cors_origin", "preflight_headers"]

_Pairs = list[tuple[bytes, bytes]]


def _b(text: str) -> bytes:
    return text.encode("latin-1", "replace")


@final
@attrs.frozen(kw_only=True)
class CORS:
    """The CORS part of a headers middleware, with its origin regexps compiled."""

    allow_credentials: bool = False
    allow_headers: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_origins: tuple[str, ...] = ()
    allow_origin_regexes: tuple[Regexp, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int = 0
    add_vary: bool = False

    @classmethod
    def from_model(cls, model: Headers) -> CORS:
        """The CORS settings of *model*."""
        return cls(
            allow_credentials=model.access_control_allow_credentials,
            allow_headers=model.access_control_allow_headers,
            allow_methods=model.access_control_allow_methods,
            allow_origins=model.access_control_allow_origin_list,
            allow_origin_regexes=tuple(
                compile_regexp(r) for r in model.access_control_allow_origin_list_regex
            ),
            expose_headers=model.access_control_expose_headers,
            max_age=model.access_control_max_age,
            add_vary=model.add_vary_header,
        )

    @property
    def defined(self) -> bool:
        """Whether any CORS option is set (Traefik's ``HasCorsHeadersDefined``)."""
        return self != CORS()

    def expose(self) -> bytes | None:
        """``Access-Control-Expose-Headers``, unless ``*`` with credentials (not allowed)."""
        if not self.expose_headers or ("*" in self.expose_headers and self.allow_credentials):
            return None
        return _b(",".join(self.expose_headers))


def cors_origin(cors: CORS, origin: str) -> str | None:
    """The ``Access-Control-Allow-Origin`` for a request from *origin*, or ``None``.

    ``*`` answers ``*``, or the origin itself with credentials (a wildcard is not allowed
    then); a regexp that matches answers the origin.
    """
    for item in cors.allow_origins:
        if item == origin:
            return item
        if item == "*":
            return origin if cors.allow_credentials else item
    for regex in cors.allow_origin_regexes:
        if regex.search(origin):
            return origin
    return None


def preflight_headers(cors: CORS, origin: str, method: str, request_headers: str | None) -> _Pairs:
    """The headers of the 200 Traefik gives a CORS preflight request."""
    out: _Pairs = []
    if cors.allow_credentials:
        out.append((b"access-control-allow-credentials", b"true"))
    if "*" in cors.allow_headers and cors.allow_credentials:
        if request_headers:
            out.append((b"access-control-allow-headers", _b(request_headers)))
    elif cors.allow_headers:
        out.append((b"access-control-allow-headers", _b(",".join(cors.allow_headers))))
    if "*" in cors.allow_methods and cors.allow_credentials:
        out.append((b"access-control-allow-methods", _b(method)))
    elif cors.allow_methods:
        out.append((b"access-control-allow-methods", _b(",".join(cors.allow_methods))))
    allowed = cors_origin(cors, origin)
    if allowed is not None:
        out.append((b"access-control-allow-origin", _b(allowed)))
    if cors.max_age:
        out.append((b"access-control-max-age", str(cors.max_age).encode()))
    expose = cors.expose()
    if expose is not None:
        out.append((b"access-control-expose-headers", expose))
    out.append((b"content-length", b"0"))
    return out


@final
@attrs.frozen
class _Plan:
    """A headers middleware worked out: what it does, all but the per-request parts."""

    request_ops: tuple[tuple[bytes, bytes], ...]  # (name, value); b"" removes
    no_forwarded_for: bool
    response_ops: tuple[tuple[bytes, bytes], ...]
    cors: CORS
    allowed_hosts: frozenset[str]
    hosts_headers: tuple[bytes, ...]
    ssl_headers: tuple[tuple[bytes, bytes], ...]
    security: tuple[tuple[bytes, bytes], ...]  # on every answer
    ssl_only: tuple[tuple[bytes, bytes], ...]  # on answers to TLS requests
    sts: tuple[tuple[bytes, bytes], ...]  # forced: on every answer


def _security(model: Headers) -> tuple[_Pairs, _Pairs, _Pairs]:
    """The security headers (``unrolled/secure``): always, over TLS only, forced."""
    always: _Pairs = []
    frame = model.custom_frame_options_value or ("DENY" if model.frame_deny else "")
    if frame:
        always.append((b"x-frame-options", _b(frame)))
    if model.content_type_nosniff:
        always.append((b"x-content-type-options", b"nosniff"))
    xss = model.custom_browser_xss_value or ("1; mode=block" if model.browser_xss_filter else "")
    if xss:
        always.append((b"x-xss-protection", _b(xss)))
    for name, value in (
        (b"content-security-policy", model.content_security_policy),
        (b"content-security-policy-report-only", model.content_security_policy_report_only),
        (b"referrer-policy", model.referrer_policy),
        (b"permissions-policy", model.permissions_policy),
    ):
        if value:
            always.append((name, _b(value)))
    ssl: _Pairs = []
    forced: _Pairs = []
    if model.sts_seconds and not model.is_development:
        sts = f"max-age={model.sts_seconds}"
        if model.sts_include_subdomains:
            sts += "; includeSubDomains"
        if model.sts_preload:
            sts += "; preload"
        (forced if model.force_sts_header else ssl).append((b"strict-transport-security", _b(sts)))
    if model.public_key and not model.is_development:
        ssl.append((b"public-key-pins", _b(model.public_key)))
    return always, ssl, forced


def _checked_ops(ops: tuple[tuple[bytes, bytes], ...]) -> tuple[tuple[bytes, bytes], ...]:
    # Checked once here, the fields go out unchecked on every request (h11's fast path).
    for name, value in ops:
        if not valid_field(name, value):
            raise ConfigError(f"headers: {name.decode('latin-1')!r} is not a valid header field")
    return ops


def plan(model: Headers) -> _Plan:
    """Work a headers middleware out (raises `ConfigError` when it sets nothing, or sets a
    header that is not a valid field)."""
    cors = CORS.from_model(model)
    always, ssl, forced = _security(model)
    hosts = frozenset() if model.is_development else frozenset(model.allowed_hosts)
    if not headers_defined(model):
        raise ConfigError("headers: no header option is set (headers configuration not valid)")
    request_ops = tuple(
        (b"host" if k.lower() == "host" else _b(k.lower()), _b(v))
        for k, v in model.custom_request_headers.items()
    )
    response_ops = tuple((_b(k.lower()), _b(v)) for k, v in model.custom_response_headers.items())
    _checked_ops(request_ops + response_ops + tuple(always) + tuple(ssl) + tuple(forced))
    return _Plan(
        request_ops=tuple(op for op in request_ops if op != (b"x-forwarded-for", b"")),
        no_forwarded_for=(b"x-forwarded-for", b"") in request_ops,
        response_ops=response_ops,
        cors=cors,
        allowed_hosts=hosts,
        hosts_headers=tuple(_b(h.lower()) for h in model.hosts_proxy_headers),
        ssl_headers=tuple((_b(k.lower()), _b(v)) for k, v in model.ssl_proxy_headers.items()),
        security=tuple(always),
        ssl_only=tuple(ssl),
        sts=tuple(forced),
    )


@final
class _Ops:
    """Header operations (name, value; an empty value removes), worked out once: the names
    they replace and the fields they add, in one pass over a request's or an answer's list."""

    __slots__ = ("added", "names")

    def __init__(self, ops: Sequence[tuple[bytes, bytes]]) -> None:
        self.names = frozenset(name for name, _ in ops)
        self.added = tuple(op for op in ops if op[1])

    def applied(self, headers: Sequence[tuple[bytes, bytes]]) -> _Pairs:
        """A new list: *headers* with the operations applied."""
        return with_fields(headers, (self.names, self.added))


def _host(p: _Plan, call: Call) -> str:
    for name in p.hosts_headers:
        value = get_header(call.headers, name)
        if value:
            return value.decode("latin-1")
    return call.host


def _merged(*groups: Sequence[tuple[bytes, bytes]]) -> tuple[tuple[bytes, bytes], ...]:
    """The header operations of *groups* in order, a later one for a name replacing earlier."""
    out: dict[bytes, bytes] = {}
    for group in groups:
        for name, value in group:
            out.pop(name, None)
            out[name] = value
    return tuple(out.items())


def build_headers(model: Headers) -> Layer:
    """The headers layer: a `Step` (before and after the rest), around it with CORS."""
    p = plan(model)
    cors = p.cors
    expose = cors.expose()
    # The answer's operations, worked out now: the security headers, then (for TLS requests)
    # the TLS-only ones, then the custom response headers, which win.
    plain_ops = _Ops(_merged(p.security, p.sts, p.response_ops))
    tls_ops = _Ops(_merged(p.security, p.sts, p.ssl_only, p.response_ops))
    request_ops = _Ops(p.request_ops) if p.request_ops else None
    plain_fields = (plain_ops.names, plain_ops.added)
    names, added = (request_ops.names, request_ops.added) if request_ops else (frozenset(), ())
    ssl_only = bool(p.ssl_only)

    only = next(iter(names)) if len(names) == 1 else None

    def set_fields(call: Call) -> None:
        headers = call.headers
        for name, _ in headers:  # a loop here, not a call: a field is rarely there
            if name in names:
                headers[:] = [h for h in headers if h[0] not in names]
                break
        headers += added

    def set_field(call: Call) -> None:
        # One name (the usual custom request header): compared, not hashed, field by field.
        headers = call.headers
        for name, _ in headers:
            if name == only:
                headers[:] = [h for h in headers if h[0] != only]
                break
        headers += added

    set_request = set_fields if only is None else set_field

    def before(call: Call) -> Response | None:
        if request_ops is not None:
            set_request(call)
        if p.no_forwarded_for:
            remove_header(call.headers, b"x-forwarded-for")
            call.append_forwarded_for = False
        if p.allowed_hosts and _host(p, call) not in p.allowed_hosts:
            return plain(500, "Bad Host")
        return None

    def headers_of(call: Call, response: Response) -> _Pairs:
        secure = p.ssl_only and (
            call.tls or any(get_header(call.headers, k) == v for k, v in p.ssl_headers)
        )
        return (tls_ops if secure else plain_ops).applied(response.headers)

    def after(call: Call, response: Response) -> Response:
        # The server's fields (h11 parsed them) and ours (checked at build): valid.
        if ssl_only:
            headers = headers_of(call, response)
        else:  # the same answer operations for every request
            headers = with_fields(response.headers, plain_fields)
        return Response(
            response.status,
            headers,
            response.body,
            response.tunnel,
            response.checked,
            response.trailers,
        )

    if not cors.defined:
        # Without TLS-only headers the answer's fields are the same for every request: the
        # proxy adds them as it makes the answer (`Step.fields`).
        fields = None if ssl_only else plain_fields
        if p.no_forwarded_for or p.allowed_hosts:
            return Step(before, after, fields)
        # The usual case, decided now: custom request headers (or none) and the answer's.
        return Step(set_request if request_ops is not None else None, after, fields)

    def layer(next_: Next) -> Next:
        async def handle(call: Call) -> Response:
            # Read before the custom request headers apply, as Traefik reads it.
            origin = get_header(call.headers, b"origin")
            if call.method == b"OPTIONS" and origin:
                method = get_header(call.headers, b"access-control-request-method")
                if method:
                    asked = get_header(call.headers, b"access-control-request-headers")
                    pairs = preflight_headers(
                        cors,
                        origin.decode("latin-1"),
                        method.decode("latin-1"),
                        asked.decode("latin-1") if asked is not None else None,
                    )
                    return Response(200, pairs, b"")
            refused = before(call)
            if refused is not None:
                return refused
            response = await next_(call)
            headers = headers_of(call, response)
            if origin is not None:
                allowed = cors_origin(cors, origin.decode("latin-1"))
                if allowed is not None:
                    set_header(headers, b"access-control-allow-origin", _b(allowed))
            if cors.allow_credentials:
                set_header(headers, b"access-control-allow-credentials", b"true")
            if expose is not None:
                set_header(headers, b"access-control-expose-headers", expose)
            if cors.add_vary:
                vary = get_header(headers, b"vary")
                if vary != b"Origin":
                    set_header(headers, b"vary", vary + b",Origin" if vary else b"Origin")
            return Response(response.status, headers, response.body, response.tunnel)

        return handle

    return layer
