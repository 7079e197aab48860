"""Merge the configurations one provider builds from many sources (containers, catalog services).

Traefik's ``provider.Merge`` (``pkg/provider/merge.go``) folds identical definitions of a name
together — for load balancers, the servers of the replicas are appended — and deletes every copy
of a name whose definitions differ, logging "defined multiple times with different
configurations".  routekit reports such a name as a :class:`Conflict` and, instead of deleting it,
keeps serving the definition the *previous* merge produced, if there was one (semantics §9,
routekit decision 2): a second container with a typo must not take a working route down.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, final

import attrs

from ...errors import Problem
from ._frozen import FrozenMap
from ._model import Configuration, LoadBalancer, TCPLoadBalancer, TLSCertificate, TLSConfiguration
from ._sections import ELEMENT_KINDS, NAMED_SECTIONS, named_section, with_named_sections

__all__ = ["Conflict", "merge_configurations"]

T = TypeVar("T")


@final
@attrs.frozen
class Conflict(Problem):
    """A name defined differently by several sources of one provider.

    Attributes:
        kind: ``router``, ``service``… (singular).
        name: the name defined more than once.
        origins: the sources (container names…) that defined it, in order.
        kept_previous: True when the previous good definition keeps serving, False when the name
            is left out.
    """

    kind: str = ""
    name: str = ""
    origins: tuple[str, ...] = ()
    kept_previous: bool = False


def merge_configurations(
    parts: Sequence[tuple[str, Configuration]], *, previous: Configuration | None = None
) -> tuple[Configuration, tuple[Problem, ...]]:
    """Merge the configurations of one provider's sources into one, reporting conflicts.

    *parts* are ``(origin, configuration)`` pairs (origin: a container or service name) in the
    order their servers should be appended.  Identical definitions of a name fold together; load
    balancers that differ only in their servers are merged (servers appended, the same URL once).
    A name defined differently is a :class:`Conflict`: the definition in *previous* keeps serving
    if there is one, otherwise the name is left out.
    """
    problems: list[Problem] = []
    sources: dict[str, str] = {}
    for _, part in parts:
        for path, src in part.sources.items():
            sources.setdefault(path, src)

    merged = {
        path: FrozenMap(
            _merge_named(
                path,
                [(origin, named_section(c, path)) for origin, c in parts],
                previous=named_section(previous, path) if previous is not None else {},
                replicas=_Replicas() if path in ("http.services", "tcp.services") else None,
                problems=problems,
                sources=sources,
            )
        )
        for path in NAMED_SECTIONS
    }
    certificates: dict[TLSCertificate, None] = {}
    for _, part in parts:
        certificates.update(dict.fromkeys(part.tls.certificates))
    base = Configuration(tls=TLSConfiguration(certificates=tuple(certificates)), sources=sources)
    return with_named_sections(base, merged), tuple(problems)


def _merge_named(
    path: str,
    parts: Sequence[tuple[str, Mapping[str, T]]],
    *,
    previous: Mapping[str, T],
    replicas: _Replicas | None,
    problems: list[Problem],
    sources: dict[str, str],
) -> dict[str, T]:
    merged: dict[str, T] = {}
    origins: dict[str, list[str]] = {}
    conflicted: dict[str, None] = {}
    for origin, named in parts:
        for name, value in named.items():
            origins.setdefault(name, []).append(origin)
            if name in conflicted:
                continue
            if name not in merged:
                merged[name] = value
                continue
            first = merged[name]
            if first != value and (replicas is None or not replicas.add(name, first, value)):
                conflicted[name] = None
    if replicas is not None:
        for name, value in merged.items():
            if name not in conflicted:
                merged[name] = replicas.result(name, value)
    kind = ELEMENT_KINDS[path]
    for name in conflicted:
        who = origins[name]
        keep = name in previous
        del merged[name]
        if keep:
            merged[name] = previous[name]
        shown = ", ".join(repr(o) for o in dict.fromkeys(who))
        problems.append(
            Conflict(
                path=f"{path}.{name}",
                message=(
                    f"{kind} {name!r} defined multiple times with different configurations "
                    f"by {shown}"
                ),
                source=sources.get(f"{path}.{name}"),
                hint=(
                    "the previous definition keeps serving"
                    if keep
                    else "it is left out until the definitions agree"
                ),
                kind=kind,
                name=name,
                origins=tuple(who),
                kept_previous=keep,
            )
        )
        sources.pop(f"{path}.{name}", None)
    return merged


class _Replicas:
    """The servers of services that several sources define alike but for their servers.

    Traefik's ``AddService`` appends the servers of each replica, leaving out a URL (HTTP) or
    address (TCP) already there.  They are collected here in one pass and the services built
    once at the end: folding them pairwise would copy the growing server list at every replica.
    """

    def __init__(self) -> None:
        self._servers: dict[str, tuple[list[Any], set[str]]] = {}

    def add(self, name: str, first: Any, other: Any) -> bool:
        """Fold *other* into the service *name* first defined as *first*; False if they differ."""
        lb_a, lb_b = first.load_balancer, other.load_balancer
        if lb_a is None or lb_b is None:
            return False
        if attrs.evolve(lb_a, servers=()) != attrs.evolve(lb_b, servers=()):
            return False
        if attrs.evolve(first, load_balancer=None) != attrs.evolve(other, load_balancer=None):
            return False
        key = _server_key(lb_a)
        found = self._servers.get(name)
        if found is None:
            found = self._servers[name] = (list(lb_a.servers), {key(s) for s in lb_a.servers})
        servers, seen = found
        added = [s for s in lb_b.servers if key(s) not in seen]
        servers.extend(added)
        seen.update(key(s) for s in added)
        return True

    def result(self, name: str, first: Any) -> Any:
        """The service *name*, first defined as *first*, with the servers of its replicas."""
        found = self._servers.get(name)
        if found is None:
            return first
        lb = first.load_balancer
        return attrs.evolve(first, load_balancer=attrs.evolve(lb, servers=found[0]))


def _server_key(lb: LoadBalancer | TCPLoadBalancer) -> Callable[[Any], str]:
    # Traefik's AddService dedupes HTTP servers by URL and TCP servers by address.
    if isinstance(lb, LoadBalancer):
        return lambda s: str(s.url)
    return lambda s: str(s.address)
