"""Sticky sessions: Traefik's cookie names and values, pinning, health, nesting."""

from __future__ import annotations

import pytest

from routekit import ConfigError, Request
from routekit.balance import (
    Server,
    Sticky,
    StickyCookie,
    WeightedRoundRobin,
    sticky_cookie_name,
    sticky_cookie_value,
)
from routekit.balance._sticky import _fnv64


def with_cookies(*pairs: tuple[str, str]) -> Request:
    return Request(headers={"cookie": "; ".join(f"{n}={v}" for n, v in pairs)})


def cookie_of(header: str) -> tuple[str, str]:
    name, _, rest = header.partition("=")
    return name, rest.split(";")[0]


def test_cookie_names_follow_traefik() -> None:
    # Oracles from traefik pkg/server/cookie/cookie_test.go.
    assert sticky_cookie_name(None, "/my/BACKEND-v1.0~rc1") == "_5f7bc"
    assert sticky_cookie_name(None, "backend") == "_76eb3"
    assert sticky_cookie_name("/my/BACKEND-v1.0~rc1", "") == "_my_BACKEND-v1.0~rc1"
    assert sticky_cookie_name("cookie", "backend") == "cookie"
    assert sticky_cookie_name("!#$%&'()*+-./:<=>?@[]^_`{|}~", "x") == "!#$%&'__*+-._________^_`_|_~"


def test_cookie_value_hides_the_server_address() -> None:
    value = sticky_cookie_value("http://10.0.0.2:80")
    assert len(value) == 16 and "10.0.0.2" not in value
    assert int(value, 16) >= 0
    assert _fnv64("a") == "af63bd4c8601b7be"  # Go's fnv.New64 (FNV-1) of "a"


def test_new_client_gets_a_cookie_then_stays() -> None:
    lb = Sticky(WeightedRoundRobin(["http://a", "http://b"], name="svc"))
    first = lb.acquire(Request())
    assert first.server.url == "http://a"
    (header,) = first.set_cookies
    assert header == f"_{header[1:6]}={sticky_cookie_value('http://a')}; Path=/"
    assert cookie_of(header)[0] == sticky_cookie_name(None, "svc")
    again = with_cookies(cookie_of(header))
    leases = [lb.acquire(again) for _ in range(5)]
    assert {lease.server.url for lease in leases} == {"http://a"}
    assert all(lease.set_cookies == () for lease in leases)
    assert lb.pick(again).url == "http://a"


def test_cookie_attributes() -> None:
    cookie = StickyCookie(
        name="lb", secure=True, http_only=True, same_site="Strict", max_age=60, domain=".ex.com"
    )
    lb = Sticky(WeightedRoundRobin(["http://a"]), cookie)
    (header,) = lb.acquire().set_cookies
    value = sticky_cookie_value("http://a")
    assert (
        header
        == f"lb={value}; Path=/; Domain=ex.com; Max-Age=60; HttpOnly; Secure; SameSite=Strict"
    )
    assert StickyCookie(max_age=-1).header("n", "v") == "n=v; Path=/; Max-Age=0"
    with pytest.raises(ConfigError, match="same_site"):
        StickyCookie(same_site="sometimes")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("domain", "ex.com; Secure"),
        ("domain", "ex.com\r\nSet-Cookie: x=1"),
        ("domain", "ex .com"),
        ("path", "/a;b"),
        ("max_age", 1.5),
        ("max_age", True),
    ],
)
def test_cookie_attributes_cannot_smuggle_text_into_the_header(option: str, value: object) -> None:
    with pytest.raises(ConfigError, match=option):
        StickyCookie(**{option: value})  # type: ignore[arg-type]


def test_down_or_unknown_server_is_replaced_and_the_cookie_rewritten() -> None:
    inner = WeightedRoundRobin(["http://a", "http://b"], name="svc")
    lb = Sticky(inner, StickyCookie(name="lb"))
    pinned = with_cookies(("lb", sticky_cookie_value("http://a")))
    inner.mark_down("http://a")
    lease = lb.acquire(pinned)
    assert lease.server.url == "http://b"
    assert cookie_of(lease.set_cookies[0]) == ("lb", sticky_cookie_value("http://b"))
    inner.mark_up("http://a")
    assert lb.acquire(pinned).server.url == "http://a"  # back on its server once it is up
    stranger = lb.acquire(with_cookies(("lb", "0123456789abcdef")))
    assert len(stranger.set_cookies) == 1


@pytest.mark.parametrize(
    "legacy",
    ["http://b", _fnv64("http://b"), _fnv64(_fnv64("http://b"))],
    ids=["raw", "fnv", "fnv2"],
)
def test_legacy_values_are_honoured_and_rewritten(legacy: str) -> None:
    lb = Sticky(WeightedRoundRobin(["http://a", "http://b"]), StickyCookie(name="lb"))
    lease = lb.acquire(with_cookies(("lb", legacy)))
    assert lease.server.url == "http://b"
    assert cookie_of(lease.set_cookies[0]) == ("lb", sticky_cookie_value("http://b"))


def test_nested_stickiness_one_cookie_per_level() -> None:
    blue = Sticky(WeightedRoundRobin(["http://b1", "http://b2"], name="blue"))
    green = Sticky(WeightedRoundRobin(["http://g1", "http://g2"], name="green"))
    top = Sticky(WeightedRoundRobin([(blue, 1), (green, 1)], name="app"))
    first = top.acquire(Request())
    assert first.server == Server("http://b1")
    outer, inner = (cookie_of(h) for h in first.set_cookies)
    assert outer == (sticky_cookie_name(None, "app"), sticky_cookie_value("blue"))
    assert inner == (sticky_cookie_name(None, "blue"), sticky_cookie_value("http://b1"))
    back = with_cookies(outer, inner)
    assert {top.acquire(back).server.url for _ in range(6)} == {"http://b1"}
    blue.balancer.mark_down("http://b1")  # type: ignore[attr-defined]
    moved = top.acquire(back)
    assert moved.server.url == "http://b2"
    assert [cookie_of(h)[0] for h in moved.set_cookies] == [inner[0]]  # only the inner level


def test_sticky_wraps_only_balancers_with_children() -> None:
    with pytest.raises(ConfigError, match="Sticky wraps"):
        Sticky(Sticky(WeightedRoundRobin(["http://a"])))
    lb = Sticky(WeightedRoundRobin(["http://a"], name="svc"), StickyCookie(name="s"))
    assert repr(lb) == "<Sticky cookie=s <WeightedRoundRobin 'svc' [http://a=1 | next: http://a]>>"
    assert lb.statistics().child("http://a").state == "up"
