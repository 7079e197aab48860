"""`Watcher`: follow providers, merge them, and publish a new `Runtime` after each change.

Per provider, like Traefik's aggregator: snapshots equal to the previous
one are skipped; the others go through a `Throttle` (the first change applies at once, later ones
collapse into the latest, applied when the pause ends); an applied snapshot is validated, the
last good version of each element an error left out is put back, names are qualified
(``name@provider``), every provider is merged and the result built into a new `Runtime`, which
replaces the current one in a single reference swap.

All of that but the swap runs on a worker thread (`prepare`), so that a reload of a large
configuration does not stall the requests served meanwhile; only the services that take over an
old balancer's state are made on the event loop (`Prepared.finish`), just before the swap, with
the state the balancers have then.  One reload runs at a time, on the newest snapshot of each
provider: snapshots that arrive meanwhile collapse into the latest, and a runtime is never
published after a newer one.  A change of the problems alone (a broken file whose elements keep
their last good version) is published too: subscribers see the same runtime again, and
`Watcher.problems` has changed.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Final, final

import anyio
import anyio.to_thread

from ..config import Configuration, validate
from ..errors import ConfigError, Problem
from ..providers import Provider, Snapshot, as_snapshot, check_provider_name
from ._build import DEFAULT_ENTRY_POINTS, DEFAULT_PROVIDER_PRECEDENCE, Prepared, build, prepare
from ._qualify import keep_last_good, merge_qualified, provider_of, qualify
from ._release import release
from ._runtime import Runtime
from ._throttle import Throttle

__all__ = ["Watcher"]

_log: Final = logging.getLogger("routekit.watcher")
#: Seconds to wait before following a provider again after it failed, doubling up to the last.
_RETRY_DELAYS: Final = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)


class _Followed:
    """The watcher's state for one provider."""

    __slots__ = (
        "applied",
        "build_problems",
        "failure",
        "good",
        "last_received",
        "own_problems",
        "provider",
        "qualified",
        "ready",
        "throttle",
        "todo",
        "wake",
    )

    def __init__(self, provider: Provider, throttle: float) -> None:
        self.provider = provider
        self.throttle: Throttle[Snapshot] = Throttle(throttle)
        self.last_received: Snapshot | None = None
        # The snapshot released by the throttle and not yet applied (the newest wins).
        self.todo: Snapshot | None = None
        # The validated configuration last applied (with kept elements), and its qualified form.
        self.good: Configuration | None = None
        self.qualified: Configuration | None = None
        self.own_problems: tuple[Problem, ...] = ()
        self.build_problems: tuple[Problem, ...] = ()
        # The snapshot last applied: an equal one sent again is not checked again.
        self.applied: Snapshot | None = None
        # Why following the provider failed, until it gives a snapshot again.
        self.failure: Problem | None = None
        self.ready = False
        self.wake: anyio.Event | None = None

    def problems(self) -> tuple[Problem, ...]:
        """Source, validation and build problems of the latest applied snapshot, and failure."""
        failure = () if self.failure is None else (self.failure,)
        return (*self.own_problems, *failure, *self.build_problems)


#: One provider's state as the worker thread reads it: the arguments of `_check_snapshot`.
_Work = tuple[
    str,
    Snapshot,
    Configuration | None,
    bool,
    Snapshot | None,
    tuple[Problem, ...],
    Configuration | None,
]


class _Applied:
    """What the worker thread made of one provider's snapshot."""

    __slots__ = ("changed", "config", "problems", "qualified")

    def __init__(
        self,
        config: Configuration,
        qualified: Configuration,
        problems: tuple[Problem, ...],
        changed: bool,
    ) -> None:
        self.config = config
        self.qualified = qualified
        self.problems = problems
        self.changed = changed


def _check_snapshot(  # noqa: PLR0917 - one provider's state, taken on the loop
    name: str,
    snapshot: Snapshot,
    good: Configuration | None,
    first: bool,
    applied: Snapshot | None,
    problems_now: tuple[Problem, ...],
    qualified_now: Configuration | None,
) -> _Applied:
    """Validate *snapshot*, put back the last good elements an error left out, qualify it."""
    if not first and good is not None and qualified_now is not None and snapshot == applied:
        # Sent again as it was (a polling provider): nothing to check.  Comparing takes tens of
        # milliseconds at 10 000 routers, which is why it is done here, off the loop.
        return _Applied(good, qualified_now, problems_now, False)
    checked = validate(snapshot.config)
    problems = (*snapshot.problems, *checked.problems)
    config, kept = keep_last_good(checked.config, problems, good)
    qualified, bad_names = qualify(config, name)
    return _Applied(config, qualified, (*problems, *kept, *bad_names), first or config != good)


def _check_throttle(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{what} must be a number of seconds, got {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ConfigError(f"{what} must be a finite number >= 0, got {value!r}")
    return float(value)


@final
class Watcher:
    """Follow *providers* and keep `runtime` up to date with what they describe.

    Args:
        providers: the providers to follow; their names must be distinct.
        throttle: seconds between two applied snapshots of one provider (Traefik's
            ``providersThrottleDuration``, default 2 s); 0 applies every change at once.  A
            provider with a ``throttle_duration`` attribute (not ``None``) uses its own.
        clock: the time source of the throttle and of the balancers (``time.monotonic``).
        sleep: how to wait for the throttle (``anyio.sleep``); inject it with *clock* in tests.
        default_entry_points: where routers that name no entry point go.
        provider_precedence: provider names, the one that wins a priority tie first.

    Raises:
        ConfigError: two providers share a name, a name is not a valid provider name, or the
            throttle is negative.

    Run it with ``async with watcher.running(): ...`` or ``await watcher.run()`` in a task group.
    """

    def __init__(
        self,
        providers: Iterable[Provider],
        *,
        throttle: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        default_entry_points: Sequence[str] = DEFAULT_ENTRY_POINTS,
        provider_precedence: Sequence[str] = DEFAULT_PROVIDER_PRECEDENCE,
    ) -> None:
        throttle = _check_throttle(throttle, "throttle")
        followed: dict[str, _Followed] = {}
        for provider in providers:
            name = check_provider_name(getattr(provider, "name", None))
            if name in followed:
                raise ConfigError(f"two providers are named {name!r}; provider names must differ")
            # Like Traefik's ThrottleDuration(): a provider may ask for its own pause.
            own = getattr(provider, "throttle_duration", None)
            if own is not None:
                own = _check_throttle(own, f"{name}.throttle_duration")
            followed[name] = _Followed(provider, throttle if own is None else own)
        self._followed = followed
        self._throttle = float(throttle)
        self._clock = clock
        self._sleep = sleep
        self._entry_points = tuple(default_entry_points)
        self._precedence = tuple(provider_precedence)
        self._runtime = build(Configuration(), entry_points=self._entry_points, clock=clock)
        self._version = 0
        #: How many runtimes were published, and the UNIX time of the last one (``None``
        #: before the first): Traefik's reload metrics.
        self.reloads = 0
        self.last_reload: float | None = None
        self._logged: frozenset[Problem] = frozenset()
        self._following = 0
        self._work: anyio.Event | None = None
        self._changed: anyio.Event | None = None
        self._ready: anyio.Event | None = None
        self._running = False
        self._stopped = False

    # -- what it publishes -----------------------------------------------------------------------

    @property
    def runtime(self) -> Runtime:
        """The current runtime (an empty one until the first snapshot is applied)."""
        return self._runtime

    @property
    def providers(self) -> tuple[Provider, ...]:
        """The providers followed, in the order given."""
        return tuple(f.provider for f in self._followed.values())

    @property
    def problems(self) -> Mapping[str, tuple[Problem, ...]]:
        """Provider name → problems of its latest applied snapshot (source, validation, build)."""
        return MappingProxyType({n: f.problems() for n, f in self._followed.items()})

    def subscribe(self) -> AsyncIterator[Runtime]:
        """An async iterator of the runtimes published from now on.

        A slow reader is not queued up: each step gives the latest runtime, skipping any it was
        too slow to see.  A step also comes when only `problems` changed (then with the same
        runtime as before).  The iteration ends when the watcher stops.
        """
        return _Subscription(self)

    # -- running -----------------------------------------------------------------------------------

    async def run(self) -> None:
        """Follow every provider until cancelled (or until every provider's stream has ended)."""
        if self._running:
            raise ConfigError("this Watcher is already running")
        self._running, self._stopped = True, False
        self._following = len(self._followed)
        try:
            self._check_ready()
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._apply_all)
                for followed in self._followed.values():
                    tg.start_soon(self._follow, followed)
        finally:
            self._running, self._stopped = False, True
            self._work = None
            # Wake every waiter, and drop events bound to this event loop.
            self._signal()
            if self._ready is not None:
                self._ready.set()
                self._ready = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Watcher]:
        """Run the watcher in the background; entering waits for each provider's first snapshot."""
        async with anyio.create_task_group() as tg:
            tg.start_soon(self.run)
            await self.wait_ready()
            try:
                yield self
            finally:
                tg.cancel_scope.cancel()

    async def wait_ready(self) -> None:
        """Wait until every provider's first snapshot was applied (or the provider failed)."""
        if all(f.ready for f in self._followed.values()):
            return
        if self._ready is None:
            self._ready = anyio.Event()
        await self._ready.wait()

    # -- per provider ------------------------------------------------------------------------------

    async def _follow(self, followed: _Followed) -> None:
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._release, followed)
                await self._read(followed)
                # The stream ended: apply what the throttle still holds, then stop.
                while (deadline := followed.throttle.deadline) is not None:
                    await self._sleep(max(0.0, deadline - self._clock()))
                    self._due(followed)
                tg.cancel_scope.cancel()
        finally:
            self._following -= 1
            self._wake_worker()

    async def _read(self, followed: _Followed) -> None:
        failures = 0
        while True:
            try:
                async for item in followed.provider.watch():
                    failures = 0
                    if followed.failure is not None:
                        followed.failure = None
                        self._problems_changed()
                    self._offer(followed, as_snapshot(item))
                return
            except Exception as exc:  # a provider bug or an unreadable source: report, retry
                message = f"the provider failed: {type(exc).__name__}: {exc}"
                followed.failure = Problem("", message, followed.provider.name)
                self._problems_changed()
                self._mark_ready(followed)
                await self._sleep(_RETRY_DELAYS[min(failures, len(_RETRY_DELAYS) - 1)])
                failures += 1

    def _offer(self, followed: _Followed, snapshot: Snapshot) -> None:
        # Identity only: comparing two large configurations would stall the loop, so an equal
        # snapshot sent again is recognised by the worker thread instead.
        if snapshot is followed.last_received:
            return
        followed.last_received = snapshot
        ready = followed.throttle.offer(snapshot, self._clock())
        if ready is not None:
            self._schedule(followed, ready)
        elif followed.wake is not None:
            followed.wake.set()

    async def _release(self, followed: _Followed) -> None:
        while True:
            deadline = followed.throttle.deadline
            if deadline is None:
                followed.wake = anyio.Event()
                try:
                    await followed.wake.wait()
                finally:
                    followed.wake = None
                continue
            delay = deadline - self._clock()
            if delay > 0:
                await self._sleep(delay)
                continue
            self._due(followed)

    def _due(self, followed: _Followed) -> None:
        item = followed.throttle.due(self._clock())
        if item is not None:
            self._schedule(followed, item)

    # -- applying: one reload at a time, its work on a thread, the swap on the loop -------------

    def _schedule(self, followed: _Followed, snapshot: Snapshot) -> None:
        # A snapshot not yet taken by the worker is replaced: only the newest matters.
        followed.todo = snapshot
        self._wake_worker()

    def _wake_worker(self) -> None:
        if self._work is not None:
            self._work.set()
            self._work = None

    async def _apply_all(self) -> None:
        """Apply the snapshots the throttles release, newest first, until the providers end."""
        while True:
            batch = [f for f in self._followed.values() if f.todo is not None]
            if batch:
                await self._apply(batch)
            elif self._following <= 0:
                return
            else:
                self._work = anyio.Event()
                await self._work.wait()

    async def _apply(self, batch: list[_Followed]) -> None:
        todo = [(f, f.todo) for f in batch if f.todo is not None]
        for f in batch:
            f.todo = None
        # What the thread reads is taken now, on the loop: only this task changes it, so it
        # still holds when the thread is done (and `self._runtime` is the runtime replaced).
        current = {n: f.qualified for n, f in self._followed.items()}
        previous = self._runtime
        work = [
            (f.provider.name, s, f.good, not f.ready, f.applied, f.own_problems, f.qualified)
            for f, s in todo
        ]

        # Abandoned if cancelled: the thread only makes new objects, so nothing is left half
        # changed, and stopping need not wait for a large build.
        applied, prepared = await anyio.to_thread.run_sync(
            self._off_the_loop, work, current, previous, abandon_on_cancel=True
        )
        changed = prepared is not None
        # What is replaced is freed on a worker thread, a piece at a time: dropping the last
        # reference to a large runtime or configuration here would free it all at once, on the
        # loop (tens of milliseconds at 10 000 routers).
        replaced: list[object] = [previous, work, current]
        for (followed, snapshot), a in zip(todo, applied, strict=True):
            changed = changed or a.problems != followed.own_problems
            replaced += (followed.good, followed.qualified, followed.applied)
            followed.good, followed.qualified = a.config, a.qualified
            followed.own_problems = a.problems
            followed.applied = snapshot
        if prepared is not None:
            self._publish(prepared.finish())
        elif changed:
            self._problems_changed()
        for followed, _ in todo:
            self._mark_ready(followed)
        replaced.append(prepared)
        del previous, work, current, prepared, applied, todo
        await anyio.to_thread.run_sync(release, replaced)

    def _off_the_loop(
        self,
        work: list[_Work],
        current: dict[str, Configuration | None],
        previous: Runtime,
    ) -> tuple[list[_Applied], Prepared | None]:
        """Check the snapshots and prepare the new runtime: the reload's work, on a thread."""
        applied = [_check_snapshot(*args) for args in work]
        if not any(a.changed for a in applied):
            return applied, None
        for (name, *_), a in zip(work, applied, strict=True):
            current[name] = a.qualified
        merged = merge_qualified(q for q in current.values() if q is not None)
        return applied, prepare(
            merged,
            previous=previous,
            entry_points=self._entry_points,
            provider_precedence=self._precedence,
            clock=self._clock,
        )

    def _publish(self, runtime: Runtime) -> None:
        by_provider: dict[str, list[Problem]] = {n: [] for n in self._followed}
        for problem in runtime.problems:
            owner = provider_of(problem.path)
            if owner in by_provider:
                by_provider[owner].append(problem)
        for n, f in self._followed.items():
            f.build_problems = tuple(by_provider[n])
        # The one reference swap: a request reads either the old runtime or the new one.
        self._runtime = runtime
        self.reloads += 1
        self.last_reload = time.time()
        http = runtime.config.http
        _log.info(
            "configuration reloaded: %d routers, %d services, %d middlewares",
            len(http.routers), len(http.services), len(http.middlewares),
        )  # fmt: skip
        self._problems_changed()

    def _problems_changed(self) -> None:
        """Tell subscribers that something changed (the runtime, or only the problems); log
        each problem once, when it appears, with its source."""
        current = frozenset(p for f in self._followed.values() for p in f.problems())
        for problem in sorted(current - self._logged, key=str):
            (_log.warning if problem.severity == "error" else _log.info)("%s", problem)
        self._logged = current
        self._version += 1
        self._signal()

    def _signal(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def _mark_ready(self, followed: _Followed) -> None:
        followed.ready = True
        self._check_ready()

    def _check_ready(self) -> None:
        if self._ready is not None and all(f.ready for f in self._followed.values()):
            self._ready.set()

    def _wait_changed(self) -> anyio.Event:
        if self._changed is None:
            self._changed = anyio.Event()
        return self._changed

    def __repr__(self) -> str:
        names = ", ".join(self._followed) or "no providers"
        state = "running" if self._running else "stopped"
        return f"<Watcher [{names}] {state}, throttle {self._throttle:g}s: {self._runtime!r}>"


@final
class _Subscription:
    """The async iterator `Watcher.subscribe` returns."""

    __slots__ = ("_seen", "_watcher")

    def __init__(self, watcher: Watcher) -> None:
        self._watcher = watcher
        self._seen = watcher._version

    def __aiter__(self) -> _Subscription:
        return self

    async def __anext__(self) -> Runtime:
        watcher = self._watcher
        while self._seen == watcher._version:
            if watcher._stopped:
                raise StopAsyncIteration
            await watcher._wait_changed().wait()
        self._seen = watcher._version
        return watcher._runtime
