"""`Group`: the shared machinery of balancers that choose among weighted children.

A group keeps one `_Member` per child (weight, health, in-flight, passive-health failures) and
leaves only the choice itself to its subclass, through four hooks: ``_activate`` / ``_deactivate``
(a member starts or stops being pickable), ``_choose`` (pick among pickable members) and
``_preview`` (what ``_choose`` would return, without side effects, for ``repr``).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Final, Self, final

import attrs

from ..errors import ConfigError, NoServerAvailable
from ._node import (
    Balancer,
    BalancerStats,
    Child,
    ChildStats,
    Lease,
    Server,
    as_child,
    check_weight,
    format_weight,
)

if TYPE_CHECKING:
    from ..request import Request

__all__ = ["ChildSpec", "Clock", "PassiveHealth"]

#: A function returning the current time in seconds (``time.monotonic`` by default).
Clock = Callable[[], float]
#: What constructors accept for a child: a server, a URL, a balancer, or ``(child, weight)``.
ChildSpec = Server | str | Balancer | tuple[Server | str | Balancer, float]

_INF: Final = math.inf
_REPR_LIMIT: Final = 8


def _positive(_i: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not (value > 0 and math.isfinite(value)):
        raise ConfigError(
            f"PassiveHealth.{attribute.name} must be a finite number > 0, got {value!r}"
        )


def _at_least_one(_i: object, _a: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"PassiveHealth.max_failures must be an integer >= 1, got {value!r}")


@final
@attrs.frozen
class PassiveHealth:
    """Take a child out for a cool-down after failures reported by the caller (Traefik §8.2).

    Attributes:
        max_failures: failures inside *window* that take the child out (Traefik
            ``maxFailedAttempts``, default 1).
        window: seconds a failure is remembered (Traefik ``failureWindow``, default 10 s).
        cooldown: seconds the child stays out; defaults to *window*, as in Traefik.
        consecutive: a success clears the recorded failures (Traefik's behaviour); with
            ``False`` only failures older than *window* are forgotten.
    """

    max_failures: int = attrs.field(default=1, validator=_at_least_one)
    window: float = attrs.field(default=10.0, validator=_positive)
    cooldown: float | None = attrs.field(default=None, validator=_positive)
    consecutive: bool = True

    @property
    def down_for(self) -> float:
        """How long a child stays out once taken out."""
        return self.window if self.cooldown is None else self.cooldown


class _Member:
    """A child inside one group, with everything the group knows about it."""

    __slots__ = (
        "active",
        "admin_up",
        "b",
        "c",
        "child",
        "child_up",
        "cooling_until",
        "d",
        "draining",
        "e",
        "failures",
        "group",
        "inflight",
        "key",
        "listener",
        "picks",
        "rate",
        "seq",
        "successor",
        "weight",
    )

    def __init__(self, group: Group, child: Child, key: str, weight: float, seq: int) -> None:
        self.group = group
        self.child = child
        self.key = key
        self.weight = weight
        self.seq = seq
        self.admin_up = True
        self.child_up = True
        self.cooling_until = 0.0
        self.draining = False
        self.active = False
        self.inflight = 0
        self.picks = 0
        self.failures: deque[float] = deque()
        self.listener: Callable[[bool], None] | None = None
        # Set when a reload moved this member into a new group: leases still holding the old
        # member release on the new one, so in-flight counts survive the swap.
        self.successor: _Member | None = None
        # Position used by WeightedRoundRobin: joined at virtual time `b`, picked `c` times since,
        # so eligible from `e = b + c / weight` with deadline `d = b + (c + 1) / weight`.
        self.b = 0.0
        self.c = 0
        self.e = 0.0
        self.d = 0.0
        # WeightedRoundRobin's weight in its internal units (`weight` times a common scale).
        self.rate = weight

    def pickable(self) -> bool:
        return (
            self.weight > 0
            and self.admin_up
            and self.child_up
            and not self.cooling_until
            and not self.draining
        )

    def state(self) -> str:
        if self.draining:
            return "draining"
        if self.cooling_until:
            return "cooling"
        if not (self.admin_up and self.child_up):
            return "down"
        return "up"

    def finish(self, ok: bool | None) -> None:
        member = self
        while member.successor is not None:
            member = member.successor
        member.group._finish(member, ok)


class Group(Balancer):
    """Base of the balancers that choose among weighted children: health, draining, in-flight
    counts and ``rebuild`` live here; a strategy subclass says only how to pick."""

    #: Whether weights mean anything to this strategy (shown in ``repr``).
    weighted: ClassVar[bool] = True

    def __init__(
        self,
        children: Iterable[ChildSpec] = (),
        *,
        name: str | None = None,
        clock: Clock | None = None,
        passive: PassiveHealth | None = None,
    ) -> None:
        # Read once: an unnamed group's name derives from its children, then they are added.
        specs = () if isinstance(children, str | Server | Balancer) else tuple(children)
        super().__init__(name, children=specs)
        self._setup()
        if passive is not None and not isinstance(passive, PassiveHealth):
            raise ConfigError(f"{self._where()}: passive= must be a PassiveHealth, got {passive!r}")
        self._members: dict[str, _Member] = {}
        self._n_active = 0
        self._seq = 0
        self._version = 0
        self._clock: Clock = clock if clock is not None else time.monotonic
        self._passive = passive
        self._expiry_at = _INF
        self._was_up = False
        if isinstance(children, str | Server | Balancer):
            raise ConfigError(f"{self._where()}: children must be a list, got {children!r}")
        for spec in specs:
            if isinstance(spec, tuple):
                if len(spec) != 2:
                    raise ConfigError(
                        f"{self._where()}: a child must be given as (child, weight), got {spec!r}"
                    )
                self.add(spec[0], spec[1])
            else:
                self.add(spec)

    # -- strategy hooks ----------------------------------------------------------------------------

    def _setup(self) -> None:
        """Initialise the strategy's state (runs before any child is added)."""

    def _activate(self, m: _Member) -> None:
        """*m* became pickable."""

    def _deactivate(self, m: _Member) -> None:
        """*m* stopped being pickable (or is being removed)."""

    def _choose(self, request: Request | None) -> _Member:
        raise NotImplementedError

    def _preview(self) -> str:
        return "?"

    def _options(self) -> dict[str, Any]:
        """Constructor keyword arguments that `rebuild` carries over from the old balancer."""
        return {"name": self.name, "clock": self._clock, "passive": self._passive}

    def _adopt_positions(self, old: Self) -> None:
        """Carry the strategy's position over from *old* (members are already matched)."""

    # -- membership --------------------------------------------------------------------------------

    @property
    def children(self) -> tuple[Child, ...]:
        """The children in insertion order."""
        return tuple(m.child for m in self._members.values())

    def __len__(self) -> int:
        return len(self._members)

    def __contains__(self, child: object) -> bool:
        key = child.name if isinstance(child, Server | Balancer) else child
        return key in self._members

    def add(self, child: Server | str | Balancer, weight: float = 1.0) -> None:
        """Add a child; it joins at the current position (no burst of requests towards it)."""
        node = as_child(child, self._where())
        key = node.name
        w = check_weight(weight, f"{self._where()}: child {key!r}")
        self._check_weight(key, w)
        if key in self._members:
            raise ConfigError(f"{self._where()}: duplicate child {key!r}")
        if isinstance(node, Balancer) and node._contains_node(self):
            raise ConfigError(f"{self._where()}: adding {key!r} would make a cycle")
        m = _Member(self, node, key, w, self._seq)
        self._seq += 1
        self._members[key] = m
        self._version += 1
        if isinstance(node, Balancer):
            m.child_up = node.up

            def listener(up: bool, m: _Member = m) -> None:
                self._child_status(m, up)

            m.listener = listener
            node.add_status_listener(listener)
        self._update(m)

    def remove(self, child: Server | str | Balancer) -> None:
        """Remove a child now; its leases still release cleanly."""
        m = self._member(child)
        self._detach(m)

    def set_weight(self, child: Server | str | Balancer, weight: float) -> None:
        """Change a child's weight; the others keep their positions, it restarts from now."""
        m = self._member(child)
        w = check_weight(weight, f"{self._where()}: child {m.key!r}")
        self._check_weight(m.key, w)
        if m.active:
            # Out and back in, so that the strategy restarts it from now with its new weight.
            self._take_out(m)
        m.weight = w
        self._update(m)

    def drain(self, child: Server | str | Balancer) -> None:
        """Stop picking *child*; it is removed once its in-flight requests are released."""
        m = self._member(child)
        m.draining = True
        if m.inflight <= 0:
            self._detach(m)
        else:
            self._update(m)

    def mark_down(self, child: Server | str | Balancer) -> None:
        """Take *child* out until `mark_up` (an active health check said it is unhealthy)."""
        m = self._member(child)
        m.admin_up = False
        self._update(m)

    def mark_up(self, child: Server | str | Balancer) -> None:
        """Put *child* back in; also ends a passive-health cool-down and forgets its failures."""
        m = self._member(child)
        m.admin_up = True
        m.cooling_until = 0.0
        m.failures.clear()
        self._update(m)
        self._recompute_expiry()

    def is_up(self, child: Server | str | Balancer) -> bool:
        """Whether *child* can be picked now."""
        self._refresh()
        return self._member(child).active

    def report(self, child: Server | str | Balancer, ok: bool) -> None:
        """Report the outcome of a request sent to *child*, for passive health checking."""
        self._record(self._member(child), ok)

    def _check_weight(self, key: str, weight: float) -> None:
        """Strategies that restrict weights override this."""

    def _member(self, child: Server | str | Balancer) -> _Member:
        key = child.name if isinstance(child, Server | Balancer) else child
        m = self._members.get(key) if isinstance(key, str) else None
        if m is None:
            known = ", ".join(repr(k) for k in list(self._members)[:_REPR_LIMIT]) or "none"
            raise ConfigError(f"{self._where()}: no child {child!r} (children: {known})")
        return m

    def _detach(self, m: _Member) -> None:
        if m.active:
            self._take_out(m)
        del self._members[m.key]
        self._version += 1
        self._unlisten(m)
        self._recompute_expiry()
        if self._n_active == 0 and self._was_up:
            self._was_up = False
            self._notify(False)

    def _take_out(self, m: _Member) -> None:
        """Make the active member *m* unpickable (the caller tells listeners if need be)."""
        m.active = False
        self._deactivate(m)
        self._n_active -= 1

    def _unlisten(self, m: _Member) -> None:
        """Stop hearing the status of *m*'s child balancer."""
        if m.listener is not None and isinstance(m.child, Balancer):
            m.child.remove_status_listener(m.listener)
            m.listener = None

    def _update(self, m: _Member) -> None:
        """Recompute whether *m* is pickable and tell listeners if the group flipped."""
        now_active = m.pickable()
        if now_active != m.active:
            if now_active:
                m.active = True
                self._n_active += 1
                self._activate(m)
            else:
                self._take_out(m)
        up = self._n_active > 0
        if up != self._was_up:
            self._was_up = up
            self._notify(up)

    def _child_status(self, m: _Member, up: bool) -> None:
        if self._members.get(m.key) is not m or not isinstance(m.child, Balancer):
            return
        m.child_up = up
        if not up:
            # The child may come back on its own when a cool-down below it ends: remember when.
            # Before `_update`, which may tell our own parent that we went down: the parent then
            # asks us when we may come back (as in `_record`), at any depth of the tree.
            self._expiry_at = min(self._expiry_at, m.child._expiry())
        self._update(m)

    # -- health over time --------------------------------------------------------------------------

    def _refresh(self) -> None:
        if self._expiry_at != _INF:
            now = self._clock()
            if now >= self._expiry_at:
                self._revive(now)

    def _revive(self, now: float) -> None:
        for m in list(self._members.values()):
            if m.cooling_until and m.cooling_until <= now:
                m.cooling_until = 0.0
                self._update(m)
            elif not m.child_up and isinstance(m.child, Balancer):
                m.child._revive(now)
        self._recompute_expiry()

    def _expiry(self) -> float:
        return self._expiry_at

    def _recompute_expiry(self) -> None:
        expiry = _INF
        for m in self._members.values():
            if m.cooling_until:
                expiry = min(expiry, m.cooling_until)
            elif not m.child_up and isinstance(m.child, Balancer):
                expiry = min(expiry, m.child._expiry())
        self._expiry_at = expiry

    def _record(self, m: _Member, ok: bool) -> None:
        passive = self._passive
        if passive is None:
            return
        if ok:
            if passive.consecutive:
                m.failures.clear()
            return
        now = self._clock()
        failures = m.failures
        while failures and failures[0] <= now - passive.window:
            failures.popleft()
        failures.append(now)
        if len(failures) >= passive.max_failures and not m.cooling_until:
            failures.clear()
            m.cooling_until = now + passive.down_for
            # Before `_update`: a parent told that we went down asks when we may come back.
            self._expiry_at = min(self._expiry_at, m.cooling_until)
            self._update(m)

    def _finish(self, m: _Member, ok: bool | None) -> None:
        m.inflight -= 1
        if ok is not None:
            self._record(m, ok)
        if m.draining and m.inflight <= 0 and self._members.get(m.key) is m:
            self._detach(m)

    # -- picking -----------------------------------------------------------------------------------

    @property
    def up(self) -> bool:
        """Whether at least one child can be picked now."""
        self._refresh()
        return self._n_active > 0

    def _select(self, request: Request | None, lease: Lease | None) -> Server:
        if self._expiry_at != _INF:
            self._refresh()
        return self._descend(self._choose(request), request, lease)

    def _descend(self, m: _Member, request: Request | None, lease: Lease | None) -> Server:
        m.picks += 1
        if lease is not None:
            m.inflight += 1
            lease._members.append(m)
        child = m.child
        # `type(...) is` rather than `isinstance`: the cheapest test on the hot path, and
        # enough because `Server` is final.
        if type(child) is Server:
            return child
        return child._select(request, lease)

    def _unavailable(self) -> NoServerAvailable:
        if not self._members:
            return NoServerAvailable(f"no available server: {self._where()} has no children")
        states: dict[str, int] = {}
        for m in self._members.values():
            state = m.state()
            if state == "up" and m.weight == 0:
                state = "weight 0"
            states[state] = states.get(state, 0) + 1
        detail = ", ".join(f"{n} {s}" for s, n in states.items())
        return NoServerAvailable(
            f"no available server: {self._where()} has {len(self._members)} children ({detail})"
        )

    # -- reload ------------------------------------------------------------------------------------

    @classmethod
    def rebuild(cls, old: Self, children: Iterable[ChildSpec], **options: Any) -> Self:
        """Build a balancer over *children*, keeping what *old* knew about the ones that stayed.

        Children are matched by key (a server's URL, a balancer's name).  Those that stayed keep
        their position, health (marks, cool-downs, recent failures), in-flight count and pick
        count; leases taken from *old* release on the new balancer.  Options default to *old*'s.
        """
        if not isinstance(old, cls):
            raise ConfigError(
                f"{cls.__name__}.rebuild() needs an old {cls.__name__}, got {type(old).__name__}"
            )
        new = cls._from_children(children, **{**old._options(), **options})
        for key, m in new._members.items():
            om = old._members.get(key)
            if om is None:
                continue
            m.admin_up = om.admin_up
            m.cooling_until = om.cooling_until
            m.failures = deque(om.failures)
            m.inflight = om.inflight
            m.picks = om.picks
            om.successor = m
        # Positions first (they read which members are active), then health on top of them.
        new._adopt_positions(old)
        for m in new._members.values():
            new._update(m)
        new._recompute_expiry()
        old._retire()
        return new

    @classmethod
    def _from_children(cls, children: Iterable[ChildSpec], **options: Any) -> Self:
        return cls(children, **options)

    def _retire(self) -> None:
        for m in self._members.values():
            self._unlisten(m)

    # -- introspection -----------------------------------------------------------------------------

    def _child_nodes(self) -> Iterator[Balancer]:
        for m in self._members.values():
            if isinstance(m.child, Balancer):
                yield m.child

    def statistics(self) -> BalancerStats:
        """A snapshot of the children, their weights, health, in-flight and pick counts."""
        self._refresh()
        return BalancerStats(
            name=self.name,
            kind=type(self).__name__,
            up=self._n_active > 0,
            children=tuple(
                ChildStats(
                    name=m.key,
                    weight=m.weight,
                    state=m.state(),
                    inflight=m.inflight,
                    picks=m.picks,
                    failures=len(m.failures),
                )
                for m in self._members.values()
            ),
        )

    def _where(self) -> str:
        return f"{type(self).__name__} {self.name!r}"

    def __repr__(self) -> str:
        self._refresh()
        members = list(self._members.values())
        if len(members) <= _REPR_LIMIT:
            parts = []
            for m in members:
                text = m.key + (f"={format_weight(m.weight)}" if self.weighted else "")
                state = m.state()
                parts.append(text if state == "up" else f"{text} {state}")
            body = ", ".join(parts) or "no children"
        else:
            counts = {"up": 0, "down": 0, "cooling": 0, "draining": 0}
            for m in members:
                counts[m.state()] += 1
            body = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        nxt = self._preview() if self._n_active else "none"
        return f"<{type(self).__name__} {self.name!r} [{body} | next: {nxt}]>"
