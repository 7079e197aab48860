"""Within-provider merge: replicas fold together, differing definitions are conflicts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from routekit.config import (
    Configuration,
    HTTPConfiguration,
    LoadBalancer,
    Router,
    Server,
    Service,
    StripPrefix,
    TCPConfiguration,
    TCPLoadBalancer,
    TCPServer,
    TCPService,
)
from routekit.config.model._merge import Conflict, merge_configurations
from routekit.config.providers._labels import ContainerInfo, labels_to_config


def part(
    routers: dict[str, Router] | None = None,
    servers: tuple[str, ...] = (),
    *,
    service: str = "web",
    sticky_free: bool = True,
) -> Configuration:
    lb = LoadBalancer(servers=[Server(url=u) for u in servers], pass_host_header=sticky_free)
    return Configuration(
        http=HTTPConfiguration(routers=routers or {}, services={service: Service(load_balancer=lb)})
    )


WEB = Router(rule="Host(`web`)", service="web")


def test_identical_definitions_fold_and_servers_are_appended_once() -> None:
    merged, problems = merge_configurations(
        [
            ("a", part({"web": WEB}, ("http://10.0.0.1:80",))),
            ("b", part({"web": WEB}, ("http://10.0.0.2:80", "http://10.0.0.1:80"))),
        ]
    )
    assert problems == ()
    assert merged.http.routers == {"web": WEB}
    lb = merged.http.services["web"].load_balancer
    assert lb is not None
    assert [s.url for s in lb.servers] == ["http://10.0.0.1:80", "http://10.0.0.2:80"]


def test_differing_router_is_a_conflict_and_left_out() -> None:
    other = Router(rule="Host(`other`)", service="web")
    merged, problems = merge_configurations(
        [("a", part({"web": WEB, "ok": WEB})), ("b", part({"web": other}))]
    )
    assert "web" not in merged.http.routers
    assert merged.http.routers["ok"] == WEB
    (conflict,) = problems
    assert isinstance(conflict, Conflict)
    assert conflict.message == (
        "router 'web' defined multiple times with different configurations by 'a', 'b'"
    )
    assert (conflict.kind, conflict.name, conflict.origins) == ("router", "web", ("a", "b"))
    assert conflict.kept_previous is False
    assert conflict.path == "http.routers.web"


def test_conflict_keeps_the_previous_good_definition() -> None:
    previous, _ = merge_configurations([("a", part({"web": WEB}))])
    other = Router(rule="Host(`other`)", service="web")
    merged, problems = merge_configurations(
        [("a", part({"web": WEB})), ("b", part({"web": other}))], previous=previous
    )
    assert merged.http.routers["web"] == WEB
    assert isinstance(problems[0], Conflict) and problems[0].kept_previous
    assert problems[0].hint == "the previous definition keeps serving"


def test_load_balancers_differing_in_options_conflict() -> None:
    merged, problems = merge_configurations(
        [
            ("a", part(servers=("http://a:1",))),
            ("b", part(servers=("http://b:1",), sticky_free=False)),
        ]
    )
    assert merged.http.services == {}
    assert isinstance(problems[0], Conflict) and problems[0].kind == "service"


def test_middlewares_and_tcp_services() -> None:
    def tcp(address: str) -> Configuration:
        lb = TCPLoadBalancer(servers=[TCPServer(address=address)])
        return Configuration(
            http=HTTPConfiguration(middlewares={"s": StripPrefix(prefixes=["/a"])}),
            tcp=TCPConfiguration(services={"db": TCPService(load_balancer=lb)}),
        )

    merged, problems = merge_configurations(
        [("a", tcp("10.0.0.1:5432")), ("b", tcp("10.0.0.2:5432"))]
    )
    assert problems == ()
    assert merged.http.middlewares == {"s": StripPrefix(prefixes=["/a"])}
    lb = merged.tcp.services["db"].load_balancer
    assert lb is not None and [s.address for s in lb.servers] == ["10.0.0.1:5432", "10.0.0.2:5432"]


def test_replicas_through_labels_and_conflicting_containers() -> None:
    def c(name: str, ip: str, rule: str) -> ContainerInfo:
        return ContainerInfo(
            name=name,
            labels={
                "com.docker.compose.project": "p",
                "com.docker.compose.service": "web",
                "traefik.http.routers.web.rule": rule,
            },
            addresses={"net": ip},
            ports=(80,),
        )

    config, problems = labels_to_config(
        [c("w2", "10.0.0.2", "Host(`a`)"), c("w1", "10.0.0.1", "Host(`a`)")]
    )
    assert problems == ()
    lb = config.http.services["web-p"].load_balancer
    assert lb is not None and [s.url for s in lb.servers] == [
        "http://10.0.0.1:80",
        "http://10.0.0.2:80",
    ]
    # A third replica with another rule: the router is a conflict; the previous one keeps serving.
    new, problems = labels_to_config(
        [c("w1", "10.0.0.1", "Host(`a`)"), c("w3", "10.0.0.3", "Host(`b`)")], previous=config
    )
    assert new.http.routers["web"].rule == "Host(`a`)"
    (conflict,) = problems
    assert isinstance(conflict, Conflict) and conflict.origins == ("w1", "w3")
    assert "router 'web' defined multiple times" in str(conflict)


_URLS = st.sampled_from([f"http://10.0.0.{i}:80" for i in range(1, 6)])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abcd"), st.lists(_URLS, max_size=3, unique=True)), max_size=6
    )
)
def test_merging_replicas_keeps_every_server_once_in_order(
    replicas: list[tuple[str, list[str]]],
) -> None:
    parts = [(origin, part({"web": WEB}, tuple(urls))) for origin, urls in replicas]
    merged, problems = merge_configurations(parts)
    assert problems == ()
    expected = list(dict.fromkeys(u for _, urls in replicas for u in urls))
    if replicas:
        lb = merged.http.services["web"].load_balancer
        assert lb is not None and [s.url for s in lb.servers] == expected
    else:
        assert merged == Configuration()
