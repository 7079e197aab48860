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
    "ConsulCatalogProviderConfig",
    "DockerProviderConfig",
    "EntryPoint",
    "FileProviderConfig",
    "KVProviderConfig",
    "KubernetesProviderConfig",
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


@final
@attrs.frozen(kw_only=True)
class KVProviderConfig:
    """A KV store provider (``consul``, ``etcd``, ``redis``, ``zookeeper``)."""

    endpoints: tuple[str, ...] = attrs.field(converter=frozen_tuple)
    root_key: str = "traefik"
    watch: bool = True
    username: str = ""
    password: str = ""


@final
@attrs.frozen(kw_only=True)
class KubernetesProviderConfig:
    """``[kubernetes]`` / ``[providers.kubernetesIngress]``."""

    endpoint: str = ""
    token: str = ""
    namespaces: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    label_selector: str = ""
    ingress_class: str = ""


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


@final
@attrs.frozen(kw_only=True)
class APIConfig:
    """The API and dashboard; ``insecure`` serves them on the ``entry_point`` entry point."""

    dashboard: bool = True
    insecure: bool = False
    debug: bool = False
    entry_point: str = "traefik"


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
    log_level: str = "ERROR"
    default_rule_syntax: str = "v3"
    dynamic: Configuration | None = None
    sources: FrozenMap[str, str] = attrs.field(
        factory=FrozenMap, converter=frozen_map, eq=False, repr=False
    )
