"""The configuration model: frozen values that compare and hash by content, sources aside."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routekit.config import (
    MAX_DURATION,
    MIDDLEWARE_TYPES,
    Configuration,
    FrozenMap,
    HTTPConfiguration,
    LoadBalancer,
    Router,
    Server,
    Service,
    StripPrefix,
    format_duration,
    parse_duration,
)


def _config(sources: dict[str, str] | None = None) -> Configuration:
    return Configuration(
        http=HTTPConfiguration(
            routers={"api": Router(rule="Host(`a.io`)", service="api", entry_points=["web"])},
            services={"api": Service(load_balancer=LoadBalancer(servers=[Server(url="http://x")]))},
            middlewares={"strip": StripPrefix(prefixes=["/api"])},
        ),
        sources=sources or {},
    )


def test_equal_configurations_compare_and_hash_equal_whatever_their_sources() -> None:
    a = _config({"http.routers.api": "a.toml:1:1"})
    b = _config({"http.routers.api": "label traefik.http.routers.api.rule on container 'web-1'"})
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1


def test_lists_and_dicts_given_to_constructors_become_immutable() -> None:
    config = _config()
    router = config.http.routers["api"]
    assert router.entry_points == ("web",)
    assert isinstance(config.http.routers, FrozenMap)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        router.rule = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.http.routers["x"] = router  # type: ignore[index]


def test_a_changed_value_makes_a_different_configuration() -> None:
    a = _config()
    router = attrs.evolve(a.http.routers["api"], priority=5)
    b = attrs.evolve(a, http=attrs.evolve(a.http, routers=a.http.routers.set("api", router)))
    assert a != b
    assert b.http.routers["api"].priority == 5


def test_source_of_falls_back_to_the_nearest_recorded_parent() -> None:
    config = _config({"http.routers.api": "dynamic.toml:12:5"})
    assert config.source_of("http.routers.api.rule") == "dynamic.toml:12:5"
    assert config.source_of("http.services.api") is None


def test_every_middleware_type_has_its_traefik_key() -> None:
    assert set(MIDDLEWARE_TYPES) == {
        "addPrefix", "stripPrefix", "stripPrefixRegex", "replacePath", "replacePathRegex",
        "redirectScheme", "redirectRegex", "headers", "basicAuth", "ipAllowList", "rateLimit",
        "inFlightReq", "retry", "circuitBreaker", "compress", "buffering", "chain", "errors",
        "digestAuth", "forwardAuth", "contentType", "grpcWeb", "passTLSClientCert",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10s", 10.0), ("1m30s", 90.0), ("100ms", 0.1), ("1h", 3600.0), ("10", 10.0), (2.5, 2.5),
     ("0", 0.0), ("-1s", -1.0), ("1.5h", 5400.0)],
)  # fmt: skip
def test_durations_read_like_traefik(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text", ["", "s", "10x", "1m30", "ten", "1..5s", "9" * 400 + "s", "9223372037s", "-2562048h"]
)
def test_bad_durations_are_value_errors_naming_the_text(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@settings(max_examples=300)
@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_format_then_parse_duration_is_identity(ns: int) -> None:
    seconds = ns / 1e9
    assert parse_duration(format_duration(seconds)) == seconds


@given(st.floats(min_value=-MAX_DURATION, max_value=MAX_DURATION))
def test_every_float_in_range_round_trips_to_its_nanosecond(seconds: float) -> None:
    # Like Go, a duration is whole nanoseconds: what is written is read back exactly.
    once = parse_duration(format_duration(seconds))
    assert abs(once - seconds) <= 5e-10 or once == pytest.approx(seconds, rel=1e-15)
    assert parse_duration(format_duration(once)) == once


def test_durations_have_go_s_range_and_exact_decimals() -> None:
    assert parse_duration("2.55") == 2.55 and format_duration(2.55) == "2550ms"
    assert parse_duration("2550ms") == 2.55
    assert parse_duration("9223372036s") == 9223372036.0
    for bad in (float("inf"), 1e300, -1e300):
        with pytest.raises(ValueError, match="not a duration"):
            parse_duration(bad)
