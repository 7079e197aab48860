"""Traefik v1 dynamic TOML (``[frontends.f]``, ``[backends.b]``) → the one v2/v3 model.

A frontend becomes a router named after it, a backend a load-balancer service.  The frontend's
routes are ANDed (v1 semantics), translated to the v3 rule syntax by `routekit.rules.translate`,
and the v1 priority is written out explicitly: the sum of the routes' rule lengths in bytes unless
``priority > 0`` (``v1.7:server/server_configuration.go`` ``buildServerRoute``) — the translated
rule has another length, so leaving priority 0 would reorder routes.  Rule modifiers
(``PathPrefixStrip``, ``AddPrefix``…) and frontend/backend options that v2 moved to middlewares
(basic auth, white list, redirect, headers, rate limit, error pages, circuit breaker, max
connections, buffering) become middlewares named ``<frontend or backend>-<type>``.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from ...errors import Problem, RuleSyntaxError
from ...rules import UnrepresentableRule, translate
from ..model import (
    BasicAuth,
    Buffering,
    CertInfo,
    CertIssuerInfo,
    CertSubjectInfo,
    CircuitBreaker,
    Configuration,
    Cookie,
    DigestAuth,
    Errors,
    ForwardAuth,
    ForwardAuthTLS,
    FrozenMap,
    Headers,
    HealthCheck,
    HTTPConfiguration,
    InFlightReq,
    IPAllowList,
    IPStrategy,
    LoadBalancer,
    Middleware,
    PassTLSClientCert,
    RateLimit,
    RedirectRegex,
    RedirectScheme,
    ResponseForwarding,
    Router,
    Server,
    Service,
    SourceCriterion,
    Sticky,
    middleware_from_definition,
)
from ._v1_reader import Bad, V1Reader, or_default

__all__ = ["decode_v1"]

_FRONTEND_KEYS = (
    "backend", "priority", "passHostHeader", "entryPoints", "routes", "basicAuth", "auth",
    "whiteList", "whitelistSourceRange", "redirect", "headers", "rateLimit", "errors",
    "passTLSCert", "passTLSClientCert",
)  # fmt: skip
_BACKEND_KEYS = (
    "servers", "loadBalancer", "healthCheck", "circuitBreaker", "maxConn", "buffering",
    "responseForwarding",
)  # fmt: skip
#: v1 ``[frontends.<f>.headers]`` key → `Headers` attribute.
_HEADER_KEYS: Final = {
    "customRequestHeaders": "custom_request_headers",
    "customResponseHeaders": "custom_response_headers",
    "allowedHosts": "allowed_hosts",
    "hostsProxyHeaders": "hosts_proxy_headers",
    "SSLProxyHeaders": "ssl_proxy_headers",
    "STSSeconds": "sts_seconds",
    "STSIncludeSubdomains": "sts_include_subdomains",
    "STSPreload": "sts_preload",
    "forceSTSHeader": "force_sts_header",
    "frameDeny": "frame_deny",
    "customFrameOptionsValue": "custom_frame_options_value",
    "contentTypeNosniff": "content_type_nosniff",
    "browserXSSFilter": "browser_xss_filter",
    "customBrowserXSSValue": "custom_browser_xss_value",
    "contentSecurityPolicy": "content_security_policy",
    "publicKey": "public_key",
    "referrerPolicy": "referrer_policy",
    "isDevelopment": "is_development",
}
#: v1 headers options that redirect to https; Traefik v3 has redirect middlewares instead.
_SSL_KEYS: Final = ("SSLRedirect", "SSLTemporaryRedirect", "SSLHost", "SSLForceHost")
_READERS: Final[Mapping[object, Callable[..., object]]] = {
    bool: V1Reader.bool_,
    int: V1Reader.int_,
    str: V1Reader.str_,
    tuple: V1Reader.list_,
    FrozenMap: V1Reader.str_map,
}
#: `Headers` attribute → the reader for its type (``contentTypeNosniff`` is a boolean…).
_HEADER_READERS: Final = {
    attr: _READERS[typing.get_origin(tp) or tp]
    for attr, tp in typing.get_type_hints(Headers).items()
    if attr in _HEADER_KEYS.values()
}


def decode_v1(
    data: Mapping[str, Any], locate: Callable[[tuple[str, ...]], str]
) -> tuple[Configuration, list[Problem]]:
    """Translate parsed v1 ``frontends``/``backends`` tables into a `Configuration`."""
    problems: list[Problem] = []
    r = V1Reader(locate, problems)
    sources: dict[str, str] = {}
    for key in data:
        if key.lower() not in ("frontends", "backends", "tls"):
            r.warn((key,), f"unknown key {key!r} in a v1 dynamic file; ignored")
    services: dict[str, Service] = {}
    backend_middlewares: dict[str, list[tuple[str, Middleware]]] = {}
    for name, table in sorted(_section(r, data, "backends").items()):
        path = ("backends", name)
        try:
            services[name], backend_middlewares[name] = _backend(r, table, path)
            sources[f"http.services.{name}"] = locate(path)
        except Bad:
            continue
    routers: dict[str, Router] = {}
    middlewares: dict[str, Middleware] = {}
    pass_host: dict[str, tuple[bool, str]] = {}
    # Traefik v1 adds frontends in name order (sortedFrontendNamesForConfig).
    for name, table in sorted(_section(r, data, "frontends").items()):
        path = ("frontends", name)
        try:
            router, own, host_header = _frontend(r, name, table, path)
        except Bad:
            continue
        for mname, middleware in backend_middlewares.get(router.service, []):
            middlewares[mname] = middleware
            own.append((mname, middleware))
        router = attrs.evolve(router, middlewares=(*router.middlewares, *(n for n, _ in own)))
        middlewares.update(own)
        routers[name] = router
        sources[f"http.routers.{name}"] = locate(path)
        if host_header is not None and router.service in services:
            earlier = pass_host.setdefault(router.service, (host_header, name))
            if earlier[0] != host_header:
                r.warn(
                    (*path, "passHostHeader"),
                    f"backend {router.service!r} is shared with frontend {earlier[1]!r}, which "
                    f"sets passHostHeader = {str(earlier[0]).lower()}; the first one applies",
                )
    for backend, (value, _) in pass_host.items():
        lb = services[backend].load_balancer
        if lb is not None and lb.pass_host_header != value:
            services[backend] = Service(load_balancer=attrs.evolve(lb, pass_host_header=value))
    config = Configuration(
        http=HTTPConfiguration(routers=routers, services=services, middlewares=middlewares),
        sources=FrozenMap(sources),
    )
    return config, problems


def _section(r: V1Reader, data: Mapping[str, Any], key: str) -> dict[str, Any]:
    for k, v in data.items():
        if k.lower() == key:
            if not isinstance(v, Mapping):
                r.fail((k,), "expected a table of named entries")  # recorded; nothing to read
                return {}
            return dict(v)
    return {}


# --- backends --------------------------------------------------------------------------------


def _backend(
    r: V1Reader, value: Any, path: tuple[str, ...]
) -> tuple[Service, list[tuple[str, Middleware]]]:
    t = r.table(value, path, _BACKEND_KEYS)
    name = path[-1]
    servers: list[Server] = []
    if "servers" in t:
        key, table = t["servers"]
        if not isinstance(table, Mapping):
            raise r.fail((*path, key), "expected a table of named servers")
        for sname, svalue in sorted(table.items()):
            spath = (*path, key, sname)
            s = r.table(svalue, spath, ("url", "weight"))
            url = r.str_(s, "url", spath)
            if url is None:
                raise r.fail(spath, "missing url")
            weight = r.int_(s, "weight", spath)
            # v1.7 oxy: a weight of 0 (or none) counts as 1 (roundrobin.Weight default).
            servers.append(Server(url=url, weight=weight if weight else 1))
    sticky = None
    if "loadbalancer" in t:
        key, table = t["loadbalancer"]
        lpath = (*path, key)
        lb = r.table(table, lpath, ("method", "sticky", "stickiness"))
        method = r.str_(lb, "method", lpath)
        if method is not None and method.lower() not in ("wrr", "drr"):
            raise r.fail((*lpath, "method"), f"unknown method {method!r}", "use 'wrr' or 'drr'")
        if method is not None and method.lower() == "drr":
            r.warn((*lpath, "method"), "'drr' has no v2/v3 equivalent; 'wrr' is used")
        if r.bool_(lb, "sticky", lpath):
            sticky = Sticky(cookie=Cookie())
        if "stickiness" in lb:
            skey, sval = lb["stickiness"]
            spath = (*lpath, skey)
            st = r.table(sval, spath, ("cookieName", "secure", "httpOnly", "sameSite"))
            sticky = Sticky(
                cookie=Cookie(
                    name=r.str_(st, "cookieName", spath) or "",
                    secure=bool(r.bool_(st, "secure", spath)),
                    http_only=bool(r.bool_(st, "httpOnly", spath)),
                    same_site=r.str_(st, "sameSite", spath) or "",
                )
            )
    health = None
    if "healthcheck" in t:
        key, table = t["healthcheck"]
        hpath = (*path, key)
        h = r.table(
            table, hpath, ("path", "interval", "timeout", "port", "scheme", "hostname", "headers")
        )
        health = HealthCheck(
            path=r.str_(h, "path", hpath) or "",
            interval=or_default(r.duration(h, "interval", hpath), 30.0),
            timeout=or_default(r.duration(h, "timeout", hpath), 5.0),
            port=r.int_(h, "port", hpath) or 0,
            scheme=r.str_(h, "scheme", hpath) or "",
            hostname=r.str_(h, "hostname", hpath) or "",
            headers=r.str_map(h, "headers", hpath) or {},
        )
    middlewares: list[tuple[str, Middleware]] = []
    if "circuitbreaker" in t:
        key, table = t["circuitbreaker"]
        cpath = (*path, key)
        c = r.table(table, cpath, ("expression",))
        expression = r.str_(c, "expression", cpath) or "NetworkErrorRatio() > 1"
        middlewares.append((f"{name}-circuitbreaker", CircuitBreaker(expression=expression)))
    if "maxconn" in t:
        key, table = t["maxconn"]
        mpath = (*path, key)
        m = r.table(table, mpath, ("amount", "extractorFunc"))
        criterion = _extractor(r, r.str_(m, "extractorFunc", mpath), (*mpath, "extractorFunc"))
        amount = r.int_(m, "amount", mpath) or 0
        # Traefik 1.7 limits only with an amount (server_loadbalancer.go: MaxConn.Amount != 0).
        if amount:
            middlewares.append(
                (f"{name}-inflightreq", InFlightReq(amount=amount, source_criterion=criterion))
            )
    if "buffering" in t:
        key, table = t["buffering"]
        bpath = (*path, key)
        keys = ("maxRequestBodyBytes", "memRequestBodyBytes", "maxResponseBodyBytes",
                "memResponseBodyBytes", "retryExpression")  # fmt: skip
        b = r.table(table, bpath, keys)
        middlewares.append(
            (
                f"{name}-buffering",
                Buffering(
                    max_request_body_bytes=r.int_(b, "maxRequestBodyBytes", bpath) or 0,
                    mem_request_body_bytes=or_default(
                        r.int_(b, "memRequestBodyBytes", bpath), 1048576
                    ),
                    max_response_body_bytes=r.int_(b, "maxResponseBodyBytes", bpath) or 0,
                    mem_response_body_bytes=or_default(
                        r.int_(b, "memResponseBodyBytes", bpath), 1048576
                    ),
                    retry_expression=r.str_(b, "retryExpression", bpath) or "",
                ),
            )
        )
    forwarding = None
    if "responseforwarding" in t:
        key, table = t["responseforwarding"]
        fpath = (*path, key)
        f = r.table(table, fpath, ("flushInterval",))
        interval = r.duration(f, "flushInterval", fpath)
        forwarding = ResponseForwarding(flush_interval=or_default(interval, 0.1))
    lb_model = LoadBalancer(
        servers=servers, sticky=sticky, health_check=health, response_forwarding=forwarding
    )
    return Service(load_balancer=lb_model), middlewares


def _extractor(r: V1Reader, func: str | None, path: tuple[str, ...]) -> SourceCriterion | None:
    # v1 extractorFunc: client.ip | request.host | request.header.<Name> (oxy utils.NewExtractor).
    if func is None or func == "client.ip":
        return None if func is None else SourceCriterion(ip_strategy=IPStrategy())
    if func == "request.host":
        return SourceCriterion(request_host=True)
    if func.startswith("request.header."):
        return SourceCriterion(request_header_name=func[len("request.header.") :])
    raise r.fail(
        path,
        f"unknown extractor {func!r}",
        "use client.ip, request.host or request.header.<Name>",
    )


# --- frontends -------------------------------------------------------------------------------


def _frontend(
    r: V1Reader, name: str, value: Any, path: tuple[str, ...]
) -> tuple[Router, list[tuple[str, Middleware]], bool | None]:
    t = r.table(value, path, _FRONTEND_KEYS)
    backend = r.str_(t, "backend", path)
    if not backend:
        raise r.fail(path, "missing backend", "every v1 frontend names its backend")
    rules: list[str] = []
    if "routes" in t:
        key, routes = t["routes"]
        if not isinstance(routes, Mapping):
            raise r.fail((*path, key), "expected a table of named routes")
        for rname, rvalue in sorted(routes.items()):
            rpath = (*path, key, rname)
            route = r.table(rvalue, rpath, ("rule",))
            rule = r.str_(route, "rule", rpath)
            if not rule:
                raise r.fail(rpath, "missing rule")
            rules.append(rule)
    if not rules:
        raise r.fail(path, "no routes", 'add [frontends.<name>.routes.<route>] rule = "Host:…"')
    priority = r.int_(t, "priority", path) or 0
    if priority <= 0:
        # v1 priority: Σ len(route.Rule) in bytes (buildServerRoute), unless priority > 0.
        priority = sum(len(rule.encode()) for rule in rules)
    rule_text, middlewares = _translate(r, name, ";".join(rules), (*path, "routes"))
    middlewares.extend(_frontend_middlewares(r, name, t, path))
    router = Router(
        rule=rule_text,
        service=backend,
        priority=priority,
        entry_points=r.list_(t, "entryPoints", path) or (),
    )
    return router, middlewares, r.bool_(t, "passHostHeader", path)


def _translate(
    r: V1Reader, name: str, rule: str, path: tuple[str, ...]
) -> tuple[str, list[tuple[str, Middleware]]]:
    """The v3 text of a v1 rule and its modifiers as middlewares named after the frontend."""
    try:
        result = translate(rule, syntax="v1")
        text = str(result.rule)
    except RuleSyntaxError as exc:
        raise r.fail(path, f"rule does not parse: {exc.problem}", exc.hint) from None
    except UnrepresentableRule as exc:
        # It parses as v1, but v3 (what routekit routes by) cannot say it.
        raise r.fail(path, f"the rule cannot be routed: {exc}") from None
    for note in result.notes:
        r.warn(path, note)
    out: list[tuple[str, Middleware]] = []
    for _, definition in result.middlewares:
        middleware = middleware_from_definition(definition)
        # Name the modifiers after the frontend, so that two frontends never share one.
        mname = f"{name}-{type(middleware).type_key.lower()}"
        out.append((_unique(mname, out), middleware))
    return text, out


def _unique(name: str, taken: list[tuple[str, Middleware]]) -> str:
    names = {n for n, _ in taken}
    candidate, i = name, 2
    while candidate in names:
        candidate, i = f"{name}-{i}", i + 1
    return candidate


def _auth_middlewares(
    r: V1Reader, name: str, t: Mapping[str, tuple[str, Any]], path: tuple[str, ...]
) -> list[tuple[str, Middleware]]:
    """v1 ``basicAuth = [...]`` and ``[frontends.f.auth.basic|digest|forward]`` (Traefik 1.7)."""
    out: list[tuple[str, Middleware]] = []
    users = list(r.list_(t, "basicAuth", path) or ())
    tables: dict[str, tuple[Mapping[str, tuple[str, Any]], tuple[str, ...]]] = {}
    header_field = ""
    if "auth" in t:
        key, auth = t["auth"]
        apath = (*path, key)
        a = r.table(auth, apath, ("basic", "digest", "forward", "headerField"))
        header_field = r.str_(a, "headerField", apath) or ""
        for kind, keys in _V1_AUTH_KEYS.items():
            if kind in a:
                k, value = a[kind]
                tables[kind] = (r.table(value, (*apath, k), keys), (*apath, k))
    basic = tables.get("basic")
    if users or basic:
        b, bpath = basic if basic else ({}, path)
        users.extend(r.list_(b, "users", bpath) or ())
        out.append(
            (
                f"{name}-basicauth",
                BasicAuth(
                    users=users,
                    users_file=r.str_(b, "usersFile", bpath) or "",
                    remove_header=bool(r.bool_(b, "removeHeader", bpath)),
                    header_field=header_field,
                ),
            )
        )
    if "digest" in tables:
        d, dpath = tables["digest"]
        digest = DigestAuth(
            users=r.list_(d, "users", dpath) or (),
            users_file=r.str_(d, "usersFile", dpath) or "",
            remove_header=bool(r.bool_(d, "removeHeader", dpath)),
            header_field=header_field,
        )
        out.append((f"{name}-digestauth", digest))
    if "forward" in tables:
        f, fpath = tables["forward"]
        tls = None
        if "tls" in f:
            k, value = f["tls"]
            tpath = (*fpath, k)
            tt = r.table(value, tpath, ("ca", "caOptional", "cert", "key", "insecureSkipVerify"))
            tls = ForwardAuthTLS(
                ca=r.str_(tt, "ca", tpath) or "",
                ca_optional=bool(r.bool_(tt, "caOptional", tpath)),
                cert=r.str_(tt, "cert", tpath) or "",
                key=r.str_(tt, "key", tpath) or "",
                insecure_skip_verify=bool(r.bool_(tt, "insecureSkipVerify", tpath)),
            )
        forward = ForwardAuth(
            address=r.str_(f, "address", fpath) or "",
            tls=tls,
            trust_forward_header=bool(r.bool_(f, "trustForwardHeader", fpath)),
            auth_response_headers=r.list_(f, "authResponseHeaders", fpath) or (),
            header_field=header_field,
        )
        if not forward.address:
            raise r.fail(fpath, "missing address", "set the authentication server's URL")
        out.append((f"{name}-forwardauth", forward))
    return out


# Traefik 1.7 types.Auth: Basic, Digest and Forward (with its TLS client options).
_V1_AUTH_KEYS: dict[str, tuple[str, ...]] = {
    "basic": ("users", "usersFile", "removeHeader"),
    "digest": ("users", "usersFile", "removeHeader"),
    "forward": ("address", "tls", "trustForwardHeader", "authResponseHeaders"),
}


def _frontend_middlewares(
    r: V1Reader, name: str, t: Mapping[str, tuple[str, Any]], path: tuple[str, ...]
) -> list[tuple[str, Middleware]]:
    out: list[tuple[str, Middleware]] = []
    out.extend(_auth_middlewares(r, name, t, path))
    out.extend(_pass_tls_client_cert(r, name, t, path))
    ranges = list(r.list_(t, "whitelistSourceRange", path) or ())
    strategy = None
    if "whitelist" in t:
        key, wl = t["whitelist"]
        wpath = (*path, key)
        w = r.table(wl, wpath, ("sourceRange", "useXForwardedFor"))
        ranges.extend(r.list_(w, "sourceRange", wpath) or ())
        if r.bool_(w, "useXForwardedFor", wpath):
            # v1 useXForwardedFor checked every X-Forwarded-For entry; depth 1 is the closest v2
            # equivalent (the Traefik v1 → v2 migration guide suggests ipStrategy.depth).
            strategy = IPStrategy(depth=1)
    if ranges:
        out.append((f"{name}-ipallowlist", IPAllowList(source_range=ranges, ip_strategy=strategy)))
    if "redirect" in t:
        key, red = t["redirect"]
        rpath = (*path, key)
        rd = r.table(red, rpath, ("entryPoint", "regex", "replacement", "permanent"))
        permanent = bool(r.bool_(rd, "permanent", rpath))
        entry_point = r.str_(rd, "entryPoint", rpath)
        regex = r.str_(rd, "regex", rpath)
        if regex:
            replacement = r.str_(rd, "replacement", rpath) or ""
            out.append(
                (
                    f"{name}-redirectregex",
                    RedirectRegex(regex=regex, replacement=replacement, permanent=permanent),
                )
            )
        elif entry_point:
            scheme = "https" if "https" in entry_point.lower() else "http"
            r.warn(
                (*rpath, "entryPoint"),
                f"redirect to entry point {entry_point!r} becomes a redirect to {scheme}",
            )
            out.append(
                (f"{name}-redirectscheme", RedirectScheme(scheme=scheme, permanent=permanent))
            )
    if "headers" in t:
        key, hv = t["headers"]
        hpath = (*path, key)
        h = r.table(hv, hpath, (*_HEADER_KEYS, *_SSL_KEYS))
        kwargs: dict[str, Any] = {}
        for key, attr in _HEADER_KEYS.items():
            if key.lower() in h:
                kwargs[attr] = _HEADER_READERS[attr](r, h, key, hpath)
        out.extend(_ssl_redirect(r, name, h, hpath, bool(kwargs.get("is_development"))))
        if kwargs:  # Traefik 1.7 adds the headers middleware only when some header is set
            out.append((f"{name}-headers", Headers(**kwargs)))
    if "ratelimit" in t:
        key, rl = t["ratelimit"]
        rpath = (*path, key)
        rt = r.table(rl, rpath, ("extractorFunc", "rateSet"))
        criterion = _extractor(r, r.str_(rt, "extractorFunc", rpath), (*rpath, "extractorFunc"))
        if "rateset" in rt:
            skey, sets = rt["rateset"]
            if not isinstance(sets, Mapping):
                raise r.fail((*rpath, skey), "expected a table of named rate sets")
            for sname, svalue in sorted(sets.items()):
                spath = (*rpath, skey, sname)
                s = r.table(svalue, spath, ("period", "average", "burst"))
                out.append(
                    (
                        _unique(f"{name}-ratelimit", out),
                        RateLimit(
                            average=r.int_(s, "average", spath) or 0,
                            period=or_default(r.duration(s, "period", spath), 1.0),
                            burst=or_default(r.int_(s, "burst", spath), 1),
                            source_criterion=criterion,
                        ),
                    )
                )
    if "errors" in t:
        key, errs = t["errors"]
        if not isinstance(errs, Mapping):
            raise r.fail((*path, key), "expected a table of named error pages")
        for ename, evalue in sorted(errs.items()):
            epath = (*path, key, ename)
            e = r.table(evalue, epath, ("status", "backend", "query"))
            out.append(
                (
                    _unique(f"{name}-errors", out),
                    Errors(
                        status=r.list_(e, "status", epath) or (),
                        service=r.str_(e, "backend", epath) or "",
                        query=r.str_(e, "query", epath) or "",
                    ),
                )
            )
    return out


def _ssl_redirect(
    r: V1Reader,
    name: str,
    h: Mapping[str, tuple[str, Any]],
    path: tuple[str, ...],
    development: bool,
) -> list[tuple[str, Middleware]]:
    """The redirect middleware that v1's SSLRedirect/SSLTemporaryRedirect/SSLHost/SSLForceHost
    headers options mean (Traefik 1.7 applied them with unrolled/secure, before the headers)."""
    redirect = r.bool_(h, "SSLRedirect", path)
    temporary = r.bool_(h, "SSLTemporaryRedirect", path)
    host = r.str_(h, "SSLHost", path)
    force = r.bool_(h, "SSLForceHost", path)
    if not (redirect or temporary):
        for key, value in (("SSLHost", host), ("SSLForceHost", force)):
            if value:
                where = (*path, h[key.lower()][0])
                r.warn(where, f"{key} has no effect without SSLRedirect or SSLTemporaryRedirect")
        return []
    if development:
        # secure skips every redirect in development mode.
        r.warn((*path, "isDevelopment"), "isDevelopment turns SSLRedirect off; ignored")
        return []
    permanent = not temporary
    if not host:
        if force:
            r.warn((*path, h["sslforcehost"][0]), "SSLForceHost has no effect without SSLHost")
        return [(f"{name}-sslredirect", RedirectScheme(scheme="https", permanent=permanent))]
    # A redirect whose result is the request's own URL is not made (Traefik's redirect
    # middleware), so SSLForceHost can match https requests too without looping.
    regex = r"^https?://[^/]+(.*)$" if force else r"^http://[^/]+(.*)$"
    return [
        (
            f"{name}-sslredirect",
            RedirectRegex(regex=regex, replacement=f"https://{host}${{1}}", permanent=permanent),
        )
    ]


_DN_KEYS: Final = {
    "country": "country",
    "province": "province",
    "locality": "locality",
    "organization": "organization",
    "commonName": "common_name",
    "serialNumber": "serial_number",
    "domainComponent": "domain_component",
}


def _pass_tls_client_cert(
    r: V1Reader, name: str, t: Mapping[str, tuple[str, Any]], path: tuple[str, ...]
) -> list[tuple[str, Middleware]]:
    """v1 ``passTLSClientCert`` (and the older ``passTLSCert = true``, the PEM only) as the
    passTLSClientCert middleware; v1.7's ``infos`` lack the v2 ``serialNumber`` of the cert."""
    pem = bool(r.bool_(t, "passTLSCert", path))
    info: CertInfo | None = None
    if "passtlsclientcert" in t:
        key, value = t["passtlsclientcert"]
        ppath = (*path, key)
        pt = r.table(value, ppath, ("pem", "infos"))
        pem = pem or bool(r.bool_(pt, "pem", ppath))
        if "infos" in pt:
            ikey, ivalue = pt["infos"]
            ipath = (*ppath, ikey)
            it = r.table(ivalue, ipath, ("notAfter", "notBefore", "sans", "subject", "issuer"))
            names: dict[str, dict[str, bool]] = {}
            for part in ("subject", "issuer"):
                if part in it:
                    dkey, dvalue = it[part]
                    dpath = (*ipath, dkey)
                    dt = r.table(dvalue, dpath, _DN_KEYS)
                    names[part] = {a: bool(r.bool_(dt, k, dpath)) for k, a in _DN_KEYS.items()}
            info = CertInfo(
                not_after=bool(r.bool_(it, "notAfter", ipath)),
                not_before=bool(r.bool_(it, "notBefore", ipath)),
                sans=bool(r.bool_(it, "sans", ipath)),
                subject=CertSubjectInfo(**names["subject"]) if "subject" in names else None,
                issuer=CertIssuerInfo(**names["issuer"]) if "issuer" in names else None,
            )
    if not pem and info is None:
        return []
    return [(f"{name}-passtlsclientcert", PassTLSClientCert(pem=pem, info=info))]
