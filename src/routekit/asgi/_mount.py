"""The mounted-app path of the ASGI face: a matching request goes to an ASGI app, in process.

A router without middlewares calls its app with the scope as it came, plus the route's
`RouteInfo`.  ``stripPrefix`` middlewares become a mount, as Starlette's ``Mount`` makes one:
``root_path`` grows by the prefix cut and ``path`` stays whole (ASGI's ``path`` includes
``root_path``), so the app's own routing and ``url_for`` work under the prefix.  Any other
middleware (auth, headers, rate limits…) runs as it does in front of a server: the router's
chain (`routekit.middleware.Chains`) ends in the app, whose ASGI answer becomes the chain's
`Response`.  For a WebSocket the chain decides whether the app is called at all (an auth
middleware's 401 refuses it) and with which path and headers.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import AsyncIterator
from typing import Final, final

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream

from ..config import Middleware, StripPrefix
from ..http import NO_BODY, Response
from ..middleware import (
    Call,
    Chains,
    Context,
    PathRefused,
    decode_path,
    get_header,
    plain,
    split_target,
    strip_prefix,
)
from ..request import Request
from ..runtime import RoutingDecision
from ._forward import ClientLeft, chunks, deny_websocket, refuse, send_response
from ._info import RouteInfo
from ._types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Mounts", "child_scope"]

_log: Final = logging.getLogger("routekit.asgi")
#: The plan of a router whose middlewares are all ``stripPrefix``: their prefix lists in order.
_Plan = tuple[tuple[str, ...], ...]
_FORWARDED_PREFIX: Final = b"x-forwarded-prefix"
_PASS: Final = Response(101)  # the chain let a WebSocket through to the app


def child_scope(scope: Scope, info: RouteInfo, root: str | None = None) -> Scope:
    """The scope the mounted app gets: *scope* with `RouteInfo` (``scope["routekit"]`` and
    ``scope["state"]["routekit"]``) and, for a prefix mount, the new ``root_path``."""
    child = dict(scope)
    child["routekit"] = info
    state = scope.get("state")
    child["state"] = {**state, "routekit": info} if state else {"routekit": info}
    if root is not None and len(root) > len(scope.get("root_path", "")):
        child["root_path"] = root
        # The app is the root of its own URLs (Starlette reads app_root_path for url_for),
        # and an outer framework's router is not its router.
        child["app_root_path"] = root
        child.pop("router", None)
    return child


def _plan(middlewares: tuple[Middleware, ...]) -> _Plan | None:
    strips = tuple(m for m in middlewares if isinstance(m, StripPrefix))
    return tuple(m.prefixes for m in strips) if len(strips) == len(middlewares) else None


@final
class _Pending:
    """One request through a chain to its app: what the chain's end needs of it."""

    __slots__ = ("app", "child", "info", "receive", "request", "scope", "streams", "tg")

    def __init__(  # noqa: PLR0917 - the parts of one request
        self,
        app: ASGIApp,
        scope: Scope,
        receive: Receive,
        request: Request,
        info: RouteInfo,
        tg: anyio.abc.TaskGroup,
    ) -> None:
        self.app = app
        self.scope = scope
        self.receive = receive
        self.request = request
        self.info = info
        self.tg = tg
        self.child: Scope | None = None
        self.streams: list[MemoryObjectReceiveStream[Message]] = []


_CURRENT: Final = contextvars.ContextVar[_Pending]("routekit.asgi.pending")


@final
class Mounts:
    """Serves requests whose router's service is a mounted app."""

    __slots__ = ("_chains", "_plans")

    def __init__(self, context: Context | None = None) -> None:
        self._chains = Chains(self._to_app, context)
        self._plans: dict[str, tuple[object, _Plan | None]] = {}

    def reload(self) -> None:
        """A new runtime: plans and chains are made again, on each router's next request."""
        self._plans = {}
        self._chains.reload()

    async def serve(  # noqa: PLR0917 - one request's parts
        self,
        app: ASGIApp,
        scope: Scope,
        receive: Receive,
        send: Send,
        request: Request,
        decision: RoutingDecision,
        info: RouteInfo,
    ) -> None:
        """Serve one request with *app*, through the router's middlewares."""
        middlewares = decision.middlewares
        if not middlewares:
            await app(child_scope(scope, info), receive, send)
            return
        known = self._plans.get(decision.router)
        if known is None or known[0] is not middlewares:
            known = self._plans[decision.router] = (middlewares, _plan(middlewares))
        plan = known[1]
        if plan is None:
            await self._through_chain(app, scope, receive, send, request, decision, info)
            return
        path, root = request.path, ""
        for prefixes in plan:
            found = strip_prefix(path, prefixes)
            if isinstance(found, PathRefused):
                await refuse(scope, send, plain(found.status, found.reason))
                return
            if found is not None:
                prefix, path = found
                root += prefix.rstrip("/")
        await app(child_scope(scope, info, root or None), receive, send)

    async def _through_chain(  # noqa: PLR0917 - one request's parts
        self,
        app: ASGIApp,
        scope: Scope,
        receive: Receive,
        send: Send,
        request: Request,
        decision: RoutingDecision,
        info: RouteInfo,
    ) -> None:
        websocket = scope["type"] == "websocket"
        path, query = split_target(request.path + (f"?{request.query}" if request.query else ""))
        client = scope.get("client")
        call = Call(
            method=b"GET" if websocket else scope.get("method", "GET").encode("ascii"),
            path=path,
            query=query,
            headers=[(bytes(k).lower(), bytes(v)) for k, v in scope.get("headers") or ()],
            body=NO_BODY if websocket else chunks(receive),
            request=request,
            decision=decision,
            client_ip=client[0] if client else None,
            tls=scope.get("scheme") in ("https", "wss"),
            started=time.monotonic(),
        )
        async with anyio.create_task_group() as tg:
            pending = _Pending(app, scope, receive, request, info, tg)
            token = _CURRENT.set(pending)
            try:
                response = await self._chains.handler(decision)(call)
            finally:
                _CURRENT.reset(token)
            if websocket:
                if pending.child is not None and response.status == _PASS.status:
                    await app(pending.child, receive, send)
                else:
                    await deny_websocket(scope, send, response)
                return
            try:
                await send_response(response, send)
            finally:
                # The app's answer was sent (or given up): an app still sending is told so.
                for stream in pending.streams:
                    stream.close()

    async def _to_app(self, call: Call) -> Response:
        """The end of a chain: run the app with the call as the middlewares left it."""
        pending = _CURRENT.get()
        child = _call_scope(pending, call)
        if pending.scope["type"] == "websocket":
            pending.child = child
            return _PASS
        out, answers = anyio.create_memory_object_stream[Message](8)
        pending.streams.append(answers)
        body = call.body
        done = False

        async def app_receive() -> Message:
            nonlocal done
            if not done:
                try:
                    chunk = await body.__anext__()
                except StopAsyncIteration:
                    done = True
                    return {"type": "http.request", "body": b"", "more_body": False}
                except ClientLeft:
                    done = True
                    return {"type": "http.disconnect"}
                return {"type": "http.request", "body": chunk, "more_body": True}
            return await pending.receive()  # the body is read: what is left is a disconnect

        async def run() -> None:
            async with out:
                try:
                    await pending.app(child, app_receive, out.send)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    pass  # the answer was given up
                except Exception:
                    _log.exception("mounted app of router %s failed", call.decision.router)

        pending.tg.start_soon(run)
        try:
            start = await answers.receive()
        except anyio.EndOfStream:
            return plain(500, "Internal Server Error")
        headers = [(bytes(k).lower(), bytes(v)) for k, v in start.get("headers") or ()]
        return Response(int(start["status"]), headers, _answer(answers))


def _call_scope(pending: _Pending, call: Call) -> Scope:
    """The app's scope after the middlewares: their method, path, query and headers."""
    root = None
    scope = pending.scope
    if call.path != pending.request.path:
        prefix = get_header(call.headers, _FORWARDED_PREFIX)
        decoded = decode_path(pending.request.path)
        if prefix is not None and decoded.startswith(prefix.decode("latin-1")):
            root = prefix.decode("latin-1").rstrip("/")  # stripped: a mount, path kept whole
        else:
            scope = dict(scope)  # rewritten: the app sees the new path
            scope["path"] = decode_path(call.path or "/")
            scope["raw_path"] = (call.path or "/").encode("latin-1")
    child = child_scope(scope, pending.info, root)
    child["headers"] = call.headers
    child["query_string"] = (call.query or "").encode("latin-1")
    if scope["type"] == "http":
        child["method"] = call.method.decode("ascii")
    return child


async def _answer(answers: MemoryObjectReceiveStream[Message]) -> AsyncIterator[bytes]:
    async with answers:
        async for message in answers:
            if message["type"] != "http.response.body":
                continue
            yield message.get("body", b"")
            if not message.get("more_body", False):
                return
