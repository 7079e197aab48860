"""build(): route tables per entry point, balancer trees, middleware chains, carry-over."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from routekit import Request
from routekit.balance import (
    ConsistentHash,
    Failover,
    LeastRequests,
    Mirror,
    PowerOfTwoChoices,
    Sticky,
    WeightedRoundRobin,
)
from routekit.config import (
    AddPrefix,
    Configuration,
    HTTPConfiguration,
    LoadBalancer,
    Router,
    Server,
    Service,
    StripPrefix,
    loads_dynamic,
)
from routekit.runtime import Runtime, build, prepare

ROOT = Path(__file__).resolve().parent.parent


def cfg(text: str) -> Configuration:
    config, problems = loads_dynamic(text, source="dyn.toml")
    assert problems == []
    return config


BASE = """
[http.routers.api]
rule = "Host(`api.example.com`)"
service = "api"
middlewares = ["secure"]

[http.routers.admin]
rule = "Host(`admin.example.com`)"
service = "api"
entryPoints = ["admin"]

[http.routers.shop]
rule = "Host(`shop.example.com`)"
service = "api"
[http.routers.shop.tls]

[http.middlewares.secure.chain]
middlewares = ["strip", "add"]
[http.middlewares.strip.stripPrefix]
prefixes = ["/api"]
[http.middlewares.add.addPrefix]
prefix = "/v2"

[http.services.api.loadBalancer]
[[http.services.api.loadBalancer.servers]]
url = "http://10.0.0.1:80"
weight = 3
[[http.services.api.loadBalancer.servers]]
url = "http://10.0.0.2:80"
"""


def get(host: str, path: str = "/", scheme: str = "http") -> Request:
    return Request(method="GET", host=host, path=path, scheme=scheme)


def test_routes_by_entry_point_and_tls() -> None:
    rt = build(cfg(BASE), entry_points=["web", "websecure"])
    assert sorted(rt.tables) == ["admin", "web", "websecure"]
    assert [r.name for r in rt.tables["web"]] == ["api"]
    assert [r.name for r in rt.tables["admin"]] == ["admin"]
    # A router with tls answers HTTPS requests only, on every default entry point.
    assert rt.route(get("shop.example.com")) is None
    decision = rt.route(get("shop.example.com", scheme="https"), "websecure")
    assert decision is not None and decision.router == "shop"
    assert rt.route(get("admin.example.com"), "web") is None
    assert rt.route(get("admin.example.com"), "admin") is not None
    assert rt.route(get("api.example.com"), "nowhere") is None
    assert rt.routers == ("admin", "api", "shop")
    assert rt.problems == ()


def test_decision_has_service_and_flattened_chain() -> None:
    rt = build(cfg(BASE))
    decision = rt.route(get("api.example.com", "/api/x"))
    assert decision is not None
    assert decision.service_name == "api" and decision.service is rt.services["api"]
    assert decision.middlewares == (StripPrefix(prefixes=("/api",)), AddPrefix(prefix="/v2"))
    assert rt.middlewares["api"] == decision.middlewares
    assert decision.entry_point == "web" and decision.params == {}
    picks = [decision.service.pick().url for _ in range(4)]
    assert picks.count("http://10.0.0.1:80") == 3


def test_unknown_references_are_reported_and_left_out() -> None:
    text = BASE.replace('service = "api"\nmiddlewares', 'service = "apii"\nmiddlewares')
    text += '\n[http.routers.other]\nrule = "Path(`/o`)"\nservice = "api"\nmiddlewares = ["nope"]\n'
    rt = build(cfg(text))
    by_path = {p.path: p for p in rt.problems}
    assert by_path["http.routers.api.service"].message == "unknown service 'apii'"
    assert by_path["http.routers.api.service"].hint == "did you mean 'api'?"
    assert by_path["http.routers.api.service"].source == "dyn.toml:4:1"
    assert by_path["http.routers.other.middlewares"].message == "unknown middleware 'nope'"
    # Everything else is still built.
    assert rt.routers == ("admin", "shop")
    assert "api" in rt.services


def test_bad_rule_is_reported() -> None:
    text = BASE.replace('rule = "Host(`api.example.com`)"', 'rule = "Host(`a`"')
    rt = build(cfg(text))
    assert [p.path for p in rt.errors] == ["http.routers.api.rule"]
    assert "api" not in rt.routers


def test_service_kinds_map_to_balancers() -> None:
    text = """
[http.services.a.loadBalancer]
strategy = "p2c"
servers = [{url = "http://a1"}, {url = "http://a2"}]
[http.services.b.loadBalancer]
strategy = "hrw"
servers = [{url = "http://b1"}]
[http.services.c.loadBalancer]
strategy = "leasttime"
servers = [{url = "http://c1"}]
[http.services.c.loadBalancer.sticky.cookie]
name = "lb"
[http.services.w.weighted]
services = [{name = "a", weight = 2}, {name = "b", weight = 1}]
[http.services.m.mirroring]
service = "w"
mirrors = [{name = "c", percent = 10}]
[http.services.f.failover]
service = "a"
fallback = "b"
"""
    rt = build(cfg(text))
    assert rt.problems == ()
    s = rt.services
    assert isinstance(s["a"], PowerOfTwoChoices)
    assert isinstance(s["b"], ConsistentHash)
    assert isinstance(s["c"], Sticky) and isinstance(s["c"].balancer, LeastRequests)
    assert s["c"].cookie_name == "lb"
    assert isinstance(s["w"], WeightedRoundRobin)
    assert s["w"].children == (s["a"], s["b"])
    assert isinstance(s["m"], Mirror) and s["m"].main is s["w"]
    assert isinstance(s["f"], Failover) and s["f"].children == (s["a"], s["b"])
    # The weighted service shares the child balancers: one object per service.
    assert s["f"].pick().url in ("http://a1", "http://a2")


def test_service_loop_and_chain_loop_are_reported() -> None:
    text = """
[http.routers.r]
rule = "Path(`/`)"
service = "x@p"
middlewares = ["m1@p"]
[http.services."x@p".weighted]
services = [{name = "y@p"}]
[http.services."y@p".weighted]
services = [{name = "x@p"}]
[http.middlewares."m1@p".chain]
middlewares = ["m2@p"]
[http.middlewares."m2@p".chain]
middlewares = ["m1@p"]
"""
    rt = build(cfg(text))
    messages = [p.message for p in rt.errors]
    assert any(m.startswith("loop: x@p → y@p → x@p") for m in messages)
    assert rt.routers == () and rt.services == {}


def test_unchanged_services_keep_their_balancer_and_changed_ones_keep_state() -> None:
    first = build(
        cfg(BASE + '[http.services.other.loadBalancer]\nservers = [{url = "http://o"}]\n')
    )
    api = first.services["api"]
    assert isinstance(api, WeightedRoundRobin)
    api.mark_down("http://10.0.0.2:80")
    second = build(
        cfg(BASE + '[http.services.other.loadBalancer]\nservers = [{url = "http://o2"}]\n'),
        previous=first,
    )
    assert second.services["api"] is api
    assert second.services["other"] is not first.services["other"]
    changed = BASE.replace('url = "http://10.0.0.1:80"', 'url = "http://10.0.0.3:80"')
    third = build(cfg(changed), previous=second)
    new_api = third.services["api"]
    assert new_api is not api
    # The server that stayed is still marked down; the new one is up.
    assert not new_api.is_up("http://10.0.0.2:80")  # type: ignore[attr-defined]
    assert {new_api.pick().url for _ in range(5)} == {"http://10.0.0.3:80"}


NESTED = """
[http.routers.r]
rule = "Host(`a.com`)"
service = "split"
[http.services.split.weighted]
services = [{ name = "v1", weight = 1 }, { name = "v2", weight = 1 }]
[http.services.v1.loadBalancer]
strategy = "leasttime"
servers = [{ url = "http://a:1" }, { url = "http://b:1" }]
[http.services.v2.loadBalancer]
servers = [{ url = "http://c:1" }]
"""


def test_in_flight_requests_carry_over_into_a_changed_nested_service() -> None:
    first = build(cfg(NESTED))
    lease = first.services["v1"].acquire()
    assert lease.server.url == "http://a:1"
    grown = NESTED.replace(
        '{ url = "http://b:1" }]', '{ url = "http://b:1" }, { url = "http://d:1" }]'
    )
    second = build(cfg(grown), previous=first)
    v1 = second.services["v1"]
    assert (
        v1 is not first.services["v1"] and second.services["split"] is not first.services["split"]
    )
    # The request still in flight on a:1 counts on the new balancer: least-requests avoids it.
    assert {c.name: c.inflight for c in v1.statistics().children} == {
        "http://a:1": 1,
        "http://b:1": 0,
        "http://d:1": 0,
    }
    assert v1.pick().url != "http://a:1"
    lease.release()  # a lease taken before the reload releases on the new balancer
    assert all(c.inflight == 0 for c in v1.statistics().children)


def test_qualified_names_use_provider_precedence() -> None:
    text = """
[http.routers."a@file"]
rule = "Host(`x.com`)"
service = "s@file"
[http.routers."a@docker"]
rule = "Host(`x.com`)"
service = "s@file"
[http.services."s@file".loadBalancer]
servers = [{url = "http://s"}]
"""
    rt = build(cfg(text))
    decision = rt.route(get("x.com"))
    assert decision is not None and decision.router == "a@docker"
    rt = build(cfg(text), provider_precedence=["file", "docker"])
    decision = rt.route(get("x.com"))
    assert decision is not None and decision.router == "a@file"
    assert decision.route.provider == "file"


def test_runtime_is_immutable() -> None:
    rt = build(cfg(BASE))
    with pytest.raises(AttributeError):
        rt.tables = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        rt.services["x"] = rt.services["api"]  # type: ignore[index]
    assert isinstance(rt, Runtime)
    assert repr(rt) == "<Runtime 3 routes on admin, web; 1 services; 0 problems>"


def test_empty_configuration_builds_empty_tables() -> None:
    rt = build(Configuration())
    assert list(rt.tables) == ["web"] and len(rt.tables["web"]) == 0
    assert rt.route(get("a.com")) is None


def test_errors_middleware_names_what_is_wrong_with_its_service() -> None:
    text = BASE + (
        '\n[http.routers.err]\nrule = "Path(`/e`)"\nservice = "api"\nmiddlewares = ["oops"]\n'
        '[http.middlewares.oops.errors]\nstatus = ["500"]\nservice = "apii"\n'
    )
    rt = build(cfg(text))
    by_path = {p.path: p for p in rt.errors}
    problem = by_path["http.middlewares.oops.errors.service"]
    assert (problem.message, problem.hint) == ("unknown service 'apii'", "did you mean 'api'?")
    assert by_path["http.routers.err.middlewares"].message == (
        "uses the middleware 'oops', which is left out"
    )
    assert "err" not in rt.routers and "api" in rt.routers
    # A service that exists but could not be built is named as such, without a misleading hint.
    broken = text.replace('service = "apii"', 'service = "bad"') + (
        '[http.services.bad.weighted]\nservices = [{name = "nowhere"}]\n'
    )
    problem = {p.path: p for p in build(cfg(broken)).errors}["http.middlewares.oops.errors.service"]
    assert (problem.message, problem.hint) == ("uses the service 'bad', which is left out", None)


def test_failover_is_rebuilt_keeping_the_state_of_its_children() -> None:
    text = """
[http.services.f.failover]
service = "a"
fallback = "b"
[http.services.a.loadBalancer]
servers = [{url = "http://a1"}]
[http.services.b.loadBalancer]
servers = [{url = "http://b1"}]
"""
    first = build(cfg(text))
    failover = first.services["f"]
    assert isinstance(failover, Failover)
    failover.mark_down("a")
    second = build(cfg(text.replace("http://b1", "http://b2")), previous=first)
    rebuilt = second.services["f"]
    assert isinstance(rebuilt, Failover) and rebuilt is not failover
    assert rebuilt.children == (second.services["a"], second.services["b"])
    assert second.services["a"] is first.services["a"]
    assert not rebuilt.is_up("a") and rebuilt.pick().url == "http://b2"


def test_every_strategy_the_configuration_accepts_has_a_balancer() -> None:
    from routekit.config.model import _validate
    from routekit.runtime import _services

    assert set(_validate._STRATEGIES) == set(_services._STRATEGIES)


STICKY = """
[http.services.app.weighted]
services = [{name = "a", weight = 1}, {name = "b", weight = 1}]
[http.services.app.weighted.sticky.cookie]
[http.services.a.loadBalancer]
servers = [{url = "http://10.0.0.1:80"}, {url = "http://10.0.0.2:80"}]
[http.services.a.loadBalancer.sticky.cookie]
[http.services.b.loadBalancer]
servers = [{url = "http://10.0.0.3:80"}]
"""


def _unnamed_names() -> str:
    inner = WeightedRoundRobin(["http://a", ("http://b", 2)])
    outer = Sticky(WeightedRoundRobin([Sticky(inner), "http://c"]))
    failover = Failover("http://a", inner)
    mirror = Mirror(inner, [("http://m", 10)])
    return " ".join((outer.cookie_name, Sticky(inner).cookie_name, failover.name, mirror.name))


def _cookie_names(runtime: Runtime) -> dict[str, str]:
    return {n: b.cookie_name for n, b in runtime.services.items() if isinstance(b, Sticky)}


def test_cookie_names_depend_only_on_the_configuration() -> None:
    # Traefik derives the default cookie name from the service name, so a configuration gives
    # the same cookies in every process (and a client keeps its server across restarts).
    first, second = build(cfg(STICKY)), build(cfg(STICKY))
    assert _cookie_names(first) == _cookie_names(second) and len(_cookie_names(first)) == 2
    # Balancers made without a name: here, after others were made, and in a fresh process.
    script = "from tests.test_build import _unnamed_names; print(_unnamed_names())"
    fresh = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    WeightedRoundRobin(["http://x"]), Failover("http://x", "http://y")
    assert _unnamed_names() == _unnamed_names() == fresh.stdout.strip()
    outer, sticky, failover, mirror = fresh.stdout.split()
    assert len({outer, sticky}) == 2
    assert failover.startswith("failover-") and mirror.startswith("mirror-")


def test_unnamed_balancers_differ_by_kind_and_children() -> None:
    a = WeightedRoundRobin(["http://a", "http://b"])
    assert a.name.startswith("wrr-")
    assert a.name == WeightedRoundRobin(iter(["http://a", "http://b"])).name
    assert a.name == WeightedRoundRobin(["http://a", ("http://b", 1)]).name
    assert a.name != WeightedRoundRobin(["http://a", ("http://b", 2)]).name
    assert a.name != WeightedRoundRobin(["http://b", "http://a"]).name
    assert a.name != PowerOfTwoChoices(["http://a", "http://b"]).name


def test_prepare_reads_no_balancer_state_and_finish_takes_it_as_it_is_then() -> None:
    first = build(cfg(NESTED))
    grown = NESTED.replace(
        '{ url = "http://b:1" }]', '{ url = "http://b:1" }, { url = "http://d:1" }]'
    )
    prepared = prepare(cfg(grown), previous=first)
    # Requests served by the old runtime while the new one is being prepared still count.
    lease = first.services["v1"].acquire()
    first.services["v2"].mark_down("http://c:1")  # type: ignore[attr-defined]
    second = prepared.finish()
    assert prepared.finish() is second
    v1 = second.services["v1"]
    assert {c.name: c.inflight for c in v1.statistics().children}["http://a:1"] == 1
    # The route's target carries the balancer made by finish, not the trial one.
    decision = second.route(Request(method="GET", host="a.com", path="/"))
    assert decision is not None and decision.service is second.services["split"]
    assert second.services["v2"] is first.services["v2"]
    lease.release()
    assert all(c.inflight == 0 for c in v1.statistics().children)


def test_prepare_reports_problems_of_services_finished_later() -> None:
    first = build(cfg(NESTED))
    broken = NESTED.replace('services = [{ name = "v1"', 'services = [{ name = "nope"')
    prepared = prepare(cfg(broken), previous=first)
    assert [p.path for p in prepared.problems] == [
        "http.services.split.weighted.services.0.name",
        "http.routers.r.service",
    ]
    assert prepared.finish().problems == prepared.problems


def test_numbers_out_of_range_in_an_unvalidated_configuration_are_problems() -> None:

    def lb(weight: int = 1) -> Service:
        return Service(load_balancer=LoadBalancer(servers=(Server(url="http://a", weight=weight),)))

    config = Configuration(
        http=HTTPConfiguration(
            services={"huge": lb(10**400), "ok": lb()},
            routers={
                "r": Router(rule="Host(`a`)", service="ok", priority=2**70),
                "fine": Router(rule="Host(`b`)", service="ok"),
            },
        )
    )
    runtime = build(config)
    assert [p.path for p in runtime.problems] == ["http.services.huge", "http.routers.r.priority"]
    assert runtime.routers == ("fine",)
