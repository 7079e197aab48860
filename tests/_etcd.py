"""Real etcd servers for the tests: Debian's ``etcd-server``, on free loopback ports.

Each member has its own data directory; `cluster` starts one to three members that form one
cluster.  The tests write through etcd's own gRPC JSON gateway with ``urllib`` — not with the
provider under test — so the tool that checks the provider is not the provider.

A missing ``etcd`` is a failure, not a skip: CI installs ``etcd-server`` (``.ci/run``).
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from _certs import client_ssl, make_tls
from _sockets import free_port


def b64(text: str) -> str:
    """etcd's base64 of a key or value."""
    return base64.b64encode(text.encode()).decode()


class Member:
    """One etcd process: start, kill, start again on the same data and ports.

    With *tls* (the directory of ``ca.pem``, ``server.pem``, ``server-key.pem``), clients
    reach it over HTTPS and must show a certificate of that CA (``--client-cert-auth``).
    """

    def __init__(self, root: Path, name: str, tls: Path | None = None) -> None:
        if shutil.which("etcd") is None:
            pytest.fail("etcd not found: install Debian's etcd-server")
        self.name = name
        self.data = root / name
        self.tls = tls
        self.client_port, self.peer_port = free_port(), free_port()
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.client_port}"
        self.peer_url = f"http://127.0.0.1:{self.peer_port}"
        self.log = root / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.cluster = ""

    def start(self, *, new: bool = True) -> None:
        """Start the process (it answers once the cluster has a leader, see `Cluster`)."""
        command = [
            "etcd",
            "--name", self.name,
            "--data-dir", str(self.data),
            "--listen-client-urls", self.url,
            "--advertise-client-urls", self.url,
            "--listen-peer-urls", self.peer_url,
            "--initial-advertise-peer-urls", self.peer_url,
            "--initial-cluster", self.cluster,
            "--initial-cluster-state", "new" if new else "existing",
            "--initial-cluster-token", "routekit-tests",
            "--heartbeat-interval", "50", "--election-timeout", "500",
        ]  # fmt: skip
        if self.tls is not None:
            command += [
                "--cert-file", str(self.tls / "server.pem"),
                "--key-file", str(self.tls / "server-key.pem"),
                "--trusted-ca-file", str(self.tls / "ca.pem"), "--client-cert-auth",
            ]  # fmt: skip
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=log)

    def kill(self) -> None:
        """SIGKILL and wait: a crash, not a clean stop."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
            self.proc = None

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
            self.proc = None

    def healthy(self) -> bool:
        """Whether the member answers ``/health`` with ``true`` (it has a leader)."""
        try:
            with urllib.request.urlopen(
                self.url + "/health", timeout=2, context=client_ssl(self.tls)
            ) as answer:
                return bool(json.load(answer).get("health") == "true")
        except (OSError, ValueError):
            return False

    def tail(self) -> str:
        """The last lines it logged."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-10:])


class Cluster:
    """One to three members; writes go to the first member that answers."""

    def __init__(self, root: Path, size: int = 1, *, tls: bool = False) -> None:
        self.tls = make_tls(root) if tls else None
        self.members = [Member(root, f"m{n}", self.tls) for n in range(size)]
        initial = ",".join(f"{m.name}={m.peer_url}" for m in self.members)
        for member in self.members:
            member.cluster = initial
        self.token: str | None = None

    @property
    def endpoints(self) -> list[str]:
        """Every member's client URL."""
        return [m.url for m in self.members]

    @property
    def endpoint(self) -> str:
        """The first member's client URL."""
        return self.members[0].url

    def start(self) -> None:
        """Start every member and wait until each is healthy."""
        for member in self.members:
            member.start()
        self.wait_healthy(self.members)

    def wait_healthy(self, members: list[Member], within: float = 60) -> None:
        """Wait until every one of *members* answers healthy."""
        deadline = time.monotonic() + within
        for member in members:
            while not member.healthy():
                if member.proc is not None and member.proc.poll() is not None:
                    pytest.fail(f"etcd {member.name} exited: {member.tail()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"etcd {member.name} not healthy in {within} s: {member.tail()}")
                time.sleep(0.1)

    def restart(self, member: Member) -> None:
        """Start a killed or stopped member again, on its data, and wait for it."""
        member.start(new=False)
        self.wait_healthy([member])

    def close(self) -> None:
        """Stop every member."""
        for member in self.members:
            member.stop()

    # -- writes, through the gateway --

    def call(self, path: str, body: Mapping[str, Any], within: float = 20) -> dict[str, Any]:
        """POST *body* to the first member that answers; its JSON answer.

        While a cluster elects a new leader its members answer 503 ("leader changed", "no
        leader"): the call is tried again, on every live member, for *within* seconds.
        """
        deadline = time.monotonic() + within
        while True:
            last: Exception | None = None
            for member in self.members:
                if member.proc is None:
                    continue
                request = urllib.request.Request(
                    member.url + path, data=json.dumps(body).encode(), method="POST"
                )
                if self.token is not None:
                    request.add_header("Authorization", self.token)
                try:
                    context = client_ssl(self.tls)
                    with urllib.request.urlopen(request, timeout=10, context=context) as answer:
                        data: dict[str, Any] = json.load(answer)
                        return data
                except urllib.error.HTTPError as exc:
                    with exc:  # its socket
                        text = exc.read()
                    if exc.code < 500:
                        raise AssertionError(f"etcd {path}: {text!r}") from None
                    last = exc
                except OSError as exc:
                    last = exc
            if time.monotonic() > deadline:
                raise AssertionError(f"no etcd member answered {path}: {last}")
            time.sleep(0.1)

    def put(self, key: str, value: str) -> int:
        """Set *key*; the revision written."""
        answer = self.call("/v3/kv/put", {"key": b64(key), "value": b64(value)})
        return int(answer["header"]["revision"])

    def delete(self, key: str) -> None:
        """Remove *key*."""
        self.call("/v3/kv/deleterange", {"key": b64(key)})

    def replace(self, prefix: str, pairs: Mapping[str, str]) -> int:
        """In one transaction: the keys under *prefix* become *pairs* (the others deleted).

        etcd refuses a transaction whose puts overlap one of its delete ranges, so the keys
        that go are deleted one by one.
        """
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        listed = self.call("/v3/kv/range", {"key": b64(prefix), "range_end": b64(end)})
        old = {base64.b64decode(kv["key"]).decode() for kv in listed.get("kvs", [])}
        success: list[dict[str, Any]] = [
            {"request_delete_range": {"key": b64(k)}} for k in sorted(old - set(pairs))
        ]
        success += [{"request_put": {"key": b64(k), "value": b64(v)}} for k, v in pairs.items()]
        return int(self.call("/v3/kv/txn", {"success": success})["header"]["revision"])

    def compact(self, revision: int) -> None:
        """Compact the history up to *revision*."""
        self.call("/v3/kv/compaction", {"revision": str(revision), "physical": True})

    def enable_auth(self, password: str) -> None:
        """Add user ``root`` with *password*, give it the root role, turn auth on."""
        self.call("/v3/auth/user/add", {"name": "root", "password": password})
        self.call("/v3/auth/role/add", {"name": "root"})
        self.call("/v3/auth/user/grant", {"user": "root", "role": "root"})
        self.call("/v3/auth/enable", {})
        token = self.call("/v3/auth/authenticate", {"name": "root", "password": password})
        self.token = str(token["token"])


def service(name: str, *urls: str, root: str = "traefik") -> dict[str, str]:
    """The v2 keys of a router ``Host(`<name>.test`)`` and its load-balanced service."""
    keys = {
        f"{root}/http/routers/{name}/rule": f"Host(`{name}.test`)",
        f"{root}/http/routers/{name}/service": name,
    }
    for n, url in enumerate(urls):
        keys[f"{root}/http/services/{name}/loadbalancer/servers/{n}/url"] = url
    return keys


@contextlib.contextmanager
def etcd(root: Path, size: int = 1, *, tls: bool = False) -> Iterator[Cluster]:
    """A started cluster of *size* members; every member stopped afterwards."""
    cluster = Cluster(root, size, tls=tls)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()
