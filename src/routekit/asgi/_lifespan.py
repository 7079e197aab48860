"""Lifespan events for every mounted app: each is started before serving, stopped after.

The server's ``lifespan.startup`` starts the mounted apps one after the other, in the order
given; once all have started the server is told ``lifespan.startup.complete``.  An app that
answers ``lifespan.startup.failed`` fails the whole startup (the apps started so far are shut
down, in reverse order) and the server is told why, with the app's name.  An app that raises
or returns without answering does not use the lifespan protocol (as uvicorn's ``auto`` mode
reads it) and is left out of it.  ``lifespan.shutdown`` stops the started apps in reverse
order.  The apps share the server's lifespan ``state`` (ASGI lifespan spec 2.3).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final, final

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._types import ASGIApp, Message, Scope

__all__ = ["AppLifespan", "shut_down", "start_up"]

_log: Final = logging.getLogger("routekit.asgi")


@final
class AppLifespan:
    """One mounted app's lifespan connection, driven from the router's lifespan."""

    __slots__ = ("_from_app", "_from_app_in", "_to_app", "_to_app_out", "app", "name")

    def __init__(self, name: str, app: ASGIApp) -> None:
        self.name = name
        self.app = app
        self._to_app: MemoryObjectSendStream[Message]
        self._to_app_out: MemoryObjectReceiveStream[Message]
        self._to_app, self._to_app_out = anyio.create_memory_object_stream[Message](1)
        self._from_app: MemoryObjectReceiveStream[Message]
        self._from_app_in: MemoryObjectSendStream[Message]
        self._from_app_in, self._from_app = anyio.create_memory_object_stream[Message](1)

    async def _run(self, scope: Scope) -> None:
        async def send(message: Message) -> None:
            await self._from_app_in.send(message)

        try:
            await self.app(dict(scope), self._to_app_out.receive, send)
        except Exception as exc:
            _log.debug("mounted app %s: lifespan not used (%r)", self.name, exc)
        finally:
            # Ended: what is asked of it from now on is answered at once (nothing more to do).
            self._from_app_in.close()
            self._to_app_out.close()

    async def _ask(self, kind: str) -> str | None:
        """Send ``lifespan.<kind>``; ``None`` when it completed (or the app does not take part),
        else the failure message."""
        try:
            await self._to_app.send({"type": f"lifespan.{kind}"})
            answer = await self._from_app.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
            return None  # the app ended: it does not use the lifespan protocol
        if answer["type"] == f"lifespan.{kind}.failed":
            return str(answer.get("message") or f"{kind} failed")
        return None

    async def start(self, scope: Scope, tg: anyio.abc.TaskGroup) -> str | None:
        """Start the app; its failure message, or ``None``."""
        tg.start_soon(self._run, scope)
        return await self._ask("startup")

    async def stop(self) -> str | None:
        """Stop the app; its failure message, or ``None``."""
        try:
            return await self._ask("shutdown")
        finally:
            self.close()

    def close(self) -> None:
        """Let go of the connection's streams."""
        for stream in (self._to_app, self._to_app_out, self._from_app, self._from_app_in):
            stream.close()


async def start_up(
    apps: Sequence[tuple[str, ASGIApp]], scope: Scope, tg: anyio.abc.TaskGroup
) -> tuple[list[AppLifespan], str | None]:
    """Start *apps* in order; the started ones and the first failure (``None``: all started)."""
    started: list[AppLifespan] = []
    for name, app in apps:
        lifespan = AppLifespan(name, app)
        failure = await lifespan.start(scope, tg)
        if failure is not None:
            lifespan.close()
            await shut_down(started)
            return [], f"mounted app {name!r}: {failure}"
        started.append(lifespan)
    return started, None


async def shut_down(started: Sequence[AppLifespan]) -> str | None:
    """Stop *started* in reverse order; every failure, joined (``None``: none)."""
    failures = []
    for lifespan in reversed(started):
        failure = await lifespan.stop()
        if failure is not None:
            failures.append(f"mounted app {lifespan.name!r}: {failure}")
    return "; ".join(failures) or None
