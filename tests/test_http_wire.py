"""`ProtocolWire`, the asyncio transport under the server and the client: what `send` is given
in one turn of the event loop leaves at the end of that turn, in order; closing sends what is
held, aborting drops it; past 64 KiB held, bytes go at once; closing TLS waits a second at most
for the peer's close_notify.  On asyncio's loop and uvloop."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator

import anyio
import anyio.to_thread
import pytest
import trustme
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from routekit.http import ProtocolWire

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop")])
def anyio_backend(request: pytest.FixtureRequest) -> object:
    """`ProtocolWire` is asyncio's: its own loop and uvloop."""
    return request.param


@pytest.fixture
async def pair() -> AsyncIterator[tuple[ProtocolWire, socket.socket]]:
    """A wire connected to a plain socket on loopback (the peer, read without the loop)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        wire = ProtocolWire()
        loop = asyncio.get_running_loop()
        await loop.create_connection(lambda: wire, "127.0.0.1", listener.getsockname()[1])
        peer, _ = listener.accept()
    with peer:
        yield wire, peer
        await wire.aclose()


def waiting(peer: socket.socket) -> bytes:
    """What *peer* can read now, without waiting (``b""`` for nothing yet)."""
    try:
        return peer.recv(1 << 20, socket.MSG_DONTWAIT)
    except BlockingIOError:
        return b""


async def read(peer: socket.socket, size: int) -> bytes:
    """*size* bytes from *peer* (or what came before it closed), letting the loop run."""
    got = b""
    with anyio.fail_after(5):
        while len(got) < size:
            more = waiting(peer)
            if not more:
                await anyio.sleep(0.001)
                continue
            got += more
    return got


async def test_what_one_turn_sends_leaves_at_its_end_in_order(
    pair: tuple[ProtocolWire, socket.socket],
) -> None:
    wire, peer = pair
    for part in (b"HTTP/1.1 200 OK\r\n", b"content-length: 2\r\n\r\n", b"hi"):
        await wire.send(part)
    assert waiting(peer) == b"", "held until the loop's turn ends"
    assert await read(peer, 40) == b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi"
    await wire.send(b"next")  # a new turn holds again
    assert waiting(peer) == b""
    assert await read(peer, 4) == b"next"


async def test_closing_sends_what_is_held_and_aborting_drops_it(
    pair: tuple[ProtocolWire, socket.socket],
) -> None:
    wire, peer = pair
    await wire.send(b"last words")
    await wire.aclose()
    peer.settimeout(5)
    assert peer.recv(100) == b"last words"
    assert peer.recv(100) == b""  # and then the end
    with socket.create_server(("127.0.0.1", 0)) as listener:
        dropped = ProtocolWire()
        loop = asyncio.get_running_loop()
        await loop.create_connection(lambda: dropped, "127.0.0.1", listener.getsockname()[1])
        other, _ = listener.accept()
    with other:
        await dropped.send(b"never sent")
        await dropped.aclose(abort=True)
        other.settimeout(5)
        assert other.recv(100) == b""


async def test_a_large_send_and_bytes_held_past_64_kib_go_at_once(
    pair: tuple[ProtocolWire, socket.socket],
) -> None:
    wire, peer = pair
    big = b"x" * (64 * 1024)
    await wire.send(big)
    got = waiting(peer)
    assert got and big.startswith(got), "written without waiting for the turn's end"
    got += await read(peer, len(big) - len(got))
    assert got == big
    await wire.send(b"a" * 40_000)
    assert waiting(peer) == b""
    await wire.send(b"b" * 40_000)  # 80 000 bytes held: out now, in order
    now = waiting(peer)
    assert now.startswith(b"a" * 1000)
    rest = now + await read(peer, 80_000 - len(now))
    assert rest == b"a" * 40_000 + b"b" * 40_000


async def test_a_closed_peer_makes_send_fail_not_the_turns_other_writes(
    pair: tuple[ProtocolWire, socket.socket],
) -> None:
    wire, peer = pair
    with socket.create_server(("127.0.0.1", 0)) as listener:
        other_wire = ProtocolWire()
        loop = asyncio.get_running_loop()
        await loop.create_connection(lambda: other_wire, "127.0.0.1", listener.getsockname()[1])
        other, _ = listener.accept()
    other.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    other.close()  # a reset: the wire learns it from the loop
    with anyio.fail_after(5):
        while True:
            try:
                await other_wire.send(b"into the void")
            except anyio.BrokenResourceError:
                break
            await anyio.sleep(0.01)
    await wire.send(b"still fine")
    assert await read(peer, 10) == b"still fine"
    await other_wire.aclose()


async def test_closing_tls_does_not_wait_long_for_a_peer_that_never_reads() -> None:
    # A server that writes a stream and never reads: it would never answer our close_notify,
    # and TLS's closure on asyncio's and uvloop's transports waits 30 s for it by default.
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    done = threading.Event()

    def serve(listener: socket.socket) -> None:
        raw, _ = listener.accept()
        with server_context.wrap_socket(raw, server_side=True) as tls:
            tls.sendall(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            done.wait(10)  # writing "forever", reading nothing

    with socket.create_server(("127.0.0.1", 0)) as listener:
        thread = threading.Thread(target=serve, args=(listener,), daemon=True)
        thread.start()
        wire = ProtocolWire()
        loop = asyncio.get_running_loop()
        await loop.create_connection(
            lambda: wire,
            "127.0.0.1",
            listener.getsockname()[1],
            ssl=client_context,
            server_hostname="127.0.0.1",
        )
        assert wire.tls
        assert (await wire.receive(5)).startswith(b"HTTP/1.1 200 OK")
        started = time.monotonic()
        await wire.aclose()
        took = time.monotonic() - started
        done.set()
        thread.join(10)
    assert 0.5 < took < 3, took  # the second it waits for close_notify, not 30
    with pytest.raises(anyio.BrokenResourceError):
        await wire.send(b"after the end")


# No explain phase: its tracing of a failing example through the event loop takes minutes.
@settings(
    max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
@given(
    steps=st.lists(
        st.tuples(st.integers(min_value=1, max_value=90_000), st.booleans()),
        min_size=1,
        max_size=12,
    ),
    uvloop=st.booleans(),
)
def test_any_mix_of_sends_and_turns_arrives_whole_and_in_order(
    steps: list[tuple[int, bool]], uvloop: bool
) -> None:
    """Sends of any size, with the loop's turns ending anywhere between them, then a close:
    the peer reads every byte, in order (a thread reads, so that no write waits on it)."""
    sent = b"".join(bytes([i % 251]) * size for i, (size, _) in enumerate(steps))
    received = bytearray()

    def drain(peer: socket.socket) -> None:
        with peer:
            while chunk := peer.recv(1 << 16):
                received.extend(chunk)

    async def run() -> None:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            wire = ProtocolWire()
            loop = asyncio.get_running_loop()
            await loop.create_connection(lambda: wire, "127.0.0.1", listener.getsockname()[1])
            peer, _ = listener.accept()
        reader = threading.Thread(target=drain, args=(peer,))
        reader.start()
        for i, (size, turn_ends) in enumerate(steps):
            await wire.send(bytes([i % 251]) * size)
            if turn_ends:
                await anyio.sleep(0)
        await wire.aclose()
        await anyio.to_thread.run_sync(reader.join, 10)

    anyio.run(run, backend="asyncio", backend_options={"use_uvloop": uvloop})
    assert bytes(received) == sent
