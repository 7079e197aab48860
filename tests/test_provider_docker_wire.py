"""The Docker provider's wire handling without an engine: inspect answers, garbage, retry pacing.

The engine here is a stand-in only where a real one cannot misbehave on demand: an answer that
is not the Engine API, a body that is not JSON.  What a real engine does is tested against
``dockerd`` in test_provider_docker.py.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _following import following
from routekit.config import DockerContainer, docker_container
from routekit.errors import MalformedResponse, ProviderError
from routekit.http import ClientResponse
from routekit.providers import Backoff, DockerProvider, json_lines, read_json

pytestmark = pytest.mark.anyio


def inspected(**changes: Any) -> dict[str, Any]:
    """An inspect answer shaped as Docker 20.10 gives it (trimmed to what is read)."""
    data: dict[str, Any] = {
        "Id": "1ea6d4c223178b531d859739d719e06dd98eccbe43e51c81a7a11ce3c2b9f70a",
        "Name": "/web",
        "State": {"Status": "running", "Running": True, "Health": {"Status": "healthy"}},
        "HostConfig": {"NetworkMode": "bridge"},
        "Config": {
            "Labels": {"traefik.enable": "true"},
            "ExposedPorts": {"80/tcp": {}, "53/udp": {}},
        },
        "NetworkSettings": {
            "Networks": {"bridge": {"IPAddress": "172.17.0.2"}, "back": {"IPAddress": ""}},
            "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "443/tcp": None},
        },
    }
    data.update(changes)
    return data


def test_an_inspect_answer_becomes_a_container() -> None:
    c = docker_container(inspected())
    assert c.id.startswith("1ea6d4c2") and c.network_mode == "bridge" and c.joined is None
    info = c.info
    assert info.name == "web" and info.labels == {"traefik.enable": "true"}
    assert info.addresses == {"bridge": "172.17.0.2"}  # a network without an address is none
    assert info.ports == (80, 443)  # UDP ports are not HTTP servers
    assert info.port_bindings == {80: ("0.0.0.0", "8080")}
    assert (info.state, info.health) == ("running", "healthy")


def test_host_mode_is_reached_on_loopback_and_a_shared_network_is_named() -> None:
    host = docker_container(inspected(HostConfig={"NetworkMode": "host"}))
    assert host.info.addresses == {"host": "127.0.0.1"}
    shared = docker_container(inspected(HostConfig={"NetworkMode": "container:abc123"}))
    assert shared.joined == "abc123"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"Id": 7}, "Id"),
        ({"Id": ""}, "no Id"),
        ({"Config": {"Labels": {"a": 1}}}, "Config.Labels['a']"),
        ({"Config": {"ExposedPorts": {"http/tcp": {}}}}, "Config.ExposedPorts"),
        ({"State": "running"}, "State"),
        ({"NetworkSettings": {"Ports": {"80/tcp": "8080"}}}, "NetworkSettings.Ports['80/tcp']"),
        ({"NetworkSettings": {"Networks": {"n": {"IPAddress": ["x"]}}}}, "IPAddress"),
    ],
)
def test_a_misshapen_answer_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(MalformedResponse, match=field.replace("[", r"\[").replace("]", r"\]")):
        docker_container(inspected(**changes))


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_fields = st.fixed_dictionaries(
    {},
    optional={k: _json for k in ("Id", "Name", "State", "Config", "HostConfig", "NetworkSettings")},
)


@given(st.one_of(_json, _fields, _fields.map(lambda d: {**inspected(), **d})))
def test_any_json_is_a_container_or_a_malformed_response(data: object) -> None:
    with contextlib.suppress(MalformedResponse):
        assert isinstance(docker_container(data), DockerContainer)


def test_backoff_grows_to_its_cap_with_bounded_jitter_and_resets() -> None:
    exact = Backoff(initial=0.5, factor=2, cap=4, jitter=0)
    assert [exact.next() for _ in range(6)] == [0.5, 1, 2, 4, 4, 4]
    exact.reset()
    assert exact.next() == 0.5 and exact.failures == 1
    spread = Backoff(initial=1, factor=1, cap=10, jitter=0.5, rng=random.Random(7))
    waits = [spread.next() for _ in range(200)]
    assert all(0.5 <= w <= 1.5 for w in waits) and len(set(waits)) > 100
    with pytest.raises(ValueError, match="initial"):
        Backoff(initial=0)


class body:  # noqa: N801 - used as a function; an iterator, not a generator, needs no aclose
    """A response body of *chunks*."""

    def __init__(self, *chunks: bytes) -> None:
        self._chunks = iter(chunks)

    def __aiter__(self) -> body:
        return self

    async def __anext__(self) -> bytes:
        try:
            return next(self._chunks)
        except StopIteration:
            raise StopAsyncIteration from None


async def test_answers_are_read_with_a_bound_and_must_be_json() -> None:
    ok = ClientResponse(200, [], body(b'{"a":', b" 1}"))
    assert await read_json(ok, "x") == {"a": 1}
    with pytest.raises(MalformedResponse, match="over 4 bytes"):
        await read_json(ClientResponse(200, [], body(b"[1,", b"2,3]")), "x", limit=4)
    with pytest.raises(MalformedResponse, match="x: not JSON"):
        await read_json(ClientResponse(200, [], body(b"<html>")), "x")


async def test_streamed_events_come_in_the_batches_they_arrived_in() -> None:
    lines = json_lines(body(b'{"a":1}\n{"a"', b':2}\n{"a":3}\n', b"\n"), "events")
    assert [batch async for batch in lines] == [[{"a": 1}], [{"a": 2}, {"a": 3}]]
    with pytest.raises(MalformedResponse, match="a line over 8 bytes"):
        async for _ in json_lines(body(b'{"long": "' + b"x" * 20), "events", limit=8):
            pass


Answer = Callable[[str], bytes]


async def serve_unix(
    path: Path, answer: Answer, *, task_status: anyio.abc.TaskStatus[None]
) -> None:
    """A stand-in engine: each request is answered with ``answer(request line)``, then closed."""
    listener = await anyio.create_unix_listener(path)

    async def one(stream: anyio.abc.ByteStream) -> None:
        async with stream:
            data = b""
            with contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError):
                while b"\r\n\r\n" not in data:
                    data += await stream.receive()
                await stream.send(answer(data.split(b"\r\n", 1)[0].decode()))

    async with listener:
        task_status.started()
        await listener.serve(one)


def http(status: int, body: bytes, *headers: str) -> bytes:
    head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def engine(containers: bytes) -> Answer:
    def answer(line: str) -> bytes:
        if " /_ping " in line:
            return http(200, b"OK", "Api-Version: 1.41")
        if "/containers/json" in line:
            return http(200, containers)
        if "/events" in line:  # a stream that has nothing to say yet
            return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        return http(404, b'{"message": "no such container"}')

    return answer


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (lambda line: http(200, b"OK"), "without an API-Version header: not a Docker engine"),
        (lambda line: http(200, b"OK", "Api-Version: 1.12"), "API 1.12 is too old"),
        (engine(b"<html>busy</html>"), "/containers/json?all=1: not JSON"),
        (engine(b'{"Id": "x"}'), "/containers/json: expected a list"),
        (engine(b'[{"Names": ["/a"]}]'), "an item without Id"),
        (lambda line: b"SSH-2.0-OpenSSH\r\n", "closed before an answer"),
    ],
)
async def test_an_engine_answering_garbage_is_reported_and_retried(
    tmp_path: Path, answer: Answer, why: str
) -> None:
    socket = tmp_path / "docker.sock"
    provider = DockerProvider(f"unix://{socket}", retry=Backoff(initial=0.05, cap=0.1, jitter=0))
    async with anyio.create_task_group() as tg:
        await tg.start(serve_unix, socket, answer)
        with pytest.raises(ProviderError, match=re.escape(why)):
            await provider.snapshot()
        async with following(provider) as seen:
            snap = await seen.until(lambda s: bool(s.problems))
            assert why in snap.problems[0].message
            assert snap.problems[0].source == f"docker provider at unix://{socket}"
        tg.cancel_scope.cancel()


async def test_a_container_gone_between_the_list_and_its_inspect_is_left_out(
    tmp_path: Path,
) -> None:
    socket = tmp_path / "docker.sock"
    listed = json.dumps([{"Id": "gone"}]).encode()
    async with anyio.create_task_group() as tg:
        await tg.start(serve_unix, socket, engine(listed))
        snapshot = await DockerProvider(f"unix://{socket}").snapshot()
        tg.cancel_scope.cancel()
    assert snapshot.problems == () and not snapshot.config.http.routers
