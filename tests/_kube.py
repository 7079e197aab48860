"""A Kubernetes API server stand-in for the Ingress provider's tests.

No kube-apiserver can run on this machine (none among the Debian packages, on PyPI or npm), so
this serves the part of the API the provider uses, as the API documents it
(https://kubernetes.io/docs/reference/using-api/api-concepts/):

- over HTTPS (trustme certificates), with a bearer token (401 ``Unauthorized`` otherwise) and
  RBAC refusals per resource (403 ``Forbidden`` with the API server's message);
- collections ``GET /api/v1/[namespaces/<ns>/]<plural>`` and
  ``GET /apis/<group>/<version>/[namespaces/<ns>/]<plural>``: a ``<Kind>List`` at one
  ``metadata.resourceVersion``, with ``labelSelector`` (equality, inequality, existence, set
  based) and ``limit``/``continue`` pages;
- ``?watch=1&resourceVersion=R``: a chunked stream of JSON lines (``ADDED``, ``MODIFIED``,
  ``DELETED``; ``BOOKMARK`` when ``allowWatchBookmarks``), every change after R, ended after
  ``timeoutSeconds``; a version older than the history kept is answered with an ``ERROR``
  event holding a 410 ``Expired`` Status, as etcd compaction makes the real server do;
- ``PATCH …/ingresses/<name>/status`` with ``application/merge-patch+json``.

Objects get ``uid``, ``resourceVersion`` and ``creationTimestamp`` as the server sets them.
"""

from __future__ import annotations

import contextlib
import copy
import json
import ssl
import time
import urllib.parse
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from _certs import make_tls
from _standin import Handler, StandIn

#: plural → (API prefix, kind, namespaced)
RESOURCES: dict[str, tuple[str, str, bool]] = {
    "ingresses": ("/apis/networking.k8s.io/v1", "Ingress", True),
    "ingressclasses": ("/apis/networking.k8s.io/v1", "IngressClass", False),
    "services": ("/api/v1", "Service", True),
    "secrets": ("/api/v1", "Secret", True),
    "endpointslices": ("/apis/discovery.k8s.io/v1", "EndpointSlice", True),
    "nodes": ("/api/v1", "Node", False),
}
_PLURAL = {kind: plural for plural, (_, kind, _) in RESOURCES.items()}
_GROUPS = {"networking.k8s.io": "networking.k8s.io", "discovery.k8s.io": "discovery.k8s.io"}

Obj = dict[str, Any]


def status(code: int, reason: str, message: str) -> Obj:
    """A ``v1.Status`` failure, as the API server answers errors."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


Requirement = tuple[str, str, set[str]]


def _selector(text: str) -> list[Requirement]:
    """A label selector's requirements: (key, operator, values)."""
    out: list[Requirement] = []
    for raw in _split_selector(text):
        part = raw.strip()
        if not part:
            continue
        for op in (" notin ", " in "):
            if op in part:
                key, rest = part.split(op, 1)
                values = {v.strip() for v in rest.strip().strip("()").split(",")}
                out.append((key.strip(), op.strip(), values))
                break
        else:
            if "!=" in part:
                key, value = part.split("!=", 1)
                out.append((key.strip(), "!=", {value.strip()}))
            elif "=" in part:
                key, value = part.replace("==", "=").split("=", 1)
                out.append((key.strip(), "=", {value.strip()}))
            elif part.startswith("!"):
                out.append((part[1:].strip(), "!exists", set()))
            else:
                out.append((part, "exists", set()))
    return out


def _split_selector(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for c in text:
        depth += c == "("
        depth -= c == ")"
        if c == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += c
    parts.append(current)
    return parts


def _matches(labels: Mapping[str, str], requirements: list[Requirement]) -> bool:
    for key, op, values in requirements:
        has = key in labels
        value = labels.get(key)
        ok = {
            "=": has and value in values,
            "!=": not has or value not in values,
            "in": has and value in values,
            "notin": not has or value not in values,
            "exists": has,
            "!exists": not has,
        }[op]
        if not ok:
            return False
    return True


class KubeAPI(StandIn):
    """The cluster's objects, their change history, and the HTTPS server in front of them."""

    def __init__(self, root: Path, *, token: str = "routekit-token") -> None:
        self.tls = make_tls(root)
        self.token = token
        self.forbidden: set[str] = set()
        #: seconds between bookmarks on a watch that asked for them
        self.bookmark_every = 0.5
        self.requests: list[str] = []
        super().__init__()
        self.handler = _Handler
        self._objects: dict[str, dict[tuple[str, str], Obj]] = {p: {} for p in RESOURCES}
        self._history: list[tuple[int, str, str, Obj]] = []  # (rv, plural, type, object)
        self._rv = 100
        self._compacted = 0
        self._pages: dict[str, tuple[int, list[Obj]]] = {}

    # -- what tests (and kubectl) do --

    def apply(self, *objects: Obj) -> None:
        """Create or replace each object (``kubectl apply``)."""
        with self._lock:
            for obj in objects:
                plural = _PLURAL[obj["kind"]]
                meta = obj["metadata"]
                key = (meta.get("namespace", ""), meta["name"])
                old = self._objects[plural].get(key)
                stored = copy.deepcopy(obj)
                self._rv += 1
                m = stored["metadata"]
                m["uid"] = old["metadata"]["uid"] if old else str(uuid.uuid4())
                m["creationTimestamp"] = "2026-12-01T00:00:00Z"
                m["resourceVersion"] = str(self._rv)
                self._objects[plural][key] = stored
                self._record(plural, "MODIFIED" if old else "ADDED", stored)
            self._lock.notify_all()

    def delete(self, kind: str, namespace: str, name: str) -> None:
        """Delete an object (``kubectl delete``)."""
        with self._lock:
            plural = _PLURAL[kind]
            gone = self._objects[plural].pop((namespace, name))
            self._rv += 1
            gone = copy.deepcopy(gone)
            gone["metadata"]["resourceVersion"] = str(self._rv)
            self._record(plural, "DELETED", gone)
            self._lock.notify_all()

    def get(self, kind: str, namespace: str, name: str) -> Obj:
        """The stored object."""
        with self._lock:
            return copy.deepcopy(self._objects[_PLURAL[kind]][(namespace, name)])

    def compact(self) -> None:
        """Forget the change history, as etcd's compaction does: watches from an older
        version are answered 410 Gone."""
        with self._lock:
            self._compacted = self._rv
            self._history.clear()
            self._pages.clear()
            self._lock.notify_all()

    def _record(self, plural: str, kind: str, obj: Obj) -> None:
        self._history.append((self._rv, plural, kind, copy.deepcopy(obj)))

    # -- answering --

    def _route(self, path: str) -> tuple[str, str | None, str | None, str | None] | None:
        """(plural, namespace, name, subresource) of a request path, or ``None``."""
        parts = path.strip("/").split("/")
        if parts[:2] == ["api", "v1"]:
            rest = parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis" and parts[1] in _GROUPS:
            rest = parts[3:]
        else:
            return None
        namespace = None
        if len(rest) >= 2 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        if not rest or rest[0] not in RESOURCES:
            return None
        prefix, _, namespaced = RESOURCES[rest[0]]
        if not path.startswith(prefix + "/") or (namespace is not None and not namespaced):
            return None
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        return rest[0], namespace, name, sub

    def _list(self, plural: str, namespace: str | None, query: Mapping[str, str]) -> Obj:
        prefix, kind, _ = RESOURCES[plural]
        token = query.get("continue", "")
        limit = int(query.get("limit", "0") or 0)
        with self._lock:
            if token:
                if token not in self._pages:
                    why = (
                        "The provided continue parameter is too old to display a consistent "
                        "list result."
                    )
                    raise _Answer(410, status(410, "Expired", why))
                rv, items = self._pages.pop(token)
            else:
                rv = self._rv
                wanted = _selector(query.get("labelSelector", ""))
                items = [
                    copy.deepcopy(o)
                    for (ns, _), o in sorted(self._objects[plural].items())
                    if (namespace is None or ns == namespace)
                    and _matches(o["metadata"].get("labels", {}), wanted)
                ]
            meta: Obj = {"resourceVersion": str(rv)}
            if limit and len(items) > limit:
                items, rest = items[:limit], items[limit:]
                next_token = uuid.uuid4().hex
                self._pages[next_token] = (rv, rest)
                meta["continue"] = next_token
                meta["remainingItemCount"] = len(rest)
        version = "v1" if prefix == "/api/v1" else prefix.removeprefix("/apis/")
        return {"kind": f"{kind}List", "apiVersion": version, "metadata": meta, "items": items}

    def _events_after(
        self,
        plural: str,
        namespace: str | None,
        since: int,
        wanted: list[tuple[str, str, set[str]]],
    ) -> list[tuple[int, str, Obj]]:
        return [
            (rv, kind, obj)
            for rv, p, kind, obj in self._history
            if rv > since
            and p == plural
            and (namespace is None or obj["metadata"].get("namespace") == namespace)
            and _matches(obj["metadata"].get("labels", {}), wanted)
        ]

    def _patch_status(self, namespace: str, name: str, patch: Obj) -> Obj:
        with self._lock:
            found = self._objects["ingresses"].get((namespace, name))
            if found is None:
                missing = f'ingresses.networking.k8s.io "{name}" not found'
                raise _Answer(404, status(404, "NotFound", missing))
            updated = copy.deepcopy(found)
            updated["status"] = _merge(updated.get("status", {}), patch.get("status", {}))
            self._rv += 1
            updated["metadata"]["resourceVersion"] = str(self._rv)
            self._objects["ingresses"][(namespace, name)] = updated
            self._record("ingresses", "MODIFIED", updated)
            self._lock.notify_all()
            return copy.deepcopy(updated)

    # -- serving --

    def ssl_context(self) -> ssl.SSLContext:
        """HTTPS, with the trustme certificate of 127.0.0.1."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self.tls / "server.pem"), str(self.tls / "server-key.pem"))
        return context

    @property
    def endpoint(self) -> str:
        """``https://127.0.0.1:<port>``: the provider's ``endpoint``."""
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca(self) -> str:
        """The CA file that signed the server's certificate (``certAuthFilePath``)."""
        return str(self.tls / "ca.pem")


class _Handler(Handler):
    """The API server's answers."""

    @property
    def api(self) -> KubeAPI:
        assert isinstance(self.standin, KubeAPI)
        return self.standin

    def _allowed(self, verb: str, plural: str, namespace: str | None) -> bool:
        if self.headers.get("Authorization") != f"Bearer {self.api.token}":
            self.send_json(401, status(401, "Unauthorized", "Unauthorized"))
            return False
        if plural in self.api.forbidden:
            prefix = RESOURCES[plural][0]
            group = prefix.split("/")[2] if prefix.startswith("/apis/") else ""
            full = f"{plural}.{group}" if group else plural
            scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
            message = (
                f'{full} is forbidden: User "system:serviceaccount:default:routekit" '
                f'cannot {verb} resource "{plural}" in API group "{group}" {scope}'
            )
            self.send_json(
                403,
                status(403, "Forbidden", message) | {"details": {"group": group, "kind": plural}},
            )
            return False
        return True

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        self.api.requests.append(self.path)
        route = self.api._route(parts.path)
        if route is None or route[2] is not None:
            self.send_json(
                404,
                status(404, "NotFound", "the server could not find the requested resource"),
            )
            return
        plural, namespace, _, _ = route
        watching = query.get("watch") in ("1", "true")
        if not self._allowed("watch" if watching else "list", plural, namespace):
            return
        if watching:
            self._watch(plural, namespace, query)
            return
        try:
            self.send_json(200, self.api._list(plural, namespace, query))
        except _Answer as answer:
            self.send_json(answer.code, answer.body)

    def _watch(self, plural: str, namespace: str | None, query: Mapping[str, str]) -> None:
        since = int(query.get("resourceVersion", "0") or 0)
        bookmarks = query.get("allowWatchBookmarks") in ("1", "true")
        deadline = time.monotonic() + float(query.get("timeoutSeconds", "1800"))
        wanted = _selector(query.get("labelSelector", ""))
        _, kind, _ = RESOURCES[plural]
        self.start_chunks("application/json")

        def send(event: Obj) -> None:
            self.chunk(json.dumps(event).encode() + b"\n")

        with self.api._lock:
            if since and since < self.api._compacted:
                expired = status(
                    410, "Expired", f"too old resource version: {since} ({self.api._compacted})"
                )
                send({"type": "ERROR", "object": expired})
                self.end_chunks()
                return
            if not since:  # "any": the current objects as ADDED, then the changes
                for (ns, _), obj in sorted(self.api._objects[plural].items()):
                    if namespace is None or ns == namespace:
                        send({"type": "ADDED", "object": obj})
                since = self.api._rv
        last_bookmark = time.monotonic()
        while not self.api.stopping:
            with self.api._lock:
                events = self.api._events_after(plural, namespace, since, wanted)
                if not events:
                    self.api._lock.wait(0.05)
                    events = self.api._events_after(plural, namespace, since, wanted)
                current = self.api._rv
            for rv, change, obj in events:
                send({"type": change, "object": obj})
                since = rv
            now = time.monotonic()
            if bookmarks and now - last_bookmark >= self.api.bookmark_every:
                mark = {
                    "kind": kind,
                    "apiVersion": "v1",
                    "metadata": {"resourceVersion": str(current)},
                }
                send({"type": "BOOKMARK", "object": mark})
                since = max(since, current)
                last_bookmark = now
            if now >= deadline:
                break
        self.end_chunks()

    def do_PATCH(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        self.api.requests.append(f"PATCH {self.path}")
        route = self.api._route(parts.path)
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        if route is None or route[0] != "ingresses" or route[3] != "status":
            self.send_json(405, status(405, "MethodNotAllowed", "not allowed"))
            return
        _, namespace, name, _ = route
        if not self._allowed("patch", "ingresses/status", namespace):
            return
        if self.headers.get("Content-Type") != "application/merge-patch+json":
            self.send_json(
                415,
                status(
                    415,
                    "UnsupportedMediaType",
                    "the body of the request was in an unknown format",
                ),
            )
            return
        try:
            assert namespace is not None and name is not None
            self.send_json(200, self.api._patch_status(namespace, name, json.loads(raw)))
        except _Answer as answer:
            self.send_json(answer.code, answer.body)


class _Answer(Exception):
    def __init__(self, code: int, body: Obj) -> None:
        super().__init__(code)
        self.code = code
        self.body = body


def _merge(base: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    out = dict(base) if isinstance(base, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge(out.get(key), value)
    return out


@contextlib.contextmanager
def kube_api(root: Path, **options: Any) -> Iterator[KubeAPI]:
    """A started API server; stopped afterwards."""
    api = KubeAPI(root, **options)
    api.start()
    try:
        yield api
    finally:
        api.stop()
