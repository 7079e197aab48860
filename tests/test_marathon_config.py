"""`marathon_to_config`: Marathon applications translated as Traefik's Marathon provider does
(cases of ``pkg/provider/marathon/config_test.go``, Traefik 2, and 1.7's v1 labels)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from _marathon_objects import app, task
from routekit.config import Configuration, marathon_to_config
from routekit.request import Request
from routekit.runtime import build

RULE = "Host(`{{ normalize .Name }}.marathon.localhost`)"


def translate(*apps: dict[str, Any], **options: Any) -> tuple[Configuration, list[str]]:
    options.setdefault("default_rule", RULE)
    config, problems = marathon_to_config(list(apps), **options)
    return config, [str(p) for p in problems]


def urls(config: Configuration, name: str) -> list[str]:
    lb = config.http.services[name].load_balancer
    assert lb is not None
    return [s.url for s in lb.servers]


def test_a_simple_application() -> None:
    config, problems = translate(app("/app", [task("app.1", [80])]))
    assert problems == []
    router = config.http.routers["app"]
    assert router.rule == "Host(`app.marathon.localhost`)" and router.service == "app"
    assert urls(config, "app") == ["http://localhost:80"]
    assert build(config).route(Request(host="app.marathon.localhost", path="/")) is not None


def test_tasks_that_are_not_serving_are_left_out() -> None:
    config, _ = translate(
        app("/staging", [task("s.1", state="TASK_STAGING")]),
        app(
            "/web",
            [task("w.1", host="10.0.0.1"), task("w.2", host="10.0.0.2", state="TASK_KILLED")],
        ),
    )
    assert set(config.http.services) == {"web"}  # an app without a running task: nothing
    assert urls(config, "web") == ["http://10.0.0.1:80"]


def test_health_check_results() -> None:
    config, _ = translate(
        app("/web", [task("w.1", host="h1", alive=True), task("w.2", host="h2", alive=False),
                     task("w.3", host="h3")], healthChecks=[{"protocol": "HTTP", "path": "/"}]),
    )  # fmt: skip
    assert urls(config, "web") == ["http://h1:80"]  # failing and not yet checked: left out


def test_ports_by_default_index_and_name() -> None:
    config, problems = translate(
        app("/first", [task("f.1", [80, 81])], ports=[(80, ""), (81, "")]),
        app("/by-index", [task("i.1", [80, 81])], ports=[(80, ""), (81, "")],
            labels={"traefik.http.services.svc.loadbalancer.server.port": "index:1"}),
        app("/by-name", [task("n.1", [8080, 9090])], ports=[(8080, "web"), (9090, "admin")],
            labels={"traefik.http.services.svc2.loadbalancer.server.port": "name:admin"}),
        app("/fixed", [task("x.1", [31000])],
            labels={"traefik.http.services.svc3.loadbalancer.server.port": "8443"}),
    )  # fmt: skip
    assert problems == []
    assert urls(config, "first") == ["http://localhost:80"]
    assert urls(config, "svc") == ["http://localhost:81"]
    assert urls(config, "svc2") == ["http://localhost:9090"]
    assert urls(config, "svc3") == ["http://localhost:8443"]


def test_a_bad_port_index_names_the_task() -> None:
    _, problems = translate(
        app("/app", [task("app.1", [80])],
            labels={"traefik.http.services.s.loadbalancer.server.port": "index:3"}),
    )  # fmt: skip
    assert problems == [
        "Marathon application '/app' (task 'app.1'): port index 3 is out of range: the task "
        "has 1 ports"
    ]


def test_ip_per_task_and_container_networks() -> None:
    config, problems = translate(
        app("/one", [task("o.1", ips=["10.1.0.5"])], ipAddress={"discovery": {"ports": []}}),
        app("/bridge", [task("b.1", host="agent-3", ips=["172.17.0.2"])],
            networks=[{"mode": "container/bridge"}]),
        app("/overlay", [task("c.1", ips=["10.2.0.1", "10.3.0.1"])],
            networks=[{"mode": "container", "name": "dcos"}],
            labels={"traefik.marathon.ipaddressidx": "1"}),
        app("/ambiguous", [task("a.1", ips=["10.2.0.1", "10.3.0.1"])],
            networks=[{"mode": "container", "name": "dcos"}]),
    )  # fmt: skip
    assert urls(config, "one") == ["http://10.1.0.5:80"]
    assert urls(config, "bridge") == ["http://agent-3:80"]  # bridge is not a container network
    assert urls(config, "overlay") == ["http://10.3.0.1:80"]
    assert "ambiguous" not in config.http.services
    assert any("set traefik.marathon.ipaddressidx" in p for p in problems)
    forced, _ = translate(
        app("/one", [task("o.1", host="agent-9", ips=["10.1.0.5"])], ipAddress={}),
        force_task_hostname=True,
    )
    assert urls(forced, "one") == ["http://agent-9:80"]


def test_enable_exposed_by_default_and_constraints() -> None:
    apps = [
        app("/on", [task("on.1")], labels={"traefik.enable": "true"}),
        app("/off", [task("off.1")], labels={"traefik.enable": "false"}),
        app("/plain", [task("p.1")]),
        app("/unique", [task("u.1")], constraints=[["hostname", "UNIQUE"]]),
    ]
    assert set(translate(*apps)[0].http.services) == {"on", "plain", "unique"}
    assert set(translate(*apps, exposed_by_default=False)[0].http.services) == {"on"}
    limited = translate(*apps, constraints="MarathonConstraint(`hostname:UNIQUE`)")[0]
    assert set(limited.http.services) == {"unique"}


def test_v2_labels_routers_and_groups() -> None:
    config, problems = translate(
        app("/shop/web", [task("w.1", host="10.0.0.1"), task("w.2", host="10.0.0.2")],
            labels={"traefik.http.routers.shop.rule": "Host(`shop.example.com`)",
                    "traefik.http.routers.shop.entrypoints": "websecure"}),
    )  # fmt: skip
    assert problems == []
    router = config.http.routers["shop"]
    assert router.rule == "Host(`shop.example.com`)" and router.entry_points == ("websecure",)
    assert router.service == "shop-web"
    assert urls(config, "shop-web") == ["http://10.0.0.1:80", "http://10.0.0.2:80"]


def test_v1_labels() -> None:
    config, problems = translate(
        app("/api", [task("a.1", [31001, 31002], host="10.0.0.7")], ports=[(0, ""), (0, "")],
            labels={"traefik.frontend.rule": "Host:api.example.com", "traefik.portIndex": "1",
                    "traefik.protocol": "https"}),
        default_rule="",
    )  # fmt: skip
    assert problems == []
    (router,) = config.http.routers.values()
    assert router.rule == "Host(`api.example.com`)"
    (service,) = config.http.services
    assert urls(config, service) == ["https://10.0.0.7:31002"]


def test_readiness_during_a_deployment() -> None:
    now = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
    deploying = app(
        "/web",
        [task("w.old", host="h1", started="2026-12-06T11:00:00Z"),
         task("w.new", host="h2", started="2026-12-06T11:59:58Z"),
         task("w.checked", host="h3", started="2026-12-06T11:59:59Z")],
        deployments=[{"id": "d-1"}],
        readinessChecks=[{"name": "ready", "timeoutSeconds": 10}],
        readinessCheckResults=[{"taskId": "w.checked", "ready": True}],
    )  # fmt: skip
    config, _ = translate(deploying, respect_readiness_checks=True, now=now)
    # w.new started 2 s ago, within the check's 10 s + 5 s window, and has no result: unready.
    assert urls(config, "web") == ["http://h3:80", "http://h1:80"]  # by task id
    everyone, _ = translate(deploying, now=now)
    assert len(urls(everyone, "web")) == 3


def test_malformed_applications_are_reported_and_the_rest_applies() -> None:
    config, problems = translate(
        {"labels": {}},
        app("/bad", [task("b.1")], labels={"traefik.http.routers.x.priority": "high"}),
        {**app("/labels", [task("l.1")]), "labels": {"a": 1}},
        app("/good", [task("g.1")]),
    )
    assert "good" in config.http.services and "x" not in config.http.routers
    assert any(p.startswith("Marathon: an application without an id") for p in problems)
    assert any("Marathon application '/labels'" in p for p in problems)
    assert any("on Marathon application '/bad' (task 'b.1')" in p for p in problems)
