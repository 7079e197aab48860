"""An ASGI app built on routekit: two apps mounted by host, ``/api`` proxied to a balanced pool.

    python examples/asgi_app.py                      # serves on http://127.0.0.1:8000
    python examples/asgi_app.py --port 9000 --api http://10.0.0.5:80 --api http://10.0.0.6:80

Without ``--api`` it starts two whoami servers of its own on loopback and balances over them.
Then:

    curl -H 'Host: www.localhost' http://127.0.0.1:8000/          # the Starlette site
    curl -H 'Host: shop.localhost' http://127.0.0.1:8000/items/3  # the FastAPI shop
    curl http://127.0.0.1:8000/api/who                            # whoami one, then two, …

The app is an ordinary ASGI app (``app = build(urls)``): any server runs it.  Here uvicorn does.
"""

from __future__ import annotations

import argparse
import signal
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
import uvicorn
from fastapi import FastAPI
from fastapi import Request as FastAPIRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route as StarletteRoute

from routekit import Route
from routekit.asgi import Router
from routekit.whoami import whoami


async def home(request: Request) -> Response:
    """The site's home page; the router's decision is in ``request.state.routekit``."""
    info = request.state.routekit
    return PlainTextResponse(f"www: routed by {info.router} ({info.rule})\n")


def shop() -> FastAPI:
    """A FastAPI shop."""
    app = FastAPI()

    @app.get("/items/{item}", name="item")
    async def item(item: int, request: FastAPIRequest) -> dict[str, Any]:
        return {"item": item, "url": str(request.url_for("item", item=item))}

    return app


def build(api: Sequence[str]) -> Router:
    """The whole app: ``www.localhost`` and ``shop.localhost`` mounted, ``/api`` to *api*."""
    www = Starlette(routes=[StarletteRoute("/", home)])
    return Router(
        [
            Route("www", "Host(`www.localhost`)", www),
            Route("shop", "Host(`shop.localhost`)", shop()),
            # A list of URLs is a weighted round-robin pool, as a Traefik loadBalancer.
            Route("api", "PathPrefix(`/api`)", list(api)),
        ]
    )


@asynccontextmanager
async def own_pool() -> AsyncIterator[list[str]]:
    """Two whoami servers on loopback, for a pool to balance over."""
    async with AsyncExitStack() as stack:
        urls = []
        for name in ("one", "two"):
            server = await stack.enter_async_context(whoami(name))
            urls.append(f"http://127.0.0.1:{server.ports[0]}")
        yield urls


async def main(host: str, port: int, api: Sequence[str]) -> None:
    """Serve the app with uvicorn until interrupted."""
    async with AsyncExitStack() as stack:
        urls = list(api) or await stack.enter_async_context(own_pool())
        print(f"serving on http://{host}:{port}, /api balanced over {', '.join(urls)}", flush=True)
        config = uvicorn.Config(build(urls), host=host, port=port, lifespan="on")
        # uvicorn shuts down gracefully on SIGINT and SIGTERM, then raises the signal again for
        # the handler that was there before it: by then the example is done, so it exits quietly.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: None)
        await uvicorn.Server(config).serve()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="routekit's ASGI face, as an example")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--api", action="append", default=[], help="an upstream URL (repeat)")
    args = parser.parse_args()
    anyio.run(main, args.host, args.port, args.api)
