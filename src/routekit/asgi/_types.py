"""The ASGI types the face speaks (the shapes of the ASGI 3.0 specification, asgiref's names)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["ASGIApp", "Message", "Receive", "Scope", "Send"]

#: A connection's scope: ``type`` (``http``, ``websocket``, ``lifespan``) and its fields.
Scope = MutableMapping[str, Any]
#: One event of the ASGI protocol (``http.request``, ``websocket.send``…).
Message = MutableMapping[str, Any]
#: Awaits the next event from the server.
Receive = Callable[[], Awaitable[Message]]
#: Sends one event to the server.
Send = Callable[[Message], Awaitable[None]]
#: An ASGI 3.0 application.
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
