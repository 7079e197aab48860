"""Who may pass: ipAllowList, basicAuth, rateLimit and inFlightReq through the proxy."""

from __future__ import annotations

import base64
import math
from pathlib import Path

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _echo import headers_of, site, with_middlewares
from routekit.config import EntryPoint, IPStrategy, RateLimit, load_users
from routekit.errors import ConfigError
from routekit.middleware import (
    IPChecker,
    RateLimiter,
    TokenBucket,
    check_secret,
    client_ip,
    go_duration,
)
from routekit.testing import FakeClock

pytestmark = pytest.mark.anyio

BCRYPT = "$2y$04$fyGpzFyw9mGxY9rKuTKeKeleaJaotI0GKv6weOsxKIVpr.ZDCIcfO"  # secret
APR1 = "$apr1$l/X0xEk5$dxCUMz20qOkf2ddt4WRyG0"  # apr
SHA = "{SHA}2PRZAyDhNDqRW2OUFwZQqPNdaSY="  # sha

ACCESS = """
[http.middlewares.local.ipAllowList]
sourceRange = ["127.0.0.1/32"]
[http.middlewares.office.ipAllowList]
sourceRange = ["198.51.100.0/24"]
rejectStatusCode = 404
[http.middlewares.office.ipAllowList.ipStrategy]
depth = 1
[http.middlewares.pool.ipAllowList]
sourceRange = ["198.51.100.7"]
[http.middlewares.pool.ipAllowList.ipStrategy]
excludedIPs = ["127.0.0.1", "10.0.0.0/8"]
"""

TRUSTING = EntryPoint(address="127.0.0.1:0", trusted_ips=("127.0.0.1",))


def _xff(value: str) -> list[tuple[bytes, bytes]]:
    return [(b"x-forwarded-for", value.encode())]


async def test_ip_allow_list_by_peer_and_by_forwarded_for() -> None:
    async with site(with_middlewares(ACCESS, '["local"]')) as s:
        assert (await s.get("/"))[0].status == 200  # the test client is 127.0.0.1
    async with site(with_middlewares(ACCESS, '["office"]'), entry_point=TRUSTING) as s:
        response, body = await s.get("/", headers=_xff("198.51.100.3"))
        assert response.status == 200
        response, body = await s.get("/", headers=_xff("203.0.113.1"))
        assert response.status == 404 and body == b"Not Found\n"
        assert (await s.get("/"))[0].status == 404  # no X-Forwarded-For: nobody to allow
    async with site(with_middlewares(ACCESS, '["pool"]'), entry_point=TRUSTING) as s:
        assert (await s.get("/", headers=_xff("198.51.100.7, 10.1.2.3")))[0].status == 200
        assert (await s.get("/", headers=_xff("198.51.100.8, 10.1.2.3")))[0].status == 403
    async with site(with_middlewares(ACCESS, '["office"]')) as s:
        # An entry point that trusts nobody drops the client's X-Forwarded-For first.
        assert (await s.get("/", headers=_xff("198.51.100.3")))[0].status == 404


def _basic(user: str, password: str) -> list[tuple[bytes, bytes]]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return [(b"authorization", f"Basic {token}".encode())]


async def test_basic_auth_with_htpasswd_hashes(tmp_path: Path) -> None:
    users = tmp_path / "users"
    users.write_text(f"# staff\n\nfile:{SHA}\nann:{APR1}\n")
    auth = f"""
[http.middlewares.auth.basicAuth]
users = ["bob:{BCRYPT}", "ann:{SHA}"]
usersFile = "{users}"
realm = "staff"
headerField = "X-WebAuth-User"
removeHeader = true
"""
    async with site(with_middlewares(auth, '["auth"]')) as s:
        response, body = await s.get("/")
        assert response.status == 401 and body == b"401 Unauthorized\n"
        assert (b"www-authenticate", b'Basic realm="staff"') in response.headers
        for user, password in [("bob", "secret"), ("file", "sha"), ("ann", "sha")]:
            seen = headers_of(await s.echoed("/", headers=_basic(user, password)))
            assert seen["x-webauth-user"] == [user]
            assert "authorization" not in seen  # removeHeader
        # The inline users come after the file's: ann's inline hash wins.
        assert (await s.get("/", headers=_basic("ann", "apr")))[0].status == 401
        assert (await s.get("/", headers=_basic("bob", "wrong")))[0].status == 401
        assert (await s.get("/", headers=_basic("nobody", "secret")))[0].status == 401
        spoofed = [*_basic("bob", "wrong"), (b"x-webauth-user", b"bob")]
        assert (await s.get("/", headers=spoofed))[0].status == 401
        # A good check is remembered: the next request needs no bcrypt round.
        assert (await s.get("/", headers=_basic("bob", "secret")))[0].status == 200


def test_basic_auth_hashes_and_users() -> None:
    assert check_secret("secret", BCRYPT) and not check_secret("Secret", BCRYPT)
    assert check_secret("apr", APR1) and not check_secret("apr ", APR1)
    assert check_secret("sha", SHA) and not check_secret("shA", SHA)
    assert not check_secret("x", "{SHA}not base64!")
    assert not check_secret("plain", "plain")  # no clear-text passwords, as Traefik
    assert load_users(("a:1", "b:2", "a:3"), "") == {"a": "3", "b": "2"}
    with pytest.raises(ConfigError, match="name:hash"):
        load_users(("nocolon",), "")
    with pytest.raises(ConfigError, match="usersFile"):
        load_users((), "/nonexistent/users")
    with pytest.raises(ConfigError, match="no users"):
        load_users((), "")


RATE = """
[http.middlewares.limit.rateLimit]
average = 10
burst = 2
[http.middlewares.slow.rateLimit]
average = 1
period = "10s"
"""


async def test_rate_limit_on_a_fake_clock() -> None:
    clock = FakeClock(100.0)
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)
        clock.advance(seconds)

    async with site(with_middlewares(RATE, '["limit"]'), clock=clock, sleep=sleep) as s:
        # A burst of 2, then one request every 0.1 s; a wait of up to 50 ms is slept.
        assert [(await s.get("/"))[0].status for _ in range(2)] == [200, 200]
        response, body = await s.get("/")
        assert response.status == 429 and body == b"Too Many Requests\n"
        assert (b"retry-after", b"1") in response.headers
        assert (b"x-retry-in", b"100ms") in response.headers
        clock.advance(0.06)  # the token is 40 ms away: waited for, not refused
        assert (await s.get("/"))[0].status == 200
        assert waited == [pytest.approx(0.04)]
        clock.advance(10)
        statuses = [(await s.get("/"))[0].status for _ in range(3)]
        assert statuses == [200, 200, 429]  # full again, and no more than the burst
    async with site(with_middlewares(RATE, '["slow"]'), clock=clock, sleep=sleep) as s:
        assert [(await s.get("/"))[0].status for _ in range(2)] == [200, 429]
        clock.advance(10)
        assert (await s.get("/"))[0].status == 200


async def test_in_flight_requests_are_capped_per_host() -> None:
    text = """
[http.middlewares.one.inFlightReq]
amount = 1
"""
    statuses: list[int] = []
    async with site(with_middlewares(text, '["one"]')) as s:

        async def slow() -> None:
            statuses.append((await s.get("/sleep/300"))[0].status)

        async with anyio.create_task_group() as tg:
            tg.start_soon(slow)
            await anyio.sleep(0.1)
            response, body = await s.get("/")
            assert response.status == 429 and body.startswith(b"max connections reached")
        assert (await s.get("/"))[0].status == 200  # released when the first one ended
    assert statuses == [200]


# --- the pure parts ------------------------------------------------------------------------


def test_client_ip_strategies() -> None:
    xff = b"198.51.100.1, 10.0.0.2,192.0.2.3"
    assert client_ip(None, "127.0.0.1", xff) == "127.0.0.1"
    assert client_ip(IPStrategy(depth=1), "127.0.0.1", xff) == "192.0.2.3"
    assert client_ip(IPStrategy(depth=3), "127.0.0.1", xff) == "198.51.100.1"
    assert client_ip(IPStrategy(depth=4), "127.0.0.1", xff) == ""
    excluded = IPStrategy(excluded_ips=("192.0.2.0/24", "10.0.0.2"))
    assert client_ip(excluded, "127.0.0.1", xff) == "198.51.100.1"
    subnet = IPStrategy(ipv6_subnet=64)
    assert client_ip(subnet, "2001:db8:1:2:3:4:5:6", None) == "2001:db8:1:2::"
    assert IPChecker(["10.0.0.0/8"]).contains("::ffff:10.1.1.1")
    assert not IPChecker(["10.0.0.0/8"]).contains("not an ip")


def test_token_bucket_and_limiter() -> None:
    bucket = TokenBucket(rate=2.0, burst=1, now=0.0)
    assert bucket.reserve(0.0) == 0.0
    assert bucket.reserve(0.0) == pytest.approx(0.5)
    bucket.cancel()
    assert bucket.reserve(1.0) == 0.0
    clock = FakeClock()
    unlimited = RateLimiter(RateLimit(average=0), clock)
    assert all(unlimited.allow("a") == (True, 0.0) for _ in range(100))
    assert go_duration(0.1) == "100ms" and go_duration(1.5) == "1.5s"
    assert go_duration(90) == "1m30s" and go_duration(0) == "0s"


@given(
    st.integers(1, 50),
    st.integers(1, 10),
    st.lists(st.floats(0, 2, allow_nan=False), min_size=1, max_size=60),
)
def test_a_limiter_never_lets_more_than_rate_and_burst_through(
    average: int, burst: int, gaps: list[float]
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(average=average, burst=burst), clock)
    passed = 0
    for gap in gaps:
        clock.advance(gap)
        allowed, delay = limiter.allow("client")
        if allowed:
            passed += 1
            clock.advance(delay)  # the request waits for its token
    # Tokens: the burst at first, then `average` a second.
    assert passed <= burst + math.ceil(clock() * average) + 1


def test_a_user_name_with_a_line_break_is_no_credential() -> None:
    from routekit.middleware import basic_credentials

    token = base64.b64encode(b"ann\r\nX-Evil: 1:sha")
    assert basic_credentials(b"Basic " + token) is None
    assert basic_credentials(b"Basic " + base64.b64encode(b"ann:sha")) == ("ann", "sha")
