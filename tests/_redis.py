"""A real Redis server for the tests: Debian's ``redis-server`` on a free loopback port.

Nothing is persisted on its own (``--save ""``, no AOF), so a restart starts empty unless the
test wrote a dump first (``SAVE``).  The tests write with ``redis-cli`` — not with
the client the provider uses — so the tool that checks the provider is not the provider.

A missing ``redis-server`` is a failure, not a skip: CI installs it (``.ci/run``).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from _certs import make_tls
from _sockets import free_port


class Redis:
    """One ``redis-server`` process: start, kill, start again on the same port."""

    def __init__(self, root: Path, *extra: str, tls: bool = False) -> None:
        missing = [b for b in ("redis-server", "redis-cli") if shutil.which(b) is None]
        if missing:
            pytest.fail(f"{', '.join(missing)} not found: install Debian's redis-server")
        self.root = root
        self.port = free_port()
        self.endpoint = f"127.0.0.1:{self.port}"
        self.extra = extra
        self.password = ""
        #: With TLS: the directory of ca.pem, server.pem, client.pem (and keys); the server
        #: listens with TLS only and wants a client certificate (tls-auth-clients yes).
        self.tls = make_tls(root) if tls else None
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it answers PING."""
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.root), "--save", "", "--appendonly", "no",
            "--dbfilename", "dump.rdb", *self.extra,
        ]  # fmt: skip
        if self.password:
            command += ["--requirepass", self.password]
        if self.tls is not None:
            command[1:3] = ["--port", "0", "--tls-port", str(self.port)]
            command += [
                "--tls-cert-file", str(self.tls / "server.pem"),
                "--tls-key-file", str(self.tls / "server-key.pem"),
                "--tls-ca-cert-file", str(self.tls / "ca.pem"),
            ]  # fmt: skip
        with (self.root / "redis.log").open("ab") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while self.cli_raw("PING").stdout.strip() != "PONG":
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start: {self.log_tail()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL and wait: a crash."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=30)
            self.proc = None

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.proc = None

    def log_tail(self) -> str:
        """The last lines it logged."""
        path = self.root / "redis.log"
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-10:]) if path.exists() else ""
        )

    def _cli(self) -> list[str]:
        auth = ["--no-auth-warning", "-a", self.password] if self.password else []
        if self.tls is not None:
            auth += [
                "--tls", "--cacert", str(self.tls / "ca.pem"),
                "--cert", str(self.tls / "client.pem"), "--key", str(self.tls / "client-key.pem"),
            ]  # fmt: skip
        return ["redis-cli", "-p", str(self.port), *auth]

    def cli_raw(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``redis-cli <args>`` against this server."""
        return subprocess.run(
            [*self._cli(), *args],
            capture_output=True, text=True, check=False, timeout=30,
        )  # fmt: skip

    def cli(self, *args: str) -> str:
        """``redis-cli <args>``; its output, which must not be an error."""
        done = self.cli_raw(*args)
        if done.returncode != 0 or done.stdout.startswith(("ERR", "WRONGTYPE", "NOAUTH")):
            raise AssertionError(f"redis-cli {' '.join(args)}: {done.stdout}{done.stderr}")
        return done.stdout.strip()

    def set_all(self, keys: dict[str, str]) -> None:
        """SET every key, in one MSET (one command: one moment)."""
        pairs: list[str] = []
        for key, value in keys.items():
            pairs += [key, value]
        self.cli("MSET", *pairs)

    def transaction(self, commands: Sequence[Sequence[str]]) -> None:
        """Run *commands* in one MULTI/EXEC, through redis-cli's standard input."""
        lines = ["MULTI", *(" ".join(_quote(a) for a in c) for c in commands), "EXEC"]
        self.script("\n".join(lines))

    def script(self, text: str) -> None:
        """Feed *text* to redis-cli's standard input: one command a line, quoted strings
        with redis-cli's escapes (``"\\xff"`` is one byte)."""
        done = subprocess.run(
            self._cli(), input=text + "\n",
            capture_output=True, text=True, check=False, timeout=30,
        )  # fmt: skip
        assert done.returncode == 0 and "ERR" not in done.stdout, done.stdout + done.stderr


def _quote(arg: str) -> str:
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


@contextlib.contextmanager
def redis_server(root: Path, *extra: str, tls: bool = False) -> Iterator[Redis]:
    """A started server; stopped afterwards."""
    server = Redis(root, *extra, tls=tls)
    server.start()
    try:
        yield server
    finally:
        server.stop()
