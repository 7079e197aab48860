"""Sticky sessions: keep a client on the child named by its cookie while that child is up.

Cookie rules are Traefik's (https://doc.traefik.io/traefik/routing/services/#sticky-sessions,
``pkg/server/cookie/cookie.go`` and ``pkg/server/service/loadbalancer/sticky.go``): the name is the
configured one with non-token characters replaced by ``_``, or ``"_" + sha1("_TRAEFIK_BACKEND_" +
service)`` in hex cut to 6 characters; the value is ``sha256(child name)`` in hex cut to 16
characters, so it never shows a server's address. Values written by older versions (the name in
clear, its FNV-64 hash, or the hash hashed again) are still honoured and rewritten with the current
form.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, final

import attrs

from .._cookies import (
    SAME_SITE,
    domain_problem,
    max_age_problem,
    path_problem,
    same_site_problem,
)
from .._fnv import fnv1_64
from ..errors import ConfigError
from ..request import TOKEN_CHARS
from ._group import Group, _Member
from ._node import Balancer, BalancerStats, Lease, Server

if TYPE_CHECKING:
    from ..request import Request

__all__ = ["Sticky", "StickyCookie", "sticky_cookie_name", "sticky_cookie_value"]


def sticky_cookie_name(configured: str | None, service: str) -> str:
    """The cookie name: *configured* sanitised to a token, else generated from *service*."""
    if configured:
        return "".join(c if c in TOKEN_CHARS else "_" for c in configured)
    digest = hashlib.sha1(("_TRAEFIK_BACKEND_" + service).encode()).hexdigest()
    return ("_" + digest)[:6]


def sticky_cookie_value(child: str) -> str:
    """The cookie value naming *child* (a server URL or service name): sha256 hex, 16 chars."""
    return hashlib.sha256(child.encode()).hexdigest()[:16]


def _fnv64(text: str) -> str:
    # Go's hash/fnv New64 printed like strconv.FormatUint(h, 16).
    return format(fnv1_64(text.encode()), "x")


def _checked(check: Callable[[object], str | None]) -> Callable[[object, Any, object], None]:
    def validator(_instance: object, attribute: Any, value: object) -> None:
        problem = check(value)
        if problem is not None:
            raise ConfigError(f"StickyCookie.{attribute.name} {problem}")

    return validator


@final
@attrs.frozen
class StickyCookie:
    """How the sticky cookie is named and which attributes it carries (Traefik ``sticky.cookie``).

    Attributes:
        name: cookie name; ``None`` generates one from the service name.
        secure, http_only: the ``Secure`` and ``HttpOnly`` attributes.
        same_site: ``"none"``, ``"lax"``, ``"strict"`` or ``None`` (attribute left out).
        max_age: seconds; 0 makes a session cookie, a negative value expires it now.
        path: the ``Path`` attribute (``/`` by default).
        domain: the ``Domain`` attribute, or ``None``.
    """

    name: str | None = None
    secure: bool = False
    http_only: bool = False
    same_site: str | None = attrs.field(default=None, validator=_checked(same_site_problem))
    max_age: int = attrs.field(default=0, validator=_checked(max_age_problem))
    path: str = attrs.field(default="/", validator=_checked(path_problem))
    domain: str | None = attrs.field(default=None, validator=_checked(domain_problem))

    def header(self, name: str, value: str) -> str:
        """The ``Set-Cookie`` value, attributes in the order Go's ``net/http`` writes them."""
        parts = [f"{name}={value}"]
        if self.path:
            parts.append(f"Path={self.path}")
        if self.domain:
            parts.append(f"Domain={self.domain.removeprefix('.')}")
        if self.max_age > 0:
            parts.append(f"Max-Age={self.max_age}")
        elif self.max_age < 0:
            parts.append("Max-Age=0")
        if self.http_only:
            parts.append("HttpOnly")
        if self.secure:
            parts.append("Secure")
        if self.same_site is not None:
            parts.append(f"SameSite={SAME_SITE[self.same_site.lower()]}")
        return "; ".join(parts)


@final
class Sticky(Balancer):
    """Wrap a balancer so that a client keeps its child while that child is up.

    The wrapped balancer chooses for new clients, and for clients whose child is gone or down;
    `acquire` then puts the ``Set-Cookie`` value in ``lease.set_cookies``.  Wrap every level of
    a tree that should be sticky: the client then carries one cookie per level, as in Traefik.
    """

    kind = "sticky"

    def __init__(self, balancer: Balancer, cookie: StickyCookie | None = None) -> None:
        if not isinstance(balancer, Group):
            raise ConfigError(
                f"Sticky wraps a balancer with children (WeightedRoundRobin, RoundRobin, …),"
                f" got {balancer!r}"
            )
        super().__init__(balancer.name)
        self._group: Group = balancer
        self.cookie = cookie if cookie is not None else StickyCookie()
        self.cookie_name = sticky_cookie_name(self.cookie.name, balancer.name)
        self._by_value: dict[str, str] = {}
        self._legacy: dict[str, str] = {}
        self._built = -1
        balancer.add_status_listener(self._notify)

    @property
    def balancer(self) -> Balancer:
        """The wrapped balancer (add, remove and mark its children there)."""
        return self._group

    @property
    def up(self) -> bool:
        """Whether the wrapped balancer is up."""
        return self._group.up

    def _lookup(self, value: str) -> tuple[_Member | None, bool]:
        """The member a cookie value names, and whether the value is a legacy one to rewrite."""
        group = self._group
        if self._built != group._version:
            self._by_value = {sticky_cookie_value(k): k for k in group._members}
            self._legacy = {}
            for k in group._members:
                once = _fnv64(k)
                self._legacy.update({k: k, once: k, _fnv64(once): k})
            self._built = group._version
        key = self._by_value.get(value)
        if key is not None:
            return group._members.get(key), False
        key = self._legacy.get(value)
        return (group._members.get(key), True) if key is not None else (None, False)

    def _select(self, request: Request | None, lease: Lease | None) -> Server:
        group = self._group
        group._refresh()
        m: _Member | None = None
        rewrite = True
        value = request.cookies.get(self.cookie_name) if request is not None else None
        if value:
            m, rewrite = self._lookup(value)
        if m is None or not m.active:
            # No cookie, or it names a child that is gone or down: choose anew, and say so.
            m = group._choose(request)
            rewrite = True
        if rewrite and lease is not None:
            lease._cookies.append(self.cookie.header(self.cookie_name, sticky_cookie_value(m.key)))
        return group._descend(m, request, lease)

    def _child_nodes(self) -> Iterator[Balancer]:
        yield self._group

    def statistics(self) -> BalancerStats:
        """The wrapped balancer's statistics."""
        return self._group.statistics()

    def __repr__(self) -> str:
        return f"<Sticky cookie={self.cookie_name} {self._group!r}>"
