"""What a Docker provider reads: one container, from the Engine API's ``GET /containers/{id}/json``.

The answer (``https://docs.docker.com/reference/api/engine/``, ``ContainerInspectResponse``) is
checked as it is read: a field of the wrong type is a `MalformedResponse` naming it, so a broken
or hostile engine cannot make the decoders misbehave.  Only what routing needs is kept, in a
`ContainerInfo`: name, labels, state and health, addresses by network, exposed ports and
published bindings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, final

import attrs

from ...errors import MalformedResponse
from ._labels_container import ContainerInfo

__all__ = ["DockerContainer", "docker_container"]

#: Traefik's docker provider serves a container in ``host`` network mode at this address
#: (``pkg/provider/docker/config.go``, ``getIPAddress``, when no node IP is known).
HOST_MODE_ADDRESS: Final = "127.0.0.1"


@final
@attrs.frozen
class DockerContainer:
    """One inspected container: its id, what the decoders read, and its network mode.

    Attributes:
        id: the full container id.
        info: the decoders' view of it.
        network_mode: ``HostConfig.NetworkMode`` (``bridge``, ``host``, ``container:<id>``…).
    """

    id: str
    info: ContainerInfo
    network_mode: str = ""

    @property
    def joined(self) -> str | None:
        """The container whose network this one shares (``container:<id or name>``), or ``None``."""
        head, sep, other = self.network_mode.partition(":")
        return other if sep and head == "container" and other else None


def _map(value: object, what: str) -> Mapping[str, object]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MalformedResponse(f"{what}: expected an object, got {value!r:.80}")
    return value


def _text(value: object, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedResponse(f"{what}: expected a string, got {value!r:.80}")
    return value


def _port_key(key: str, what: str) -> int | None:
    """``"80/tcp"`` → 80; UDP and SCTP ports are not HTTP servers (``None``)."""
    number, _, proto = key.partition("/")
    if not (number.isascii() and number.isdigit()) or not 0 < int(number) < 65536:
        raise MalformedResponse(f"{what}: {key!r} is not a port")
    return int(number) if proto in ("", "tcp") else None


def docker_container(data: object) -> DockerContainer:
    """The `DockerContainer` an Engine API inspect answer describes.

    Raises:
        MalformedResponse: the answer is not shaped as the Engine API documents it; the message
            names the field.
    """
    top = _map(data, "container")
    ident = _text(top.get("Id"), "Id")
    if not ident:
        raise MalformedResponse("container: no Id")
    where = f"container {ident[:12]}"
    config = _map(top.get("Config"), f"{where}: Config")
    labels = {
        str(k): _text(v, f"{where}: Config.Labels[{k!r}]")
        for k, v in _map(config.get("Labels"), f"{where}: Config.Labels").items()
    }
    state = _map(top.get("State"), f"{where}: State")
    health = _map(state.get("Health"), f"{where}: State.Health")
    host_config = _map(top.get("HostConfig"), f"{where}: HostConfig")
    mode = _text(host_config.get("NetworkMode"), f"{where}: HostConfig.NetworkMode")
    settings = _map(top.get("NetworkSettings"), f"{where}: NetworkSettings")
    addresses: dict[str, str] = {}
    for net, entry in _map(settings.get("Networks"), f"{where}: NetworkSettings.Networks").items():
        ip = _text(_map(entry, f"{where}: network {net!r}").get("IPAddress"), f"{where}: IPAddress")
        if ip:
            addresses[str(net)] = ip
    if mode == "host":
        addresses = {"host": HOST_MODE_ADDRESS}
    ports: set[int] = set()
    exposed = _map(config.get("ExposedPorts"), f"{where}: Config.ExposedPorts")
    for key in exposed:
        port = _port_key(str(key), f"{where}: Config.ExposedPorts")
        if port is not None:
            ports.add(port)
    bindings: dict[int, tuple[str, str]] = {}
    published = _map(settings.get("Ports"), f"{where}: NetworkSettings.Ports")
    for key, binds in published.items():
        port = _port_key(str(key), f"{where}: NetworkSettings.Ports")
        if port is None:
            continue
        ports.add(port)
        if binds is None:
            continue
        if not isinstance(binds, list):
            raise MalformedResponse(f"{where}: NetworkSettings.Ports[{key!r}]: expected a list")
        if binds:
            first = _map(binds[0], f"{where}: NetworkSettings.Ports[{key!r}]")
            bindings[port] = (
                _text(first.get("HostIp"), f"{where}: HostIp"),
                _text(first.get("HostPort"), f"{where}: HostPort"),
            )
    info = ContainerInfo(
        name=_text(top.get("Name"), f"{where}: Name") or ident[:12],
        labels=labels,
        addresses=addresses,
        ports=tuple(sorted(ports)),
        health=_text(health.get("Status"), f"{where}: State.Health.Status") or None,
        state=_text(state.get("Status"), f"{where}: State.Status") or "running",
        port_bindings=bindings,
    )
    return DockerContainer(ident, info, mode)
