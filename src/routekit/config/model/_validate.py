"""`validate`: every problem of a configuration, and the part of it that can still be served.

Traefik rejects a whole provider's configuration for some errors and silently skips elements for
others; routekit reports each problem with its path, source and a hint, leaves out the bad
element and keeps the rest.  Elements that depend on a left-out one (a router whose service was
left out) are left out too, with a problem that says why.  References with ``@provider`` are
left to the watcher, which sees every provider.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, final

import attrs

from ..._cookies import domain_problem, max_age_problem, path_problem, same_site_problem
from ...errors import ConfigError, Problem, RuleSyntaxError
from ...rules import RegexError, Rule, compile_regexp, parse_rule, parse_tcp_rule
from ._breaker import BreakerSyntaxError, parse_breaker_expression, parse_retry_expression
from ._frozen import FrozenMap
from ._hints import did_you_mean
from ._middlewares import (
    ENCODINGS,
    BasicAuth,
    Buffering,
    Chain,
    CircuitBreaker,
    Compress,
    DigestAuth,
    Errors,
    ForwardAuth,
    GrpcWeb,
    Headers,
    InFlightReq,
    IPAllowList,
    Middleware,
    RateLimit,
    RedirectRegex,
    RedirectScheme,
    ReplacePathRegex,
    Retry,
    StripPrefixRegex,
    TCPIPAllowList,
    TCPMiddleware,
)
from ._model import (
    MAX_PRIORITY,
    MAX_WEIGHT,
    MIN_PRIORITY,
    Configuration,
    Cookie,
    HTTPConfiguration,
    Router,
    Service,
    TCPConfiguration,
    TCPRouter,
    TCPServer,
    TCPService,
    UDPRouter,
    UDPServer,
    UDPService,
)
from ._options import (
    criterion_problem,
    hash_problem,
    headers_defined,
    load_users,
    status_ranges,
    valid_field,
)
from ._sections import NAMED_SECTIONS, named_section, with_named_sections
from ._tree import name_problem

__all__ = ["ValidationResult", "reference_hint", "validate"]

_RULE_SYNTAXES: Final = (None, "v1", "v2", "v3")
_ORIGIN: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#\s]+")
_STRATEGIES: Final = ("wrr", "p2c", "hrw", "leasttime")
_URL_SCHEMES: Final = ("http", "https", "h2c")
_PORT: Final = re.compile(r"[0-9]{1,5}")


@final
@attrs.frozen
class ValidationResult:
    """The configuration with every bad element left out, and the problems found."""

    config: Configuration
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems that left an element out (severity ``error``)."""
        return tuple(p for p in self.problems if p.severity == "error")


class _Checker:
    def __init__(self, config: Configuration) -> None:
        self.config = config
        self.problems: list[Problem] = []
        self.bad: set[str] = set()

    def error(
        self,
        element: str,
        field: str | None,
        message: str,
        hint: str | None = None,
        *,
        offset: int | None = None,
    ) -> None:
        path = f"{element}.{field}" if field else element
        source = self.config.source_of(path)
        self.problems.append(Problem(path, message, source, hint, offset=offset))
        self.bad.add(element)

    def warn(self, path: str, message: str, hint: str | None = None) -> None:
        self.problems.append(
            Problem(path, message, self.config.source_of(path), hint, severity="warning")
        )

    def reference(
        self, element: str, field: str, name: str, known: Mapping[str, Any], what: str
    ) -> None:
        if not name:
            self.error(element, field, f"no {what} given", f"name a {what} here")
        elif "@" not in name and name not in known:
            self.error(
                element, field, f"unknown {what} {name!r}", reference_hint(name, known, what)
            )


def reference_hint(name: str, known: Iterable[str], what: str) -> str:
    """The hint for an unknown *what* named *name*: the closest known name, else the known ones.

    ``did you mean 'api'?``, else ``known: a, b, c`` (the first five), else ``no <what> is
    defined`` — so that every unknown reference says what to write instead.
    """
    names = sorted(known)
    close = did_you_mean(name, names)
    if close is not None:
        return close
    if not names:
        return f"no {what} is defined"
    return "known: " + ", ".join(names[:5]) + (", …" if len(names) > 5 else "")


def validate(config: Configuration) -> ValidationResult:
    """Check ``config``; return it without the bad elements, and every problem found.

    Checks rules (they must parse), references to services, middlewares and TLS options (within
    the configuration; ``name@provider`` ones are not checked here), servers and their URLs,
    weights, priorities, middleware options and chains that loop, services that loop, and
    services that set no kind or more than one.
    """
    c = _Checker(config)
    http = config.http
    _check_names(c, config)
    for name, service in http.services.items():
        _check_service(c, f"http.services.{name}", service, http.services)
    _check_cycles(c, "http.services", {n: s.references() for n, s in http.services.items()})
    for name, middleware in http.middlewares.items():
        _check_middleware(c, f"http.middlewares.{name}", middleware, http)
    _check_cycles(
        c,
        "http.middlewares",
        {n: m.middlewares for n, m in http.middlewares.items() if isinstance(m, Chain)},
    )
    for name, router in http.routers.items():
        _check_router(c, f"http.routers.{name}", router, http, config)
    for name, tcp_service in config.tcp.services.items():
        element = f"tcp.services.{name}"
        _check_stream_service(c, element, tcp_service, config.tcp.services, "TCP")
    for name, tcp_middleware in config.tcp.middlewares.items():
        _check_tcp_middleware(c, f"tcp.middlewares.{name}", tcp_middleware)
    for name, tcp_router in config.tcp.routers.items():
        _check_router(c, f"tcp.routers.{name}", tcp_router, config.tcp, config)
    for name, udp_service in config.udp.services.items():
        element = f"udp.services.{name}"
        _check_stream_service(c, element, udp_service, config.udp.services, "UDP")
    for name, udp_router in config.udp.routers.items():
        _check_udp_router(c, f"udp.routers.{name}", udp_router, config)
    _cascade(c)
    return ValidationResult(_without(config, c.bad), tuple(c.problems))


def _check_names(c: _Checker, config: Configuration) -> None:
    for where in NAMED_SECTIONS:
        for name in named_section(config, where):
            problem = name_problem(name)
            if problem is not None:
                c.error(f"{where}.{name}", None, problem)


def _check_rule(c: _Checker, element: str, rule: str, syntax: str | None, tcp: bool) -> Rule | None:
    if not rule.strip():
        c.error(element, "rule", "empty rule")
        return None
    if syntax not in _RULE_SYNTAXES:
        c.error(element, "ruleSyntax", f"unknown rule syntax {syntax!r}", "use v1, v2 or v3")
        return None
    # parse_tcp_rule refuses "v1" with a ValueError, reported like any other.
    parse: Callable[..., Rule] = parse_tcp_rule if tcp else parse_rule
    try:
        return parse(rule, syntax=syntax or "auto")
    except ValueError as exc:  # RuleSyntaxError, or a syntax the parser does not take
        offset = exc.position if isinstance(exc, RuleSyntaxError) else None
        c.error(element, "rule", *rule_error(exc), offset=offset)
        return None


def _check_router(
    c: _Checker,
    element: str,
    router: Router | TCPRouter,
    section: HTTPConfiguration | TCPConfiguration,
    config: Configuration,
) -> None:
    tcp = isinstance(router, TCPRouter)
    parsed = _check_rule(c, element, router.rule, router.rule_syntax, tcp)
    if tcp and parsed is not None and router.tls is None and parsed.domains():
        # Traefik's TCP router manager: a connection without TLS has no server name to match.
        c.error(
            element,
            "rule",
            "has HostSNI matcher, but no TLS on router",
            "add tls to the router, or match every connection with HostSNI(`*`)",
        )
    c.reference(element, "service", router.service, section.services, "service")
    if not MIN_PRIORITY <= router.priority <= MAX_PRIORITY:
        c.error(
            element,
            "priority",
            f"priority {router.priority} is out of range",
            f"at most {MAX_PRIORITY} (higher values are reserved for internal routers)",
        )
    for ep in router.entry_points:
        if not ep:
            c.error(element, "entryPoints", "empty entry point name")
    for m in router.middlewares:
        c.reference(element, "middlewares", m, section.middlewares, "middleware")
    tls_options = router.tls.options if router.tls is not None else ""
    if tls_options and "@" not in tls_options and tls_options != "default":
        c.reference(element, "tls.options", tls_options, config.tls.options, "TLS options")


def _check_url(c: _Checker, element: str, field: str, url: str) -> None:
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        c.error(element, field, f"bad URL {url!r}: {exc}")
        return
    if parts.scheme not in _URL_SCHEMES or not parts.hostname:
        c.error(
            element,
            field,
            f"bad URL {url!r}",
            "expected scheme://host[:port][/path] with scheme http, https or h2c",
        )


def _check_service(
    c: _Checker, element: str, service: Service, services: Mapping[str, Service]
) -> None:
    kinds = service.kinds
    if len(kinds) != 1:
        found = " and ".join(kinds) if kinds else "none"
        c.error(
            element,
            None,
            f"a service must be exactly one of loadBalancer, weighted, mirroring, failover "
            f"(found {found})",
        )
        return
    lb = service.load_balancer
    if lb is not None:
        if not lb.servers:
            # Traefik keeps such a service and answers 503 (a container not running yet, with
            # allowNonRunning, is one); it is a warning, not a reason to leave the router out.
            c.warn(
                f"{element}.loadBalancer.servers",
                "no servers: requests routed here are answered 503",
                "add at least one server url",
            )
        for i, server in enumerate(lb.servers):
            _check_url(c, element, f"loadBalancer.servers.{i}.url", server.url)
            _check_weight(c, element, f"loadBalancer.servers.{i}.weight", server.weight)
        if lb.strategy not in _STRATEGIES:
            c.error(
                element,
                "loadBalancer.strategy",
                f"unknown strategy {lb.strategy!r}",
                did_you_mean(lb.strategy, _STRATEGIES) or "use " + ", ".join(_STRATEGIES),
            )
        if lb.sticky is not None:
            _check_cookie(c, element, "loadBalancer.sticky.cookie", lb.sticky.cookie)
        hc = lb.health_check
        if hc is not None:
            if hc.path and not hc.path.startswith("/"):
                c.error(element, "loadBalancer.healthCheck.path", "must start with '/'")
            if hc.mode not in ("http", "grpc"):
                c.error(element, "loadBalancer.healthCheck.mode", "use http or grpc")
            if hc.interval <= 0 or hc.timeout <= 0:
                # Traefik logs this and falls back to the defaults; so does routekit.
                c.warn(f"{element}.loadBalancer.healthCheck", "non-positive interval or timeout")
    if service.weighted is not None:
        if not service.weighted.services:
            c.error(element, "weighted.services", "no services")
        for i, child in enumerate(service.weighted.services):
            c.reference(element, f"weighted.services.{i}.name", child.name, services, "service")
            _check_weight(c, element, f"weighted.services.{i}.weight", child.weight)
        if service.weighted.sticky is not None:
            _check_cookie(c, element, "weighted.sticky.cookie", service.weighted.sticky.cookie)
    if service.mirroring is not None:
        m = service.mirroring
        c.reference(element, "mirroring.service", m.service, services, "service")
        for i, mirror in enumerate(m.mirrors):
            c.reference(element, f"mirroring.mirrors.{i}.name", mirror.name, services, "service")
            if not 0 <= mirror.percent <= 100:
                c.error(element, f"mirroring.mirrors.{i}.percent", "percent must be 0–100")
    if service.failover is not None:
        f = service.failover
        c.reference(element, "failover.service", f.service, services, "service")
        c.reference(element, "failover.fallback", f.fallback, services, "service")


def _check_stream_service(
    c: _Checker,
    element: str,
    service: TCPService | UDPService,
    services: Mapping[str, object],
    kind: str,
) -> None:
    """A TCP or UDP service: servers by ``host:port``, or weighted other services."""
    if (service.load_balancer is None) == (service.weighted is None):
        c.error(element, None, f"a {kind} service must be exactly one of loadBalancer, weighted")
        return
    if service.load_balancer is not None:
        servers: tuple[TCPServer | UDPServer, ...] = service.load_balancer.servers
        if not servers:
            c.error(element, "loadBalancer.servers", "no servers")
        for i, server in enumerate(servers):
            host, sep, port = server.address.rpartition(":")
            if not sep or not host or not _PORT.fullmatch(port) or not 0 < int(port) < 65536:
                c.error(
                    element,
                    f"loadBalancer.servers.{i}.address",
                    f"bad address {server.address!r}",
                    "expected host:port",
                )
    if service.weighted is not None:
        for i, child in enumerate(service.weighted.services):
            c.reference(element, f"weighted.services.{i}.name", child.name, services, "service")
            _check_weight(c, element, f"weighted.services.{i}.weight", child.weight)


def _check_udp_router(c: _Checker, element: str, router: UDPRouter, config: Configuration) -> None:
    c.reference(element, "service", router.service, config.udp.services, "service")
    if any(not ep for ep in router.entry_points):
        c.error(element, "entryPoints", "empty entry point name")


def _check_weight(c: _Checker, element: str, field: str, weight: int) -> None:
    if not 0 <= weight <= MAX_WEIGHT:
        c.error(element, field, f"weight {weight} is out of range (0 to {MAX_WEIGHT})")


def _check_regex(c: _Checker, element: str, field: str, pattern: str) -> None:
    # Traefik compiles these options with Go's regexp (RE2 syntax), as the rules' regexps.
    try:
        compile_regexp(pattern)
    except RegexError as exc:
        c.error(element, field, f"bad regular expression {pattern!r}: {exc}")


def _check_middleware(c: _Checker, element: str, m: Middleware, http: HTTPConfiguration) -> None:
    key = type(m).type_key
    if isinstance(m, Chain):
        for name in m.middlewares:
            c.reference(element, f"{key}.middlewares", name, http.middlewares, "middleware")
    elif isinstance(m, StripPrefixRegex):
        for pattern in m.regex:
            _check_regex(c, element, f"{key}.regex", pattern)
    elif isinstance(m, ReplacePathRegex | RedirectRegex):
        _check_regex(c, element, f"{key}.regex", m.regex)
    elif isinstance(m, RedirectScheme):
        if not m.scheme:
            c.error(element, f"{key}.scheme", "no scheme given", 'e.g. scheme = "https"')
    elif isinstance(m, IPAllowList):
        _check_source_range(c, element, f"{key}.sourceRange", m.source_range)
        if m.ip_strategy is not None and m.ip_strategy.excluded_ips:
            _check_ips(c, element, f"{key}.ipStrategy.excludedIPs", m.ip_strategy.excluded_ips)
    elif isinstance(m, Headers):
        if not headers_defined(m):
            c.error(element, key, "sets no header option", "e.g. customRequestHeaders")
        for pattern in m.access_control_allow_origin_list_regex:
            _check_regex(c, element, f"{key}.accessControlAllowOriginListRegex", pattern)
        for field, table in (
            ("customRequestHeaders", m.custom_request_headers),
            ("customResponseHeaders", m.custom_response_headers),
        ):
            for name, value in table.items():
                if not valid_field(
                    name.encode("latin-1", "replace"), value.encode("latin-1", "replace")
                ):
                    c.error(element, f"{key}.{field}", f"not a valid header field: {name!r}")
    elif isinstance(m, BasicAuth | DigestAuth):
        _check_users(c, element, key, m)
    elif isinstance(m, Compress):
        for encoding in m.encodings:
            if encoding not in ENCODINGS:
                c.error(element, f"{key}.encodings", f"unsupported encoding {encoding!r}",
                        "zstd, br or gzip")  # fmt: skip
        if m.default_encoding and m.default_encoding not in m.encodings:
            c.error(element, f"{key}.defaultEncoding",
                    f"{m.default_encoding!r} is not one of the encodings")  # fmt: skip
        if m.excluded_content_types and m.included_content_types:
            c.error(element, key, "excludedContentTypes and includedContentTypes are mutually "
                    "exclusive", "keep one of them")  # fmt: skip
        _check_not_negative(c, element, key, m)
    elif isinstance(m, ForwardAuth):
        target = urllib.parse.urlsplit(m.address)
        if target.scheme not in ("http", "https") or not target.hostname:
            c.error(element, f"{key}.address", f"expected an http(s) URL, got {m.address!r}",
                    'e.g. address = "http://auth:4181/verify"')  # fmt: skip
        if m.auth_response_headers_regex:
            _check_regex(c, element, f"{key}.authResponseHeadersRegex",
                         m.auth_response_headers_regex)  # fmt: skip
        _check_not_negative(c, element, key, m)
    elif isinstance(m, RateLimit | InFlightReq):
        problem = criterion_problem(m.source_criterion)
        if problem is not None:
            c.error(element, f"{key}.sourceCriterion", problem, "keep one of them")
        if isinstance(m, InFlightReq) and m.amount < 1:
            c.error(element, f"{key}.amount", f"must be at least 1 (got {m.amount})")
        _check_not_negative(c, element, key, m)
    elif isinstance(m, Errors):
        c.reference(element, f"{key}.service", m.service, http.services, "service")
        _check_statuses(c, element, f"{key}.status", m.status)
    elif isinstance(m, CircuitBreaker):
        _check_expression(
            c, element, f"{key}.expression", m.expression, parse_breaker_expression,
            "e.g. NetworkErrorRatio() > 0.5",
        )  # fmt: skip
        _check_not_negative(c, element, key, m)
    elif isinstance(m, GrpcWeb):
        for index, origin in enumerate(m.allow_origins):
            # A browser's Origin is scheme://host[:port] (RFC 6454 §6.1), or "null"; Traefik
            # compares it with each entry exactly, "*" alone matching every one.
            if origin not in ("*", "null") and (not _ORIGIN.fullmatch(origin) or "*" in origin):
                c.error(
                    element, f"{key}.allowOrigins[{index}]", f"not an origin: {origin!r}",
                    "write * alone, or an exact origin such as https://app.example.com",
                )  # fmt: skip
    elif isinstance(m, Buffering):
        if m.retry_expression:
            _check_expression(
                c, element, f"{key}.retryExpression", m.retry_expression, parse_retry_expression,
                "e.g. IsNetworkError() && Attempts() < 2",
            )  # fmt: skip
        _check_not_negative(c, element, key, m)
    elif isinstance(m, Retry):
        if m.attempts < 1:
            c.error(element, f"{key}.attempts", f"must be at least 1 (got {m.attempts})")
        if not m.status and m.disable_retry_on_network_error:
            c.error(element, key, "retries on nothing", "give status, or retry on network errors")
        _check_statuses(c, element, f"{key}.status", m.status)
        _check_not_negative(c, element, key, m)
    else:
        _check_not_negative(c, element, key, m)


def _check_expression(  # noqa: PLR0917 - where, what, and how to parse it
    c: _Checker,
    element: str,
    field: str,
    text: str,
    parse: Callable[[str], object],
    hint: str,
) -> None:
    try:
        parse(text)
    except BreakerSyntaxError as exc:
        c.error(element, field, str(exc), hint)


def _check_statuses(c: _Checker, element: str, field: str, values: tuple[str, ...]) -> None:
    for value in values:
        try:
            status_ranges((value,))
        except ConfigError as exc:
            c.error(element, field, str(exc))


def _check_not_negative(c: _Checker, element: str, key: str, m: Middleware) -> None:
    for f in attrs.fields(type(m)):
        value = getattr(m, f.name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            if f.name in ("max_body_size",):  # -1: no limit, as Traefik
                continue
            c.error(element, f"{key}.{f.name}", f"must be ≥ 0 (got {value})")


def _check_users(c: _Checker, element: str, key: str, m: BasicAuth | DigestAuth) -> None:
    digest = isinstance(m, DigestAuth)
    try:
        users = load_users(m.users, m.users_file, fields=3 if digest else 2)
    except ConfigError as exc:
        field = "usersFile" if "usersFile" in str(exc) else "users"
        c.error(element, f"{key}.{field}", str(exc), "one user per line: name:hash")
        return
    if not digest:
        for name, secret in users.items():
            problem = hash_problem(secret)
            if problem is not None:
                c.error(element, f"{key}.users", f"user {name!r}: {problem}")


def _check_ips(c: _Checker, element: str, field: str, ips: tuple[str, ...]) -> None:
    for ip in ips:
        try:
            ipaddress.ip_network(ip.strip(), strict=False)
        except ValueError:
            c.error(element, field, f"not an IP or CIDR: {ip!r}")


def _check_source_range(
    c: _Checker, element: str, field: str, source_range: tuple[str, ...]
) -> None:
    if not source_range:
        c.error(element, field, "empty source range (would reject everyone)")
    _check_ips(c, element, field, source_range)


def _check_tcp_middleware(c: _Checker, element: str, m: TCPMiddleware) -> None:
    key = type(m).type_key
    if isinstance(m, TCPIPAllowList):
        _check_source_range(c, element, f"{key}.sourceRange", m.source_range)
    elif m.amount < 1:
        # Traefik's inflightconn counts open connections per IP and closes any past the limit.
        c.error(element, f"{key}.amount", f"must be at least 1 (got {m.amount})")


def _check_cycles(c: _Checker, prefix: str, edges: Mapping[str, Iterable[str]]) -> None:
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in edges.get(node, ()):
            if state.get(nxt) == 1:
                loop = [*stack[stack.index(nxt) :], nxt] if nxt in stack else [node, nxt]
                # Every member of the loop is unusable; each one is reported.
                for member in loop[:-1]:
                    c.error(f"{prefix}.{member}", None, "loop: " + " → ".join(loop))
            elif nxt in edges and state.get(nxt) is None:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in edges:
        if node not in state:
            visit(node, [node])


def _cascade(c: _Checker) -> None:
    # Leave out what depends on a left-out element, until nothing changes.
    http, tcp = c.config.http, c.config.tcp
    changed = True
    while changed:
        changed = False

        def gone(path: str, name: str, element: str, what: str) -> None:
            nonlocal changed
            if "@" not in name and f"{path}.{name}" in c.bad and element not in c.bad:
                c.error(element, None, f"uses the {what} {name!r}, which is left out")
                changed = True

        for n, s in http.services.items():
            for ref in s.references():
                gone("http.services", ref, f"http.services.{n}", "service")
        for n, m in http.middlewares.items():
            if isinstance(m, Chain):
                for ref in m.middlewares:
                    gone("http.middlewares", ref, f"http.middlewares.{n}", "middleware")
            if isinstance(m, Errors):
                gone("http.services", m.service, f"http.middlewares.{n}", "service")
        for n, r in http.routers.items():
            gone("http.services", r.service, f"http.routers.{n}", "service")
            for ref in r.middlewares:
                gone("http.middlewares", ref, f"http.routers.{n}", "middleware")
        for n, tr in tcp.routers.items():
            gone("tcp.services", tr.service, f"tcp.routers.{n}", "service")
            for ref in tr.middlewares:
                gone("tcp.middlewares", ref, f"tcp.routers.{n}", "middleware")
        for stream, section in (("tcp", tcp), ("udp", c.config.udp)):
            for n, ss in section.services.items():
                for child in ss.weighted.services if ss.weighted is not None else ():
                    gone(f"{stream}.services", child.name, f"{stream}.services.{n}", "service")
        for n, ur in c.config.udp.routers.items():
            gone("udp.services", ur.service, f"udp.routers.{n}", "service")


def _keep(items: FrozenMap[str, Any], prefix: str, bad: set[str]) -> FrozenMap[str, Any]:
    dropped = [name for name in items if f"{prefix}.{name}" in bad]
    return items.remove(*dropped) if dropped else items


def _without(config: Configuration, bad: set[str]) -> Configuration:
    if not bad:
        return config
    kept = {path: _keep(named_section(config, path), path, bad) for path in NAMED_SECTIONS}
    return with_named_sections(config, kept)


def _check_cookie(c: _Checker, element: str, field: str, cookie: Cookie | None) -> None:
    if cookie is None:
        return
    for key, value, check in (
        ("sameSite", cookie.same_site or None, same_site_problem),
        ("maxAge", cookie.max_age, max_age_problem),
        ("path", cookie.path, path_problem),
        ("domain", cookie.domain or None, domain_problem),
    ):
        problem = check(value)
        if problem is not None:
            c.error(element, f"{field}.{key}", problem)


def rule_error(exc: ValueError) -> tuple[str, str | None]:
    """A rule's parse error as a problem's (message, hint): the caret stays, the hint moves."""
    if isinstance(exc, RuleSyntaxError):
        hint = exc.hint
        if hint is not None and exc.syntax is not None:
            hint += f'; set the router\'s ruleSyntax to "{exc.syntax}"'
        return exc.render(hint=False), hint
    return str(exc), None
