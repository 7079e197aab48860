"""`WebSocketWire`: an ASGI WebSocket connection as the client side of a proxied tunnel.

After the server upstream switched protocols, the proxy copies bytes between two wires
(`routekit.http.tunnel`).  This wire stands for the client: what the ASGI client says
(``websocket.receive``) becomes the masked frames a client sends (RFC 6455 §5.3), and the
server's frames become ``websocket.send`` messages.  A ping from the server is answered with
its pong; a close from either side is passed on with its code and answered, as RFC 6455 §5.5.1
asks.
"""

from __future__ import annotations

import contextlib
from typing import Final, final

import anyio
from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Event, Ping, TextMessage
from wsproto.utilities import LocalProtocolError

from ..http import Wire
from ._types import Receive, Send

__all__ = ["WebSocketWire"]

_NORMAL: Final = 1000  # RFC 6455 §7.4.1
_GOING_AWAY: Final = 1001


@final
class WebSocketWire(Wire):
    """The client's side of a WebSocket tunnel, spoken over ASGI ``receive`` and ``send``."""

    __slots__ = ("_closed", "_conn", "_outgoing", "_parts", "_receive", "_send", "_stopped")

    def __init__(self, receive: Receive, send: Send) -> None:
        super().__init__()
        self._receive = receive
        self._send = send
        self._conn = Connection(ConnectionType.CLIENT)
        # Frames for the server that the client did not send itself (pongs, close replies).
        self._outgoing = b""
        self._parts: list[
            bytes | bytearray | str
        ] = []  # a fragmented message, until its last frame
        self._closed = False  # the ASGI connection is closed (or the client left)
        self._stopped = False

    async def receive(self, timeout: float) -> bytes:
        """The frames the client's next message makes, for the server."""
        if self._outgoing:
            data, self._outgoing = self._outgoing, b""
            return data
        if self._closed or self._stopped:
            return b""
        message = None
        with anyio.move_on_after(timeout):
            message = await self._receive()
        if message is None:
            raise TimeoutError
        event: Event
        if message["type"] == "websocket.receive":
            text = message.get("text")
            if text is not None:
                event = TextMessage(data=text)
            else:
                event = BytesMessage(data=message.get("bytes") or b"")
        else:
            # websocket.disconnect: the client is gone; the server is told with a close frame.
            self._closed = True
            code = message.get("code", _GOING_AWAY)
            event = CloseConnection(code=code if code >= _NORMAL else _GOING_AWAY)
        # A pong or close reply that the server's frames asked for meanwhile goes first.
        data, self._outgoing = self._outgoing + self._frames(event), b""
        return data

    def _frames(self, event: Event) -> bytes:
        if self._conn.state is not ConnectionState.OPEN:
            return b""
        try:
            return self._conn.send(event)
        except LocalProtocolError:
            return b""

    async def send(self, data: bytes, timeout: float | None = None) -> None:
        """Take the server's frames and send the client what they say."""
        self._conn.receive_data(data)
        for event in self._conn.events():
            if isinstance(event, TextMessage | BytesMessage):
                self._parts.append(event.data)
                if not event.message_finished:
                    continue
                parts, self._parts = self._parts, []
                if isinstance(event, TextMessage):
                    await self._to_client({"type": "websocket.send", "text": "".join(parts)})  # type: ignore[arg-type]
                else:
                    payload = b"".join(bytes(p) for p in parts)  # type: ignore[arg-type]
                    await self._to_client({"type": "websocket.send", "bytes": payload})
            elif isinstance(event, Ping):
                self._outgoing += self._conn.send(event.response())
            elif isinstance(event, CloseConnection):
                if self._conn.state is ConnectionState.REMOTE_CLOSING:
                    self._outgoing += self._conn.send(event.response())
                await self._close(event.code, event.reason or "")

    async def _to_client(self, message: dict[str, object]) -> None:
        if self._closed:
            raise anyio.BrokenResourceError
        try:
            await self._send(message)
        except OSError as exc:  # the server's own "client disconnected" errors
            self._closed = True
            raise anyio.BrokenResourceError from exc

    async def _close(self, code: int, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):  # the client left already
            await self._send({"type": "websocket.close", "code": code, "reason": reason})

    def interrupt(self) -> None:
        """Make the next `receive` end the tunnel."""
        self._stopped = True

    async def aclose(self, *, abort: bool = False) -> None:
        """Close the client's WebSocket (if the server has not)."""
        with anyio.CancelScope(shield=True):
            await self._close(_GOING_AWAY if abort else _NORMAL, "")
