"""`WebSocketWire`: an ASGI WebSocket connection as the client side of a proxied tunnel.

After the server upstream switched protocols, the proxy copies bytes between two wires
(`routekit.http.tunnel`).  This wire stands for the client: what the ASGI client says
(``websocket.receive``) becomes the masked frames a client sends (RFC 6455 §5.3), and the
server's frames become ``websocket.send`` messages.  A ping from the server is answered with
its pong at once, whether or not the client is saying anything (servers close connections
whose pongs do not come); a close from either side is passed on with its code and answered,
as RFC 6455 §5.5.1 asks.
"""

from __future__ import annotations

import contextlib
import math
from typing import Final, final

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Event, Ping, TextMessage
from wsproto.utilities import LocalProtocolError

from ..http import Wire
from ._types import Message, Receive, Send

__all__ = ["WebSocketWire"]

_NORMAL: Final = 1000  # RFC 6455 §7.4.1
_GOING_AWAY: Final = 1001
#: Put in the inbox when frames of the wire's own (a pong) are ready for the server.
_FLUSH: Final[Message] = {"type": "routekit.flush"}


@final
class WebSocketWire(Wire):
    """The client's side of a WebSocket tunnel, spoken over ASGI ``receive`` and ``send``.

    A task of *tg* reads the client's messages while the wire is open.
    """

    __slots__ = ("_closed", "_conn", "_inbox", "_mailbox", "_outgoing", "_parts", "_send")

    def __init__(self, receive: Receive, send: Send, tg: anyio.abc.TaskGroup) -> None:
        super().__init__()
        self._send = send
        self._conn = Connection(ConnectionType.CLIENT)
        # Frames for the server that the client did not send itself (pongs, close replies).
        self._outgoing = b""
        self._parts: list[bytes | bytearray | str] = []  # a fragmented message, so far
        self._closed = False  # the ASGI connection is closed (or the client left)
        self._mailbox: MemoryObjectSendStream[Message]
        self._inbox: MemoryObjectReceiveStream[Message]
        self._mailbox, self._inbox = anyio.create_memory_object_stream[Message](math.inf)
        tg.start_soon(self._read, receive)

    async def _read(self, receive: Receive) -> None:
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            while True:
                message = await receive()
                self._mailbox.send_nowait(message)
                if message["type"] == "websocket.disconnect":
                    return

    async def receive(self, timeout: float) -> bytes:
        """The frames for the server: the client's next message, or the wire's own replies."""
        while not self._outgoing:
            if self._closed:
                return b""
            message = None
            with anyio.move_on_after(timeout):
                message = await self._inbox.receive()
            if message is None:
                raise TimeoutError
            if message is not _FLUSH:
                self._outgoing += self._frames(self._event(message))
                if not self._outgoing:
                    return b""
        data, self._outgoing = self._outgoing, b""
        return data

    def _event(self, message: Message) -> Event:
        if message["type"] == "websocket.receive":
            text = message.get("text")
            if text is not None:
                return TextMessage(data=text)
            return BytesMessage(data=message.get("bytes") or b"")
        # websocket.disconnect: the client is gone; the server is told with a close frame.
        self._closed = True
        code = message.get("code", _GOING_AWAY)
        return CloseConnection(code=code if code >= _NORMAL else _GOING_AWAY)

    def _frames(self, event: Event) -> bytes:
        if self._conn.state is not ConnectionState.OPEN:
            return b""
        try:
            return self._conn.send(event)
        except LocalProtocolError:
            return b""

    def _reply(self, frames: bytes) -> None:
        self._outgoing += frames
        self._mailbox.send_nowait(_FLUSH)

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
                    text = "".join(p for p in parts if isinstance(p, str))
                    await self._to_client({"type": "websocket.send", "text": text})
                else:
                    payload = b"".join(bytes(p) for p in parts if not isinstance(p, str))
                    await self._to_client({"type": "websocket.send", "bytes": payload})
            elif isinstance(event, Ping):
                self._reply(self._conn.send(event.response()))
            elif isinstance(event, CloseConnection):
                if self._conn.state is ConnectionState.REMOTE_CLOSING:
                    self._reply(self._conn.send(event.response()))
                await self._close(event.code, event.reason or "")

    async def _to_client(self, message: Message) -> None:
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
        self._closed = True
        self._mailbox.send_nowait(_FLUSH)

    async def aclose(self, *, abort: bool = False) -> None:
        """Close the client's WebSocket (if the server has not), and the wire's inbox."""
        with anyio.CancelScope(shield=True):
            await self._close(_GOING_AWAY if abort else _NORMAL, "")
        self._mailbox.close()
        self._inbox.close()
