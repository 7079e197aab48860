"""routekit.asgi in process: a driver calls the router as an ASGI server would.

Mounted apps are real ASGI apps; proxied requests go to real backends on 127.0.0.1 (whoami and
the echo backend) through routekit's proxy.  Real servers (uvicorn, hypercorn) are in
test_asgi_servers.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Ping, Pong, TextMessage
from wsproto.events import Request as WsRequest

from _echo import echo
from _sockets import free_port
from routekit import Route, parse_rule
from routekit.asgi import (
    ASGIApp,
    Message,
    Receive,
    RouteInfo,
    RouteMiddleware,
    Router,
    Scope,
    Send,
    apps_provider,
)
from routekit.config import Configuration, loads_config
from routekit.errors import ConfigError
from routekit.http import EntryPointServer
from routekit.providers import StaticProvider
from routekit.runtime import Watcher
from routekit.whoami import whoami

pytestmark = pytest.mark.anyio


# -- a driver: what an ASGI server does with one connection ------------------------------------


class Answer:
    """What the app sent for one HTTP request."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages
        start = messages[0]
        assert start["type"] == "http.response.start", messages
        self.status: int = start["status"]
        self.headers = {bytes(k).decode(): bytes(v).decode() for k, v in start["headers"]}
        bodies = [m for m in messages[1:] if m["type"] == "http.response.body"]
        self.pieces = [bytes(m.get("body", b"")) for m in bodies]
        self.body = b"".join(self.pieces)

    def json(self) -> Any:
        """The body, as JSON."""
        return json.loads(self.body)


def http_scope(
    path: str = "/",
    host: str = "site.test",
    *,
    method: str = "GET",
    headers: Sequence[tuple[bytes, bytes]] = (),
    query: bytes = b"",
    kind: str = "http",
) -> Scope:
    """A scope as uvicorn makes one for a request to 127.0.0.1:8000."""
    return {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http" if kind == "http" else "ws",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", host.encode()), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def request(app: ASGIApp, scope: Scope, parts: Sequence[bytes] = (b"",)) -> Answer:
    """Send one request (its body in *parts*) to *app*; what it answered."""
    incoming: list[Message] = [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]
    sent: list[Message] = []
    done = anyio.Event()

    async def receive() -> Message:
        if incoming:
            return incoming.pop(0)
        await done.wait()  # as a server: a disconnect once the answer is complete
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    with anyio.fail_after(10):
        await app(scope, receive, send)
    return Answer(sent)


async def scope_app(scope: Scope, receive: Receive, send: Send) -> None:
    """A mounted app that answers with what its scope says (and its request body)."""
    if scope["type"] != "http":
        raise RuntimeError("http only")  # no lifespan: the router must cope
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    info: RouteInfo = scope["routekit"]
    seen = {
        "path": scope["path"],
        "root_path": scope["root_path"],
        "method": scope["method"],
        "query": scope["query_string"].decode(),
        "headers": {k.decode(): v.decode() for k, v in scope["headers"]},
        "body": body.decode(),
        "router": info.router,
        "service": info.service,
        "rule": info.rule,
        "params": dict(info.params),
        "state": scope["state"]["routekit"] is info,
    }
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-app", b"yes")]})
    await send({"type": "http.response.body", "body": json.dumps(seen).encode()})


@asynccontextmanager
async def echo_backend() -> AsyncIterator[int]:
    """tests/_echo.py's echo backend on a free port."""
    server = EntryPointServer("127.0.0.1:0", echo)
    async with anyio.create_task_group() as tg:
        await tg.start(server.serve)
        try:
            yield server.ports[0]
        finally:
            server.stop()


# -- mounted apps ------------------------------------------------------------------------------


async def test_a_route_list_mounts_an_app_and_puts_the_route_in_the_scope() -> None:
    users = parse_rule("Host(`site.test`) && Path(`/u/{id:[0-9]+}`)", syntax="v2")
    router = Router(
        [Route("users", users, scope_app), Route("home", "Host(`site.test`)", echo_app)]
    )
    seen = (await request(router, http_scope("/u/42", query=b"a=1"))).json()
    assert seen["path"] == "/u/42" and seen["root_path"] == "" and seen["query"] == "a=1"
    assert seen["router"] == "users" and seen["service"] == "users"
    assert seen["params"] == {"id": "42"}
    assert seen["rule"] == "Host(`site.test`) && Path(`/u/{id:[0-9]+}`)"
    assert seen["state"]  # scope["state"]["routekit"] is the same RouteInfo


async def test_strip_prefix_mounts_the_app_as_starlette_does() -> None:
    config = loads_config("""
[http.routers.blog]
rule = "Host(`site.test`) && PathPrefix(`/blog`)"
service = "site@asgi"
middlewares = ["blog"]
[http.middlewares.blog.stripPrefix]
prefixes = ["/blog"]
""")
    router = Router(config, apps={"site": scope_app})
    seen = (await request(router, http_scope("/blog/post/1"))).json()
    # ASGI: path keeps the whole path and root_path says where the app is mounted.
    assert (seen["path"], seen["root_path"]) == ("/blog/post/1", "/blog")
    assert seen["router"] == "blog" and seen["service"] == "site@asgi"


async def test_a_v1_prefix_strip_rule_mounts_the_app_too() -> None:
    router = Router([Route("blog", "Host:site.test;PathPrefixStrip:/blog", scope_app)])
    seen = (await request(router, http_scope("/blog/post/1"))).json()
    assert (seen["path"], seen["root_path"]) == ("/blog/post/1", "/blog")
    assert seen["rule"] == "Host(`site.test`) && PathPrefix(`/blog`)"  # in v3, as routed


async def test_other_middlewares_run_in_front_of_a_mounted_app() -> None:
    config = loads_config("""
[http.routers.admin]
rule = "PathPrefix(`/admin`)"
service = "admin@asgi"
middlewares = ["auth", "strip", "tag"]
[http.middlewares.auth.basicAuth]
users = ["ops:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="]
[http.middlewares.strip.stripPrefix]
prefixes = ["/admin"]
[http.middlewares.tag.headers.customRequestHeaders]
X-Seen-By = "routekit"
[http.middlewares.tag.headers.customResponseHeaders]
X-Served-By = "routekit"
""")
    router = Router(config, apps={"admin": scope_app})
    refused = await request(router, http_scope("/admin/users"))
    assert refused.status == 401 and "x-app" not in refused.headers
    auth = (b"authorization", b"Basic " + base64.b64encode(b"ops:password"))
    answer = await request(router, http_scope("/admin/users", headers=[auth], method="POST"),
                           [b"na", b"me"])  # fmt: skip
    assert answer.status == 200 and answer.headers["x-served-by"] == "routekit"
    seen = answer.json()
    assert (seen["path"], seen["root_path"]) == ("/admin/users", "/admin")
    assert seen["headers"]["x-seen-by"] == "routekit" and seen["body"] == "name"


async def test_unmatched_requests_are_404_or_go_to_the_wrapped_app() -> None:
    routes = [Route("site", "Host(`site.test`)", scope_app)]
    answer = await request(Router(routes), http_scope("/", host="other.test"))
    assert answer.status == 404 and answer.body == b"404 page not found\n"
    wrapped = RouteMiddleware(echo_app, routes)
    assert (await request(wrapped, http_scope("/", host="other.test"))).body == b"wrapped"
    assert (await request(wrapped, http_scope("/x"))).json()["router"] == "site"


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The app a `RouteMiddleware` wraps in these tests."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"wrapped"})


# -- proxied requests --------------------------------------------------------------------------


async def test_requests_are_proxied_through_the_balancer_with_the_proxys_headers() -> None:
    async with whoami("one") as one, whoami("two") as two:
        urls = [f"http://127.0.0.1:{one.ports[0]}", f"http://127.0.0.1:{two.ports[0]}"]
        names = set()
        async with Router([Route("api", "PathPrefix(`/api`)", urls)]) as router:
            for _ in range(4):
                scope = http_scope("/api/x")
                answer = await request(router, scope)
                assert answer.status == 200, answer.body
                text = answer.body.decode()
                names.add(text.split("\n", 1)[0])
                assert "X-Forwarded-Host: site.test" in text and "X-Real-Ip: 127.0.0.1" in text
                info: RouteInfo = scope["routekit"]
                assert info.router == "api" and info.server in urls
        assert names == {"Name: one", "Name: two"}


async def test_bodies_stream_both_ways_through_the_proxy() -> None:
    async with echo_backend() as port:
        route = Route("echo", "Host(`site.test`)", f"http://127.0.0.1:{port}")
        async with Router([route]) as router:
            # No Content-Length (an HTTP/2 client, say): the body goes upstream chunked.
            parts = [b"one ", b"two ", b"3"]
            answer = await request(router, http_scope("/up", method="POST"), parts)
            seen = answer.json()
            assert seen["body"] == "one two 3"
            assert ["transfer-encoding", "chunked"] in seen["headers"]
            streamed = await request(router, http_scope("/stream/5000"))
            assert streamed.status == 200 and len(streamed.body) == 5000
            assert len([p for p in streamed.pieces if p]) > 1  # sent on as it came


async def test_upstream_failures_answer_traefiks_statuses() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with Router([Route("dead", "Host(`site.test`)", dead)]) as router:
        answer = await request(router, http_scope("/"))
    assert answer.status == 502 and answer.body == b"502 Bad Gateway\n"


# -- construction ------------------------------------------------------------------------------


def test_what_cannot_be_routed_is_refused_at_construction() -> None:
    with pytest.raises(ConfigError, match="the target must be"):
        Router([Route("x", "Host(`a`)", 42)])
    with pytest.raises(ConfigError, match="unknown service 'nope@asgi'"):
        Router(loads_config('[http.routers.r]\nrule = "Host(`a`)"\nservice = "nope@asgi"\n'))
    config = loads_config("""
[[http.services.site.loadBalancer.servers]]
url = "http://127.0.0.1:1"
""")
    with pytest.raises(ConfigError, match="both a service and a mounted app"):
        Router(config, apps={"site": scope_app})
    with pytest.raises(ConfigError, match="apps_provider"):
        Router(Watcher([StaticProvider(Configuration())]), apps={"site": scope_app})


# -- lifespan ----------------------------------------------------------------------------------


class LifespanApp:
    """An app that records its lifespan events, and may fail its startup."""

    def __init__(
        self, name: str, log: list[str], fail: bool = False, step: str = "startup"
    ) -> None:
        self.name = name
        self.log = log
        self.fail = fail
        self.step = step  # the step that fails

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "lifespan"
        while True:
            message = await receive()
            step = message["type"].removeprefix("lifespan.")
            self.log.append(f"{self.name} {step}")
            if step == self.step and self.fail:
                await send({"type": f"lifespan.{step}.failed", "message": "no database"})
                return
            scope["state"][self.name] = step
            await send({"type": f"{message['type']}.complete"})
            if step == "shutdown":
                return


async def lifespan(app: ASGIApp, state: dict[str, Any]) -> list[Message]:
    """Drive *app*'s lifespan through startup and, if that completed, shutdown."""
    sent: list[Message] = []
    steps = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    started = anyio.Event()

    async def receive() -> Message:
        if len(steps) == 1:
            await started.wait()
        return steps.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "lifespan.startup.complete":
            started.set()

    with anyio.fail_after(10):
        await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}, receive, send)
    return sent


async def test_lifespan_starts_every_mounted_app_before_serving_and_stops_them_after() -> None:
    log: list[str] = []
    routes = [
        Route("a", "Host(`a.test`)", LifespanApp("a", log)),
        Route("b", "Host(`b.test`)", LifespanApp("b", log)),
        Route("plain", "Host(`c.test`)", scope_app),  # no lifespan: left out of it
    ]
    state: dict[str, Any] = {}
    sent = await lifespan(RouteMiddleware(LifespanApp("main", log), routes), state)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert log == [
        "main startup", "a startup", "b startup",
        "b shutdown", "a shutdown", "main shutdown",
    ]  # fmt: skip
    assert state == {"main": "shutdown", "a": "shutdown", "b": "shutdown"}  # shared state


async def test_a_failing_startup_is_reported_and_the_started_apps_are_stopped() -> None:
    log: list[str] = []
    routes = [
        Route("a", "Host(`a.test`)", LifespanApp("a", log)),
        Route("db", "Host(`b.test`)", LifespanApp("db", log, fail=True)),
        Route("c", "Host(`c.test`)", LifespanApp("c", log)),
    ]
    sent = await lifespan(Router(routes), {})
    assert sent == [{"type": "lifespan.startup.failed", "message": "mounted app 'db': no database"}]
    assert log == ["a startup", "db startup", "a shutdown"]


# -- live routes -------------------------------------------------------------------------------


async def test_routes_follow_a_watcher_while_the_app_runs() -> None:
    def config(rule: str) -> Configuration:
        return loads_config(f'[http.routers.r]\nrule = "{rule}"\nservice = "site@asgi"\n')

    provider = StaticProvider(config("Host(`old.test`)"), name="code")
    watcher = Watcher([provider, apps_provider({"site": scope_app})], throttle=0)
    router = Router(watcher, apps={"site": scope_app})
    async with watcher.running():
        seen = (await request(router, http_scope("/", host="old.test"))).json()
        assert (seen["router"], seen["service"]) == ("r@code", "site@asgi")
        provider.update(config("Host(`new.test`)"))
        with anyio.fail_after(5):
            while (await request(router, http_scope("/", host="new.test"))).status != 200:
                await anyio.sleep(0.01)
        assert (await request(router, http_scope("/", host="old.test"))).status == 404


# -- WebSockets to mounted apps --------------------------------------------------------------


async def ws_app(scope: Scope, receive: Receive, send: Send) -> None:
    """A mounted WebSocket app: accepts, then echoes each text upper-cased with its path."""
    assert scope["type"] == "websocket"
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        text = f"{scope['root_path']}|{scope['path']}|{message['text'].upper()}"
        await send({"type": "websocket.send", "text": text})


async def websocket(
    app: ASGIApp, scope: Scope, texts: Sequence[str], expect: int = 0
) -> list[Message]:
    """Open a WebSocket to *app*, send *texts* once accepted, then leave once *expect*
    messages came; what the app sent."""
    incoming: list[Message] = [{"type": "websocket.connect"}]
    sent: list[Message] = []
    accepted = anyio.Event()
    enough = anyio.Event()

    async def receive() -> Message:
        if incoming:
            return incoming.pop(0)
        await accepted.wait()
        if texts_left:
            await anyio.sleep(0.01)
            return {"type": "websocket.receive", "text": texts_left.pop(0)}
        await enough.wait()
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)
        kind = message["type"]
        if kind in {"websocket.accept", "websocket.close"} or kind.startswith("websocket.http"):
            accepted.set()
        if kind == "websocket.close" or sum(m["type"] == "websocket.send" for m in sent) >= expect:
            enough.set()

    texts_left = list(texts)
    scope["extensions"] = {"websocket.http.response": {}}
    with anyio.fail_after(10):
        await app(scope, receive, send)
    return sent


async def test_websockets_reach_mounted_apps_through_the_routers_middlewares() -> None:
    config = loads_config("""
[http.routers.chat]
rule = "PathPrefix(`/chat`)"
service = "chat@asgi"
middlewares = ["auth", "strip"]
[http.middlewares.auth.basicAuth]
users = ["ops:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="]
[http.middlewares.strip.stripPrefix]
prefixes = ["/chat"]
""")
    router = Router(config, apps={"chat": ws_app})
    refused = await websocket(router, http_scope("/chat/room", kind="websocket"), ["hi"])
    assert refused[0]["type"] == "websocket.http.response.start"
    assert refused[0]["status"] == 401
    auth = (b"authorization", b"Basic " + base64.b64encode(b"ops:password"))
    scope = http_scope("/chat/room", kind="websocket", headers=[auth])
    sent = await websocket(router, scope, ["hi", "there"])
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send", "websocket.send"]
    assert [m["text"] for m in sent[1:]] == ["/chat|/chat/room|HI", "/chat|/chat/room|THERE"]


# -- WebSockets proxied --------------------------------------------------------------------------


async def pinging_server(stream: anyio.abc.SocketStream) -> None:
    """A WebSocket server that pings a quiet client and says when the pong came."""
    ws = WSConnection(ConnectionType.SERVER)
    async with stream:
        while True:
            try:
                data = await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                return
            ws.receive_data(data)
            for event in ws.events():
                if isinstance(event, WsRequest):
                    chosen = "chat" if "chat" in event.subprotocols else None
                    await stream.send(ws.send(AcceptConnection(subprotocol=chosen)))
                    await stream.send(ws.send(Ping(payload=b"still there?")))
                elif isinstance(event, Pong):
                    await stream.send(ws.send(TextMessage(data=f"pong: {event.payload!r}")))
                elif isinstance(event, TextMessage):
                    await stream.send(ws.send(TextMessage(data=event.data[::-1])))
                elif isinstance(event, CloseConnection):
                    await stream.send(ws.send(event.response()))
                    return


@asynccontextmanager
async def ws_server(handler: Any) -> AsyncIterator[int]:
    """A WebSocket server on a free loopback port."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, handler)
        yield listener.extra(anyio.abc.SocketAttribute.local_port)
        tg.cancel_scope.cancel()


async def test_a_proxied_websocket_answers_pings_while_the_client_is_quiet() -> None:
    async with ws_server(pinging_server) as port:
        route = Route("chat", "Host(`site.test`)", f"http://127.0.0.1:{port}")
        async with Router([route]) as router:
            offer = (b"sec-websocket-protocol", b"chat, other")
            scope = http_scope("/chat", kind="websocket", headers=[offer])
            sent = await websocket(router, scope, [], expect=1)
            assert sent[0] == {"type": "websocket.accept", "subprotocol": "chat", "headers": []}
            assert sent[1] == {"type": "websocket.send", "text": "pong: b'still there?'"}
            sent = await websocket(router, http_scope("/", kind="websocket"), ["abc"], expect=2)
            assert [m.get("text") for m in sent[1:]] == ["pong: b'still there?'", "cba"]
            refused = await websocket(router, http_scope("/", "nobody.test", kind="websocket"), [])
            assert refused[0]["type"] == "websocket.http.response.start"
            assert refused[0]["status"] == 404


async def test_a_failing_shutdown_is_reported_after_every_app_was_stopped() -> None:
    log: list[str] = []
    routes = [
        Route("a", "Host(`a.test`)", LifespanApp("a", log)),
        Route("db", "Host(`b.test`)", LifespanApp("db", log, fail=True, step="shutdown")),
    ]
    sent = await lifespan(Router(routes), {})
    assert sent == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.failed", "message": "mounted app 'db': no database"},
    ]
    assert log == ["a startup", "db startup", "db shutdown", "a shutdown"]
