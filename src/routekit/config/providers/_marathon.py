"""Marathon applications → a configuration, as Traefik's Marathon provider reads their labels.

The applications are the JSON of Marathon's ``GET /v2/apps?embed=apps.tasks&embed=
apps.deployments&embed=apps.readiness`` (https://mesosphere.github.io/marathon/api-console/),
and the translation follows Traefik 2's ``pkg/provider/marathon`` (Traefik 1.7's
``provider/marathon`` for the v1 labels):

- an application is served when ``traefik.enable`` (or the provider's ``exposedByDefault``)
  says so and its labels — with its Marathon constraints, for ``MarathonConstraint(`…`)`` —
  pass the provider's ``constraints``;
- its labels are decoded as Docker's are (`labels_to_config`): ``traefik.http.routers.…``,
  v1's ``traefik.frontend.rule``, ``traefik.backend``, ``traefik.port``…; one service per
  application, named from its ID (``/shop/web`` → ``shop-web``), whose servers are its tasks;
- a task is a server when it is ``TASK_RUNNING``, when its health checks (if the application
  has any) all say alive, and — with ``respectReadinessChecks`` — when a deployment in progress
  found it ready;
- its address is the agent's host (host networking, or ``forceTaskHostname``) or the task's
  IP (IP-per-task / container networks; ``traefik.marathon.ipaddressidx`` picks among several);
  its port the ``…server.port`` label (a number, ``index:N`` or ``name:<port name>``; v1's
  ``traefik.portIndex`` / ``traefik.portName``), else the first of the task's ports.

A difference: Traefik 2 names the service ``shop_web``; routekit normalises it (``shop-web``)
as the names of its Docker and Consul services are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Final

from ...errors import Problem
from ...rules import MARATHON_CONSTRAINT_PREFIX
from ..model import Configuration, merge_configurations
from ._labels import DEFAULT_RULE, labels_to_config, validate_labelled
from ._labels_container import ContainerInfo, provider_constraint

__all__ = ["marathon_to_config"]

_RUNNING: Final = "TASK_RUNNING"
#: Traefik's readiness checker: a task started less than this before is not trusted yet.
_READINESS_DEFAULT: Final = 10.0
_READINESS_MARGIN: Final = 5.0


class _Skip(Exception):
    """A task (or application) cannot be served: the message says why."""


def _labels(app: Mapping[str, Any]) -> dict[str, str]:
    found = app.get("labels") or {}
    if not isinstance(found, Mapping) or not all(isinstance(v, str) for v in found.values()):
        raise _Skip("labels must map names to strings")
    return {str(k): v for k, v in found.items()}


def _flag(labels: Mapping[str, str], key: str, default: bool) -> bool:
    value = next((v for k, v in labels.items() if k.lower() == key), None)
    if value is None:
        return default
    return value.strip().lower() in ("true", "1", "t", "yes")


def _own(labels: Mapping[str, str], key: str) -> str | None:
    return next((v for k, v in labels.items() if k.lower() == key), None)


def marathon_to_config(
    apps: Sequence[Mapping[str, Any]],
    *,
    default_rule: str = DEFAULT_RULE,
    exposed_by_default: bool = True,
    constraints: str = "",
    force_task_hostname: bool = False,
    respect_readiness_checks: bool = False,
    domain: str = "",
    now: dt.datetime | None = None,
    previous: Configuration | None = None,
) -> tuple[Configuration, tuple[Problem, ...]]:
    """Decode the labels of Marathon *apps* (with their embedded tasks) into a configuration.

    Args:
        apps: the ``apps`` of ``GET /v2/apps?embed=apps.tasks…``, in any order.
        default_rule: the Go template for routers without a rule (``.Name`` is the app ID).
        exposed_by_default: serve applications without ``traefik.enable``.
        constraints: Traefik's ``constraints`` expression (``Label``, ``LabelRegex``,
            ``MarathonConstraint``).
        force_task_hostname: a task's server is always its agent's host.
        respect_readiness_checks: leave out the tasks a deployment has not found ready.
        domain: v1's ``domain``, for v1 labels' default rule ``Host:<name>.<domain>``.
        now: the time readiness is judged at (now by default).
        previous: the last configuration (a conflict keeps its definition).

    Returns:
        The configuration and every problem, each naming the application (and task).
    """
    constraint = provider_constraint(constraints, kind="labels")
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    problems: list[Problem] = []
    containers: list[ContainerInfo] = []
    parts: list[tuple[str, Configuration]] = []
    for app in sorted(apps, key=lambda a: str(a.get("id", ""))):
        ident = app.get("id")
        if not isinstance(ident, str) or not ident.strip("/"):
            problems.append(Problem("", "an application without an id", "Marathon"))
            continue
        where = f"Marathon application {ident!r}"
        try:
            labels = _labels(app)
        except _Skip as exc:
            problems.append(Problem("labels", str(exc), where))
            continue
        for i, fields in enumerate(app.get("constraints") or []):
            if isinstance(fields, list):
                labels[f"{MARATHON_CONSTRAINT_PREFIX}-{i}"] = ":".join(str(f) for f in fields)
        if not _flag(labels, "traefik.enable", exposed_by_default):
            continue
        if constraint is not None and not constraint.matches(labels):
            continue
        kept = {
            k: v
            for k, v in labels.items()
            if not k.startswith(MARATHON_CONSTRAINT_PREFIX)
            and not k.lower().startswith("traefik.marathon.")
            and k.lower() not in ("traefik.enable", "traefik.portindex", "traefik.portname")
        }
        name = ident.strip("/").replace("/", "_")
        tasks: list[ContainerInfo] = []
        for task in _tasks(app, where, problems):
            try:
                if not _serving(app, task, respect_readiness_checks, moment):
                    continue
                host = _host(app, task, labels, force_task_hostname)
                task_labels, port = _ports(app, task, labels, kept)
            except _Skip as exc:
                problems.append(Problem("", str(exc), f"{where} (task {task.get('id')!r})"))
                continue
            tasks.append(
                ContainerInfo(
                    name=str(task.get("id")),
                    service_name=name,
                    labels=task_labels,
                    addresses={"marathon": host},
                    ports=(port,) if port else (),
                    origin="marathon",
                )
            )
        if not tasks:
            continue  # Traefik: "no server for the service": nothing routed to the app
        config, found = labels_to_config(
            tasks,
            default_rule=default_rule,
            exposed_by_default=True,
            domain=domain,
            template_fields={"Name": ident},
            check=False,  # the merged result is checked below: apps may refer to each other
        )
        problems.extend(found)
        parts.append((ident, config))
        containers.extend(tasks)
    merged, conflicts = merge_configurations(parts, previous=previous)
    checked, found = validate_labelled(merged, containers)
    return checked, (*problems, *conflicts, *found)


def _tasks(app: Mapping[str, Any], where: str, problems: list[Problem]) -> list[Mapping[str, Any]]:
    tasks = app.get("tasks") or []
    if not isinstance(tasks, list):
        problems.append(Problem("tasks", "expected a list", where))
        return []
    good = []
    for task in tasks:
        if isinstance(task, Mapping) and isinstance(task.get("id"), str):
            good.append(task)
        else:
            problems.append(Problem("tasks", f"a task without an id: {task!r}"[:200], where))
    return sorted(good, key=lambda t: str(t["id"]))


def _serving(
    app: Mapping[str, Any], task: Mapping[str, Any], readiness: bool, now: dt.datetime
) -> bool:
    if task.get("state") != _RUNNING:
        return False
    if app.get("healthChecks"):
        # Traefik 1.7's rule: with health checks, every result must say alive, and a task
        # not checked yet is not served.
        results = task.get("healthCheckResults") or []
        if not results or not all(isinstance(r, Mapping) and r.get("alive") for r in results):
            return False
    return not readiness or _ready(app, task, now)


def _ready(app: Mapping[str, Any], task: Mapping[str, Any], now: dt.datetime) -> bool:
    """Traefik's readiness checker: only a deployment in progress can make a task unready."""
    checks = app.get("readinessChecks") or []
    if not app.get("deployments") or not checks:
        return True
    for result in app.get("readinessCheckResults") or []:
        if isinstance(result, Mapping) and result.get("taskId") == task.get("id"):
            return bool(result.get("ready"))
    first = checks[0] if isinstance(checks[0], Mapping) else {}
    timeout = float(first.get("timeoutSeconds") or 0)
    window = timeout + _READINESS_MARGIN if timeout else _READINESS_DEFAULT
    try:
        started = dt.datetime.fromisoformat(str(task.get("startedAt", "")).replace("Z", "+00:00"))
    except ValueError:
        return False  # Traefik: an unparseable start time is unready
    if started.tzinfo is None:
        started = started.replace(tzinfo=dt.UTC)
    return (now - started).total_seconds() >= window


def _host(
    app: Mapping[str, Any], task: Mapping[str, Any], labels: Mapping[str, str], force: bool
) -> str:
    networks = app.get("networks")
    if networks:
        first = networks[0] if isinstance(networks[0], Mapping) else {}
        on_host = first.get("mode") != "container"
    else:
        on_host = app.get("ipAddress") is None
    if on_host or force:
        host = task.get("host")
        if not isinstance(host, str) or not host:
            raise _Skip("the task has no host")
        return host
    addresses = [
        a.get("ipAddress")
        for a in task.get("ipAddresses") or []
        if isinstance(a, Mapping) and isinstance(a.get("ipAddress"), str)
    ]
    if len(addresses) == 1:
        return str(addresses[0])
    if not addresses:
        raise _Skip("the task has no IP address")
    index = _own(labels, "traefik.marathon.ipaddressidx")
    if index is None:
        raise _Skip(f"the task has {len(addresses)} IP addresses: set "
                    "traefik.marathon.ipaddressidx to pick one")  # fmt: skip
    if not index.isdigit() or int(index) >= len(addresses):
        raise _Skip(f"traefik.marathon.ipaddressidx={index!r} is not one of the task's "
                    f"{len(addresses)} IP addresses")  # fmt: skip
    return str(addresses[int(index)])


def _ports(
    app: Mapping[str, Any],
    task: Mapping[str, Any],
    labels: Mapping[str, str],
    kept: Mapping[str, str],
) -> tuple[dict[str, str], int | None]:
    """The task's labels with ``index:``/``name:`` ports resolved, and its default port."""
    resolved = dict(kept)
    for key, value in kept.items():
        if key.lower().endswith(".server.port") and value.startswith(("index:", "name:")):
            resolved[key] = str(_port(app, task, value))
    v1 = _own(labels, "traefik.portindex")
    v1_name = _own(labels, "traefik.portname")
    chosen = f"index:{v1}" if v1 is not None else f"name:{v1_name}" if v1_name else ""
    available = _available(app, task)
    return resolved, _port(app, task, chosen) if chosen else (available[0] if available else None)


def _port(app: Mapping[str, Any], task: Mapping[str, Any], spec: str) -> int:
    if spec.startswith("name:"):
        wanted = spec[len("name:") :]
        for port, name in _named(app):
            if name == wanted and port > 0:
                return port
        raise _Skip(f"no port named {wanted!r}")
    ports = _available(app, task)
    text = spec[len("index:") :]
    if not text.isdigit():
        raise _Skip(f"port index {text!r} is not a number")
    if int(text) >= len(ports):
        raise _Skip(f"port index {text} is out of range: the task has {len(ports)} ports")
    return ports[int(text)]


def _named(app: Mapping[str, Any]) -> list[tuple[int, str]]:
    out = [
        (int(d.get("port") or 0), str(d.get("name", "")))
        for d in app.get("portDefinitions") or []
        if isinstance(d, Mapping) and isinstance(d.get("port"), int)
    ]
    discovery = (app.get("ipAddress") or {}).get("discovery") or {}
    out += [
        (int(d.get("number") or 0), str(d.get("name", "")))
        for d in discovery.get("ports") or []
        if isinstance(d, Mapping) and isinstance(d.get("number"), int)
    ]
    return out


def _available(app: Mapping[str, Any], task: Mapping[str, Any]) -> list[int]:
    """Traefik's ``retrieveAvailablePorts``: the task's, else the app's definitions."""
    ports = [p for p in task.get("ports") or [] if isinstance(p, int) and not isinstance(p, bool)]
    return ports or [port for port, _ in _named(app)]
