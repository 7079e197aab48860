"""A Marathon stand-in for the Marathon provider's tests.

Marathon (a JVM service that needs Mesos and ZooKeeper) is not among the packages this machine
can install, so this serves the two endpoints the provider uses, as Marathon's REST API
documents them (https://mesosphere.github.io/marathon/api-console/, "Event Bus"):

- ``GET /v2/apps`` with ``embed=apps.tasks`` (``apps.deployments``, ``apps.readiness``): the
  applications with their tasks;
- ``GET /v2/events`` (``Accept: text/event-stream``): server-sent events, the
  ``event_stream_attached`` one first, then each change — ``status_update_event`` for a task,
  ``api_post_event`` for an application written, ``health_status_changed_event``,
  ``deployment_success`` — filtered by the ``event_type`` parameters;

with HTTP basic authentication (401 and ``WWW-Authenticate`` otherwise) when configured.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

from _standin import Handler, StandIn

Obj = dict[str, Any]


class Marathon(StandIn):
    """The applications, the events they produced, and the server in front of them."""

    def __init__(self, *, user: str = "", password: str = "") -> None:
        super().__init__()
        self.handler = _Handler
        self.credentials = (user, password) if user else None
        self.requests: list[str] = []
        self._apps: dict[str, Obj] = {}
        self._events: list[tuple[int, str, Obj]] = []

    # -- what tests (and the Marathon CLI) do --

    def put_app(self, app: Obj) -> None:
        """Create or replace an application (``POST``/``PUT /v2/apps``): ``api_post_event``,
        and a ``status_update_event`` per task."""
        with self._lock:
            self._apps[app["id"]] = copy.deepcopy(app)
            self._emit("api_post_event", {"appDefinition": {"id": app["id"]}})
            for task in app.get("tasks", []):
                self._emit("status_update_event", {"appId": app["id"], "taskId": task["id"],
                                                   "taskStatus": task.get("state")})  # fmt: skip
            self._emit("deployment_success", {"id": f"deploy-{len(self._events)}"})

    def remove_app(self, ident: str) -> None:
        """Destroy an application: ``app_terminated_event``."""
        with self._lock:
            del self._apps[ident]
            self._emit("app_terminated_event", {"appId": ident})

    def set_task(self, ident: str, task: Obj, event: str = "status_update_event") -> None:
        """Replace (or add) one task of an application, with its event."""
        with self._lock:
            tasks = [t for t in self._apps[ident].get("tasks", []) if t["id"] != task["id"]]
            self._apps[ident]["tasks"] = [*tasks, copy.deepcopy(task)]
            self._emit(event, {"appId": ident, "taskId": task["id"],
                               "taskStatus": task.get("state")})  # fmt: skip

    def emit(self, event: str, data: Obj) -> None:
        """An event that changes nothing the provider reads."""
        with self._lock:
            self._emit(event, data)

    def _emit(self, event: str, data: Obj) -> None:
        data = {"eventType": event, "timestamp": "2026-12-06T00:00:00.000Z", **data}
        self._events.append((len(self._events), event, data))
        self._lock.notify_all()

    def _listing(self, embed: list[str]) -> Obj:
        with self._lock:
            apps = []
            for app in sorted(self._apps.values(), key=lambda a: str(a["id"])):
                shown = copy.deepcopy(app)
                if "apps.tasks" not in embed:
                    shown.pop("tasks", None)
                shown["tasksRunning"] = sum(
                    t.get("state") == "TASK_RUNNING" for t in app.get("tasks", [])
                )
                apps.append(shown)
            return {"apps": apps}

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:<port>``: the provider's ``endpoint``."""
        return f"http://127.0.0.1:{self.port}"


class _Handler(Handler):
    """Marathon's answers."""

    @property
    def marathon(self) -> Marathon:
        assert isinstance(self.standin, Marathon)
        return self.standin

    def _allowed(self) -> bool:
        wanted = self.marathon.credentials
        if wanted is None:
            return True
        sent = self.headers.get("Authorization", "")
        pair = base64.b64encode(f"{wanted[0]}:{wanted[1]}".encode()).decode()
        if sent == f"Basic {pair}":
            return True
        self.send_json(401, {"message": "Invalid username or password."},
                       {"WWW-Authenticate": 'Basic realm="Mesosphere"'})  # fmt: skip
        return False

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parts.query)
        self.marathon.requests.append(self.path)
        if not self._allowed():
            return
        if parts.path == "/v2/apps":
            self.send_json(200, self.marathon._listing(query.get("embed", [])))
        elif parts.path == "/v2/events":
            self._events(set(query.get("event_type", [])))
        else:
            self.send_json(404, {"message": f"Not found: {parts.path}"})

    def _events(self, wanted: set[str]) -> None:
        marathon = self.marathon
        if "text/event-stream" not in self.headers.get("Accept", ""):
            self.send_json(406, {"message": "the event stream needs Accept: text/event-stream"})
            return
        self.start_chunks("text/event-stream")
        attached = {"eventType": "event_stream_attached", "remoteAddress": "127.0.0.1"}

        def send(event: str, data: Obj) -> None:
            self.chunk(f"event: {event}\r\ndata: {json.dumps(data)}\r\n\r\n".encode())

        send("event_stream_attached", attached)
        self.chunk(b": a comment, as keep-alives are\r\n")
        with marathon._lock:
            seen = len(marathon._events)
        with contextlib.suppress(OSError):
            while not marathon.stopping:
                with marathon._lock:
                    if len(marathon._events) == seen:
                        marathon._lock.wait(0.05)
                    fresh = marathon._events[seen:]
                    seen += len(fresh)
                for _, event, data in fresh:
                    if not wanted or event in wanted:
                        send(event, data)
                time.sleep(0)
            self.end_chunks()


@contextlib.contextmanager
def marathon(**options: Any) -> Iterator[Marathon]:
    """A started Marathon stand-in; stopped afterwards."""
    server = Marathon(**options)
    server.start()
    try:
        yield server
    finally:
        server.stop()
