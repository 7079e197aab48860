"""Listen on an entry point's address and serve every connection, until a graceful stop.

Addresses are Traefik's (``[entryPoints.<name>] address``): ``":80"`` (every interface, IPv4
and IPv6), ``"127.0.0.1:8080"``, ``"[::1]:8443"``; a ``/tcp`` suffix is accepted.  Stopping
closes the listening sockets first, then lets the open connections finish (`Drain`) for up to
a grace period, then cancels what is left — as Traefik's ``lifeCycle.graceTimeOut`` does.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
from typing import Final, final

import anyio
import anyio.abc
import attrs

from ..errors import ConfigError
from ._serve import Drain, Handler, Timeouts, serve_connection
from ._server import Limits

__all__ = ["EntryPointServer", "parse_address"]

_log: Final = logging.getLogger("routekit.http")


def _peer_text(stream: anyio.abc.SocketStream) -> str:
    return str(stream.extra(anyio.abc.SocketAttribute.remote_address, "?"))


def parse_address(address: str) -> tuple[str | None, int]:
    """``(host, port)`` of an entry point address; host ``None`` means every interface.

    Raises:
        ConfigError: not ``[host]:port`` with a port from 0 to 65535, or a UDP address.
    """
    text = address.strip()
    if text.lower().endswith("/udp"):
        raise ConfigError(f"entry point address {address!r}: UDP is not served by HTTP")
    text = text.removesuffix("/tcp").removesuffix("/TCP")
    host, sep, port = text.rpartition(":")
    if not sep or not port.isascii() or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"entry point address {address!r}: expected [host]:port, e.g. ':80'")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ConfigError(f"entry point address {address!r}: bad IPv6 address") from None
    elif ":" in host:
        raise ConfigError(f"entry point address {address!r}: write an IPv6 host in brackets")
    return (host or None), int(port)


@final
@attrs.define(eq=False)
class EntryPointServer:
    """One entry point: its listening sockets and the connections they accept.

    Run `serve` in a task group (``await tg.start(server.serve)`` returns once it listens);
    `stop` ends it gracefully.

    Attributes:
        address: the entry point address (``":80"``, ``"127.0.0.1:8080"``, ``"[::1]:8443"``).
        handler: serves each request.
        limits, timeouts: what each connection accepts, and how long it waits.
        grace: seconds the open connections get to finish once `stop` is called.
    """

    address: str
    handler: Handler
    limits: Limits = attrs.field(factory=Limits)
    timeouts: Timeouts = attrs.field(factory=Timeouts)
    grace: float = 10.0
    ports: tuple[int, ...] = attrs.field(default=(), init=False)
    _drain: Drain = attrs.field(factory=Drain, init=False)
    _stopping: anyio.Event | None = attrs.field(default=None, init=False)
    _live: int = attrs.field(default=0, init=False)
    _all_closed: anyio.Event | None = attrs.field(default=None, init=False)

    async def serve(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Listen and serve until `stop`; report readiness through *task_status*."""
        host, port = parse_address(self.address)
        listener = await anyio.create_tcp_listener(local_host=host, local_port=port)
        self.ports = tuple(
            sorted(
                {sock.extra(anyio.abc.SocketAttribute.local_port) for sock in listener.listeners}
            )
        )
        self._stopping = anyio.Event()
        try:
            async with anyio.create_task_group() as connections:
                async with anyio.create_task_group() as accepting:
                    accepting.start_soon(listener.serve, self._connection, connections)
                    task_status.started()
                    await self._stopping.wait()
                    accepting.cancel_scope.cancel()  # no new connections
                await listener.aclose()
                self._all_closed = anyio.Event()
                self._drain.start()
                if self._live:
                    with anyio.move_on_after(self.grace):
                        await self._all_closed.wait()
                connections.cancel_scope.cancel()  # what did not finish in time
        finally:
            # Cancelled from outside (not through `stop`): the sockets are closed all the same.
            with anyio.CancelScope(shield=True), contextlib.suppress(anyio.ClosedResourceError):
                await listener.aclose()

    async def _connection(self, stream: anyio.abc.SocketStream) -> None:
        self._live += 1
        try:
            await serve_connection(
                stream, self.handler, limits=self.limits, timeouts=self.timeouts, drain=self._drain
            )
        except Exception:
            # A bug in one connection must not end the entry point's other connections.
            _log.exception("connection from %s ended by an error", _peer_text(stream))
        finally:
            self._live -= 1
            if not self._live and self._all_closed is not None:
                self._all_closed.set()

    def stop(self) -> None:
        """Stop accepting, let the connections finish within `grace`, then close the rest."""
        if self._stopping is not None:
            self._stopping.set()
