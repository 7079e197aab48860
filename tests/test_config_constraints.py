"""Provider constraints (``Label``/``LabelRegex``/``Tag``/``TagRegex``) and ``useBindPortIP``."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routekit import ConfigError, RuleSyntaxError
from routekit.config import ContainerInfo, labels_to_config
from routekit.rules import parse_constraint


@pytest.mark.parametrize(
    ("expression", "labels", "expected"),
    [
        ("Label(`env`, `prod`)", {"env": "prod"}, True),
        ("Label(`env`, `prod`)", {"env": "dev"}, False),
        ('Label("env", "")', {}, True),  # an empty value matches a missing label
        ("LabelRegex(`env`, `^pro`)", {"env": "production"}, True),
        ("LabelRegex(`env`, `od`)", {"env": "prod"}, True),  # searched, not anchored
        ("!Label(`a`, `1`) && (Label(`b`, `2`) || Label(`c`, `3`))", {"c": "3"}, True),
        ("!Label(`a`, `1`) && (Label(`b`, `2`) || Label(`c`, `3`))", {"a": "1", "c": "3"}, False),
    ],
)
def test_label_constraints(expression: str, labels: dict[str, str], expected: bool) -> None:
    constraint = parse_constraint(expression, kind="labels")
    assert constraint is not None and constraint.matches(labels) is expected


@pytest.mark.parametrize(
    ("expression", "tags", "expected"),
    [
        ("Tag(`web`)", ["web", "x"], True),
        ("Tag(`web`)", ["website"], False),
        ("TagRegex(`^web`)", ["website"], True),
        ("!TagRegex(`canary`)", ["a", "b"], True),
    ],
)
def test_tag_constraints(expression: str, tags: list[str], expected: bool) -> None:
    constraint = parse_constraint(expression, kind="tags")
    assert constraint is not None and constraint.matches(tags) is expected


def test_an_empty_constraint_keeps_everything() -> None:
    assert parse_constraint("  ", kind="tags") is None


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("Lable(`a`, `b`)", "did you mean Label?"),
        ("label(`a`, `b`)", "unknown function 'label'"),  # exact names, as vulcand/predicate
        ("Tag(`a`)", "unknown function 'Tag'"),
        ("Label(`a`)", "expected one of [2]"),
        ("LabelRegex(`a`, `(`)", "invalid value for LabelRegex"),
        ("Label(`a`, `b`) &&", "expected a function"),
    ],
)
def test_bad_constraints_say_what_and_where(expression: str, message: str) -> None:
    with pytest.raises(RuleSyntaxError) as info:
        parse_constraint(expression, kind="labels")
    assert message in str(info.value)
    assert 0 <= info.value.position <= len(expression)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='LabelRgxTg()`"&|! ,abc', max_size=40))
def test_any_text_parses_or_raises_a_rule_syntax_error(text: str) -> None:
    for kind in ("labels", "tags"):
        try:
            constraint = parse_constraint(text, kind=kind)
        except RuleSyntaxError as exc:
            assert 0 <= exc.position <= len(text)
        else:
            assert constraint is None or constraint.source == text


def _container(name: str, **labels: str) -> ContainerInfo:
    return ContainerInfo(
        name=name,
        labels={"traefik.http.routers.r-" + name + ".rule": f"Host(`{name}.com`)", **labels},
        addresses={"bridge": "172.17.0.2"},
        ports=(80,),
    )


def test_labels_to_config_serves_only_containers_passing_the_constraints() -> None:
    containers = [_container("a", env="prod"), _container("b", env="dev"), _container("c")]
    config, problems = labels_to_config(containers, constraints="Label(`env`, `prod`)")
    assert problems == ()
    assert list(config.http.routers) == ["r-a"]
    with pytest.raises(ConfigError, match="constraints: unknown function 'Tag'"):
        labels_to_config(containers, constraints="Tag(`x`)")


def test_use_bind_port_ip_takes_the_published_address() -> None:
    bound = ContainerInfo(
        name="web",
        labels={"traefik.http.services.web.loadbalancer.server.port": "80"},
        addresses={"bridge": "172.17.0.2"},
        ports=(80,),
        port_bindings={80: ("192.0.2.10", "8080")},
    )
    config, problems = labels_to_config([bound], use_bind_port_ip=True)
    assert problems == ()
    (server,) = config.http.services["web"].load_balancer.servers  # type: ignore[union-attr]
    assert server.url == "http://192.0.2.10:8080"
    # Without the option the container's own address is used, as before.
    config, _ = labels_to_config([bound])
    (server,) = config.http.services["web"].load_balancer.servers  # type: ignore[union-attr]
    assert server.url == "http://172.17.0.2:80"


@pytest.mark.parametrize("binding", [None, ("0.0.0.0", "8080"), ("", "8080"), ("::", "1")])
def test_use_bind_port_ip_falls_back_with_a_warning(binding: tuple[str, str] | None) -> None:
    container = ContainerInfo(
        name="web",
        labels={"traefik.tcp.routers.t.rule": "HostSNI(`*`)"},
        addresses={"bridge": "172.17.0.2"},
        ports=(5432,),
        port_bindings={5432: binding} if binding is not None else {},
    )
    config, problems = labels_to_config([container], use_bind_port_ip=True)
    (server,) = config.tcp.services["web"].load_balancer.servers  # type: ignore[union-attr]
    assert server.address == "172.17.0.2:5432"
    (warning,) = problems
    assert warning.severity == "warning" and "useBindPortIP" in warning.message


def test_use_bind_port_ip_for_v1_labels() -> None:
    container = ContainerInfo(
        name="old",
        labels={"traefik.frontend.rule": "Host:old.com", "traefik.port": "80"},
        addresses={"bridge": "172.17.0.3"},
        ports=(80,),
        port_bindings={80: ("[2001:db8::1]", "8081")},
    )
    config, problems = labels_to_config([container], use_bind_port_ip=True)
    assert problems == ()
    (service,) = config.http.services.values()
    assert [s.url for s in service.load_balancer.servers] == ["http://[2001:db8::1]:8081"]  # type: ignore[union-attr]
