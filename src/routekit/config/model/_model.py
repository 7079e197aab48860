"""The dynamic configuration model: routers, services, middlewares, TCP and TLS, as frozen values.

Names and structure follow Traefik's v2/v3 dynamic configuration (``http.routers.<name>``…); file
keys are the camelCase forms of the attribute names (see `routekit.config._fields`).  Every
collection is a tuple or a `FrozenMap`, so a whole `Configuration` is hashable and two snapshots
compare with ``==`` — the watcher skips unchanged ones that way.  Where each element came from is
kept in `Configuration.sources`, which does not take part in equality.
"""

from __future__ import annotations

from typing import Final, final

import attrs

from ._fields import KEY, duration, key
from ._frozen import FrozenMap, frozen_map, frozen_tuple
from ._middlewares import Middleware, TCPMiddleware

__all__ = [
    "ClientCertificate",
    "ChildHealthCheck",
    "Configuration",
    "Cookie",
    "Domain",
    "Failover",
    "ForwardingTimeouts",
    "HTTPConfiguration",
    "HealthCheck",
    "LoadBalancer",
    "Mirror",
    "Mirroring",
    "PassiveHealthCheck",
    "ResponseForwarding",
    "Router",
    "RouterTLS",
    "Server",
    "ServersTransport",
    "Service",
    "Sticky",
    "TCPConfiguration",
    "UDPConfiguration",
    "UDPLoadBalancer",
    "UDPRouter",
    "UDPServer",
    "UDPService",
    "UDPWeighted",
    "TCPLoadBalancer",
    "TCPRouter",
    "TCPRouterTLS",
    "TCPServer",
    "TCPService",
    "TCPWeighted",
    "TLSCertificate",
    "TLSClientAuth",
    "TLSConfiguration",
    "TLSDefaultCertificate",
    "TLSOptions",
    "TLSStore",
    "Weighted",
    "WeightedService",
]

#: Highest priority a user router may have: Traefik reserves ``MaxInt64 - 1000`` and above for
#: its ``@internal`` routers (``pkg/server/router/router.go``).
MAX_PRIORITY = 2**63 - 1 - 1000
#: The largest weight of a server or of a weighted service's child: Traefik's are Go ints.
MAX_WEIGHT: Final = 2**63 - 1
MIN_PRIORITY = -(2**63)


# --- routers ---------------------------------------------------------------------------------


@final
@attrs.frozen(kw_only=True)
class Domain:
    """A certificate domain: ``main`` and its subject alternative names."""

    main: str = ""
    sans: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)


@final
@attrs.frozen(kw_only=True)
class RouterTLS:
    """TLS on a router: present (even empty) means the router serves HTTPS only."""

    options: str = ""
    cert_resolver: str = ""
    domains: tuple[Domain, ...] = attrs.field(default=(), converter=frozen_tuple)


@final
@attrs.frozen(kw_only=True)
class Router:
    """An HTTP router: requests matching ``rule`` on ``entry_points`` go to ``service``.

    ``priority`` 0 means "the length of the rule" (Traefik); ``rule_syntax`` is ``None`` for the
    configured default, or ``"v1"``, ``"v2"``, ``"v3"``.  Empty ``entry_points`` means all the
    default entry points.
    """

    rule: str
    service: str = ""
    priority: int = 0
    entry_points: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    middlewares: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    tls: RouterTLS | None = None
    rule_syntax: str | None = None


# --- services --------------------------------------------------------------------------------


@final
@attrs.frozen(kw_only=True)
class Server:
    """One upstream server of a load balancer, by URL (``http://10.0.0.1:80``)."""

    url: str
    weight: int = 1
    preserve_path: bool = False


@final
@attrs.frozen(kw_only=True)
class Cookie:
    """The sticky-session cookie; an empty name means Traefik's generated one."""

    name: str = ""
    secure: bool = False
    http_only: bool = False
    same_site: str = ""
    max_age: int = 0
    path: str = "/"
    domain: str = ""


@final
@attrs.frozen(kw_only=True)
class Sticky:
    """Sticky sessions, by cookie."""

    cookie: Cookie | None = None


@final
@attrs.frozen(kw_only=True)
class HealthCheck:
    """Active health check of each server (defaults of Traefik v3 ``http_config.go``).

    ``status`` 0 means "any 2xx or 3xx"; ``unhealthy_interval`` ``None`` means ``interval``.
    """

    path: str = ""
    interval: float = duration(30.0)
    timeout: float = duration(5.0)
    scheme: str = ""
    mode: str = "http"
    hostname: str = ""
    port: int = 0
    headers: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=frozen_map)
    follow_redirects: bool = True
    method: str = ""
    status: int = 0
    unhealthy_interval: float | None = duration(None)


@final
@attrs.frozen(kw_only=True)
class PassiveHealthCheck:
    """Mark a server down after ``max_failed_attempts`` failures within ``failure_window``."""

    failure_window: float = duration(10.0)
    max_failed_attempts: int = 1


@final
@attrs.frozen(kw_only=True)
class ChildHealthCheck:
    """On a weighted/mirroring/failover service: propagate its children's health (no options)."""


@final
@attrs.frozen(kw_only=True)
class ResponseForwarding:
    """How responses are streamed back: ``flush_interval`` (negative = flush every write)."""

    flush_interval: float = duration(0.1)


@final
@attrs.frozen(kw_only=True)
class LoadBalancer:
    """Balance over ``servers``; ``strategy`` is ``wrr`` (default), ``p2c``, ``hrw``…"""

    servers: tuple[Server, ...] = attrs.field(default=(), converter=frozen_tuple)
    sticky: Sticky | None = None
    health_check: HealthCheck | None = None
    passive_health_check: PassiveHealthCheck | None = None
    pass_host_header: bool = True
    strategy: str = "wrr"
    servers_transport: str = ""
    response_forwarding: ResponseForwarding | None = None


@final
@attrs.frozen(kw_only=True)
class WeightedService:
    """A child of a weighted service: another service, by name, and its weight."""

    name: str
    weight: int = 1


@final
@attrs.frozen(kw_only=True)
class Weighted:
    """Weighted round robin over other services."""

    services: tuple[WeightedService, ...] = attrs.field(default=(), converter=frozen_tuple)
    sticky: Sticky | None = None
    health_check: ChildHealthCheck | None = None


@final
@attrs.frozen(kw_only=True)
class Mirror:
    """A mirror of a mirroring service: ``percent`` of the requests are copied to ``name``."""

    name: str
    percent: int = 0


@final
@attrs.frozen(kw_only=True)
class Mirroring:
    """Send requests to ``service`` and copies to the mirrors (responses of mirrors ignored)."""

    service: str
    mirrors: tuple[Mirror, ...] = attrs.field(default=(), converter=frozen_tuple)
    max_body_size: int = -1
    mirror_body: bool = True
    health_check: ChildHealthCheck | None = None


@final
@attrs.frozen(kw_only=True)
class Failover:
    """Use ``service`` while it is up, ``fallback`` otherwise."""

    service: str
    fallback: str
    health_check: ChildHealthCheck | None = None


@final
@attrs.frozen(kw_only=True)
class Service:
    """An HTTP service: exactly one of the four kinds is set (validation reports otherwise)."""

    load_balancer: LoadBalancer | None = None
    weighted: Weighted | None = None
    mirroring: Mirroring | None = None
    failover: Failover | None = None

    @property
    def kinds(self) -> tuple[str, ...]:
        """The file keys of the kinds that are set (exactly one in a valid service)."""
        return tuple(
            k
            for k, v in (
                ("loadBalancer", self.load_balancer),
                ("weighted", self.weighted),
                ("mirroring", self.mirroring),
                ("failover", self.failover),
            )
            if v is not None
        )

    def references(self) -> tuple[str, ...]:
        """Names of the other services this one uses."""
        if self.weighted is not None:
            return tuple(s.name for s in self.weighted.services)
        if self.mirroring is not None:
            return (self.mirroring.service, *(m.name for m in self.mirroring.mirrors))
        if self.failover is not None:
            return (self.failover.service, self.failover.fallback)
        return ()


@final
@attrs.frozen(kw_only=True)
class ForwardingTimeouts:
    """Timeouts towards upstream servers."""

    dial_timeout: float = duration(30.0)
    response_header_timeout: float = duration(0.0)
    idle_conn_timeout: float = duration(90.0)


@final
@attrs.frozen(kw_only=True)
class ClientCertificate:
    """A certificate and key (file paths or PEM text) presented to upstream servers (mTLS)."""

    cert_file: str
    key_file: str


@final
@attrs.frozen(kw_only=True)
class ServersTransport:
    """How to talk to upstream servers (TLS verification, pool size, timeouts)."""

    server_name: str = ""
    insecure_skip_verify: bool = False
    root_cas: tuple[str, ...] = attrs.field(
        default=(), converter=frozen_tuple, metadata={KEY: "rootCAs"}
    )
    max_idle_conns_per_host: int = 200
    forwarding_timeouts: ForwardingTimeouts | None = None
    disable_http2: bool = key("disableHTTP2", False)
    peer_cert_uri: str = key("peerCertURI", "")
    certificates: tuple[ClientCertificate, ...] = attrs.field(default=(), converter=frozen_tuple)


@final
@attrs.frozen(kw_only=True)
class HTTPConfiguration:
    """The ``http`` section: routers, services, middlewares and servers transports, by name."""

    routers: FrozenMap[str, Router] = attrs.field(factory=FrozenMap, converter=frozen_map)
    services: FrozenMap[str, Service] = attrs.field(factory=FrozenMap, converter=frozen_map)
    middlewares: FrozenMap[str, Middleware] = attrs.field(factory=FrozenMap, converter=frozen_map)
    servers_transports: FrozenMap[str, ServersTransport] = attrs.field(
        factory=FrozenMap, converter=frozen_map
    )


# --- TCP -------------------------------------------------------------------------------------


@final
@attrs.frozen(kw_only=True)
class TCPRouterTLS:
    """TLS on a TCP router; ``passthrough`` forwards the encrypted stream untouched."""

    passthrough: bool = False
    options: str = ""
    cert_resolver: str = ""
    domains: tuple[Domain, ...] = attrs.field(default=(), converter=frozen_tuple)


@final
@attrs.frozen(kw_only=True)
class TCPRouter:
    """A TCP router (``HostSNI(`a.com`)``…) to a TCP service."""

    rule: str
    service: str = ""
    priority: int = 0
    entry_points: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    middlewares: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    tls: TCPRouterTLS | None = None
    rule_syntax: str | None = None


@final
@attrs.frozen(kw_only=True)
class TCPServer:
    """A TCP upstream, by ``host:port``."""

    address: str
    tls: bool = False


@final
@attrs.frozen(kw_only=True)
class TCPLoadBalancer:
    """Balance TCP connections over ``servers``."""

    servers: tuple[TCPServer, ...] = attrs.field(default=(), converter=frozen_tuple)
    servers_transport: str = ""


@final
@attrs.frozen(kw_only=True)
class TCPWeighted:
    """Weighted round robin over other TCP services."""

    services: tuple[WeightedService, ...] = attrs.field(default=(), converter=frozen_tuple)


@final
@attrs.frozen(kw_only=True)
class TCPService:
    """A TCP service: a load balancer or a weighted set of services."""

    load_balancer: TCPLoadBalancer | None = None
    weighted: TCPWeighted | None = None


@final
@attrs.frozen(kw_only=True)
class TCPConfiguration:
    """The ``tcp`` section: routers, services and middlewares, by name."""

    routers: FrozenMap[str, TCPRouter] = attrs.field(factory=FrozenMap, converter=frozen_map)
    services: FrozenMap[str, TCPService] = attrs.field(factory=FrozenMap, converter=frozen_map)
    middlewares: FrozenMap[str, TCPMiddleware] = attrs.field(
        factory=FrozenMap, converter=frozen_map
    )


# --- UDP -------------------------------------------------------------------------------------
# Traefik's UDP routing has no rule: a UDP router sends every datagram of its entry points to
# its service (doc.traefik.io/traefik/routing/routers/#configuring-udp-routers).


@final
@attrs.frozen(kw_only=True)
class UDPRouter:
    """A UDP router: the datagrams of its entry points go to its service."""

    service: str = ""
    entry_points: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)


@final
@attrs.frozen(kw_only=True)
class UDPServer:
    """A UDP upstream, by ``host:port``."""

    address: str


@final
@attrs.frozen(kw_only=True)
class UDPLoadBalancer:
    """Balance UDP sessions over ``servers``."""

    servers: tuple[UDPServer, ...] = attrs.field(default=(), converter=frozen_tuple)


@final
@attrs.frozen(kw_only=True)
class UDPWeighted:
    """Weighted round robin over other UDP services."""

    services: tuple[WeightedService, ...] = attrs.field(default=(), converter=frozen_tuple)


@final
@attrs.frozen(kw_only=True)
class UDPService:
    """A UDP service: a load balancer or a weighted set of services."""

    load_balancer: UDPLoadBalancer | None = None
    weighted: UDPWeighted | None = None


@final
@attrs.frozen(kw_only=True)
class UDPConfiguration:
    """The ``udp`` section: routers and services, by name."""

    routers: FrozenMap[str, UDPRouter] = attrs.field(factory=FrozenMap, converter=frozen_map)
    services: FrozenMap[str, UDPService] = attrs.field(factory=FrozenMap, converter=frozen_map)


# --- TLS -------------------------------------------------------------------------------------


@final
@attrs.frozen(kw_only=True)
class TLSCertificate:
    """A certificate and key (file paths or PEM text), in the given stores."""

    cert_file: str
    key_file: str
    stores: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)


@final
@attrs.frozen(kw_only=True)
class TLSClientAuth:
    """Client certificate authentication."""

    ca_files: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    client_auth_type: str = ""


@final
@attrs.frozen(kw_only=True)
class TLSOptions:
    """A named set of TLS options (``default`` applies when a router names none)."""

    min_version: str = ""
    max_version: str = ""
    cipher_suites: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    curve_preferences: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    client_auth: TLSClientAuth | None = None
    sni_strict: bool = False
    alpn_protocols: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)


@final
@attrs.frozen(kw_only=True)
class TLSDefaultCertificate:
    """The certificate a store serves when no other matches."""

    cert_file: str
    key_file: str


@final
@attrs.frozen(kw_only=True)
class TLSStore:
    """A named certificate store."""

    default_certificate: TLSDefaultCertificate | None = None


@final
@attrs.frozen(kw_only=True)
class TLSConfiguration:
    """The ``tls`` section."""

    certificates: tuple[TLSCertificate, ...] = attrs.field(default=(), converter=frozen_tuple)
    options: FrozenMap[str, TLSOptions] = attrs.field(factory=FrozenMap, converter=frozen_map)
    stores: FrozenMap[str, TLSStore] = attrs.field(factory=FrozenMap, converter=frozen_map)


# --- the whole -------------------------------------------------------------------------------


@final
@attrs.frozen(kw_only=True)
class Configuration:
    """A whole dynamic configuration: ``http``, ``tcp``, ``udp`` and ``tls``.

    ``sources`` maps dotted element paths (``http.routers.api``, ``http.routers.api.rule``) to
    where they came from (``dynamic.toml:12:5``, a label and container, a KV key).  It is
    informative only: it takes part neither in ``==`` nor in ``hash``.
    """

    http: HTTPConfiguration = attrs.field(factory=HTTPConfiguration)
    tcp: TCPConfiguration = attrs.field(factory=TCPConfiguration)
    udp: UDPConfiguration = attrs.field(factory=UDPConfiguration)
    tls: TLSConfiguration = attrs.field(factory=TLSConfiguration)
    sources: FrozenMap[str, str] = attrs.field(
        factory=FrozenMap, converter=frozen_map, eq=False, repr=False
    )

    def source_of(self, path: str) -> str | None:
        """Where the element at ``path`` (or its nearest recorded parent) came from."""
        while True:
            found = self.sources.get(path)
            if found is not None:
                return found
            if "." not in path:
                return None
            path = path.rsplit(".", 1)[0]
