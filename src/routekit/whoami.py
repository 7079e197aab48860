"""A tiny backend that answers with who it is and what it was asked, like ``traefik/whoami``.

For demos and tests: ``routekit whoami --port 8081 --name blue`` on the command line, or
`Whoami` from Python (``EntryPointServer(address, Whoami("blue"))``, or ``async with
whoami(name="blue") as server: server.ports[0]``).

- ``GET /`` (any path): its name, host name and addresses, then the request it saw — the
  request line and headers — as text; as JSON when the client accepts ``application/json``
  or asks for ``/api``.
- ``GET /health``: 200, or the status last ``POST``-ed to ``/health`` (``curl -d 500
  …/health`` makes it fail its health checks; ``-d 200`` heals it).
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import AsyncIterator, Sequence
from typing import Final, final

from .http import EntryPointServer, RequestHead, Response

__all__ = ["Whoami", "host_addresses", "whoami"]

_TEXT: Final = (b"content-type", b"text/plain; charset=utf-8")
_JSON: Final = (b"content-type", b"application/json")
_MAX_BODY: Final = 64 * 1024


def host_addresses() -> tuple[str, ...]:
    """This machine's IP addresses (loopback included), as whoami lists them."""
    found: list[str] = ["127.0.0.1"]
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            address = str(info[4][0])
            if address not in found:
                found.append(address)
    except OSError:
        pass
    return tuple(found)


@final
class Whoami:
    """The whoami handler (`routekit.http.Handler`): its *name*, and a health status."""

    def __init__(self, name: str = "", *, addresses: Sequence[str] | None = None) -> None:
        self.name = name
        self.hostname = socket.gethostname()
        self.addresses = tuple(addresses) if addresses is not None else host_addresses()
        #: The status ``/health`` answers (``POST /health`` with a status sets it).
        self.health = 200

    def describe(self, head: RequestHead) -> dict[str, object]:
        """What the answer says: who this is and the request it saw."""
        event = head.event
        headers: dict[str, list[str]] = {}
        for key, value in event.headers:
            headers.setdefault(key.decode("latin-1").title(), []).append(value.decode("latin-1"))
        return {
            "name": self.name,
            "hostname": self.hostname,
            "ip": list(self.addresses),
            "remoteAddr": head.client_ip or "",
            "method": event.method.decode("ascii", "replace"),
            "url": event.target.decode("latin-1"),
            "proto": "HTTP/" + event.http_version.decode("ascii", "replace"),
            "host": headers.get("Host", [""])[0],
            "headers": headers,
        }

    def text(self, seen: dict[str, object]) -> bytes:
        """The plain-text answer, as traefik/whoami writes it."""
        lines = [f"Name: {self.name}"] if self.name else []
        lines.append(f"Hostname: {self.hostname}")
        lines += [f"IP: {ip}" for ip in self.addresses]
        lines.append(f"RemoteAddr: {seen['remoteAddr']}")
        lines.append(f"{seen['method']} {seen['url']} {seen['proto']}")
        headers = seen["headers"]
        assert isinstance(headers, dict)
        for name, values in headers.items():
            lines += [f"{name}: {value}" for value in values]
        return ("\n".join(lines) + "\n\n").encode("utf-8", "replace")

    async def __call__(self, head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        """Answer one request."""
        data = b""
        async for chunk in body:
            if len(data) < _MAX_BODY:
                data += chunk[: _MAX_BODY - len(data)]
        path = head.event.target.split(b"?", 1)[0]
        if path == b"/health":
            if head.event.method == b"POST":
                try:
                    status = int(data.strip() or b"200")
                except ValueError:
                    return Response(400, [_TEXT], b"the body must be a status code\n")
                if not 100 <= status <= 599:
                    return Response(400, [_TEXT], b"the body must be a status code\n")
                self.health = status
            return Response(self.health, [_TEXT], b"%d\n" % self.health)
        seen = self.describe(head)
        accept = dict(head.event.headers).get(b"accept", b"")
        if path == b"/api" or b"application/json" in accept:
            return Response(200, [_JSON], json.dumps(seen).encode() + b"\n")
        return Response(200, [_TEXT], self.text(seen))


@contextlib.asynccontextmanager
async def whoami(
    name: str = "", *, address: str = "127.0.0.1:0"
) -> AsyncIterator[EntryPointServer]:
    """A whoami server on *address* while the block runs (``server.ports[0]`` is its port)."""
    import anyio

    server = EntryPointServer(address, Whoami(name))
    async with anyio.create_task_group() as tg:
        await tg.start(server.serve)
        try:
            yield server
        finally:
            server.stop()
