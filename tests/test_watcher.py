"""Watcher: merging providers, throttling, skipping, keeping the last good elements, publishing."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from routekit import ConfigError, Request
from routekit.balance import WeightedRoundRobin
from routekit.config import Configuration, ValidationResult, loads_dynamic
from routekit.providers import FileProvider, Snapshot, StaticProvider
from routekit.runtime import Runtime, Watcher
from routekit.testing._clock import FakeClock

pytestmark = pytest.mark.anyio


def cfg(text: str) -> Configuration:
    config, problems = loads_dynamic(text, source="mem.toml")
    assert problems == []
    return config


def router(name: str, host: str, service: str = "svc", extra: str = "") -> str:
    return f'[http.routers.{name}]\nrule = "Host(`{host}`)"\nservice = "{service}"\n{extra}\n'


def service(name: str = "svc", *urls: str) -> str:
    servers = ", ".join(f'{{url = "{u}"}}' for u in urls or ("http://10.0.0.1:80",))
    return f"[http.services.{name}.loadBalancer]\nservers = [{servers}]\n"


def get(host: str) -> Request:
    return Request(method="GET", host=host, path="/")


class FakeTime:
    """A fake clock and a sleep that waits for the test to move it: pauses take no real time."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self._moved: anyio.Event | None = None

    async def sleep(self, seconds: float) -> None:
        until = self.clock() + seconds
        while self.clock() < until:
            self._moved = self._moved or anyio.Event()
            await self._moved.wait()

    async def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        if self._moved is not None:
            self._moved.set()
            self._moved = None
        await anyio.sleep(0.01)  # let the woken tasks run


async def next_runtime(stream: AsyncIterator[Runtime], within: float = 3.0) -> Runtime:
    with anyio.fail_after(within):
        return await stream.__anext__()


async def test_merges_providers_with_qualified_names(tmp_path: Path) -> None:
    (tmp_path / "dyn.toml").write_text(
        router("api", "api.example.com", extra='middlewares = ["auth@static"]') + service()
    )
    static = StaticProvider(
        cfg(
            router("web", "web.example.com", service="svc@file")
            + "[http.middlewares.auth.basicAuth]\nusers = ['u:{SHA}2PRZAyDhNDqRW2OUFwZQqPNdaSY=']\n"
        )
    )
    watcher = Watcher([FileProvider(tmp_path), static], throttle=0)
    async with watcher.running():
        rt = watcher.runtime
        assert rt.routers == ("api@file", "web@static")
        api = rt.route(get("api.example.com"))
        web = rt.route(get("web.example.com"))
        assert api is not None and web is not None
        assert api.service is web.service is rt.services["svc@file"]
        assert type(api.middlewares[0]).__name__ == "BasicAuth"
        assert watcher.problems == {"file": (), "static": ()}
        assert set(rt.config.sources) >= {"http.routers.api@file.rule"}


async def test_unknown_cross_provider_reference_is_reported_per_provider() -> None:
    static = StaticProvider(cfg(router("web", "w.com", service="svc@docker")))
    watcher = Watcher([static], throttle=0)
    async with watcher.running():
        assert watcher.runtime.routers == ()
        (problem,) = watcher.problems["static"]
        assert problem.path == "http.routers.web@static.service"
        assert problem.message == "unknown service 'svc@docker'"


async def test_file_edit_is_published(tmp_path: Path) -> None:
    path = tmp_path / "dyn.toml"
    path.write_text(router("a", "a.com") + service())
    watcher = Watcher([FileProvider(path, poll_interval=0.02)], throttle=0)
    async with watcher.running():
        updates = watcher.subscribe()
        old = watcher.runtime
        path.write_text(router("a", "a.com") + router("b", "b.com") + service())
        new = await next_runtime(updates)
        assert new.routers == ("a@file", "b@file")
        assert watcher.runtime is new
        # The old runtime is untouched: requests that started on it finish on it.
        assert old.routers == ("a@file",)
        assert old.route(get("b.com")) is None and new.route(get("b.com")) is not None


async def test_throttle_applies_first_at_once_then_latest() -> None:
    time = FakeTime()
    provider = StaticProvider(cfg(router("r0", "h0.com") + service()))
    watcher = Watcher([provider], throttle=2.0, clock=time.clock, sleep=time.sleep)
    async with watcher.running():
        assert watcher.runtime.routers == ("r0@static",)
        updates = watcher.subscribe()
        await time.advance(10.0)  # the pause that followed the initial snapshot is over
        provider.update(cfg(router("r1", "h1.com") + service()))
        first = await next_runtime(updates)
        # Leading edge: the first change is applied at once…
        assert first.routers == ("r1@static",) and time.clock() == 10.0
        # …then changes during the pause collapse into the latest, applied when it ends.
        for i in (2, 3, 4):
            provider.update(cfg(router(f"r{i}", f"h{i}.com") + service()))
            await time.advance(0.5)
        assert watcher.runtime is first
        await time.advance(0.5)
        second = await next_runtime(updates)
        assert second.routers == ("r4@static",)
        assert time.clock() == 12.0


async def test_unchanged_snapshots_are_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    from routekit.config import validate as real
    from routekit.runtime import _watcher

    validated: list[Configuration] = []

    def counting(config: Configuration) -> ValidationResult:
        validated.append(config)
        return real(config)

    monkeypatch.setattr(_watcher, "validate", counting)
    config = cfg(router("a", "a.com") + service())
    provider = StaticProvider(config)
    watcher = Watcher([provider], throttle=0)
    async with watcher.running():
        before = watcher.runtime
        provider.update(cfg(router("a", "a.com") + service()))  # equal, not the same object
        await anyio.sleep(0.05)
        assert watcher.runtime is before
        # Recognised as equal off the loop, before any validation work.
        assert validated == [config]


async def test_broken_element_keeps_its_previous_version() -> None:
    good = router("a", "a.com") + router("b", "b.com") + service()
    provider = StaticProvider(cfg(good))
    watcher = Watcher([provider], throttle=0)
    async with watcher.running():
        updates = watcher.subscribe()
        # Router a gets a broken rule, router b is removed on purpose, router c is added.
        edited = good.replace("Host(`a.com`)", "Host(`a.com`").replace("[http.routers.b]", "[x]")
        provider.update(cfg(edited.replace("[x]", "[http.routers.c]")))
        rt = await next_runtime(updates)
        assert rt.routers == ("a@static", "c@static")
        assert rt.route(get("a.com")) is not None
        problems = watcher.problems["static"]
        assert problems[0].path == "http.routers.a.rule"
        assert problems[-1].severity == "warning"
        assert "previous version keeps serving" in problems[-1].message


async def test_balancer_state_carries_over_a_reload() -> None:
    provider = StaticProvider(cfg(router("a", "a.com") + service("svc", "http://s1", "http://s2")))
    watcher = Watcher([provider], throttle=0)
    async with watcher.running():
        balancer = watcher.runtime.services["svc@static"]
        assert isinstance(balancer, WeightedRoundRobin)
        balancer.mark_down("http://s1")
        updates = watcher.subscribe()
        provider.update(cfg(router("a", "a.com") + service("svc", "http://s1", "http://s3")))
        rt = await next_runtime(updates)
        new = rt.services["svc@static"]
        assert isinstance(new, WeightedRoundRobin) and new is not balancer
        assert not new.is_up("http://s1") and new.is_up("http://s3")


async def test_provider_failure_is_reported_and_others_still_serve() -> None:
    class Broken:
        name = "broken"

        async def watch(self) -> AsyncIterator[Snapshot]:
            raise OSError("endpoint unreachable")
            yield Snapshot()  # pragma: no cover - makes this an async generator

        async def snapshot(self) -> Snapshot:
            raise OSError("endpoint unreachable")

    time = FakeTime()
    static = StaticProvider(cfg(router("a", "a.com") + service()))
    watcher = Watcher([Broken(), static], throttle=0, clock=time.clock, sleep=time.sleep)
    async with watcher.running():
        assert watcher.runtime.routers == ("a@static",)
        (problem,) = watcher.problems["broken"]
        assert problem.message == "the provider failed: OSError: endpoint unreachable"
        assert problem.source == "broken"


async def test_run_ends_with_the_providers_and_ends_subscriptions(tmp_path: Path) -> None:
    path = tmp_path / "dyn.toml"
    path.write_text(router("a", "a.com") + service())
    watcher = Watcher([FileProvider(path, watch=False)], throttle=0)
    seen: list[Runtime] = []

    async def collect() -> None:
        seen.extend([rt async for rt in watcher.subscribe()])

    async with anyio.create_task_group() as tg:
        tg.start_soon(collect)
        await anyio.sleep(0)
        await watcher.run()
    assert [rt.routers for rt in seen] == [("a@file",)]
    assert watcher.runtime.routers == ("a@file",)


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ConfigError, match="two providers are named 'static'"):
        Watcher([StaticProvider(), StaticProvider()])
    with pytest.raises(ConfigError, match="throttle"):
        Watcher([], throttle=-1)


async def test_names_with_at_are_reported() -> None:
    static = StaticProvider(
        cfg('[http.routers."a@x"]\nrule = "Path(`/`)"\nservice = "svc"\n' + service())
    )
    watcher = Watcher([static], throttle=0)
    async with watcher.running():
        assert watcher.runtime.routers == ()
        assert any("'@' is not allowed in a name" in p.message for p in watcher.problems["static"])


async def test_no_busy_loop_when_idle(tmp_path: Path) -> None:
    path = tmp_path / "dyn.toml"
    path.write_text(router("a", "a.com") + service())
    watcher = Watcher([FileProvider(path, poll_interval=0.05)], throttle=0)
    async with watcher.running():
        start = os.times()
        await anyio.sleep(0.5)
        used = (os.times().user - start.user) + (os.times().system - start.system)
        # Ten polls in half a second: far below what a spinning loop would burn.
        assert used < 0.25


class _Eager:
    """A provider that asks for no throttle, whatever the watcher's default."""

    throttle_duration = 0.0

    def __init__(self, inner: StaticProvider) -> None:
        self.name = "eager"
        self._inner = inner

    def watch(self) -> AsyncIterator[Snapshot]:
        return self._inner.watch()

    async def snapshot(self) -> Snapshot:
        return await self._inner.snapshot()


async def test_a_provider_may_ask_for_its_own_throttle() -> None:
    time = FakeTime()
    inner = StaticProvider(cfg(router("r0", "h0.com") + service()))
    watcher = Watcher([_Eager(inner)], throttle=2.0, clock=time.clock, sleep=time.sleep)
    async with watcher.running():
        updates = watcher.subscribe()
        for i in (1, 2, 3):
            inner.update(cfg(router(f"r{i}", f"h{i}.com") + service()))
            new = await next_runtime(updates)
            # Applied at once each time: no 2 s pause for this provider.
            assert new.routers == (f"r{i}@eager",) and time.clock() == 0.0


def test_a_bad_provider_throttle_is_rejected() -> None:
    eager = _Eager(StaticProvider())
    eager.throttle_duration = -1.0
    with pytest.raises(ConfigError, match=r"eager\.throttle_duration must be a finite number"):
        Watcher([eager])


def test_building_does_not_import_anyio() -> None:
    # Building and routing run without an event loop library; only the Watcher needs anyio.
    script = (
        "import sys, routekit.runtime\n"
        "from routekit.runtime import build, Runtime\n"
        "assert 'anyio' not in sys.modules, 'anyio imported'\n"
        "from routekit.runtime import Watcher\n"
        "assert 'anyio' in sys.modules and Watcher.__name__ == 'Watcher'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


async def test_a_change_of_problems_alone_is_published() -> None:
    good = router("a", "a.com") + service()
    provider = StaticProvider(cfg(good))
    watcher = Watcher([provider], throttle=0)
    async with watcher.running():
        before = watcher.runtime
        updates = watcher.subscribe()
        # The broken rule keeps its previous version: same routes, but a problem to see.
        provider.update(cfg(good.replace("Host(`a.com`)", "Host(`a.com`")))
        assert await next_runtime(updates) is before
        assert watcher.problems["static"][0].path == "http.routers.a.rule"
        provider.update(cfg(good))
        assert await next_runtime(updates) is before
        assert watcher.problems["static"] == ()


async def test_the_loop_keeps_running_while_a_large_configuration_builds() -> None:
    def many(n: int, host: str) -> Configuration:
        # Every host new to each configuration: no rule of the update was parsed before.
        routers = "".join(router(f"r{i}", f"h{i}.{host}") for i in range(1, n))
        return cfg(router("r0", host) + routers + service())

    provider = StaticProvider(many(4000, "a.com"))
    watcher = Watcher([provider], throttle=0)
    async with watcher.running():
        updates = watcher.subscribe()
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await anyio.sleep(0.001)
                ticks += 1

        async with anyio.create_task_group() as tg:
            tg.start_soon(tick)
            provider.update(many(4000, "b.com"))
            rt = await next_runtime(updates, within=20)
            tg.cancel_scope.cancel()
        assert rt.route(get("b.com")) is not None and rt.route(get("a.com")) is None
        # Built on a worker thread: the loop ran other tasks meanwhile.
        assert ticks >= 5


def test_release_frees_what_only_it_held_and_keeps_the_rest() -> None:
    import gc
    import weakref

    from routekit.runtime import build
    from routekit.runtime._release import release

    gc.collect()
    config = cfg(router("a", "a.com") + router("b", "b.com") + service())
    runtime = build(config)
    kept = runtime.services["svc"]
    refs: list[weakref.ref[object]] = [
        weakref.ref(runtime),
        weakref.ref(config),
        weakref.ref(config.http.routers["a"]),
    ]
    roots: list[object] = [runtime, config, [config.http.routers], {"x": runtime}]
    del runtime, config
    release(roots)
    assert roots == []
    assert [r() for r in refs] == [None, None, None]  # freed without a collection
    assert kept.pick() is not None  # still referenced here: untouched


async def test_reloads_are_logged_and_each_problem_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="routekit.watcher")
    (tmp_path / "dyn.toml").write_text(router("api", "api.example.com") + service())
    (tmp_path / "bad.toml").write_text(
        router("bad", "b").replace("Host(`b`)", "Host(`b`") + service("s2")
    )
    watcher = Watcher([FileProvider(tmp_path)], throttle=0)
    async with watcher.running():
        await anyio.sleep(0.05)
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(m.startswith("configuration reloaded: 1 routers") for m in infos), infos
    assert len(warnings) == 1 and "bad.toml" in warnings[0] and "http.routers.bad" in warnings[0]
