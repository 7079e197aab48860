"""A real ZooKeeper server for the tests: Debian's ``zookeeper``, standalone, on a free port.

The server runs ``ZooKeeperServerMain`` from the package's jar with its own data directory
(so a restart keeps what was written) and no admin server.  The tests write with kazoo in a
client of their own — not the provider's session — so the tool that checks the provider is
not the provider's connection.

A missing ``zookeeper`` is a failure, not a skip: CI installs it (``.ci/run``).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from _certs import make_tls
from _sockets import free_port

_JAR = Path("/usr/share/java/zookeeper.jar")


class ZooKeeper:
    """One standalone server: start, kill, start again on the same data and port."""

    def __init__(self, root: Path, *, tls: bool = False) -> None:
        if shutil.which("java") is None or not _JAR.exists():
            pytest.fail("ZooKeeper not found: install Debian's zookeeper (and a Java runtime)")
        self.root = root
        self.data = root / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.endpoint = f"127.0.0.1:{self.port}"
        #: With *tls*: certificates under root/tls, and a second, TLS-only port (Netty, PEM
        #: key and trust stores, a client certificate required) at ``secure_endpoint``; the
        #: plain port stays for ``ruok`` and the tests' own writes.
        self.tls = make_tls(root) if tls else None
        self.secure_port = free_port() if tls else 0
        self.secure_endpoint = f"127.0.0.1:{self.secure_port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self._client: Any = None

    def start(self) -> None:
        """Start the server and wait until it answers ``ruok``."""
        config = self.root / "zoo.cfg"
        config.write_text(
            f"tickTime=500\ndataDir={self.data}\nclientPort={self.port}\n"
            "clientPortAddress=127.0.0.1\nadmin.enableServer=false\n"
            "4lw.commands.whitelist=ruok\nmaxSessionTimeout=60000\n" + self._secure()
        )
        command = [
            "java", "-Xmx128m", "-Dzookeeper.jmx.log4j.disable=true",
            "-cp", self._classpath(), "org.apache.zookeeper.server.ZooKeeperServerMain",
            str(config),
        ]  # fmt: skip
        with (self.root / "zookeeper.log").open("ab") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while not self._ok():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait(timeout=30)
                self.proc = None
                pytest.fail(f"zookeeper did not start: {self.log_tail()}")
            time.sleep(0.1)

    @staticmethod
    def _classpath() -> str:
        # slf4j-simple makes the server log to zookeeper.log: without a binding its errors (a
        # bad key store…) are dropped and a failed start says nothing.
        # Debian's jar names netty's buffer, handler and transport in its Class-Path but not
        # the codec and resolver its Netty connection factory (TLS) needs.
        extra = [
            Path("/usr/share/java") / name
            for name in ("slf4j-simple.jar", "netty-codec.jar", "netty-resolver.jar")
        ]
        return ":".join([str(_JAR), *(str(p) for p in extra if p.exists())])

    def _secure(self) -> str:
        if self.tls is None:
            return ""
        # ZooKeeper reads a PEM "key store" as one file holding the key and its certificate.
        # Its PEM reader takes PKCS#8 keys only ("BEGIN PRIVATE KEY"), not trustme's SEC1 ones.
        from cryptography.hazmat.primitives import serialization

        key = serialization.load_pem_private_key((self.tls / "server-key.pem").read_bytes(), None)
        pkcs8 = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        pair = self.tls / "server-pair.pem"
        pair.write_bytes(pkcs8 + (self.tls / "server.pem").read_bytes())
        return (
            f"secureClientPort={self.secure_port}\n"
            "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n"
            f"ssl.keyStore.location={pair}\nssl.keyStore.type=PEM\n"
            f"ssl.trustStore.location={self.tls / 'ca.pem'}\nssl.trustStore.type=PEM\n"
            "ssl.clientAuth=need\n"
        )

    def _ok(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"ruok")
                return sock.recv(4) == b"imok"
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL and wait: a crash."""
        self.close_client()
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=30)
            self.proc = None

    def stop(self) -> None:
        """SIGTERM and wait."""
        self.close_client()
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
            self.proc = None

    def log_tail(self) -> str:
        """The last lines it logged."""
        path = self.root / "zookeeper.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-10:])

    # -- writes, with a kazoo client of the tests' own --

    @property
    def client(self) -> Any:
        """The tests' own kazoo client (connected on first use)."""
        if self._client is None:
            from kazoo.client import KazooClient

            self._client = KazooClient(hosts=self.endpoint, timeout=10)
            self._client.start(timeout=30)
        return self._client

    def close_client(self) -> None:
        """Close the tests' client (before the server goes)."""
        if self._client is not None:
            self._client.stop()
            self._client.close()
            self._client = None

    def set_all(self, keys: Mapping[str, str]) -> None:
        """Create or set each key's znode (its parents made as needed)."""
        for key, value in keys.items():
            self.set_bytes(key, value.encode())

    def set_bytes(self, key: str, value: bytes) -> None:
        """Create or set one znode to *value*."""
        path = "/" + key.strip("/")
        if self.client.exists(path):
            self.client.set(path, value)
        else:
            self.client.create(path, value, makepath=True)

    def delete(self, key: str, *, recursive: bool = False) -> None:
        """Delete a znode (and what is under it, with *recursive*)."""
        self.client.delete("/" + key.strip("/"), recursive=recursive)

    def replace(self, prefix: str, keys: Mapping[str, str]) -> None:
        """In one multi-op transaction: the leaves under *prefix* become *keys* (existing
        znodes set, missing ones created — their parents must exist —, the others deleted)."""
        zk = self.client
        top = "/" + prefix.strip("/")
        old: list[str] = []
        stack = [top]
        while stack:
            path = stack.pop()
            children = zk.get_children(path)
            stack += [f"{path}/{c}" for c in children]
            if not children and path != top:
                old.append(path)
        wanted = {"/" + k.strip("/"): v.encode() for k, v in keys.items()}
        txn = zk.transaction()
        for path in old:
            if path not in wanted:
                txn.delete(path)
        for path, value in wanted.items():
            if path in old:
                txn.set_data(path, value)
            else:
                txn.create(path, value)
        results = txn.commit()
        assert not [r for r in results if isinstance(r, Exception)], results


@contextlib.contextmanager
def zookeeper(root: Path, *, tls: bool = False) -> Iterator[ZooKeeper]:
    """A started server; stopped afterwards."""
    server = ZooKeeper(root, tls=tls)
    server.start()
    try:
        yield server
    finally:
        server.stop()
