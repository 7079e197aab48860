"""Marathon applications and tasks as ``GET /v2/apps?embed=apps.tasks`` serializes them
(https://mesosphere.github.io/marathon/api-console/), for the Marathon tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Obj = dict[str, Any]


def task(
    ident: str,
    ports: Sequence[int] = (80,),
    *,
    host: str = "localhost",
    state: str = "TASK_RUNNING",
    ips: Sequence[str] = (),
    alive: bool | None = None,
    started: str = "2026-12-01T00:00:00.000Z",
) -> Obj:
    """A task of an application (``alive``: its health check result, ``None`` for none)."""
    out: Obj = {
        "id": ident,
        "host": host,
        "ports": list(ports),
        "state": state,
        "startedAt": started,
        "ipAddresses": [{"ipAddress": ip, "protocol": "IPv4"} for ip in ips],
    }
    if alive is not None:
        out["healthCheckResults"] = [{"alive": alive, "taskId": ident}]
    return out


def app(
    ident: str,
    tasks: Sequence[Obj] = (),
    *,
    labels: Mapping[str, str] | None = None,
    ports: Sequence[tuple[int, str]] = ((80, ""),),
    **extra: Any,
) -> Obj:
    """An application with its embedded *tasks*; *extra* fields as Marathon names them."""
    return {
        "id": ident,
        "labels": dict(labels or {}),
        "portDefinitions": [{"port": p, "name": n, "protocol": "tcp"} for p, n in ports],
        "tasks": list(tasks),
        "deployments": [],
        "healthChecks": [],
        **extra,
    }
