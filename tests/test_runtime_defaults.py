"""Runtime defaults a library embedded in other programs relies on."""

from __future__ import annotations

import gc

from routekit import Request, loads_config
from routekit.runtime import build

CONFIG = loads_config(
    '[http.routers.a]\nrule = "Host(`a.io`)"\nservice = "s"\n'
    '[[http.services.s.loadBalancer.servers]]\nurl = "http://127.0.0.1:1"\n'
)


def test_build_leaves_the_garbage_collector_alone() -> None:
    assert gc.isenabled()
    build(CONFIG)
    assert gc.isenabled()
    gc.disable()
    try:
        build(CONFIG)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_route_without_an_entry_point_uses_the_runtime_s_own() -> None:
    runtime = build(CONFIG, entry_points=("http",))
    decision = runtime.route(Request(host="a.io", path="/"))
    assert decision is not None
    assert runtime.route(Request(host="b.io", path="/")) is None
    assert runtime.route(Request(host="a.io", path="/"), "http") is not None
