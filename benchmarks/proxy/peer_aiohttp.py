"""The aiohttp peer: aiohttp.web in front, one pooled ClientSession to the backend.

Run: ``python peer_aiohttp.py PORT BACKEND_URL [uvloop]`` (what ``bench_proxy.py`` starts);
with ``uvloop``, on uvloop's event loop rather than asyncio's own (aiohttp's default).
"""

from __future__ import annotations

import asyncio
import sys

import aiohttp
from aiohttp import web

HOP = frozenset(
    ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te",
     "trailer", "proxy-authenticate", "proxy-authorization", "content-length", "host"]
)  # fmt: skip


def main() -> None:
    port, backend = int(sys.argv[1]), sys.argv[2].rstrip("/")
    session: aiohttp.ClientSession | None = None

    async def start(app: web.Application) -> None:
        nonlocal session
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def handler(request: web.Request) -> web.StreamResponse:
        assert session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
        headers["X-Forwarded-For"] = request.remote or ""
        async with session.request(
            request.method, backend + request.path_qs, headers=headers, data=request.content
        ) as upstream:
            body = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP}
            return web.Response(status=upstream.status, headers=out, body=body)

    app = web.Application()
    app.on_startup.append(start)
    app.router.add_route("*", "/{tail:.*}", handler)
    loop: asyncio.AbstractEventLoop | None = None
    if sys.argv[3:] == ["uvloop"]:
        import uvloop

        loop = uvloop.new_event_loop()
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None, loop=loop)


if __name__ == "__main__":
    main()
