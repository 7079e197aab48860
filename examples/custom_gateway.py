"""A gateway of your own from routekit's parts, in about fifty lines.

    python examples/custom_gateway.py routes.toml [--address 127.0.0.1:8000]

A `FileProvider` follows a Traefik dynamic TOML file; on every snapshot its routers become a
`RouteTable` whose targets are `WeightedRoundRobin` balancers over the services' servers.  An
`EntryPointServer` (h11 + anyio) serves requests: match, pick a server, forward with the pooled
`Client`.  No middlewares, health checks or TLS here — `routekit.proxy.Gateway` has them all.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator

import anyio

from routekit import Request, Route, RouteTable, WeightedRoundRobin
from routekit.config import Configuration
from routekit.http import (
    Client,
    EntryPointServer,
    RequestHead,
    Response,
    UpstreamError,
    downstream_headers,
    upstream_headers,
)
from routekit.providers import FileProvider


class TinyGateway:
    """Routes by the routers of the current configuration; forwards with one pooled client."""

    def __init__(self) -> None:
        self.table = RouteTable([])
        self.client = Client()

    def load(self, config: Configuration) -> None:
        """Swap in a new route table: one balancer per load-balanced service."""
        balancers = {
            name: WeightedRoundRobin([(s.url, s.weight) for s in service.load_balancer.servers])
            for name, service in config.http.services.items()
            if service.load_balancer is not None and service.load_balancer.servers
        }
        routes = [
            Route(name, router.rule, target=balancers[router.service], priority=router.priority)
            for name, router in config.http.routers.items()
            if router.service in balancers
        ]
        self.table = RouteTable(routes)  # one reference swapped: requests in flight keep theirs

    async def handle(self, head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        """Match the request, pick a server, forward it and relay the answer."""
        request = Request.from_h11(head.event, client_ip=head.client_ip)
        match = self.table.match(request)
        if match is None:
            return Response(404, [(b"content-type", b"text/plain")], b"404 page not found\n")
        server = match.route.target.pick()
        headers = upstream_headers(head.event.headers, client_ip=head.client_ip,
                                   append_forwarded_for=True)  # fmt: skip
        try:
            answer = await self.client.request(
                request.method, server.url + head.event.target.decode("latin-1"),
                headers=headers, body=b"".join([chunk async for chunk in body]),
            )  # fmt: skip
        except UpstreamError:  # refused, reset, timed out: Traefik's 502
            return Response(502, [(b"content-type", b"text/plain")], b"Bad Gateway\n")
        relayed = downstream_headers(answer.headers, upgraded=False)
        return Response(answer.status, relayed, await answer.read())


async def main(path: str, address: str) -> None:
    """Serve *address* with the routes of *path*, following its changes."""
    gateway = TinyGateway()
    server = EntryPointServer(address, gateway.handle)
    async with anyio.create_task_group() as tg, gateway.client:
        async for snapshot in FileProvider(path, poll_interval=0.2).watch():
            gateway.load(snapshot.config)
            print(f"{len(gateway.table)} route(s) from {path}", flush=True)
            if not server.ports:
                await tg.start(server.serve)
                print(f"listening on {address} (port {server.ports[0]})", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="a Traefik dynamic configuration file (TOML)")
    parser.add_argument("--address", default="127.0.0.1:8000", help="host:port to listen on")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(main, args.path, args.address)
