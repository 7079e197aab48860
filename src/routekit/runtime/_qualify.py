"""Merging providers: qualified names (``name@provider``) and keeping the last good elements.

Traefik's aggregator (``pkg/server/aggregator.go``, ``mergeConfiguration``) re-keys every router,
service, middleware and servers transport of a provider as ``<name>@<provider>``, and
``GetQualifiedName`` qualifies a reference without ``@`` with the provider it appears in, so
``api`` in the file provider means ``api@file`` while ``api@docker`` crosses to Docker.  TLS
options and stores named ``default`` stay unqualified: they are global.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final, TypeVar

import attrs

from ..config import (
    NAMED_SECTIONS,
    Chain,
    Configuration,
    Errors,
    FrozenMap,
    Middleware,
    Router,
    RouterTLS,
    Service,
    TCPRouter,
    TCPRouterTLS,
    TCPService,
    TLSConfiguration,
    UDPRouter,
    UDPService,
    named_section,
    with_named_sections,
)
from ..errors import Problem

__all__ = ["element_of", "keep_last_good", "merge_qualified", "provider_of", "qualify"]

_GLOBAL: Final = "default"

_TLS = TypeVar("_TLS", RouterTLS, TCPRouterTLS)
_S = TypeVar("_S", TCPService, UDPService)


def element_of(path: str, config: Configuration) -> tuple[str, str] | None:
    """The (section, name) of the element a problem *path* is about, if *config* names it."""
    for section in NAMED_SECTIONS:
        if not path.startswith(section + "."):
            continue
        rest = path[len(section) + 1 :]
        names = named_section(config, section)
        # Names may contain dots: try "a", then "a.b", … against the names that exist.
        parts = rest.split(".")
        for i in range(1, len(parts) + 1):
            candidate = ".".join(parts[:i])
            if candidate in names:
                return section, candidate
        return section, parts[0]
    return None


def provider_of(path: str) -> str | None:
    """The provider of the element a qualified problem path is about (``…api@file.rule``)."""
    _, at, rest = path.partition("@")
    return rest.split(".", 1)[0] if at else None


def _q(ref: str, provider: str) -> str:
    """Traefik ``GetQualifiedName``: a reference without ``@`` belongs to *provider*."""
    return ref if not ref or "@" in ref else f"{ref}@{provider}"


def _tls(tls: _TLS | None, p: str) -> _TLS | None:
    """A router's ``tls`` with its options qualified, unless they are the global ``default``."""
    if tls is None or not tls.options or tls.options == _GLOBAL:
        return tls
    return attrs.evolve(tls, options=_q(tls.options, p))


def _router(r: Router, p: str) -> Router:
    middlewares = tuple(_q(m, p) for m in r.middlewares)
    return attrs.evolve(r, service=_q(r.service, p), middlewares=middlewares, tls=_tls(r.tls, p))


def _service(s: Service, p: str) -> Service:
    if s.load_balancer is not None and s.load_balancer.servers_transport:
        lb = s.load_balancer
        return attrs.evolve(
            s, load_balancer=attrs.evolve(lb, servers_transport=_q(lb.servers_transport, p))
        )
    if s.weighted is not None:
        w = s.weighted
        children = tuple(attrs.evolve(c, name=_q(c.name, p)) for c in w.services)
        return attrs.evolve(s, weighted=attrs.evolve(w, services=children))
    if s.mirroring is not None:
        m = s.mirroring
        mirrors = tuple(attrs.evolve(x, name=_q(x.name, p)) for x in m.mirrors)
        return attrs.evolve(s, mirroring=attrs.evolve(m, service=_q(m.service, p), mirrors=mirrors))
    if s.failover is not None:
        f = s.failover
        return attrs.evolve(
            s, failover=attrs.evolve(f, service=_q(f.service, p), fallback=_q(f.fallback, p))
        )
    return s


def _middleware(m: Middleware, p: str) -> Middleware:
    if isinstance(m, Chain):
        return attrs.evolve(m, middlewares=tuple(_q(x, p) for x in m.middlewares))
    if isinstance(m, Errors):
        return attrs.evolve(m, service=_q(m.service, p))
    return m


def _tcp_router(r: TCPRouter, p: str) -> TCPRouter:
    middlewares = tuple(_q(m, p) for m in r.middlewares)
    return attrs.evolve(r, service=_q(r.service, p), middlewares=middlewares, tls=_tls(r.tls, p))


def _stream_service(s: _S, p: str) -> _S:
    # TCP and UDP services alike: only weighted ones name other services.
    if s.weighted is None:
        return s
    children = tuple(attrs.evolve(c, name=_q(c.name, p)) for c in s.weighted.services)
    return attrs.evolve(s, weighted=attrs.evolve(s.weighted, services=children))


def _udp_router(r: UDPRouter, p: str) -> UDPRouter:
    return attrs.evolve(r, service=_q(r.service, p))


#: How the elements of each section are qualified (the others have no references to qualify).
_REWRITE: Final[dict[str, Callable[[Any, str], Any]]] = {
    "http.routers": _router,
    "http.services": _service,
    "http.middlewares": _middleware,
    "tcp.routers": _tcp_router,
    "tcp.services": _stream_service,
    "udp.routers": _udp_router,
    "udp.services": _stream_service,
}


def qualify(config: Configuration, provider: str) -> tuple[Configuration, list[Problem]]:
    """*config* with every name and reference qualified with *provider*; names with ``@`` are
    reported and left out (``@`` is the provider separator)."""
    problems: list[Problem] = []
    sections: dict[str, FrozenMap[str, Any]] = {}
    for section in NAMED_SECTIONS:
        rewrite = _REWRITE.get(section)
        named: dict[str, Any] = {}
        for name, value in named_section(config, section).items():
            if "@" in name:
                path = f"{section}.{name}"
                problems.append(
                    Problem(
                        path,
                        "a name cannot contain '@' (it separates the name from the provider)",
                        config.source_of(path),
                    )
                )
                continue
            key = name if section.startswith("tls.") and name == _GLOBAL else f"{name}@{provider}"
            named[key] = rewrite(value, provider) if rewrite is not None else value
        sections[section] = FrozenMap(named)
    sources = {}
    names = {section: named_section(config, section) for section in NAMED_SECTIONS}
    for path, where in config.sources.items():
        # Every named section is two keys deep ("http.routers"); most names hold no dot, so the
        # third key is the name, and element_of is only asked about the rest.
        parts = path.split(".", 3)
        section = ".".join(parts[:2])
        in_section = names.get(section)
        if in_section is not None and len(parts) > 2 and parts[2] in in_section:
            found: tuple[str, str] | None = (section, parts[2])
        else:
            found = element_of(path, config)
        if found is None or (found[0].startswith("tls.") and found[1] == _GLOBAL):
            sources[path] = where
            continue
        section, name = found
        tail = path[len(section) + 1 + len(name) :]
        sources[f"{section}.{name}@{provider}{tail}"] = where
    merged = with_named_sections(config, sections)
    return attrs.evolve(merged, sources=sources), problems


def merge_qualified(configs: Iterable[Configuration]) -> Configuration:
    """Merge the qualified configurations of several providers into one.

    Qualified names cannot collide, except the global TLS ``default`` options and store: the
    first provider's wins.  Certificates are concatenated.
    """
    sections: dict[str, dict[str, Any]] = {s: {} for s in NAMED_SECTIONS}
    certificates: list[Any] = []
    sources: dict[str, str] = {}
    for config in configs:
        for section in NAMED_SECTIONS:
            target = sections[section]
            for name, value in named_section(config, section).items():
                target.setdefault(name, value)
        certificates.extend(config.tls.certificates)
        for path, where in config.sources.items():
            sources.setdefault(path, where)
    base = Configuration(
        tls=TLSConfiguration(certificates=tuple(dict.fromkeys(certificates))), sources=sources
    )
    return with_named_sections(base, {s: FrozenMap(v) for s, v in sections.items()})


def keep_last_good(
    config: Configuration, problems: Iterable[Problem], previous: Configuration | None
) -> tuple[Configuration, list[Problem]]:
    """Put back the previous version of each element that an error left out of *config*.

    An element that is simply absent was removed on purpose and stays removed; one left out
    because of an error (a typo, a broken rule) keeps serving as it was — routekit's choice,
    where Traefik would drop it (or the whole provider).  Returns the configuration and a
    warning per element put back.
    """
    if previous is None:
        return config, []
    restore: dict[str, dict[str, Any]] = {}
    notes: list[Problem] = []
    for problem in problems:
        if problem.severity != "error":
            continue
        found = element_of(problem.path, previous)
        if found is None:
            continue
        section, name = found
        if name in named_section(config, section) or name in restore.get(section, {}):
            continue
        old = named_section(previous, section).get(name)
        if old is None:
            continue
        restore.setdefault(section, {})[name] = old
        path = f"{section}.{name}"
        notes.append(
            Problem(
                path,
                "left out of the new configuration; its previous version keeps serving",
                problem.source,
                severity="warning",
            )
        )
    if not restore:
        return config, notes
    sections = {s: FrozenMap({**named_section(config, s), **items}) for s, items in restore.items()}
    sources = dict(config.sources)
    for path, where in previous.sources.items():
        found = element_of(path, previous)
        if found is not None and found[1] in restore.get(found[0], {}):
            sources.setdefault(path, where)
    return attrs.evolve(with_named_sections(config, sections), sources=sources), notes
