"""Sticky sessions: a client stays on its server by cookie, and moves when that server goes.

    python examples/sticky_sessions.py

Three whoami backends serve a shop behind a `Gateway`.  The service's load balancer sets a
sticky cookie (Traefik's ``sticky.cookie``,
doc.traefik.io/traefik/routing/services/#sticky-sessions), so that a returning visitor is sent
to the server that served it first.  Passive health checks take a server that stops answering
out of rotation, and a retry middleware sends the request that found it gone to another
server: the visitor keeps shopping, with a new cookie.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

import anyio

from routekit.config import EntryPoint, loads_config
from routekit.http import Client, EntryPointServer
from routekit.proxy import Gateway
from routekit.runtime import build
from routekit.whoami import whoami

CONFIG = """\
[http.routers.shop]
rule = "Host(`shop.example.com`)"
service = "shop"
middlewares = ["retry"]

[http.middlewares.retry.retry]
attempts = 3

[http.services.shop.loadBalancer.sticky.cookie]
name = "shop_lb"
httpOnly = true
sameSite = "lax"

[http.services.shop.loadBalancer.passiveHealthCheck]
maxFailedAttempts = 1
failureWindow = "30s"
"""


async def visit(client: Client, url: str, cookie: str | None) -> tuple[str, str | None]:
    """One visit: the server that answered, and the cookie it set (``None``: none set)."""
    headers = [(b"host", b"shop.example.com")]
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    answer = await client.get(url, headers=headers)
    body = await answer.read()
    assert answer.status == 200, (answer.status, body)
    name = body.split(b"\n", 1)[0].decode().removeprefix("Name: ")
    set_cookie = dict(answer.headers).get(b"set-cookie")
    return name, set_cookie.decode() if set_cookie is not None else None


async def shop() -> None:
    """Serve the shop and follow three visitors."""
    async with AsyncExitStack() as stack:
        servers: dict[str, EntryPointServer] = {}
        for name in ("shop-1", "shop-2", "shop-3"):
            servers[name] = await stack.enter_async_context(whoami(name=name))
        urls = "".join(
            f'[[http.services.shop.loadBalancer.servers]]\nurl = "http://127.0.0.1:{s.ports[0]}"\n'
            for s in servers.values()
        )
        runtime = build(loads_config(CONFIG + urls))
        gateway = await stack.enter_async_context(
            Gateway(runtime, {"web": EntryPoint(address="127.0.0.1:0")})
        )
        client = await stack.enter_async_context(Client())
        url = gateway.url("web") + "/cart"

        cookies = {}
        for visitor in ("ann", "bob", "cid"):
            server, set_cookie = await visit(client, url, None)
            assert set_cookie is not None
            cookies[visitor] = set_cookie.split(";", 1)[0]  # what a browser sends back
            print(f"{visitor}: first visit served by {server}; Set-Cookie: {set_cookie}")

        for visitor, cookie in cookies.items():
            seen = {(await visit(client, url, cookie))[0] for _ in range(5)}
            print(f"{visitor}: five more visits with {cookie}, served by {', '.join(sorted(seen))}")

        ann_server, _ = await visit(client, url, cookies["ann"])
        servers[ann_server].stop()
        print(f"{ann_server} stops")
        server, set_cookie = await visit(client, url, cookies["ann"])
        print(f"ann: served by {server} instead; Set-Cookie: {set_cookie}")
        assert set_cookie is not None
        cookies["ann"] = set_cookie.split(";", 1)[0]
        seen = {(await visit(client, url, cookies["ann"]))[0] for _ in range(5)}
        print(f"ann: five more visits with the new cookie, served by {', '.join(sorted(seen))}")


if __name__ == "__main__":
    anyio.run(shop)
