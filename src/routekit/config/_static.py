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
    EntryPoint,
    MetricsConfig,
    PingConfig,
    StaticConfiguration,
)
from ._static_providers import Table, provider_sections, sub
from .files import Bad, Locator, V1Reader, decode_v1, or_default
from .model import FrozenMap

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

_V1_USED: Final = ("defaultEntryPoints", "logLevel", "web", "providersThrottleDuration",
                   "metrics", "ping", "traefikLog", *_V1_PROVIDERS)  # fmt: skip
_V2_USED: Final = ("providers", "log", "core", "metrics", "ping")

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
        red = sub(r, e, "redirect", path, ("entryPoint", "regex", "replacement", "permanent"))
        redirect = (red and r.str_(red, "entryPoint", (*path, "redirect"))) or ""
    else:
        http = sub(r, e, "http", path, ("redirections", "tls", "middlewares"))
        red_t = http and sub(r, http, "redirections", (*path, "http"), ("entryPoint",))
        ep = red_t and sub(
            r,
            red_t,
            "entryPoint",
            (*path, "http", "redirections"),
            ("to", "scheme", "permanent"),
        )
        redirect = (ep and r.str_(ep, "to", (*path, "http", "redirections", "entryPoint"))) or ""
    fh = sub(r, e, "forwardedHeaders", path, ("insecure", "trustedIPs"))
    fpath = (*path, "forwardedHeaders")
    return EntryPoint(
        address=address,
        tls="tls" in e,
        redirect_to=redirect,
        forwarded_headers_insecure=bool(fh and r.bool_(fh, "insecure", fpath)),
        trusted_ips=(fh and r.list_(fh, "trustedIPs", fpath)) or (),
    )


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
        providers=provider_sections(r, tables, True, throttle),
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
        providers=provider_sections(r, tables, False, throttle),
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
    buckets = MetricsConfig().buckets
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
