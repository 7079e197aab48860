"""HTTP middlewares: one frozen class per Traefik middleware type (v3 option names).

A configured middleware is exactly one of these variants; `MIDDLEWARE_TYPES` maps the file key
(``stripPrefix``) to the class.  Option names and defaults follow the Traefik v3 middleware
reference (doc.traefik.io/traefik/middlewares/http/…); v2's ``ipWhiteList`` is read as
`IPAllowList`.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping
from typing import ClassVar, Final, final

import attrs

from ._fields import KEY, duration, file_key, key
from ._frozen import FrozenMap, frozen_map, frozen_tuple

__all__ = [
    "MIDDLEWARE_ALIASES",
    "MIDDLEWARE_TYPES",
    "TCP_MIDDLEWARE_TYPES",
    "TCPIPAllowList",
    "TCPInFlightConn",
    "TCPMiddleware",
    "middleware_from_definition",
    "AddPrefix",
    "BasicAuth",
    "CertInfo",
    "CertIssuerInfo",
    "CertSubjectInfo",
    "ContentType",
    "DigestAuth",
    "ForwardAuth",
    "ForwardAuthTLS",
    "GrpcWeb",
    "Buffering",
    "Chain",
    "CircuitBreaker",
    "Compress",
    "Errors",
    "Headers",
    "IPAllowList",
    "IPStrategy",
    "InFlightReq",
    "Middleware",
    "PassTLSClientCert",
    "RateLimit",
    "RedirectRegex",
    "RedirectScheme",
    "ReplacePath",
    "ReplacePathRegex",
    "Retry",
    "SourceCriterion",
    "StripPrefix",
    "StripPrefixRegex",
]


@final
@attrs.frozen(kw_only=True)
class AddPrefix:
    """Prepend ``prefix`` to the request path."""

    type_key: ClassVar[str] = "addPrefix"
    prefix: str = ""


@final
@attrs.frozen(kw_only=True)
class StripPrefix:
    """Remove the first matching prefix from the path (sets ``X-Forwarded-Prefix``)."""

    type_key: ClassVar[str] = "stripPrefix"
    prefixes: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)


@final
@attrs.frozen(kw_only=True)
class StripPrefixRegex:
    """Remove the prefix matched by the first matching regular expression."""

    type_key: ClassVar[str] = "stripPrefixRegex"
    regex: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)


@final
@attrs.frozen(kw_only=True)
class ReplacePath:
    """Replace the path (the old one goes to ``X-Replaced-Path``)."""

    type_key: ClassVar[str] = "replacePath"
    path: str = ""


@final
@attrs.frozen(kw_only=True)
class ReplacePathRegex:
    """Rewrite the path with a regular expression and a replacement (``$1`` groups)."""

    type_key: ClassVar[str] = "replacePathRegex"
    regex: str = ""
    replacement: str = ""


@final
@attrs.frozen(kw_only=True)
class RedirectScheme:
    """Redirect to another scheme (and port)."""

    type_key: ClassVar[str] = "redirectScheme"
    scheme: str = ""
    port: str = ""
    permanent: bool = False


@final
@attrs.frozen(kw_only=True)
class RedirectRegex:
    """Redirect when the URL matches ``regex``, to ``replacement``."""

    type_key: ClassVar[str] = "redirectRegex"
    regex: str = ""
    replacement: str = ""
    permanent: bool = False


@final
@attrs.frozen(kw_only=True)
class Headers:
    """Custom request/response headers and the common security headers."""

    type_key: ClassVar[str] = "headers"
    custom_request_headers: FrozenMap[str, str] = attrs.field(
        factory=FrozenMap, converter=frozen_map
    )
    custom_response_headers: FrozenMap[str, str] = attrs.field(
        factory=FrozenMap, converter=frozen_map
    )
    access_control_allow_credentials: bool = False
    access_control_allow_headers: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    access_control_allow_methods: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    access_control_allow_origin_list: tuple[str, ...] = attrs.field(
        default=(), converter=frozen_tuple
    )
    access_control_allow_origin_list_regex: tuple[str, ...] = attrs.field(
        default=(), converter=frozen_tuple
    )
    access_control_expose_headers: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    access_control_max_age: int = 0
    add_vary_header: bool = False
    allowed_hosts: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    hosts_proxy_headers: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    ssl_proxy_headers: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=frozen_map)
    sts_seconds: int = 0
    sts_include_subdomains: bool = False
    sts_preload: bool = False
    force_sts_header: bool = key("forceSTSHeader", False)
    frame_deny: bool = False
    custom_frame_options_value: str = ""
    content_type_nosniff: bool = False
    browser_xss_filter: bool = False
    custom_browser_xss_value: str = key("customBrowserXSSValue", "")
    content_security_policy: str = ""
    content_security_policy_report_only: str = ""
    public_key: str = ""
    referrer_policy: str = ""
    permissions_policy: str = ""
    is_development: bool = False


@attrs.frozen(kw_only=True)
class _UsersAuth:
    """What basic and digest authentication share: the users, where to find more, the realm."""

    users: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    users_file: str = ""
    realm: str = "traefik"
    remove_header: bool = False
    header_field: str = ""


@final
@attrs.frozen(kw_only=True)
class BasicAuth(_UsersAuth):
    """HTTP basic authentication against ``users`` (``name:hash``, htpasswd style)."""

    type_key: ClassVar[str] = "basicAuth"


@final
@attrs.frozen(kw_only=True)
class DigestAuth(_UsersAuth):
    """HTTP digest authentication against ``users`` (``name:realm:hash``, htdigest style)."""

    type_key: ClassVar[str] = "digestAuth"


@final
@attrs.frozen(kw_only=True)
class ForwardAuthTLS:
    """The TLS client settings forwardAuth uses to reach its authentication server."""

    ca: str = ""
    cert: str = ""
    key: str = ""
    insecure_skip_verify: bool = False
    ca_optional: bool = False


@final
@attrs.frozen(kw_only=True)
class ForwardAuth:
    """Ask the server at ``address`` whether to let the request through (2xx = yes)."""

    type_key: ClassVar[str] = "forwardAuth"
    address: str = ""
    tls: ForwardAuthTLS | None = None
    trust_forward_header: bool = False
    auth_response_headers: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    auth_response_headers_regex: str = ""
    auth_request_headers: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    add_auth_cookies_to_response: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    header_field: str = ""
    forward_body: bool = False
    max_body_size: int = -1
    preserve_location_header: bool = False
    preserve_request_method: bool = False


@final
@attrs.frozen(kw_only=True)
class CertSubjectInfo:
    """Which fields of a client certificate's subject passTLSClientCert forwards."""

    country: bool = False
    province: bool = False
    locality: bool = False
    organization: bool = False
    organizational_unit: bool = False
    common_name: bool = False
    serial_number: bool = False
    domain_component: bool = False


@final
@attrs.frozen(kw_only=True)
class CertIssuerInfo:
    """Which fields of a client certificate's issuer passTLSClientCert forwards."""

    country: bool = False
    province: bool = False
    locality: bool = False
    organization: bool = False
    common_name: bool = False
    serial_number: bool = False
    domain_component: bool = False


@final
@attrs.frozen(kw_only=True)
class CertInfo:
    """The parts of a client certificate sent in ``X-Forwarded-Tls-Client-Cert-Info``."""

    not_after: bool = False
    not_before: bool = False
    sans: bool = False
    serial_number: bool = False
    subject: CertSubjectInfo | None = None
    issuer: CertIssuerInfo | None = None


@final
@attrs.frozen(kw_only=True)
class PassTLSClientCert:
    """Forward the client certificate (``pem``) and/or selected fields of it (``info``)."""

    type_key: ClassVar[str] = "passTLSClientCert"
    pem: bool = False
    info: CertInfo | None = None


@final
@attrs.frozen(kw_only=True)
class ContentType:
    """Let the proxy guess a missing ``Content-Type`` (``auto_detect``), or leave it unset."""

    type_key: ClassVar[str] = "contentType"
    auto_detect: bool = False


@final
@attrs.frozen(kw_only=True)
class GrpcWeb:
    """Translate gRPC-Web requests from browsers (``allow_origins``) into gRPC."""

    type_key: ClassVar[str] = "grpcWeb"
    allow_origins: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)


@final
@attrs.frozen(kw_only=True)
class IPStrategy:
    """How the client IP is chosen: the remote address, or ``X-Forwarded-For`` at ``depth``."""

    depth: int = 0
    excluded_ips: tuple[str, ...] = attrs.field(
        default=(), converter=frozen_tuple, metadata={KEY: "excludedIPs"}
    )
    ipv6_subnet: int | None = None


@final
@attrs.frozen(kw_only=True)
class SourceCriterion:
    """What groups requests for rate limiting: client IP, a header, or the request host."""

    ip_strategy: IPStrategy | None = None
    request_header_name: str = ""
    request_host: bool = False


@final
@attrs.frozen(kw_only=True)
class IPAllowList:
    """Accept only clients whose IP is in ``source_range`` (v2: ``ipWhiteList``)."""

    type_key: ClassVar[str] = "ipAllowList"
    source_range: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    ip_strategy: IPStrategy | None = None
    reject_status_code: int = 403


@final
@attrs.frozen(kw_only=True)
class RateLimit:
    """Token bucket: ``average`` requests per ``period`` with bursts of ``burst``."""

    type_key: ClassVar[str] = "rateLimit"
    average: int = 0
    period: float = duration(1.0)
    burst: int = 1
    source_criterion: SourceCriterion | None = None


@final
@attrs.frozen(kw_only=True)
class InFlightReq:
    """At most ``amount`` simultaneous requests per source."""

    type_key: ClassVar[str] = "inFlightReq"
    amount: int = 0
    source_criterion: SourceCriterion | None = None


@final
@attrs.frozen(kw_only=True)
class Retry:
    """Send a request again, up to ``attempts`` times in all, when the server could not be
    reached (or answered a ``status``), with exponential backoff from ``initial_interval``."""

    type_key: ClassVar[str] = "retry"
    attempts: int = 0
    # Traefik v3: "If unspecified, requests will be retried immediately."
    initial_interval: float = duration(0.0)
    timeout: float = duration(0.0)
    max_request_body_bytes: int = 2 * 1024 * 1024
    status: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    disable_retry_on_network_error: bool = False
    retry_non_idempotent_method: bool = False


@final
@attrs.frozen(kw_only=True)
class CircuitBreaker:
    """Open the circuit when ``expression`` (``NetworkErrorRatio() > 0.5``…) holds."""

    type_key: ClassVar[str] = "circuitBreaker"
    expression: str = ""
    check_period: float = duration(0.1)
    fallback_duration: float = duration(10.0)
    recovery_duration: float = duration(10.0)
    response_code: int = 503


#: The encodings the compress middleware knows, in Traefik's order of preference.
ENCODINGS: Final = ("zstd", "br", "gzip")


def _encodings(value: Iterable[str]) -> tuple[str, ...]:
    # Traefik's compress middleware uses its default encodings when the list is empty.
    return frozen_tuple(value) or ENCODINGS


@final
@attrs.frozen(kw_only=True)
class Compress:
    """Compress responses (``encodings`` in order of preference)."""

    type_key: ClassVar[str] = "compress"
    excluded_content_types: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    included_content_types: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    min_response_body_bytes: int = 1024
    default_encoding: str = ""
    encodings: tuple[str, ...] = attrs.field(default=ENCODINGS, converter=_encodings)


@final
@attrs.frozen(kw_only=True)
class Buffering:
    """Buffer request and response bodies (limits in bytes, 0 = unlimited)."""

    type_key: ClassVar[str] = "buffering"
    max_request_body_bytes: int = 0
    mem_request_body_bytes: int = 1048576
    max_response_body_bytes: int = 0
    mem_response_body_bytes: int = 1048576
    retry_expression: str = ""


@final
@attrs.frozen(kw_only=True)
class Chain:
    """Apply other middlewares, by name, in order."""

    type_key: ClassVar[str] = "chain"
    middlewares: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)


@final
@attrs.frozen(kw_only=True)
class Errors:
    """Serve an error page from ``service`` (at ``query``) for responses with ``status``."""

    type_key: ClassVar[str] = "errors"
    status: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    service: str = ""
    query: str = ""
    status_rewrites: FrozenMap[str, int] = attrs.field(factory=FrozenMap, converter=frozen_map)


Middleware = (
    AddPrefix
    | StripPrefix
    | StripPrefixRegex
    | ReplacePath
    | ReplacePathRegex
    | RedirectScheme
    | RedirectRegex
    | Headers
    | BasicAuth
    | DigestAuth
    | ForwardAuth
    | ContentType
    | PassTLSClientCert
    | GrpcWeb
    | IPAllowList
    | RateLimit
    | InFlightReq
    | Retry
    | CircuitBreaker
    | Compress
    | Buffering
    | Chain
    | Errors
)
"""One configured HTTP middleware: exactly one of the typed variants."""

_VARIANTS: Final[tuple[type[Middleware], ...]] = typing.get_args(Middleware)

# --- TCP ----------------------------------------------------------------------------------
# Traefik's TCP middlewares (``master:docs/content/middlewares/tcp/overview.md``): only these two,
# applied to a connection before it reaches its service.


@final
@attrs.frozen(kw_only=True)
class TCPInFlightConn:
    """At most ``amount`` simultaneous connections from one client IP."""

    type_key: ClassVar[str] = "inFlightConn"
    amount: int = 0


@final
@attrs.frozen(kw_only=True)
class TCPIPAllowList:
    """Accept only connections from an IP in ``source_range`` (v2: ``ipWhiteList``)."""

    type_key: ClassVar[str] = "ipAllowList"
    source_range: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)


TCPMiddleware = TCPInFlightConn | TCPIPAllowList
"""One configured TCP middleware: exactly one of the typed variants."""

#: File key (``inFlightConn``) → TCP middleware class.
TCP_MIDDLEWARE_TYPES: Final[dict[str, type[TCPMiddleware]]] = {
    cls.type_key: cls for cls in typing.get_args(TCPMiddleware)
}

#: File key (``stripPrefix``) → middleware class.
MIDDLEWARE_TYPES: Final[dict[str, type[Middleware]]] = {cls.type_key: cls for cls in _VARIANTS}

#: Deprecated file keys still read, → the key they stand for.
MIDDLEWARE_ALIASES: Final[dict[str, str]] = {"ipWhiteList": "ipAllowList"}


def middleware_from_definition(definition: Mapping[str, object]) -> Middleware:
    """The model middleware of a ``{"stripPrefix": {"prefixes": [...]}}`` definition.

    The definitions are those `routekit.rules.translate` gives for v1 modifiers: one kind, its
    options under their file keys.
    """
    ((kind, options),) = definition.items()
    cls = MIDDLEWARE_TYPES[kind]
    attributes = {file_key(f): f.name for f in attrs.fields(cls)}
    given = typing.cast(Mapping[str, typing.Any], options)
    return cls(**{attributes[k]: v for k, v in given.items()})
