"""Docker labels / Consul tags (v2/v3 grammar) → Configuration."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routekit.config import (
    BasicAuth,
    Configuration,
    LoadBalancer,
    Router,
    RouterTLS,
    Server,
    Service,
    StripPrefix,
)
from routekit.config.providers._gotemplate import compile_template, normalize
from routekit.config.providers._labels import (
    DEFAULT_RULE,
    ContainerInfo,
    labels_to_config,
    tags_to_labels,
)
from routekit.errors import ConfigError, Problem


def container(
    name: str = "web",
    labels: dict[str, str] | None = None,
    *,
    ip: str = "10.0.0.2",
    ports: tuple[int, ...] = (80,),
    **kw: object,
) -> ContainerInfo:
    return ContainerInfo(
        name=name,
        labels=labels or {},
        addresses={"bridge": ip},
        ports=ports,
        **kw,  # type: ignore[arg-type]
    )


def decode(*containers: ContainerInfo, **kw: object) -> tuple[Configuration, tuple[Problem, ...]]:
    return labels_to_config(containers, **kw)  # type: ignore[arg-type]


def errors(problems: tuple[Problem, ...]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


# --- the defaults Traefik adds ----------------------------------------------------------------


def test_container_without_labels_gets_router_and_service() -> None:
    config, problems = decode(container("/my_app.1"))
    assert problems == ()
    assert config.http.routers == {"my-app-1": Router(rule="Host(`my-app-1`)", service="my-app-1")}
    assert config.http.services == {
        "my-app-1": Service(load_balancer=LoadBalancer(servers=[Server(url="http://10.0.0.2:80")]))
    }


def test_router_without_service_is_linked_to_the_only_service() -> None:
    labels = {
        "traefik.http.routers.api.rule": "Host(`api.example.com`) && PathPrefix(`/v1`)",
        "traefik.http.routers.api.entrypoints": "web, websecure",
        "traefik.http.services.api-svc.loadbalancer.server.port": "8080",
    }
    config, problems = decode(container("api", labels, ports=(80, 8080)))
    assert problems == ()
    router = config.http.routers["api"]
    assert router.service == "api-svc"
    assert router.entry_points == ("web", "websecure")
    assert config.http.services["api-svc"].load_balancer == LoadBalancer(
        servers=[Server(url="http://10.0.0.2:8080")]
    )


def test_router_without_rule_gets_the_default_rule() -> None:
    config, _ = decode(container("blog", {"traefik.http.routers.blog.entrypoints": "web"}))
    assert config.http.routers["blog"].rule == "Host(`blog`)"


def test_custom_default_rule_with_labels_and_fields() -> None:
    template = 'Host(`{{ index .Labels "app" }}.{{ .Domain }}`) || Host(`{{ .ContainerName }}`)'
    config, _ = decode(
        container("c1", {"app": "shop"}),
        default_rule=template,
        template_fields={"Domain": "example.com"},
    )
    assert config.http.routers["c1"].rule == "Host(`shop.example.com`) || Host(`c1`)"


def test_default_rule_rendering_empty_drops_the_router_with_a_problem() -> None:
    config, problems = decode(container("c1"), default_rule='{{ index .Labels "missing" }}')
    assert config.http.routers == {}
    assert "renders empty" in errors(problems)[0].message
    assert config.http.services["c1"]  # the service still applies


def test_unsupported_default_rule_raises_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unsupported function or keyword 'if'"):
        decode(container(), default_rule="{{ if .Name }}x{{ end }}")


def test_compose_names() -> None:
    labels = {"com.docker.compose.project": "My_Proj", "com.docker.compose.service": "whoami"}
    config, _ = decode(container("myproj-whoami-1", labels))
    assert set(config.http.routers) == {"whoami-My-Proj"}
    assert config.http.routers["whoami-My-Proj"].rule == "Host(`whoami-My-Proj`)"


def test_several_services_and_no_router_creates_no_router() -> None:
    labels = {
        "traefik.http.services.a.loadbalancer.server.port": "80",
        "traefik.http.services.b.loadbalancer.server.port": "81",
    }
    config, problems = decode(container("two", labels, ports=(80, 81)))
    assert config.http.routers == {}
    assert set(config.http.services) == {"a", "b"}
    assert problems[0].severity == "warning"


def test_router_without_service_and_several_services_is_left_out() -> None:
    labels = {
        "traefik.http.routers.r.rule": "Host(`r`)",
        "traefik.http.services.a.loadbalancer.server.port": "80",
        "traefik.http.services.b.loadbalancer.server.port": "81",
    }
    config, problems = decode(container("two", labels, ports=(80, 81)))
    assert config.http.routers == {}
    (problem,) = errors(problems)
    assert problem.path == "http.routers.r"
    assert problem.hint is not None and "a, b" in problem.hint


# --- ports, addresses, schemes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("ports", "labels", "url"),
    [
        ((8080,), {}, "http://10.0.0.2:8080"),
        ((9000, 443, 8080), {}, "http://10.0.0.2:443"),
        (
            (80,),
            {"traefik.http.services.s.loadbalancer.server.port": "3000"},
            "http://10.0.0.2:3000",
        ),
        (
            (443,),
            {"traefik.http.services.s.loadbalancer.server.scheme": "https"},
            "https://10.0.0.2:443",
        ),
        ((80,), {"traefik.http.services.s.loadbalancer.server.url": "http://a:1"}, "http://a:1"),
    ],
)
def test_port_detection(ports: tuple[int, ...], labels: dict[str, str], url: str) -> None:
    config, problems = decode(container("s", labels, ports=ports))
    assert problems == ()
    lb = config.http.services["s"].load_balancer
    assert lb is not None and lb.servers == (Server(url=url),)


def test_no_port_is_reported() -> None:
    config, problems = decode(container("noport", ports=()))
    assert config.http.services == {}
    assert "no port" in errors(problems)[0].message


def test_network_label_picks_the_address() -> None:
    c = ContainerInfo(
        name="n",
        labels={"traefik.docker.network": "back"},
        addresses={"front": "10.0.0.1", "back": "10.9.0.1"},
        ports=(80,),
    )
    config, _ = decode(c)
    assert config.http.services["n"].load_balancer.servers[0].url == "http://10.9.0.1:80"  # type: ignore[union-attr]


def test_missing_network_falls_back_to_the_first_by_name_with_a_warning() -> None:
    c = ContainerInfo(name="n", addresses={"zeta": "10.0.0.9", "alpha": "10.0.0.1"}, ports=(80,))
    config, problems = decode(c, network="nope")
    assert config.http.services["n"].load_balancer.servers[0].url == "http://10.0.0.1:80"  # type: ignore[union-attr]
    assert [p.severity for p in problems] == ["warning"]
    assert "network 'nope' not found" in problems[0].message


def test_ipv6_address_is_bracketed() -> None:
    config, _ = decode(container("v6", ip="fd00::2"))
    assert config.http.services["v6"].load_balancer.servers[0].url == "http://[fd00::2]:80"  # type: ignore[union-attr]


# --- filtering --------------------------------------------------------------------------------


def test_enable_and_exposed_by_default() -> None:
    shown = container("shown", {"traefik.enable": "true"})
    hidden = container("hidden", {"traefik.enable": "false"})
    plain = container("plain")
    config, _ = decode(shown, hidden, plain, exposed_by_default=False)
    assert set(config.http.routers) == {"shown"}
    config, _ = decode(shown, hidden, plain)
    assert set(config.http.routers) == {"shown", "plain"}


def test_unhealthy_and_stopped_containers_are_not_served() -> None:
    config, problems = decode(
        container("sick", health="unhealthy"),
        container("starting", health="starting"),
        container("ok", health="healthy"),
        container("stopped", state="exited"),
    )
    assert set(config.http.routers) == {"ok"}
    assert problems == ()


def test_bad_enable_value_is_reported() -> None:
    config, problems = decode(container("x", {"traefik.enable": "yes please"}))
    assert config == Configuration()
    assert "expected true or false" in problems[0].message
    assert problems[0].source == "label 'traefik.enable' on container 'x'"


# --- fields ---------------------------------------------------------------------------------


def test_field_names_are_case_insensitive_and_lists_take_indices() -> None:
    labels = {
        "traefik.http.routers.r.RULE": "Host(`r`)",
        "traefik.http.routers.r.EntryPoints[0]": "web",
        "traefik.http.routers.r.EntryPoints[1]": "websecure",
        "traefik.http.routers.r.middlewares": "strip,auth",
        "traefik.http.routers.r.tls": "true",
        "traefik.http.routers.r.Priority": "42",
        "traefik.http.middlewares.strip.stripprefix.prefixes": "/a,/b",
        "traefik.http.middlewares.auth.basicAuth.users": "u:$apr1$x",
        "traefik.http.services.r.loadBalancer.passHostHeader": "false",
    }
    config, problems = decode(container("r", labels))
    assert problems == ()
    assert config.http.routers["r"] == Router(
        rule="Host(`r`)",
        service="r",
        priority=42,
        entry_points=("web", "websecure"),
        middlewares=("strip", "auth"),
        tls=RouterTLS(),
    )
    assert config.http.middlewares == {
        "strip": StripPrefix(prefixes=("/a", "/b")),
        "auth": BasicAuth(users=("u:$apr1$x",)),
    }
    assert config.http.services["r"].load_balancer.pass_host_header is False  # type: ignore[union-attr]


def test_unknown_key_is_reported_with_label_container_and_hint() -> None:
    labels = {
        "traefik.http.routers.web.rulee": "Host(`x`)",
        "traefik.http.routers.api.rule": "Host(`a`)",
    }
    config, problems = decode(container("c", labels))
    (problem,) = problems
    assert problem.path == "http.routers.web.rulee"
    assert problem.source == "label 'traefik.http.routers.web.rulee' on container 'c'"
    assert problem.hint == "did you mean 'rule'?"
    # The faulty router is left out; the rest of the container still applies.
    assert set(config.http.routers) == {"api"}


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("traefik.htp.routers.r.rule", "unknown key 'htp'"),
        ("traefik.http.routers..rule", "malformed key"),
        ("traefik.docker.netwrok", "unknown key 'docker.netwrok'"),
        ("traefik.http.routers.r.priority", "expected an integer"),
        ("traefik.http.middlewares.m.stripprefx.prefixes", "unknown key 'stripprefx'"),
        ("traefik.udp.routers.u.rule", "unknown key 'rule'"),
    ],
)
def test_bad_keys_are_reported(key: str, message: str) -> None:
    _, problems = decode(container("c", {key: "oops"}))
    assert any(message in p.message for p in errors(problems)), problems


def test_a_field_set_twice_in_different_case_is_reported() -> None:
    labels = {
        "traefik.http.routers.r.rule": "Host(`a`)",
        "traefik.http.routers.r.RULE": "Host(`b`)",
    }
    config, problems = decode(container("c", labels))
    assert "set twice" in errors(problems)[0].message
    assert "r" not in config.http.routers


def test_at_sign_is_not_allowed_in_names() -> None:
    config, problems = decode(container("c", {"traefik.http.routers.a@file.rule": "Host(`a`)"}))
    assert "'@' is not allowed" in errors(problems)[0].message
    assert "a@file" not in config.http.routers


def test_tcp_labels_only_create_no_http_router() -> None:
    labels = {
        "traefik.tcp.routers.db.rule": "HostSNI(`*`)",
        "traefik.tcp.routers.db.entrypoints": "pg",
        "traefik.tcp.services.db.loadbalancer.server.port": "5432",
    }
    config, problems = decode(container("pg", labels, ports=(5432,)))
    assert problems == ()
    assert config.http.routers == {} and config.http.services == {}
    assert config.tcp.routers["db"].service == "db"
    assert config.tcp.services["db"].load_balancer.servers[0].address == "10.0.0.2:5432"  # type: ignore[union-attr]


def test_sources_name_label_and_container() -> None:
    config, _ = decode(container("c", {"traefik.http.routers.r.rule": "Host(`r`)"}))
    assert (
        config.source_of("http.routers.r.rule")
        == "label 'traefik.http.routers.r.rule' on container 'c'"
    )


# --- Consul catalog tags ----------------------------------------------------------------------


def test_tags_to_labels() -> None:
    tags = [
        "traefik.enable=true",
        "myprefix.http.routers.r.rule=Host(`a`)",
        "urlprefix-/x",
        "foo=bar",
    ]
    assert tags_to_labels(tags, prefix="myprefix") == {"traefik.http.routers.r.rule": "Host(`a`)"}
    assert tags_to_labels(["traefik.frontend.rule=Host:a=b"]) == {
        "traefik.frontend.rule": "Host:a=b"
    }


def test_consul_service_instances_merge_into_one_service() -> None:
    tags = ["traefik.http.routers.api.rule=Host(`api`)"]
    instances = [
        ContainerInfo(
            name=f"api-{i}",
            service_name="api",
            labels=tags_to_labels(tags),
            addresses={"": f"10.0.0.{i}"},
            ports=(8080,),
        )
        for i in (2, 1)
    ]
    config, problems = decode(*instances)
    assert problems == ()
    lb = config.http.services["api"].load_balancer
    assert lb is not None
    assert [s.url for s in lb.servers] == ["http://10.0.0.1:8080", "http://10.0.0.2:8080"]


# --- the Go template subset ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (DEFAULT_RULE, "Host(`my-app`)"),
        ("{{ .Name }}", "my_app"),
        ("{{ .Name | normalize | upper }}", "MY-APP"),
        ('{{ index .Labels "a.b" }}', "x"),
        ("{{ .Labels.plain }}", "y"),
        ('{{ printf "%s-%s" .Name "z" }}', "my_app-z"),
        ('{{ replace "_" "." .Name }}', "my.app"),
        ("  {{- .Name -}}  !", "my_app!"),
        ("{{ lower (upper .Name) }}", "my_app"),
    ],
)
def test_template_subset(text: str, expected: str) -> None:
    data = {"Name": "my_app", "Labels": {"a.b": "x", "plain": "y"}}
    assert compile_template(text).render(data) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ range .Labels }}", "unsupported function or keyword 'range'"),
        ("{{ .Name", "unclosed action"),
        ("{{ }}", "empty action"),
        ("{{ .Name | .Other }}", "only a function can follow '|'"),
    ],
)
def test_template_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        compile_template(text)


def test_template_unknown_field_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"no field \.Nmae \(fields: \.Name\)"):
        compile_template("{{ .Nmae }}").render({"Name": "x"})


@pytest.mark.parametrize(
    ("name", "expected"),
    [("/web_1", "web-1"), ("a..b", "a-b"), ("--x--", "x"), ("été.ü", "été-ü"), ("", "")],
)
def test_normalize(name: str, expected: str) -> None:
    assert normalize(name) == expected


# --- properties ---------------------------------------------------------------------------------

_WORDS = st.sampled_from(
    ["traefik", "http", "tcp", "udp", "tls", "routers", "services", "middlewares", "rule",
     "service", "loadbalancer", "server", "port", "entrypoints", "enable", "docker", "network",
     "stripprefix", "prefixes", "weight", "Rule", "x", "", "0", "[0]", "tls[1]", "a@b"]
)  # fmt: skip
_KEYS = st.lists(_WORDS, min_size=1, max_size=7).map(".".join)
_VALUES = st.one_of(
    st.sampled_from(["", "true", "80", "Host(`a`)", "a,b", "x"]), st.text(max_size=8)
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, max_size=8), st.lists(st.integers(1, 65535), max_size=3))
def test_random_label_sets_never_crash(labels: dict[str, str], ports: list[int]) -> None:
    config, problems = decode(container("c", labels, ports=tuple(ports)))
    assert isinstance(config, Configuration)
    assert all(isinstance(p, Problem) for p in problems)


_FIELDS = st.sampled_from(["rulee", "entrypoint", "middleware", "servise", "prioritty", "foo"])


@settings(max_examples=200, deadline=None)
@given(_FIELDS, st.sampled_from(["a", "web", "R1"]))
def test_unknown_router_fields_are_always_reported(field: str, router: str) -> None:
    key = f"traefik.http.routers.{router}.{field}"
    config, problems = decode(container("c", {key: "v"}))
    assert any(p.source is not None and key in p.source for p in errors(problems))
    assert router not in config.http.routers


def test_templates_bound_their_output_nesting_and_numbers() -> None:
    import time

    from routekit.config.providers._gotemplate import MAX_OUTPUT

    data = {"Name": "web", "Tags": ["x" * 2500] * 600, "M": {"b": 1, "a": [True, None]}}
    started = time.perf_counter()
    with pytest.raises(ConfigError, match=f"output longer than {MAX_OUTPUT} characters"):
        compile_template("{{.}}").render(data)
    assert time.perf_counter() - started < 0.1  # stopped at the bound, not after 1.5 MB
    # Go's printing of maps and slices, keys sorted.
    small = {"Name": "web", "M": {"b": 1, "a": [True, None]}}
    assert compile_template("{{.}}").render(small) == "map[M:map[a:[true <no value>] b:1] Name:web]"
    with pytest.raises(ConfigError, match="nest more than 32 levels"):
        compile_template("{{" + "(" * 100 + ".Name" + ")" * 100 + "}}")
    with pytest.raises(ConfigError, match="out of the 64-bit integer range") as info:
        compile_template('{{ printf "%d" ' + "9" * 5000 + " }}")
    assert len(str(info.value)) < 600


@pytest.mark.parametrize("text", ["²", "٣", "1_0", "9" * 20, "0x10", " "])
def test_integers_and_list_indexes_are_ascii_as_in_go(text: str) -> None:
    from routekit.config import kv_to_config

    labels = {
        "traefik.http.routers.r.rule": "Host(`a`)",
        "traefik.http.routers.r.priority": text,
        f"traefik.http.middlewares.m.stripprefix.prefixes[{text}]": "/a",
    }
    info = ContainerInfo(name="c", labels=labels, addresses={"b": "10.0.0.2"}, ports=(80,))
    config, problems = labels_to_config([info])
    assert {p.path.split(".")[-1] for p in problems} >= {"priority"}
    assert "r" not in config.http.routers
    _, kv_problems = kv_to_config({f"traefik/http/middlewares/m/stripPrefix/prefixes/{text}": "/a"})
    assert kv_problems, text


@pytest.mark.parametrize("stream", ["tcp", "udp"])
def test_a_stream_router_without_service_labels_gets_the_container_service(stream: str) -> None:
    labels = {f"traefik.{stream}.routers.r.entrypoints": "e"}
    if stream == "tcp":
        labels["traefik.tcp.routers.r.rule"] = "HostSNI(`*`)"
    info = ContainerInfo(name="db", labels=labels, addresses={"b": "10.0.0.5"}, ports=(5432,))
    config, problems = labels_to_config([info])
    assert problems == ()
    section = config.tcp if stream == "tcp" else config.udp
    assert section.routers["r"].service == "db"
    lb = section.services["db"].load_balancer
    assert lb is not None and [s.address for s in lb.servers] == ["10.0.0.5:5432"]
    assert config.http.routers == {}


def test_a_tcp_router_without_service_among_several_is_left_out_and_reported() -> None:
    labels = {
        "traefik.tcp.routers.r.rule": "HostSNI(`*`)",
        "traefik.tcp.services.a.loadbalancer.server.port": "1",
        "traefik.tcp.services.b.loadbalancer.server.port": "2",
    }
    info = ContainerInfo(name="db", labels=labels, addresses={"b": "10.0.0.5"}, ports=(5432,))
    config, problems = labels_to_config([info])
    (problem,) = problems
    assert problem.path == "tcp.routers.r" and "several services: a, b" in problem.message
    assert config.tcp.routers == {} and set(config.tcp.services) == {"a", "b"}


def test_lone_surrogates_are_refused_where_they_enter() -> None:
    from routekit.config import Configuration, HTTPConfiguration, Router, kv_to_config, validate

    labels = {
        "traefik.http.routers.r.rule": "Host(`a.com`)",
        "traefik.http.routers.s.rule": "Host(`b\udcda.com`)",
    }
    good = ContainerInfo(name="web", labels=labels, addresses={"b": "10.0.0.2"}, ports=(80,))
    bad = ContainerInfo(name="w\udcda", labels={}, addresses={"b": "10.0.0.3"}, ports=(80,))
    config, problems = labels_to_config([good, bad])
    assert sorted((p.path, p.source) for p in problems) == [
        ("", "container 'w\\udcda'"),
        ("traefik.http.routers.s.rule", "label 'traefik.http.routers.s.rule' on container 'web'"),
    ]
    assert set(config.http.routers) == {"r"}
    for problem in problems:
        str(problem).encode("utf-8")  # printable
    _, kv_problems = kv_to_config({"traefik/http/routers/r\udcda/rule": "Host(`a`)"})
    assert [p.path for p in kv_problems] == ["traefik/http/routers/r\\udcda/rule"]
    made = Configuration(http=HTTPConfiguration(routers={"r\udcda": Router(rule="Host(`a`)")}))
    (problem, *_) = validate(made).problems
    assert "lone surrogate" in problem.message


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"traefik.http.services.s.loadbalancer.server.port": "8080"}, "not allowed when url"),
        ({"traefik.http.services.s.loadbalancer.server.scheme": "https"}, "not allowed when url"),
    ],
)
def test_a_server_url_with_port_or_scheme_is_a_problem(extra: dict[str, str], message: str) -> None:
    labels = {"traefik.http.services.s.loadbalancer.server.url": "http://x:1", **extra}
    info = ContainerInfo(name="web", labels=labels, addresses={"b": "10.0.0.5"}, ports=(80,))
    config, problems = labels_to_config([info])
    (problem,) = problems
    assert problem.path == "http.services.s.loadBalancer.server" and message in problem.message
    assert config.http.services == {}


def test_an_empty_service_label_is_a_problem_not_a_default_server() -> None:
    labels = {"traefik.http.services.s": ""}
    info = ContainerInfo(name="web", labels=labels, addresses={"b": "10.0.0.5"}, ports=(80,))
    config, problems = labels_to_config([info])
    (problem,) = problems
    assert problem.path == "http.services.s" and "defines no load balancer" in problem.message
    assert config.http.services == {}


@pytest.mark.parametrize(
    ("label", "state", "health", "allow_empty", "kept"),
    [
        ("true", "exited", None, False, True),  # allowNonRunning: router, service, no server
        (None, "exited", None, False, False),
        (None, "running", "starting", True, True),  # allowEmptyServices
        (None, "running", "unhealthy", False, False),
        (None, "running", "healthy", False, True),
    ],
)
def test_non_running_and_unhealthy_containers_as_traefik_keeps_them(
    label: str | None, state: str, health: str | None, allow_empty: bool, kept: bool
) -> None:
    labels = {"traefik.http.routers.r.rule": "Host(`a`)"}
    if label is not None:
        labels["traefik.docker.allownonrunning"] = label
    info = ContainerInfo(
        name="app", labels=labels, addresses={"b": "10.0.0.5"}, ports=(80,), state=state,
        health=health,
    )  # fmt: skip
    config, problems = labels_to_config([info], allow_empty_services=allow_empty)
    assert problems == ()
    assert list(config.http.routers) == (["r"] if kept else [])
    if kept:
        lb = config.http.services["app"].load_balancer
        assert lb is not None
        serving = state == "running" and health in (None, "healthy")
        assert [s.url for s in lb.servers] == (["http://10.0.0.5:80"] if serving else [])
