"""Read static configuration files (``traefik.toml``), Traefik v1 and v2/v3 shapes, into one model.

Keys routekit does not use (``acme``, ``metrics``…) are reported as warnings and
ignored, so an existing file loads as it is; values of the wrong type are errors.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from ..errors import ConfigError, Problem
from ._address import parse_address
from ._static_model import (
    AccessLogConfig,
    APIConfig,
    ClientTLS,
    ConsulCatalogProviderConfig,
    DockerProviderConfig,
    EntryPoint,
    FileProviderConfig,
    IngressEndpointConfig,
    KubernetesProviderConfig,
    KVProviderConfig,
    MarathonProviderConfig,
    MetricsConfig,
    PingConfig,
    ProvidersConfig,
    StaticConfiguration,
)
from .files import Bad, Locator, V1Reader, decode_v1, or_default
from .model import FrozenMap
from .providers import DEFAULT_FRONTEND_RULE, DEFAULT_RULE

__all__ = ["STATIC_KEYS", "is_static", "static_from_data"]

_V1_PROVIDERS: Final = ("docker", "file", "consulCatalog", "consul", "etcd", "redis",
                         "zookeeper", "kubernetes", "marathon")  # fmt: skip
_V2_ONLY: Final = ("providers", "log", "core", "global", "certificatesResolvers", "experimental")
_V1_ONLY: Final = ("defaultEntryPoints", "logLevel", "web", "providersThrottleDuration",
                   "traefikLog", "acme", "frontends", "backends", "debug", "constraints",
                   "checkNewVersion", "insecureSkipVerify", *_V1_PROVIDERS)  # fmt: skip
_COMMON: Final = ("entryPoints", "api", "accessLog", "metrics", "ping", "tracing",
                  "serversTransport", "hostResolver", "sendAnonymousUsage")  # fmt: skip
#: Top-level keys that only a static configuration has.
STATIC_KEYS: Final = frozenset(k.lower() for k in (*_V2_ONLY, *_V1_ONLY, *_COMMON)) - {
    "frontends",
    "backends",
}
_KV_ENDPOINTS: Final = {
    "consul": "127.0.0.1:8500",
    "etcd": "127.0.0.1:2379",
    "redis": "127.0.0.1:6379",
    "zookeeper": "127.0.0.1:2181",
}

_V1_USED: Final = ("defaultEntryPoints", "logLevel", "web", "providersThrottleDuration",
                   "metrics", "ping", "traefikLog", *_V1_PROVIDERS)  # fmt: skip
_V2_USED: Final = ("providers", "log", "core", "metrics", "ping")

Table = dict[str, tuple[str, Any]]
_T = TypeVar("_T")


def is_static(data: Mapping[str, Any]) -> bool:
    """Whether parsed TOML data is a static configuration (told apart by its top-level keys)."""
    return any(k.lower() in STATIC_KEYS for k in data)


def static_from_data(
    data: Mapping[str, Any], locate: Locator
) -> tuple[StaticConfiguration, list[Problem]]:
    """Build the static model from parsed TOML data (v1 or v2 shape, detected)."""
    problems: list[Problem] = []
    r = V1Reader(locate, problems)
    lowered = {k.lower() for k in data}
    v1 = bool(lowered & {k.lower() for k in _V1_ONLY}) and not lowered & {
        k.lower() for k in _V2_ONLY
    }
    # Keys routekit has no use for (metrics, acme…) still mark a static file, but reading them
    # gives a "not used" warning.
    used = ("entryPoints", "api", "accessLog", "frontends", "backends")
    known = (*used, *(_V1_USED if v1 else _V2_USED))
    try:
        top = r.table(data, (), known, unknown="warn")
        config = (_v1 if v1 else _v2)(r, top, locate)
    except Bad:
        config = StaticConfiguration(version="v1" if v1 else "v2")
    return config, problems


def _kept(default: _T, read: Callable[[], _T]) -> _T:
    """What *read* gives, or *default* when the element is unusable (its problem recorded),
    so that every problem of a file is reported, not only the first."""
    try:
        return read()
    except Bad:
        return default


def _sub(
    r: V1Reader, t: Table, key: str, path: tuple[str, ...], known: tuple[str, ...]
) -> Table | None:
    entry = t.get(key.lower())
    if entry is None:
        return None
    return r.table(entry[1], (*path, entry[0]), known, unknown="warn")


def _entry_points(r: V1Reader, t: Table, v1: bool) -> dict[str, EntryPoint]:
    entry = t.get("entrypoints")
    if entry is None:
        return {}
    if not isinstance(entry[1], Mapping):
        raise r.fail((entry[0],), "expected a table of named entry points")
    out: dict[str, EntryPoint] = {}
    for name, value in entry[1].items():
        with contextlib.suppress(Bad):  # recorded: the next entry point is read all the same
            out[name] = _entry_point(r, (entry[0], name), value, v1)
    return out


def _entry_point(r: V1Reader, path: tuple[str, ...], value: Any, v1: bool) -> EntryPoint:
    keys = ("address", "tls", "redirect", "forwardedHeaders", "http", "asDefault")
    e = r.table(value, path, keys, unknown="warn")
    address = r.str_(e, "address", path)
    if address is None:
        raise r.fail(path, "missing address", 'e.g. address = ":80"')
    if address.strip().lower().endswith("/udp"):
        r.warn((*path, e["address"][0]), "a UDP entry point: routekit serves TCP only")
    else:
        try:
            parse_address(address)
        except ConfigError as exc:
            raise r.fail((*path, e["address"][0]), str(exc)) from None
    redirect = ""
    if v1:
        red = _sub(r, e, "redirect", path, ("entryPoint", "regex", "replacement", "permanent"))
        redirect = (red and r.str_(red, "entryPoint", (*path, "redirect"))) or ""
    else:
        http = _sub(r, e, "http", path, ("redirections", "tls", "middlewares"))
        red_t = http and _sub(r, http, "redirections", (*path, "http"), ("entryPoint",))
        ep = red_t and _sub(
            r,
            red_t,
            "entryPoint",
            (*path, "http", "redirections"),
            ("to", "scheme", "permanent"),
        )
        redirect = (ep and r.str_(ep, "to", (*path, "http", "redirections", "entryPoint"))) or ""
    fh = _sub(r, e, "forwardedHeaders", path, ("insecure", "trustedIPs"))
    fpath = (*path, "forwardedHeaders")
    return EntryPoint(
        address=address,
        tls="tls" in e,
        redirect_to=redirect,
        forwarded_headers_insecure=bool(fh and r.bool_(fh, "insecure", fpath)),
        trusted_ips=(fh and r.list_(fh, "trustedIPs", fpath)) or (),
    )


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
        tls=_client_tls(r, d, path),
    )


def _client_tls(r: V1Reader, t: Table, path: tuple[str, ...]) -> ClientTLS | None:
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
            "tls": _client_tls(r, e, epath),
        }
        auth = _sub(r, e, "httpAuth", epath, ("username", "password"))
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
            "tls": _client_tls(r, c, path),
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
        endpoints=endpoints or (_KV_ENDPOINTS[kind],),
        root_key=root.rstrip("/") or "traefik",
        watch=or_default(r.bool_(k, "watch", path), True),
        username=r.str_(k, "username", path) or "",
        password=r.str_(k, "password", path) or "",
        tls=_client_tls(r, k, path),
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
        tls=_client_tls(r, m, path),
    )


def _providers(
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
    elif name in _KV_ENDPOINTS:
        kw[name] = _kv(r, value, path, name, v1)
    elif name in ("kubernetes", "kubernetesingress"):
        kw["kubernetes"] = _kubernetes(r, value, path)
    elif name == "marathon":
        kw["marathon"] = _marathon(r, value, path, v1)


def _v1(r: V1Reader, top: Table, locate: Locator) -> StaticConfiguration:
    entry_points = _entry_points(r, top, v1=True)
    if not entry_points:
        # Traefik v1 without [entryPoints]: one "http" entry point on :80.
        entry_points = {"http": EntryPoint(address=":80")}
    defaults = r.list_(top, "defaultEntryPoints", ()) or tuple(entry_points)
    api = None
    v1_metrics = None
    if "web" in top:
        w = r.table(
            top["web"][1],
            (top["web"][0],),
            ("address", "readOnly", "statistics", "auth", "metrics", "path"),
            unknown="warn",
        )
        # v1 [web] served the API and dashboard on its own address (":8080" by default).
        where = (top["web"][0],)
        address = r.str_(w, "address", where) or ":8080"
        entry_points.setdefault("traefik", EntryPoint(address=address))
        no_users: tuple[tuple[str, ...], str] = ((), "")
        users, users_file = _kept(no_users, lambda: _web_auth(r, w, where))
        api = APIConfig(dashboard=True, insecure=True, users=users, users_file=users_file)
        for unused in ("readOnly", "statistics", "path"):
            if unused.lower() in w:
                r.warn(
                    (*where, w[unused.lower()][0]), f"'{unused}' is not used by routekit; ignored"
                )
        if "metrics" in w:
            v1_metrics = _kept(None, lambda: _metrics(r, w, where, default_entry_point="traefik"))
    if "api" in top:
        a = r.table(
            top["api"][1], (top["api"][0],), ("entryPoint", "dashboard", "debug"), unknown="warn"
        )
        path = (top["api"][0],)
        api = APIConfig(
            dashboard=or_default(r.bool_(a, "dashboard", path), True),
            insecure=True,
            debug=bool(r.bool_(a, "debug", path)),
            entry_point=r.str_(a, "entryPoint", path) or "traefik",
        )
        entry_points.setdefault(api.entry_point, EntryPoint(address=":8080"))
    tables = {
        name.lower(): ((top[name.lower()][0],), top[name.lower()][1])
        for name in _V1_PROVIDERS
        if name.lower() in top
    }
    throttle = _kept(2.0, lambda: or_default(r.duration(top, "providersThrottleDuration", ()), 2.0))
    dynamic = None
    raw_dynamic = {top[k][0]: top[k][1] for k in ("frontends", "backends") if k in top}
    if raw_dynamic:
        dynamic, more = decode_v1(raw_dynamic, locate)
        r.problems.extend(more)
    log_format, log_file = _kept(("common", ""), lambda: _log_output(r, top, "traefikLog"))
    return StaticConfiguration(
        version="v1",
        entry_points=entry_points,
        default_entry_points=defaults,
        providers=_providers(r, tables, True, throttle),
        api=api,
        metrics=_kept(None, lambda: _metrics(r, top, (), default_entry_point="traefik"))
        or v1_metrics,
        ping=_kept(None, lambda: _ping(r, top)),
        access_log=_kept(None, lambda: _access_log(r, top)),
        log_level=(r.str_(top, "logLevel", ()) or "ERROR").upper(),
        log_format=log_format,
        log_file=log_file,
        default_rule_syntax="v1",
        dynamic=dynamic,
        sources=_sources(locate),
    )


def _v2(r: V1Reader, top: Table, locate: Locator) -> StaticConfiguration:
    entry_points = _entry_points(r, top, v1=False)
    if not entry_points:
        entry_points = {"http": EntryPoint(address=":80")}
    tables: dict[str, tuple[tuple[str, ...], Any]] = {}
    throttle = 2.0
    if "providers" in top:
        key, value = top["providers"]
        names = ("providersThrottleDuration", "docker", "file", "consulCatalog", "consul", "etcd",
                 "redis", "zooKeeper", "kubernetesIngress", "marathon")  # fmt: skip
        p = r.table(value, (key,), names, unknown="warn")
        throttle = _kept(
            2.0, lambda: or_default(r.duration(p, "providersThrottleDuration", (key,)), 2.0)
        )
        for name, (written, v) in p.items():
            if name != "providersthrottleduration":
                tables[name] = ((key, written), v)
    api = None
    if "api" in top:
        path = (top["api"][0],)
        a = r.table(top["api"][1], path, ("dashboard", "insecure", "debug"), unknown="warn")
        api = APIConfig(
            dashboard=or_default(r.bool_(a, "dashboard", path), True),
            insecure=bool(r.bool_(a, "insecure", path)),
            debug=bool(r.bool_(a, "debug", path)),
        )
        if api.insecure:
            entry_points.setdefault("traefik", EntryPoint(address=":8080"))
    level = "ERROR"
    if "log" in top:
        path = (top["log"][0],)
        lg = r.table(top["log"][1], path, ("level", "format", "filePath"), unknown="warn")
        level = (r.str_(lg, "level", path) or level).upper()
    log_format, log_file = _kept(("common", ""), lambda: _log_output(r, top, "log"))
    syntax = "v3"
    if "core" in top:
        path = (top["core"][0],)
        core = r.table(top["core"][1], path, ("defaultRuleSyntax",), unknown="warn")
        syntax = r.str_(core, "defaultRuleSyntax", path) or syntax
        if syntax not in ("v2", "v3"):
            raise r.fail(
                (*path, "defaultRuleSyntax"), f"unknown rule syntax {syntax!r}", "use v2 or v3"
            )
    return StaticConfiguration(
        version="v2",
        entry_points=entry_points,
        default_entry_points=tuple(entry_points),
        providers=_providers(r, tables, False, throttle),
        api=api,
        metrics=_kept(None, lambda: _metrics(r, top, (), default_entry_point="traefik")),
        ping=_kept(None, lambda: _ping(r, top)),
        access_log=_kept(None, lambda: _access_log(r, top)),
        log_level=level,
        log_format=log_format,
        log_file=log_file,
        default_rule_syntax=syntax,
        sources=_sources(locate),
    )


def _web_auth(r: V1Reader, w: Table, where: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
    """v1's ``[web.auth.basic]``: its users and users file (digest is refused: not served)."""
    entry = w.get("auth")
    if entry is None:
        return (), ""
    path = (*where, entry[0])
    auth = r.table(entry[1], path, ("basic", "digest", "headerField"), unknown="warn")
    if "digest" in auth:
        raise r.fail((*path, auth["digest"][0]), "digest authentication of the admin is not "
                     "supported", "use [web.auth.basic]")  # fmt: skip
    basic = auth.get("basic")
    if basic is None:
        return (), ""
    bpath = (*path, basic[0])
    b = r.table(basic[1], bpath, ("users", "usersFile"), unknown="warn")
    users = r.list_(b, "users", bpath) or ()
    users_file = r.str_(b, "usersFile", bpath) or ""
    if not users and not users_file:
        raise r.fail(bpath, "no users", 'set users = ["name:hash"] or usersFile')
    return users, users_file


def _metrics(
    r: V1Reader, t: Table, where: tuple[str, ...], *, default_entry_point: str
) -> MetricsConfig | None:
    """``[metrics.prometheus]`` (the other backends are warned about: not served)."""
    entry = t.get("metrics")
    if entry is None:
        return None
    path = (*where, entry[0])
    backends = ("prometheus", "datadog", "statsd", "influxDB", "influxDB2", "otlp")
    m = r.table(entry[1], path, backends, unknown="warn")
    for name, (written, _) in m.items():
        if name != "prometheus":
            r.warn((*path, written), f"'{written}' metrics are not served by routekit; ignored",
                   "routekit serves Prometheus metrics")  # fmt: skip
    prom = m.get("prometheus")
    if prom is None:
        return None
    ppath = (*path, prom[0])
    keys = ("entryPoint", "buckets", "addEntryPointsLabels", "addRoutersLabels",
            "addServicesLabels", "manualRouting", "headerLabels")  # fmt: skip
    p = r.table(prom[1] if isinstance(prom[1], dict) else {}, ppath, keys, unknown="warn")
    if r.bool_(p, "manualRouting", ppath):
        r.warn((*ppath, p["manualrouting"][0]), "manualRouting is not supported; /metrics is "
               "served on the entry point")  # fmt: skip
    buckets: tuple[float, ...] = (0.1, 0.3, 1.2, 5.0)
    raw = p.get("buckets")
    if raw is not None:
        values = raw[1] if isinstance(raw[1], list) else str(raw[1]).split(",")
        try:
            buckets = tuple(sorted(float(v) for v in values))
        except (TypeError, ValueError):
            raise r.fail((*ppath, raw[0]), "expected a list of numbers") from None
    return MetricsConfig(
        entry_point=r.str_(p, "entryPoint", ppath) or default_entry_point, buckets=buckets
    )


def _ping(r: V1Reader, top: Table) -> PingConfig | None:
    entry = top.get("ping")
    if entry is None:
        return None
    path = (entry[0],)
    keys = ("entryPoint", "manualRouting", "terminatingStatusCode")
    p = r.table(entry[1] if isinstance(entry[1], dict) else {}, path, keys, unknown="warn")
    return PingConfig(entry_point=r.str_(p, "entryPoint", path) or "traefik")


def _log_output(r: V1Reader, top: Table, key: str) -> tuple[str, str]:
    """The log's ``format`` (``common`` or ``json``) and ``filePath``."""
    entry = top.get(key.lower())
    if entry is None:
        return "common", ""
    path = (entry[0],)
    t = r.table(entry[1], path, ("level", "format", "filePath", "noColor", "maxSize",
                                  "maxAge", "maxBackups", "compress"), unknown="warn")  # fmt: skip
    form = (r.str_(t, "format", path) or "common").lower()
    if form not in ("common", "json"):
        raise r.fail((*path, t["format"][0]), f"unknown log format {form!r}", "use common or json")
    return form, r.str_(t, "filePath", path) or ""


_MODES: Final = ("keep", "drop", "redact")


def _modes(
    r: V1Reader, t: Table, key: str, path: tuple[str, ...], allowed: tuple[str, ...]
) -> dict[str, str]:
    names = r.str_map(t, key, path) or {}
    for name, mode in names.items():
        if mode.lower() not in allowed:
            raise r.fail((*path, key, name), f"unknown mode {mode!r}", " or ".join(allowed))
    return {k: v.lower() for k, v in names.items()}


def _access_log(r: V1Reader, top: Table) -> AccessLogConfig | None:
    """The ``accessLog`` section, the same in v1 and v2/v3."""
    if "accesslog" not in top:
        return None
    key, value = top["accesslog"]
    path = (key,)
    if value is True or value == {}:
        return AccessLogConfig()
    a = r.table(value, path, ("filePath", "format", "bufferingSize", "filters", "fields"))
    fmt = (r.str_(a, "format", path) or "common").lower()
    if fmt not in ("common", "json"):
        raise r.fail((*path, "format"), f"unknown format {fmt!r}", "common or json")
    filters: Table = {}
    fpath: tuple[str, ...] = path
    if "filters" in a:
        fpath = (*path, a["filters"][0])
        filters = r.table(a["filters"][1], fpath, ("statusCodes", "retryAttempts", "minDuration"))
    fields: Table = {}
    headers: Table = {}
    hpath: tuple[str, ...] = path
    fieldpath: tuple[str, ...] = path
    if "fields" in a:
        fieldpath = (*path, a["fields"][0])
        fields = r.table(a["fields"][1], fieldpath, ("defaultMode", "names", "headers"))
        if "headers" in fields:
            hpath = (*fieldpath, fields["headers"][0])
            headers = r.table(fields["headers"][1], hpath, ("defaultMode", "names"))
    default = (r.str_(fields, "defaultMode", fieldpath) or "keep").lower()
    header_default = (r.str_(headers, "defaultMode", hpath) or "drop").lower()
    for mode, where, allowed in ((default, fieldpath, _MODES[:2]), (header_default, hpath, _MODES)):
        if mode not in allowed:
            raise r.fail((*where, "defaultMode"), f"unknown mode {mode!r}", " or ".join(allowed))
    return AccessLogConfig(
        file_path=r.str_(a, "filePath", path) or "",
        format=fmt,
        buffering_size=r.int_(a, "bufferingSize", path) or 0,
        status_codes=r.list_(filters, "statusCodes", fpath) or (),
        retry_attempts=bool(r.bool_(filters, "retryAttempts", fpath)),
        min_duration=r.duration(filters, "minDuration", fpath) or 0.0,
        default_mode=default,
        names=_modes(r, fields, "names", fieldpath, _MODES[:2]),
        headers_default_mode=header_default,
        header_names=_modes(r, headers, "names", hpath, _MODES),
    )


def _sources(locate: Locator) -> FrozenMap[str, str]:
    return FrozenMap(
        (".".join(path), f"{locate.source}:{line}:{col}")
        for path, (line, col) in locate.positions.items()
    )
