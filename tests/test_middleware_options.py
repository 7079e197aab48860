"""Bad middleware options are problems when the configuration loads, with their path."""

from __future__ import annotations

from routekit.config import reads_config

ROUTER = """
[http.routers.r]
rule = "Host(`a.test`)"
service = "s"
middlewares = ["m"]
[[http.services.s.loadBalancer.servers]]
url = "http://127.0.0.1:1"
"""


def _problems(middleware: str) -> list[str]:
    result = reads_config(ROUTER + middleware)
    assert "r" not in result.config.http.routers  # the router goes with its middleware
    problems = [f"{p.path}: {p.message}" for p in result.problems if p.severity == "error"]
    assert problems[-1] == "http.routers.r: uses the middleware 'm', which is left out"
    return problems[:-1]


def test_users_that_cannot_be_checked() -> None:
    (first,) = _problems('[http.middlewares.m.basicAuth]\nusers = ["bob:plain"]\n')
    assert first.startswith("http.middlewares.m.basicAuth.users: user 'bob': not a hash")
    (first,) = _problems('[http.middlewares.m.basicAuth]\nusersFile = "/nonexistent"\n')
    assert first.startswith("http.middlewares.m.basicAuth.usersFile: usersFile '/nonexistent'")
    (first,) = _problems('[http.middlewares.m.digestAuth]\nusers = ["bob:hash"]\n')
    assert "expected name:realm:hash" in first


def test_limits_and_headers() -> None:
    both = """[http.middlewares.m.rateLimit]
average = 1
[http.middlewares.m.rateLimit.sourceCriterion]
requestHost = true
requestHeaderName = "X-Key"
"""
    assert _problems(both) == [
        "http.middlewares.m.rateLimit.sourceCriterion: "
        "requestHeaderName and requestHost are mutually exclusive"
    ]
    assert _problems("[http.middlewares.m.inFlightReq]\namount = 0\n") == [
        "http.middlewares.m.inFlightReq.amount: must be at least 1 (got 0)"
    ]
    assert _problems("[http.middlewares.m.headers]\n") == [
        "http.middlewares.m.headers: sets no header option"
    ]
    excluded = """[http.middlewares.m.ipAllowList]
sourceRange = ["10.0.0.0/8"]
[http.middlewares.m.ipAllowList.ipStrategy]
excludedIPs = ["nope"]
"""
    assert _problems(excluded) == [
        "http.middlewares.m.ipAllowList.ipStrategy.excludedIPs: not an IP or CIDR: 'nope'"
    ]


def test_header_fields_that_cannot_be_sent() -> None:
    bad = """[http.middlewares.m.headers.customRequestHeaders]
"X Bad" = "1"
"""
    assert _problems(bad) == [
        "http.middlewares.m.headers.customRequestHeaders: not a valid header field: 'X Bad'"
    ]
