"""Traefik v1 rule modifiers and frontend options, translated, act through the same middlewares."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from _echo import headers_of, site

pytestmark = pytest.mark.anyio


def v1(rule: str, options: str = "") -> Callable[[int], str]:
    def dynamic(port: int) -> str:
        return f"""
[frontends.f]
backend = "b"
passHostHeader = true
{options}
  [frontends.f.routes.r]
  rule = "{rule}"
[backends.b.servers.s]
url = "http://127.0.0.1:{port}"
"""

    return dynamic


async def test_v1_modifiers_rewrite_the_path() -> None:
    async with site(v1("Host:site.test;PathPrefixStrip:/api")) as s:
        seen = await s.echoed("/api/users")
        assert seen["target"] == "/users"
        assert headers_of(seen)["x-forwarded-prefix"] == ["/api"]
    async with site(v1("Host:site.test;AddPrefix:/v2")) as s:
        assert (await s.echoed("/users"))["target"] == "/v2/users"
    async with site(v1("Host:site.test;ReplacePath:/fixed")) as s:
        seen = await s.echoed("/any")
        assert seen["target"] == "/fixed" and headers_of(seen)["x-replaced-path"] == ["/any"]


async def test_v1_frontend_options_apply() -> None:
    options = """
whitelist = { sourceRange = ["127.0.0.1/32"] }
  [frontends.f.headers.customRequestHeaders]
  X-From-V1 = "yes"
  [frontends.f.auth.basic]
  users = ["ann:{SHA}2PRZAyDhNDqRW2OUFwZQqPNdaSY="]
"""
    async with site(v1("Host:site.test", options)) as s:
        assert (await s.get("/"))[0].status == 401
        token = base64.b64encode(b"ann:sha")
        seen = await s.echoed("/", headers=[(b"authorization", b"Basic " + token)])
        assert headers_of(seen)["x-from-v1"] == ["yes"]
    closed = 'whitelist = { sourceRange = ["192.0.2.0/24"] }'
    async with site(v1("Host:site.test", closed)) as s:
        assert (await s.get("/"))[0].status == 403
