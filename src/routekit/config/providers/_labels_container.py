"""`ContainerInfo`, the plain data the label decoders read, and what v1 and v2 labels share.

A provider (Docker, Swarm, Consul catalog) turns what it sees into `ContainerInfo` values; the
decoders never do I/O.  The helpers here answer the questions both label generations ask: is the
container exposed, what is its name, which IP and port does a server get.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Final, Literal, final

import attrs

from ...errors import ConfigError, Problem, RuleSyntaxError
from ...rules import Constraint, parse_constraint
from ..model import INVALID, Decoder, FrozenMap, Node, frozen_map, frozen_tuple
from ._gotemplate import normalize

__all__ = ["ContainerInfo"]

COMPOSE_PROJECT: Final = "com.docker.compose.project"
COMPOSE_SERVICE: Final = "com.docker.compose.service"


def _strip_slash(name: str) -> str:
    # The Docker API reports names as "/web"; Traefik strips the slash (ContainerName).
    return name[1:] if name.startswith("/") else name


@final
@attrs.frozen(kw_only=True)
class ContainerInfo:
    """What a label decoder needs to know about one container (or catalog service instance).

    Attributes:
        name: the container name (a leading ``/`` is dropped).
        labels: the container's labels (for Consul, from `tags_to_labels`).
        service_name: the service the container belongs to (Swarm service, Consul service);
            ``None`` means the container name.  Compose labels take precedence, as in Traefik.
        addresses: IP address by network name.
        ports: exposed ports.
        health: Docker health status (``healthy``, ``unhealthy``, ``starting``) or ``None``
            when the container has no health check.
        state: Docker state; only ``running`` containers are served (unless
            ``traefik.docker.allownonrunning=true``).
        port_bindings: container port → ``(host IP, host port)`` of its first published
            binding (``NetworkSettings.Ports``), read with the provider's ``useBindPortIP``.
        origin: what the labels are, for problem messages: a container's labels, the tags
            of a Consul service instance, or a Marathon application's labels (one per task).
    """

    name: str = attrs.field(converter=_strip_slash)
    labels: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=frozen_map)
    service_name: str | None = None
    addresses: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=frozen_map)
    ports: tuple[int, ...] = attrs.field(default=(), converter=frozen_tuple)
    health: str | None = None
    state: str = "running"
    port_bindings: FrozenMap[int, tuple[str, str]] = attrs.field(
        factory=FrozenMap, converter=frozen_map
    )
    origin: Literal["container", "consul", "marathon"] = "container"

    @property
    def compose(self) -> tuple[str, str] | None:
        """``(project, service)`` from the Docker Compose labels, or ``None``."""
        project = self.labels.get(COMPOSE_PROJECT)
        service = self.labels.get(COMPOSE_SERVICE)
        if project is None or service is None:
            return None
        return project, service

    @property
    def base_name(self) -> str:
        """The name before normalisation: ``<service>_<project>`` for Compose (Traefik)."""
        compose = self.compose
        if compose is not None:
            return f"{compose[1]}_{compose[0]}"
        return self.service_name or self.name


def label_source(container: ContainerInfo, key: str | None) -> str:
    """How a problem names its origin: the label and the container (or the tag and the
    Consul service instance)."""
    if container.origin == "marathon":
        where = f"Marathon application '/{(container.service_name or '').replace('_', '/')}'"
        where += f" (task {container.name!r})"
        return where if key is None else f"label {key!r} on {where}"
    if container.origin == "consul":
        where = f"Consul service {container.service_name or container.name!r}"
        where += f" (instance {container.name!r})" if container.service_name else ""
        return where if key is None else f"tag {key!r} on {where}"
    if key is None:
        return f"container {container.name!r}"
    return f"label {key!r} on container {container.name!r}"


def service_name(container: ContainerInfo) -> str:
    """Traefik's ``getServiceName``: the normalised service (or Compose service_project) name."""
    return normalize(container.base_name) or "container"


def pick_address(
    container: ContainerInfo, network: str | None, problems: list[Problem], source: str | None
) -> str | None:
    """The IP of *container* on *network* (else its first network, by name), or ``None``.

    Traefik falls back to the first network of a Go map (so: random) with a warning when the
    wanted one is missing; routekit takes the first by name, so the choice is stable.
    """
    addresses = container.addresses
    if not addresses:
        problems.append(
            Problem(
                path="",
                message="the container has no IP address on any network",
                source=label_source(container, source),
                hint="attach it to a network shared with the proxy",
            )
        )
        return None
    if network:
        if network in addresses:
            return addresses[network]
        first = min(addresses)
        problems.append(
            Problem(
                path="",
                message=f"network {network!r} not found; using network {first!r}",
                source=label_source(container, source),
                hint="networks: " + ", ".join(sorted(addresses)),
                severity="warning",
            )
        )
        return addresses[first]
    return addresses[min(addresses)]


def pick_port(container: ContainerInfo) -> int | None:
    """The port Traefik detects when no label names one: the single, else the lowest, exposed."""
    return min(container.ports) if container.ports else None


def provider_constraint(text: str, *, kind: Literal["labels", "tags"]) -> Constraint | None:
    """The provider's parsed ``constraints`` (``None`` when empty: every container passes).

    Raises:
        ConfigError: the expression does not parse; the message shows where.
    """
    try:
        return parse_constraint(text, kind=kind)
    except RuleSyntaxError as exc:
        raise ConfigError(f"constraints: {exc}") from None


def server_address(
    container: ContainerInfo,
    port: str,
    network: str | None,
    problems: list[Problem],
    source: str | None,
    *,
    use_bind_port_ip: bool,
) -> str | None:
    """``host:port`` of the container's server for *port*, or ``None`` (reported) without an IP.

    With ``useBindPortIP``, the host address the port is published on, when it is a definite
    one; otherwise (no binding, or bound to every address) the container's own address, with a
    warning — Traefik's docker provider ``getIPPort`` falls back the same way.
    """
    if use_bind_port_ip:
        number = int(port) if port.isascii() and port.isdigit() else None
        binding = container.port_bindings.get(number) if number is not None else None
        host = binding[0].strip("[]") if binding is not None else ""
        if binding is not None and _definite_ip(host) and binding[1]:
            return join_host_port(host, binding[1])
        why = "no published binding" if binding is None else f"bound to {binding[0]!r}"
        problems.append(
            Problem(
                path="",
                message=f"useBindPortIP: port {port} has {why}; using the container's address",
                source=label_source(container, source),
                severity="warning",
            )
        )
    ip = pick_address(container, network, problems, source)
    return None if ip is None else join_host_port(ip, port)


def _definite_ip(text: str) -> bool:
    try:
        return not ipaddress.ip_address(text).is_unspecified
    except ValueError:
        return False


def join_host_port(host: str, port: str | int) -> str:
    """``host:port``, with brackets around an IPv6 host (Go's ``net.JoinHostPort``)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def read_bool(node: Node | None, decoder: Decoder, path: str, default: bool) -> bool | None:
    """A boolean label such as ``traefik.enable``; ``None`` (reported) when it is not one."""
    if node is None:
        return default
    value = decoder.decode(node, bool, path)
    return None if value is INVALID else bool(value)


def labels_with_prefix(labels: Mapping[str, str], prefix: str) -> dict[str, str]:
    """The labels whose key starts with *prefix* (ignoring case), in key order."""
    lowered = prefix.lower()
    return {k: labels[k] for k in sorted(labels) if k.lower().startswith(lowered)}
