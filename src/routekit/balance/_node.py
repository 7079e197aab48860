"""The protocol every balancer follows: `Server` leaves, the `Balancer` base, `Lease`, statistics.

A balancer tree is made of `Server` leaves and `Balancer` nodes.  `pick(request)` walks from the
root to a leaf and returns the `Server`; `acquire(request)` does the same and returns a `Lease` that
counts the request as in flight at every level it went through until the caller releases it, and
that carries what the caller must do on the way back (``Set-Cookie`` values of sticky balancers,
mirrors to copy the request to).
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import math
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar, Final, final

import attrs

from ..errors import ConfigError

if TYPE_CHECKING:
    from types import TracebackType

    from ..request import Request
    from ._group import _Member

__all__ = ["Balancer", "BalancerStats", "Child", "ChildStats", "Lease", "Server", "StatusListener"]

#: Called with the new status when a balancer flips between "some child up" and "none up".
StatusListener = Callable[[bool], None]

_INF: Final = math.inf


def _check_url(_instance: object, _attribute: object, value: str) -> None:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        raise ConfigError(f"server URL must be a non-empty string without spaces, got {value!r}")


@final
@attrs.frozen
class Server:
    """A backend server, the leaf of every balancer tree, identified by its URL."""

    url: str = attrs.field(validator=_check_url)

    @property
    def name(self) -> str:
        """The key a server is known by (and hashed into sticky cookies): its URL."""
        return self.url

    def __str__(self) -> str:
        return self.url


@final
@attrs.frozen
class ChildStats:
    """One child as its balancer sees it.

    Attributes:
        name: the server URL or the child balancer's name.
        weight: the child's weight (for `Mirror` mirrors: the percentage).
        state: ``"up"``, ``"down"`` (marked down, or a balancer with no healthy member),
            ``"cooling"`` (taken out by passive health until a deadline) or ``"draining"``.
        inflight: requests acquired through this child and not yet released.
        picks: how many times this child was picked.
        failures: failures recorded by passive health inside the current window.
    """

    name: str
    weight: float
    state: str
    inflight: int = 0
    picks: int = 0
    failures: int = 0


@final
@attrs.frozen
class BalancerStats:
    """A snapshot of a balancer: its kind, overall status and children in insertion order."""

    name: str
    kind: str
    up: bool
    children: tuple[ChildStats, ...]

    def child(self, name: str) -> ChildStats:
        """The statistics of the child called *name* (a server URL or a balancer name)."""
        for c in self.children:
            if c.name == name:
                return c
        raise ConfigError(f"{self.kind} {self.name!r} has no child {name!r}")


@final
class Lease:
    """One request in flight through a balancer tree, from `Balancer.acquire` until `release`.

    Use it as a context manager, or call :meth:`release` when the response has ended.  Passing
    ``ok=False`` (or ``True``) to :meth:`release` reports the outcome to passive health checking.
    """

    __slots__ = ("_cookies", "_members", "_mirrors", "_released", "_server")

    def __init__(self) -> None:
        self._members: list[_Member] = []
        self._cookies: list[str] = []
        self._mirrors: list[Lease] = []
        self._server: Server | None = None
        self._released = False

    @property
    def server(self) -> Server:
        """The server that takes the request."""
        assert self._server is not None, "Lease.server read before the pick completed"
        return self._server

    @property
    def set_cookies(self) -> tuple[str, ...]:
        """``Set-Cookie`` header values to add to the response (sticky balancers, outer first)."""
        return tuple(self._cookies)

    @property
    def mirrors(self) -> tuple[Lease, ...]:
        """Leases for the mirrors the request must be copied to; each is released on its own."""
        return tuple(self._mirrors)

    @property
    def released(self) -> bool:
        """Whether :meth:`release` has been called."""
        return self._released

    def release(self, ok: bool | None = None) -> None:
        """End the request: decrement in-flight counts; *ok* feeds passive health when given.

        Releasing twice is harmless.  Mirrors are not released by their main lease.
        """
        if self._released:
            return
        self._released = True
        for member in self._members:
            member.finish(ok)

    def __enter__(self) -> Lease:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        state = "released" if self._released else "in flight"
        server = self._server.url if self._server is not None else "?"
        extra = f", {len(self._cookies)} cookie(s)" if self._cookies else ""
        extra += f", {len(self._mirrors)} mirror(s)" if self._mirrors else ""
        return f"<Lease {server} {state}{extra}>"


def _spec_key(spec: object) -> tuple[str, float | str]:
    """What a child spec contributes to a derived name: its key and weight, never an id."""
    child, weight = spec if isinstance(spec, tuple) and len(spec) == 2 else (spec, 1.0)
    if isinstance(child, Server | Balancer):
        key = child.name
    else:
        key = child if isinstance(child, str) else type(child).__name__
    number = isinstance(weight, int | float) and not isinstance(weight, bool)
    return key, float(weight) if number else repr(weight)


def derived_name(kind: str, children: Sequence[object]) -> str:
    """The name of an unnamed balancer: its kind and a digest of the children it starts with.

    It depends on nothing but the arguments, so the same tree gets the same names (and sticky
    cookie names, which derive from them) in every process, as Traefik derives the default
    cookie name from a sha1 of the service name
    (https://doc.traefik.io/traefik/routing/services/#sticky-sessions).
    """
    basis = repr([_spec_key(spec) for spec in children])
    return f"{kind}-{hashlib.sha1(basis.encode()).hexdigest()[:8]}"


class Balancer(abc.ABC):
    """Base of every balancer: picks a leaf `Server` for a request, reports its health upwards.

    A balancer is *up* while at least one of its children can be picked; listeners registered
    with :meth:`add_status_listener` hear each flip between up and down, which is how a parent
    learns that a child balancer has no healthy member left.
    """

    #: Short kind used in default names and statistics.
    kind: ClassVar[str] = "balancer"

    def __init__(self, name: str | None = None, *, children: Sequence[object] = ()) -> None:
        """Name the balancer *name*, or, when ``None``, derive a name from *kind* and *children*
        (the child specs given to the constructor; see `derived_name`)."""
        if name is None:
            name = derived_name(self.kind, children)
        elif not isinstance(name, str) or not name:
            raise ConfigError(
                f"{type(self).__name__} name must be a non-empty string, got {name!r}"
            )
        self.name: str = name
        self._listeners: list[StatusListener] = []

    # -- the protocol ------------------------------------------------------------------------------

    @property
    @abc.abstractmethod
    def up(self) -> bool:
        """Whether a request can be picked now."""

    @abc.abstractmethod
    def _select(self, request: Request | None, lease: Lease | None) -> Server:
        """Choose a leaf for *request*, recording the path in *lease* when one is given."""

    @abc.abstractmethod
    def statistics(self) -> BalancerStats:
        """A snapshot of the children, their weights, health, in-flight and pick counts."""

    def _child_nodes(self) -> Iterator[Balancer]:
        """The balancers directly below this one (for cycle checks)."""
        return iter(())

    def _expiry(self) -> float:
        """When the earliest cool-down below this balancer ends (``inf`` if none)."""
        return min((child._expiry() for child in self._child_nodes()), default=_INF)

    def _revive(self, now: float) -> None:
        """Bring back children whose cool-down has ended by *now*."""
        for child in self._child_nodes():
            child._revive(now)

    # -- public API built on the protocol ----------------------------------------------------------

    def pick(self, request: Request | None = None) -> Server:
        """Return the server that should take *request*; raise `NoServerAvailable` if none can."""
        return self._select(request, None)

    def acquire(self, request: Request | None = None) -> Lease:
        """Pick a server and count the request in flight until the returned lease is released."""
        lease = Lease()
        try:
            lease._server = self._select(request, lease)
        except BaseException:
            lease.release()
            raise
        return lease

    def add_status_listener(self, listener: StatusListener) -> None:
        """Call *listener(up)* whenever this balancer flips between up and down."""
        self._listeners.append(listener)

    def remove_status_listener(self, listener: StatusListener) -> None:
        """Stop calling *listener*; unknown listeners are ignored."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def _notify(self, up: bool) -> None:
        for listener in list(self._listeners):
            listener(up)

    def _contains_node(self, node: Balancer) -> bool:
        if node is self:
            return True
        return any(child._contains_node(node) for child in self._child_nodes())


#: A child of a balancer: a server or another balancer.
Child = Server | Balancer


def as_child(spec: object, where: str) -> Child:
    """Turn a child spec (a `Server`, a URL string or a `Balancer`) into a child."""
    if isinstance(spec, Server | Balancer):
        return spec
    if isinstance(spec, str):
        return Server(spec)
    raise ConfigError(
        f"{where}: a child must be a Server, a URL string or a balancer, got {spec!r}"
    )


def check_weight(weight: object, where: str) -> float:
    """Validate a weight: a finite number >= 0 (0 means never picked)."""
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise ConfigError(f"{where}: weight must be a number, got {weight!r}")
    w = float(weight)
    if not (math.isfinite(w) and w >= 0):
        raise ConfigError(f"{where}: weight must be a finite number >= 0, got {weight!r}")
    return w


def format_weight(weight: float) -> str:
    """``3`` for 3.0, ``0.5`` for 0.5."""
    return str(int(weight)) if weight.is_integer() else repr(weight)
