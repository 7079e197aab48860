"""A stand-in for Consul's HTTP API, for the catalog provider's tests.

No Consul binary can be installed on the machines that run these tests (it is not among the
Debian packages, nor on PyPI or npm), so this server follows Consul's documented API
(https://developer.hashicorp.com/consul/api-docs) for what a catalog client reads:

- ``GET /v1/catalog/services``: ``{name: [tags…]}`` of every service;
- ``GET /v1/health/service/<name>``: ``[{"Node", "Service", "Checks"}…]``, every instance;
- ``GET /v1/health/state/any``: every check;
- ``PUT /v1/catalog/register`` and ``PUT /v1/catalog/deregister``, as registrator and the
  article's ``curl`` calls write them;
- the KV store (https://developer.hashicorp.com/consul/api-docs/kv): ``GET /v1/kv/<prefix>
  ?recurse`` (``[{"Key", "Value": base64 or null, "Flags", "CreateIndex", "ModifyIndex",
  "LockIndex"}…]``, 404 when nothing is under the prefix), ``PUT`` and ``DELETE`` (with
  ``?recurse``) of ``/v1/kv/<key>``, and ``PUT /v1/txn`` with ``set``, ``delete`` and
  ``delete-tree`` operations applied at one index;
- blocking queries (https://developer.hashicorp.com/consul/api-docs/features/blocking): every
  read answers ``X-Consul-Index``; with ``?index=N`` it waits until its data's index passes N or
  ``wait`` (default 5 minutes, at most 10) passes, with up to ``wait/16`` of jitter added;
- ``?ns=`` reads one Consul Enterprise namespace (``default`` without it);
- ``?dc=`` other than the local one answers 500 ``No path to datacenter``; with an ACL token
  set, a request without ``X-Consul-Token`` (or ``?token=``) answers 403 ``Permission denied``.

It runs in a thread (stdlib ``http.server``), so the client under test and this server share
no code.  Tests can make it misbehave on purpose: `garbage` answers non-JSON, `index_back` sends
the next index lower than the last.
"""

from __future__ import annotations

import base64
import json
import random
import re
import time
import urllib.parse
from typing import Any

from _standin import Handler, StandIn

_MAX_WAIT = 600.0
_DURATION = re.compile(r"^(\d+)(ms|s|m)?$")


def _seconds(text: str) -> float:
    m = _DURATION.match(text)
    if m is None:
        raise ValueError(text)
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}[m.group(2)]
    return int(m.group(1)) * scale


class Consul(StandIn):
    """The catalog: nodes, services with their instances and checks, and the Raft index."""

    def __init__(self, *, datacenter: str = "dc1", token: str = "") -> None:
        self.datacenter = datacenter
        self.token = token
        self.garbage = False
        self.index_back = False
        super().__init__()
        self.handler = _Handler
        self._index = 10
        self._services_index = 10
        self._checks_index = 10
        self._service_index: dict[str, int] = {}
        # key -> (value, create index, modify index); the KV table's index counts deletes too
        self._kv: dict[str, tuple[bytes, int, int]] = {}
        self._kv_index = 10
        # service id -> (node, node address, service dict, {check id: status})
        self._instances: dict[str, tuple[str, str, dict[str, Any], dict[str, str]]] = {}

    # -- what tests (and registrator) write --

    def register(
        self,
        service: str,
        service_id: str,
        port: int,
        tags: list[str] | None = None,
        *,
        address: str = "127.0.0.1",
        node: str = "node1",
        status: str = "passing",
        namespace: str = "default",
    ) -> None:
        """Register one instance, with one service check in *status* (the agent's way), in
        *namespace* (Consul Enterprise's; reads see the ``?ns=`` one, ``default`` without)."""
        with self._lock:
            index = self._bump()
            body = {
                "ID": service_id, "Service": service, "Tags": list(tags or []), "Address": address,
                "Port": port, "Meta": {}, "EnableTagOverride": False,
                "Weights": {"Passing": 1, "Warning": 1}, "CreateIndex": index,
                "ModifyIndex": index, "Namespace": namespace,
            }  # fmt: skip
            checks = {f"service:{service_id}": status}
            self._instances[service_id] = (node, "127.0.0.1", body, checks)
            self._services_index = self._checks_index = index
            self._service_index[service] = index
            self._lock.notify_all()

    def set_status(self, service_id: str, status: str) -> None:
        """Move the instance's service check to *status* (passing, warning, critical)."""
        with self._lock:
            index = self._bump()
            _, _, body, checks = self._instances[service_id]
            checks[f"service:{service_id}"] = status
            self._checks_index = index
            self._service_index[body["Service"]] = index
            self._lock.notify_all()

    def deregister(self, service_id: str) -> None:
        """Remove one instance."""
        with self._lock:
            index = self._bump()
            _, _, body, _ = self._instances.pop(service_id)
            self._services_index = self._checks_index = index
            self._service_index[body["Service"]] = index
            self._lock.notify_all()

    def kv_put(self, key: str, value: bytes) -> None:
        """Set one key."""
        self.kv_txn([("set", key, value)])

    def kv_delete(self, key: str, *, recurse: bool = False) -> None:
        """Delete one key, or every key starting with it."""
        self.kv_txn([("delete-tree" if recurse else "delete", key, b"")])

    def kv_txn(self, operations: list[tuple[str, str, bytes]]) -> None:
        """Apply (verb, key, value) operations at one index, as ``PUT /v1/txn`` does."""
        with self._lock:
            index = self._bump()
            for verb, key, value in operations:
                if verb == "set":
                    created = self._kv.get(key, (b"", index, index))[1]
                    self._kv[key] = (value, created, index)
                elif verb == "delete":
                    self._kv.pop(key, None)
                elif verb == "delete-tree":
                    for name in [k for k in self._kv if k.startswith(key)]:
                        del self._kv[name]
                else:
                    raise ValueError(verb)
            self._kv_index = index
            self._lock.notify_all()

    def _bump(self) -> int:
        self._index += 1
        return self._index

    # -- reads, as Consul answers them --

    def services(self, ns: str = "default") -> tuple[int, dict[str, list[str]]]:
        out: dict[str, list[str]] = {"consul": []}
        for _, _, body, _ in self._instances.values():
            if body["Namespace"] != ns:
                continue
            tags = out.setdefault(body["Service"], [])
            tags.extend(t for t in body["Tags"] if t not in tags)
        return self._services_index, out

    def health(self, service: str, ns: str = "default") -> tuple[int, list[dict[str, Any]]]:
        entries = []
        for _, (node, address, body, checks) in sorted(self._instances.items()):
            if body["Service"] != service or body["Namespace"] != ns:
                continue
            node_checks = [self._check(node, "serfHealth", "passing", None)]
            service_checks = [self._check(node, cid, st, body) for cid, st in checks.items()]
            entries.append({
                "Node": {"ID": f"{node}-id", "Node": node, "Address": address,
                         "Datacenter": self.datacenter, "TaggedAddresses": {"lan": address},
                         "Meta": {}, "CreateIndex": 5, "ModifyIndex": 5},
                "Service": body,
                "Checks": node_checks + service_checks,
            })  # fmt: skip
        return self._service_index.get(service, self._services_index), entries

    def checks(self, ns: str = "default") -> tuple[int, list[dict[str, Any]]]:
        out: list[dict[str, Any]] = []
        for node, _, body, checks in self._instances.values():
            if body["Namespace"] != ns:
                continue
            out.extend(self._check(node, cid, st, body) for cid, st in checks.items())
        return self._checks_index, out

    @staticmethod
    def _check(
        node: str, check_id: str, status: str, body: dict[str, Any] | None
    ) -> dict[str, Any]:
        return {
            "Node": node, "CheckID": check_id, "Name": check_id, "Status": status, "Notes": "",
            "Output": "", "ServiceID": body["ID"] if body else "",
            "ServiceName": body["Service"] if body else "", "ServiceTags": [],
            "Type": "ttl" if body else "", "CreateIndex": 5, "ModifyIndex": 5,
        }  # fmt: skip

    def read(self, path: str, query: dict[str, str]) -> tuple[int, object]:
        """Answer a read, blocking as Consul does when ``index`` is given."""
        wait = min(_seconds(query.get("wait", "5m")), _MAX_WAIT)
        wanted = int(query.get("index", "0") or 0)
        deadline = time.monotonic() + wait + random.uniform(0, wait / 16)
        with self._lock:
            while True:
                index, data = self._answer(path, query)
                if self._stopping:  # the query is dropped, as a dying agent drops it
                    raise ConnectionAbortedError("the agent stopped")
                left = deadline - time.monotonic()
                if wanted == 0 or index > wanted or left <= 0:
                    if self.index_back:
                        self.index_back = False
                        index = 1
                    return index, data
                self._lock.wait(left)

    def kv_read(self, key: str, recurse: bool) -> tuple[int, object]:
        """*key* (or with *recurse* the keys starting with it); ``None`` for none (404)."""
        found = [
            {"LockIndex": 0, "Key": name, "Flags": 0,
             "Value": base64.b64encode(value).decode() if value else None,
             "CreateIndex": created, "ModifyIndex": modified}
            for name, (value, created, modified) in sorted(self._kv.items())
            if name == key or (recurse and name.startswith(key))
        ]  # fmt: skip
        return self._kv_index, found or None

    def _answer(self, path: str, query: dict[str, str]) -> tuple[int, object]:
        if path.startswith("/v1/kv/"):
            key = urllib.parse.unquote(path[len("/v1/kv/") :])
            return self.kv_read(key, "recurse" in query)
        ns = query.get("ns") or "default"
        if path == "/v1/catalog/services":
            return self.services(ns)
        if path.startswith("/v1/health/service/"):
            return self.health(urllib.parse.unquote(path[len("/v1/health/service/") :]), ns)
        if path == "/v1/health/state/any":
            return self.checks(ns)
        raise KeyError(path)

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``, as the provider's ``endpoint.address``."""
        return f"127.0.0.1:{self.port}"


class _Handler(Handler):
    """The agent's answers."""

    @property
    def consul(self) -> Consul:
        assert isinstance(self.standin, Consul)
        return self.standin

    def _send(self, status: int, body: bytes, index: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if index is not None:
            self.send_header("X-Consul-Index", str(index))
            self.send_header("X-Consul-Knownleader", "true")
        self.end_headers()
        self.wfile.write(body)

    def _allowed(self, query: dict[str, str]) -> bool:
        if query.get("dc", self.consul.datacenter) != self.consul.datacenter:
            self._send(500, b"No path to datacenter")
            return False
        token = self.headers.get("X-Consul-Token") or query.get("token", "")
        if self.consul.token and token != self.consul.token:
            self._send(403, b"Permission denied")
            return False
        return True

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        if not self._allowed(query):
            return
        try:
            index, data = self.consul.read(parts.path, query)
        except KeyError:
            self._send(404, b"no such endpoint")
            return
        except ValueError:
            self._send(400, b"Invalid wait time")
            return
        if data is None:  # an empty KV prefix: 404 with the index, as Consul answers
            self._send(404, b"", index)
            return
        body = b"<html>bad gateway</html>" if self.consul.garbage else json.dumps(data).encode()
        self._send(200, body, index)

    def do_PUT(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        if not self._allowed(dict(urllib.parse.parse_qsl(parts.query))):
            return
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        if parts.path.startswith("/v1/kv/"):
            self.consul.kv_put(urllib.parse.unquote(parts.path[len("/v1/kv/") :]), raw)
            self._send(200, b"true")
            return
        data = json.loads(raw or b"{}")
        if parts.path == "/v1/txn":
            ops = [
                (
                    o["KV"]["Verb"],
                    o["KV"]["Key"],
                    base64.b64decode(o["KV"].get("Value") or ""),
                )
                for o in data
            ]
            self.consul.kv_txn(ops)  # fmt: skip
            self._send(200, json.dumps({"Results": [], "Errors": None}).encode())
            return
        if parts.path == "/v1/catalog/register":
            s = data["Service"]
            self.consul.register(s["Service"], s.get("ID", s["Service"]), s["Port"],
                            s.get("Tags"), address=s.get("Address", data["Address"]),
                            node=data["Node"])  # fmt: skip
        elif parts.path == "/v1/catalog/deregister":
            self.consul.deregister(data["ServiceID"])
        else:
            self._send(404, b"no such endpoint")
            return
        self._send(200, b"true")

    def do_DELETE(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        if not self._allowed(query) or not parts.path.startswith("/v1/kv/"):
            return
        key = urllib.parse.unquote(parts.path[len("/v1/kv/") :])
        self.consul.kv_delete(key, recurse="recurse" in query)
        self._send(200, b"true")
