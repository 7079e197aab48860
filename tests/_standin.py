"""What the HTTP stand-ins of services that cannot run here (Consul, a Kubernetes API server,
Marathon) share: a threaded server on a loopback port that can stop and start again on the
same port, cutting its open connections as a dying service does, and returning only when
every one of its sockets is closed."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StandIn:
    """Subclasses define `handler` (a `Handler` subclass) and use `_lock` for their state."""

    handler: type[Handler]

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._connections: set[socket.socket] = set()
        self._stopping = False
        self.port = 0

    @property
    def stopping(self) -> bool:
        """Whether `stop` was called (long-running answers end when it is)."""
        return self._stopping

    def ssl_context(self) -> ssl.SSLContext | None:
        """The server side's TLS (``None``: plain HTTP)."""
        return None

    def start(self, port: int = 0) -> int:
        """Serve on 127.0.0.1:*port* (a free one by default) in a thread; the port."""
        owner = self

        class Bound(self.handler):  # type: ignore[name-defined,misc]
            standin = owner

        server = _Server(("127.0.0.1", port), Bound)
        context = self.ssl_context()
        if context is not None:
            server.socket = context.wrap_socket(server.socket, server_side=True)
        self._stopping = False
        self._server = server
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return self.port

    def stop(self) -> None:
        """Stop serving: open connections are cut, long answers end."""
        if self._server is not None:
            self._server.shutdown()
            with self._lock:
                self._stopping = True
                for connection in self._connections:
                    with contextlib.suppress(OSError):
                        connection.shutdown(socket.SHUT_RDWR)
                self._connections.clear()
                self._lock.notify_all()
            self._server.server_close()
            self._server = None


class Handler(BaseHTTPRequestHandler):
    """A request handler that its `StandIn` can cut off."""

    protocol_version = "HTTP/1.1"
    standin: StandIn

    def setup(self) -> None:
        super().setup()
        owner = self.standin
        with owner._lock:
            owner._connections.add(self.connection)
            if owner._stopping:  # accepted just before stop(): cut as the others are
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)

    def finish(self) -> None:
        with self.standin._lock:
            self.standin._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, *args: object) -> None:
        pass

    def send_json(self, code: int, body: Any, headers: dict[str, str] | None = None) -> None:
        """Answer *body* as JSON."""
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def start_chunks(self, content_type: str) -> None:
        """Begin a chunked answer (a stream)."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def chunk(self, data: bytes) -> None:
        """One chunk of the stream, sent at once."""
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def end_chunks(self) -> None:
        """The stream's last chunk."""
        self.wfile.write(b"0\r\n\r\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # joined by server_close(): stop() leaves no socket open
    block_on_close = True
    allow_reuse_address = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a connection cut by stop(), or a client that did not trust the server
