"""The static configuration model: entry points, providers, API, log, throttle.

One model for both Traefik shapes: v1 (``[docker]``, ``[file]``, ``[web]``, ``logLevel`` at the top)
and v2/v3 (``[providers.docker]``, ``[api]``, ``[log] level``).  Defaults are Traefik's, per
version where they differ (``version`` says which shape the file had).
"""

from __future__ import annotations

from typing import final

import attrs

from .model import Configuration, FrozenMap, frozen_map, frozen_tuple

__all__ = [
    "APIConfig",
    "ClientTLS",
    "ConsulCatalogProviderConfig",
    "DockerProviderConfig",
    "EntryPoint",
    "FileProviderConfig",
    "KVProviderConfig",
    "MetricsConfig",
    "PingConfig",
    "IngressEndpointConfig",
    "KubernetesProviderConfig",
    "MarathonProviderConfig",
    "ProvidersConfig",
    "StaticConfiguration",
]


@final
@attrs.frozen(kw_only=True)
class EntryPoint:
    """A listening address (``":80"``, ``"127.0.0.1:8080"``) and what it does with requests."""

    address: str
    tls: bool = False
    redirect_to: str = ""
    forwarded_headers_insecure: bool = False
    trusted_ips: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)


@final
@attrs.frozen(kw_only=True)
class ClientTLS:
    """A provider's ``tls`` options: how it reaches its service over TLS (Traefik's ClientTLS).

    Attributes:
        ca: a CA file (or PEM text) to trust, beside the system's.
        cert: a client certificate file (or PEM text), shown with *key*.
        key: its private key.
        insecure_skip_verify: do not verify the service's certificate.
    """

    ca: str = ""
    cert: str = ""
    key: str = ""
    insecure_skip_verify: bool = False


@final
@attrs.frozen(kw_only=True)
class DockerProviderConfig:
    """``[docker]`` (v1) / ``[providers.docker]`` (v2/v3)."""

    endpoint: str = "unix:///var/run/docker.sock"
    domain: str = ""
    watch: bool = True
    exposed_by_default: bool = True
    default_rule: str = ""
    network: str = ""
    use_bind_port_ip: bool = False
    swarm_mode: bool = False
    constraints: str = ""
    allow_empty_services: bool = False
    http_client_timeout: float = 0.0
    tls: ClientTLS | None = None


@final
@attrs.frozen(kw_only=True)
class FileProviderConfig:
    """``[file]`` / ``[providers.file]``: one file or a directory of files."""

    filename: str = ""
    directory: str = ""
    watch: bool = True


@final
@attrs.frozen(kw_only=True)
class ConsulCatalogProviderConfig:
    """``[consulCatalog]`` / ``[providers.consulCatalog]`` (services and their tags)."""

    endpoint: str = "127.0.0.1:8500"
    domain: str = ""
    prefix: str = "traefik"
    exposed_by_default: bool = True
    default_rule: str = ""
    strict_checks: tuple[str, ...] = attrs.field(
        default=("passing", "warning"), converter=frozen_tuple
    )
    refresh_interval: float = 15.0
    watch: bool = False
    constraints: str = ""
    service_name: str = "traefik"
    scheme: str = "http"
    datacenter: str = ""
    token: str = ""
    username: str = ""
    password: str = ""
    tls: ClientTLS | None = None
    stale: bool = False
    #: Which generation of tags and defaults the file was written for (v1 ``[consulCatalog]``).
    syntax: str = "v2"
    #: Consul Enterprise namespaces to read (v3 ``namespaces``; v2's ``namespace``), one
    #: provider each; none: the token's namespace.
    namespaces: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)


@final
@attrs.frozen(kw_only=True)
class KVProviderConfig:
    """A KV store provider (``consul``, ``etcd``, ``redis``, ``zookeeper``).

    Attributes:
        endpoints: the store's members, ``host:port`` (or URLs), tried in turn.
        root_key: the key every configuration key starts with (v1: ``/traefik``).
        watch: follow changes (else read once).
        username: for stores with users (etcd, Redis ACLs, Consul's basic auth).
        password: its password.
        tls: how to reach the store over TLS.
        db: Redis's database number.
        token: Consul's ACL token.
    """

    endpoints: tuple[str, ...] = attrs.field(converter=frozen_tuple)
    root_key: str = "traefik"
    watch: bool = True
    username: str = ""
    password: str = ""
    tls: ClientTLS | None = None
    db: int = 0
    token: str = ""


@final
@attrs.frozen(kw_only=True)
class IngressEndpointConfig:
    """``ingressEndpoint``: what the provider writes in the status of the Ingresses it serves."""

    ip: str = ""
    hostname: str = ""
    published_service: str = ""


@final
@attrs.frozen(kw_only=True)
class KubernetesProviderConfig:
    """``[kubernetes]`` (v1) / ``[providers.kubernetesIngress]`` (v2/v3), Traefik's options."""

    endpoint: str = ""
    token: str = ""
    cert_auth_file_path: str = ""
    namespaces: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    label_selector: str = ""
    ingress_class: str = ""
    ingress_endpoint: IngressEndpointConfig | None = None
    throttle_duration: float = 0.0
    allow_empty_services: bool = False
    allow_external_name_services: bool = False
    native_lb_by_default: bool = False
    strict_prefix_matching: bool = False
    disable_ingress_class_lookup: bool = False
    disable_cluster_scope_resources: bool = False
    cross_provider_namespaces: tuple[str, ...] | None = None


@final
@attrs.frozen(kw_only=True)
class MarathonProviderConfig:
    """``[marathon]`` (v1) / ``[providers.marathon]`` (v2), Traefik's options."""

    endpoint: str = "http://127.0.0.1:8080"
    watch: bool = True
    default_rule: str = ""
    exposed_by_default: bool = True
    constraints: str = ""
    domain: str = ""
    dcos_token: str = ""
    basic_user: str = ""
    basic_password: str = ""
    force_task_hostname: bool = False
    respect_readiness_checks: bool = False
    response_header_timeout: float = 0.0
    tls: ClientTLS | None = None


@final
@attrs.frozen(kw_only=True)
class ProvidersConfig:
    """The configured providers (``None`` = not enabled) and the reload throttle in seconds."""

    throttle_duration: float = 2.0
    docker: DockerProviderConfig | None = None
    file: FileProviderConfig | None = None
    consul_catalog: ConsulCatalogProviderConfig | None = None
    consul: KVProviderConfig | None = None
    etcd: KVProviderConfig | None = None
    redis: KVProviderConfig | None = None
    zookeeper: KVProviderConfig | None = None
    kubernetes: KubernetesProviderConfig | None = None
    marathon: MarathonProviderConfig | None = None


@final
@attrs.frozen(kw_only=True)
class APIConfig:
    """The API and dashboard; ``insecure`` serves them on the ``entry_point`` entry point.

    ``users`` / ``users_file`` (v1's ``[web.auth.basic]``, htpasswd lines) put basic
    authentication in front of the whole admin entry point but ``/ping``.
    """

    dashboard: bool = True
    insecure: bool = False
    debug: bool = False
    entry_point: str = "traefik"
    users: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    users_file: str = ""


@final
@attrs.frozen(kw_only=True)
class MetricsConfig:
    """``[metrics.prometheus]``: Prometheus metrics on the ``entry_point`` entry point."""

    entry_point: str = "traefik"
    buckets: tuple[float, ...] = attrs.field(default=(0.1, 0.3, 1.2, 5.0), converter=frozen_tuple)


@final
@attrs.frozen(kw_only=True)
class PingConfig:
    """``[ping]``: ``/ping`` on the ``entry_point`` entry point."""

    entry_point: str = "traefik"


@final
@attrs.frozen(kw_only=True)
class AccessLogConfig:
    """Traefik's ``accessLog``: where, in which format, which requests and fields.

    Attributes:
        file_path: the file written (``""``: standard output).
        format: ``common`` (Traefik's Common Log Format) or ``json``.
        buffering_size: lines held before a write (0: written as they come).
        status_codes, retry_attempts, min_duration: the filters; with any set, a request
            is logged when it matches one of them.
        default_mode, names: the fields kept (``keep``) or dropped, by default and by name.
        headers_default_mode, header_names: the headers kept, dropped or ``redact``-ed
            (dropped unless said otherwise).
    """

    file_path: str = ""
    format: str = "common"
    buffering_size: int = 0
    status_codes: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    retry_attempts: bool = False
    min_duration: float = 0.0
    default_mode: str = "keep"
    names: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=frozen_map)
    headers_default_mode: str = "drop"
    header_names: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=frozen_map)

    @property
    def filtered(self) -> bool:
        """Whether any filter is set."""
        return bool(self.status_codes or self.retry_attempts or self.min_duration)


@final
@attrs.frozen(kw_only=True)
class StaticConfiguration:
    """A whole static configuration (the ``traefik.toml`` of a setup), v1 or v2/v3 shape.

    ``dynamic`` holds the ``frontends``/``backends`` a v1 file may carry inline (``None`` if it
    has none).  ``sources`` maps paths to ``file:line:column``, outside equality.
    """

    version: str = "v2"
    entry_points: FrozenMap[str, EntryPoint] = attrs.field(factory=FrozenMap, converter=frozen_map)
    default_entry_points: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    providers: ProvidersConfig = attrs.field(factory=ProvidersConfig)
    api: APIConfig | None = None
    metrics: MetricsConfig | None = None
    ping: PingConfig | None = None
    access_log: AccessLogConfig | None = None
    log_level: str = "ERROR"
    log_format: str = "common"
    log_file: str = ""
    default_rule_syntax: str = "v3"
    dynamic: Configuration | None = None
    sources: FrozenMap[str, str] = attrs.field(
        factory=FrozenMap, converter=frozen_map, eq=False, repr=False
    )
