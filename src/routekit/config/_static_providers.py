"""The static configuration's provider sections (``[providers.docker]``, v1 ``[docker]``…),
read into their models by `routekit.config._static`'s reader."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any, Final

from ._static_model import (
    ClientTLS,
    ConsulCatalogProviderConfig,
    DockerProviderConfig,
    FileProviderConfig,
    IngressEndpointConfig,
    KubernetesProviderConfig,
    KVProviderConfig,
    MarathonProviderConfig,
    ProvidersConfig,
)
from .files import Bad, V1Reader, or_default
from .providers import DEFAULT_FRONTEND_RULE, DEFAULT_RULE

__all__ = ["KV_ENDPOINTS", "Table", "client_tls", "provider_sections", "sub"]

Table = dict[str, tuple[str, Any]]


def sub(
    r: V1Reader, t: Table, key: str, path: tuple[str, ...], known: tuple[str, ...]
) -> Table | None:
    """The sub-table *key* of *t*, read with its *known* keys (``None`` when absent)."""
    entry = t.get(key.lower())
    if entry is None:
        return None
    return r.table(entry[1], (*path, entry[0]), known, unknown="warn")


KV_ENDPOINTS: Final = {
    "consul": "127.0.0.1:8500",
    "etcd": "127.0.0.1:2379",
    "redis": "127.0.0.1:6379",
    "zookeeper": "127.0.0.1:2181",
}


def _docker(r: V1Reader, t: Table, path: tuple[str, ...], v1: bool) -> DockerProviderConfig:
    keys = ("endpoint", "domain", "watch", "exposedByDefault", "defaultRule", "network",
            "useBindPortIP", "swarmMode", "constraints", "tls", "allowEmptyServices",
            "httpClientTimeout")  # fmt: skip
    d = r.table(t, path, keys, unknown="warn")
    return DockerProviderConfig(
        endpoint=r.str_(d, "endpoint", path) or "unix:///var/run/docker.sock",
        domain=r.str_(d, "domain", path) or "",
        watch=or_default(r.bool_(d, "watch", path), True),
        exposed_by_default=or_default(r.bool_(d, "exposedByDefault", path), True),
        # v1's rule (Host:<name>.<domain>) is the v1 label decoder's own default.
        default_rule=r.str_(d, "defaultRule", path) or DEFAULT_RULE,
        network=r.str_(d, "network", path) or "",
        use_bind_port_ip=bool(r.bool_(d, "useBindPortIP", path)),
        swarm_mode=bool(r.bool_(d, "swarmMode", path)),
        constraints=_constraints(r, d, path),
        allow_empty_services=bool(r.bool_(d, "allowEmptyServices", path)),
        http_client_timeout=or_default(r.duration(d, "httpClientTimeout", path), 0.0),
        tls=client_tls(r, d, path),
    )


def client_tls(r: V1Reader, t: Table, path: tuple[str, ...]) -> ClientTLS | None:
    entry = t.get("tls")
    if entry is None:
        return None
    where = (*path, entry[0])
    keys = ("ca", "cert", "key", "insecureSkipVerify", "caOptional")
    c = r.table(entry[1], where, keys, unknown="warn")
    return ClientTLS(
        ca=r.str_(c, "ca", where) or "",
        cert=r.str_(c, "cert", where) or "",
        key=r.str_(c, "key", where) or "",
        insecure_skip_verify=bool(r.bool_(c, "insecureSkipVerify", where)),
    )


def _constraints(r: V1Reader, d: Table, path: tuple[str, ...]) -> str:
    entry = d.get("constraints")
    if entry is None:
        return ""
    if isinstance(entry[1], list):
        # v1: a list of "tag==api"-style expressions, all of which must hold.
        return " && ".join(str(x) for x in entry[1])
    return r.str_(d, "constraints", path) or ""


def _file(r: V1Reader, t: Table, path: tuple[str, ...], v1: bool) -> FileProviderConfig:
    f = r.table(t, path, ("filename", "directory", "watch"), unknown="warn")
    return FileProviderConfig(
        filename=r.str_(f, "filename", path) or "",
        directory=r.str_(f, "directory", path) or "",
        # v1's file provider did not watch unless told to; v2/v3 watch by default.
        watch=or_default(r.bool_(f, "watch", path), not v1),
    )


def _consul_catalog(
    r: V1Reader, t: Table, path: tuple[str, ...], v1: bool
) -> ConsulCatalogProviderConfig:
    keys = ("endpoint", "domain", "prefix", "exposedByDefault", "defaultRule", "frontEndRule",
            "strictChecks", "refreshInterval", "watch", "constraints", "serviceName",
            "stale", "token", "tls", "scheme", "datacenter", "namespace",
            "namespaces")  # fmt: skip
    c = r.table(t, path, keys, unknown="warn")
    endpoint = "127.0.0.1:8500"
    entry = c.get("endpoint")
    located: dict[str, Any] = {}
    if entry is not None and isinstance(entry[1], Mapping):
        epath = (*path, entry[0])
        e = r.table(
            entry[1],
            epath,
            ("address", "scheme", "datacenter", "token", "tls", "httpAuth", "endpointWaitTime"),
            unknown="warn",
        )
        endpoint = r.str_(e, "address", epath) or endpoint
        located = {
            "scheme": r.str_(e, "scheme", epath) or "http",
            "datacenter": r.str_(e, "datacenter", epath) or "",
            "token": r.str_(e, "token", epath) or "",
            "tls": client_tls(r, e, epath),
        }
        auth = sub(r, e, "httpAuth", epath, ("username", "password"))
        if auth is not None:
            apath = (*epath, "httpAuth")
            located["username"] = r.str_(auth, "username", apath) or ""
            located["password"] = r.str_(auth, "password", apath) or ""
    elif entry is not None:
        endpoint = r.str_(c, "endpoint", path) or endpoint
    strict: tuple[str, ...] = ("passing", "warning")
    s_entry = c.get("strictchecks")
    if s_entry is not None and isinstance(s_entry[1], bool):
        # v1: strictChecks = true keeps only "passing" instances (the default); false adds warning.
        strict = ("passing",) if s_entry[1] else ("passing", "warning")
    elif s_entry is not None:
        strict = r.list_(c, "strictChecks", path) or strict
    elif v1:
        strict = ("passing",)
    rule = r.str_(c, "defaultRule", path) or r.str_(c, "frontEndRule", path)
    return ConsulCatalogProviderConfig(
        endpoint=endpoint,
        domain=r.str_(c, "domain", path) or "",
        prefix=r.str_(c, "prefix", path) or "traefik",
        exposed_by_default=or_default(r.bool_(c, "exposedByDefault", path), True),
        default_rule=rule or (DEFAULT_FRONTEND_RULE if v1 else DEFAULT_RULE),
        strict_checks=strict,
        refresh_interval=or_default(r.duration(c, "refreshInterval", path), 15.0),
        # Traefik 1.7 always followed the catalog (blocking queries); v2/v3 poll unless told.
        watch=or_default(r.bool_(c, "watch", path), v1),
        constraints=_constraints(r, c, path),
        service_name=r.str_(c, "serviceName", path) or "traefik",
        stale=bool(r.bool_(c, "stale", path)),
        syntax="v1" if v1 else "v2",
        namespaces=_namespaces(r, c, path),
        # v1 puts token, tls, scheme and datacenter beside endpoint; v2/v3 inside [endpoint].
        **{
            "token": r.str_(c, "token", path) or "",
            "scheme": r.str_(c, "scheme", path) or "http",
            "datacenter": r.str_(c, "datacenter", path) or "",
            "tls": client_tls(r, c, path),
            **located,
        },
    )


def _kv(r: V1Reader, t: Table, path: tuple[str, ...], kind: str, v1: bool) -> KVProviderConfig:
    keys = ("endpoint", "endpoints", "prefix", "rootKey", "watch", "username", "password",
            "tls", "db", "token")  # fmt: skip
    k = r.table(t, path, keys, unknown="warn")
    endpoints = r.list_(k, "endpoints", path) or r.list_(k, "endpoint", path)
    # Traefik 1.x's prefix is "/traefik" (its KV keys start with "/"), 2.x's rootKey "traefik":
    # a leading "/" is part of the keys looked up, a trailing one is not.
    root = r.str_(k, "rootKey", path) or r.str_(k, "prefix", path) or ("/traefik" if v1 else "")
    return KVProviderConfig(
        endpoints=endpoints or (KV_ENDPOINTS[kind],),
        root_key=root.rstrip("/") or "traefik",
        watch=or_default(r.bool_(k, "watch", path), True),
        username=r.str_(k, "username", path) or "",
        password=r.str_(k, "password", path) or "",
        tls=client_tls(r, k, path),
        db=or_default(r.int_(k, "db", path), 0),
        token=r.str_(k, "token", path) or "",
    )


def _namespaces(
    r: V1Reader, t: Mapping[str, tuple[str, Any]], path: tuple[str, ...]
) -> tuple[str, ...]:
    """v3's ``namespaces`` list, or v2's single ``namespace`` (deprecated there)."""
    listed = r.list_(t, "namespaces", path)
    if listed:
        return tuple(listed)
    one = r.str_(t, "namespace", path)
    return (one,) if one else ()


def _kubernetes(r: V1Reader, t: Table, path: tuple[str, ...]) -> KubernetesProviderConfig:
    keys = ("endpoint", "token", "certAuthFilePath", "namespaces", "labelSelector",
            "ingressClass", "ingressEndpoint", "throttleDuration", "allowEmptyServices",
            "allowExternalNameServices", "nativeLBByDefault", "strictPrefixMatching",
            "disableIngressClassLookup", "disableClusterScopeResources",
            "crossProviderNamespaces")  # fmt: skip
    k = r.table(t, path, keys, unknown="warn")
    endpoint = None
    entry = k.get("ingressendpoint")
    if entry is not None:
        where = (*path, entry[0])
        e = r.table(entry[1], where, ("ip", "hostname", "publishedService"), unknown="warn")
        endpoint = IngressEndpointConfig(
            ip=r.str_(e, "ip", where) or "",
            hostname=r.str_(e, "hostname", where) or "",
            published_service=r.str_(e, "publishedService", where) or "",
        )
    cross = r.list_(k, "crossProviderNamespaces", path)
    return KubernetesProviderConfig(
        endpoint=r.str_(k, "endpoint", path) or "",
        token=r.str_(k, "token", path) or "",
        cert_auth_file_path=r.str_(k, "certAuthFilePath", path) or "",
        namespaces=r.list_(k, "namespaces", path) or (),
        label_selector=r.str_(k, "labelSelector", path) or "",
        ingress_class=r.str_(k, "ingressClass", path) or "",
        ingress_endpoint=endpoint,
        throttle_duration=or_default(r.duration(k, "throttleDuration", path), 0.0),
        allow_empty_services=bool(r.bool_(k, "allowEmptyServices", path)),
        allow_external_name_services=bool(r.bool_(k, "allowExternalNameServices", path)),
        native_lb_by_default=bool(r.bool_(k, "nativeLBByDefault", path)),
        strict_prefix_matching=bool(r.bool_(k, "strictPrefixMatching", path)),
        disable_ingress_class_lookup=bool(r.bool_(k, "disableIngressClassLookup", path)),
        disable_cluster_scope_resources=bool(r.bool_(k, "disableClusterScopeResources", path)),
        cross_provider_namespaces=None if cross is None else tuple(cross),
    )


def _marathon(r: V1Reader, t: Table, path: tuple[str, ...], v1: bool) -> MarathonProviderConfig:
    keys = ("endpoint", "watch", "defaultRule", "exposedByDefault", "constraints", "domain",
            "dcosToken", "tls", "basic", "forceTaskHostname", "respectReadinessChecks",
            "responseHeaderTimeout", "dialerTimeout", "tlsHandshakeTimeout", "keepAlive",
            "trace")  # fmt: skip
    m = r.table(t, path, keys, unknown="warn")
    user = password = ""
    entry = m.get("basic")
    if entry is not None:
        where = (*path, entry[0])
        b = r.table(entry[1], where, ("httpBasicAuthUser", "httpBasicPassword"), unknown="warn")
        user = r.str_(b, "httpBasicAuthUser", where) or ""
        password = r.str_(b, "httpBasicPassword", where) or ""
    return MarathonProviderConfig(
        endpoint=r.str_(m, "endpoint", path) or "http://127.0.0.1:8080",
        watch=or_default(r.bool_(m, "watch", path), True),
        # v1's rule (Host:<app>.<domain>) is the v1 label decoder's own default.
        default_rule=r.str_(m, "defaultRule", path) or ("" if v1 else DEFAULT_RULE),
        exposed_by_default=or_default(r.bool_(m, "exposedByDefault", path), True),
        constraints=_constraints(r, m, path),
        domain=r.str_(m, "domain", path) or "",
        dcos_token=r.str_(m, "dcosToken", path) or "",
        basic_user=user,
        basic_password=password,
        force_task_hostname=bool(r.bool_(m, "forceTaskHostname", path)),
        respect_readiness_checks=bool(r.bool_(m, "respectReadinessChecks", path)),
        response_header_timeout=or_default(r.duration(m, "responseHeaderTimeout", path), 0.0),
        tls=client_tls(r, m, path),
    )


def provider_sections(
    r: V1Reader, tables: Mapping[str, tuple[tuple[str, ...], Any]], v1: bool, throttle: float
) -> ProvidersConfig:
    kw: dict[str, Any] = {"throttle_duration": throttle}
    for name, (path, value) in tables.items():
        with contextlib.suppress(Bad):  # recorded: the other providers are read all the same
            _provider(r, kw, name, path, value, v1)
    return ProvidersConfig(**kw)


def _provider(  # noqa: PLR0917
    r: V1Reader, kw: dict[str, Any], name: str, path: tuple[str, ...], value: Any, v1: bool
) -> None:
    if name == "docker":
        kw["docker"] = _docker(r, value, path, v1)
    elif name == "file":
        kw["file"] = _file(r, value, path, v1)
    elif name == "consulcatalog":
        kw["consul_catalog"] = _consul_catalog(r, value, path, v1)
    elif name in KV_ENDPOINTS:
        kw[name] = _kv(r, value, path, name, v1)
    elif name in ("kubernetes", "kubernetesingress"):
        kw["kubernetes"] = _kubernetes(r, value, path)
    elif name == "marathon":
        kw["marathon"] = _marathon(r, value, path, v1)
