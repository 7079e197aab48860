"""What a Consul catalog provider reads: services and their instances, from Consul's HTTP API.

Shared by the Traefik 1.7 decoder (`consul_catalog_v1_to_config`) and the v2/v3 one
(`consul_catalog_to_config`).  The values are read from the JSON of ``GET /v1/health/service/
<name>`` or ``GET /v1/catalog/service/<name>`` (``https://developer.hashicorp.com/consul/api-docs``)
and checked as they are read: a field of the wrong type is a `MalformedResponse`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, final

import attrs

from ...errors import MalformedResponse
from ..model import FrozenMap, frozen_map, frozen_tuple, parse_int

__all__ = ["CatalogInstance", "CatalogService"]

# Consul api.HealthChecks.AggregatedStatus: maintenance checks are recognised by their ID.
_NODE_MAINT: Final = "_node_maintenance"
_SERVICE_MAINT_PREFIX: Final = "_service_maintenance:"
_STATUSES: Final = ("passing", "warning", "critical")


def _text(value: object, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise MalformedResponse(f"{what}: expected a string, got {value!r}")
    return str(value)


def _port(value: object, what: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MalformedResponse(f"{what}: expected a port number, got {value!r}")
    try:
        return value if isinstance(value, int) else parse_int(value)
    except ValueError:
        raise MalformedResponse(f"{what}: expected a port number, got {value!r}") from None


def _tags(value: object, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise MalformedResponse(f"{what}: expected a list of strings, got {value!r}")
    return tuple(_text(t, what) for t in value)


def _checks(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise MalformedResponse(f"Checks: expected a list, got {value!r}")
    out: dict[str, str] = {}
    for check in value:
        if not isinstance(check, Mapping):
            raise MalformedResponse(f"Checks: expected objects, got {check!r}")
        out[_text(check.get("CheckID"), "CheckID")] = _text(check.get("Status"), "Status")
    return out


@final
@attrs.frozen(kw_only=True)
class CatalogInstance:
    """One registration of a Consul service on a node, as Consul's catalog and health APIs give it.

    Attributes:
        service: the service name as registered (``Service.Service`` / ``ServiceName``); empty
            means the name of the `CatalogService` it belongs to.
        address: ``Service.Address`` (``ServiceAddress``); empty means the node's address.
        port: ``Service.Port`` (``ServicePort``).
        tags: ``Service.Tags`` (``ServiceTags``), in their registered order.
        node: the node name (``Node.Node``), used in problem messages.
        node_address: ``Node.Address`` (``Address``).
        service_id: ``Service.ID`` (``ServiceID``), used in problem messages.
        checks: the status (``passing``, ``warning``, ``critical``) of each check by ``CheckID``,
            node checks (``serfHealth``) included.  No checks means passing, as in Consul.
        datacenter: ``Node.Datacenter`` (``Datacenter``), for Consul Connect identities.
        namespace: ``Service.Namespace`` (``Namespace``, Consul Enterprise); empty means
            ``default``.
    """

    service: str = ""
    address: str = ""
    port: int = 0
    tags: tuple[str, ...] = attrs.field(default=(), converter=frozen_tuple)
    node: str = ""
    node_address: str = ""
    service_id: str = ""
    checks: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=frozen_map)
    datacenter: str = ""
    namespace: str = ""

    @property
    def status(self) -> str:
        """Consul's aggregated status: ``maintenance`` > ``critical`` > ``warning`` > ``passing``.

        An unknown check status gives ``""`` (not healthy), as ``AggregatedStatus`` does.
        """
        seen: set[str] = set()
        for check_id, status in self.checks.items():
            if check_id == _NODE_MAINT or check_id.startswith(_SERVICE_MAINT_PREFIX):
                seen.add("maintenance")
            elif status in _STATUSES:
                seen.add(status)
            else:
                return ""
        for status in ("maintenance", "critical", "warning"):
            if status in seen:
                return status
        return "passing"

    @classmethod
    def from_health_entry(cls, entry: Mapping[str, Any]) -> CatalogInstance:
        """Read one element of ``GET /v1/health/service/<name>``: ``{"Node", "Service", "Checks"}``.

        Raises:
            MalformedResponse: a field has the wrong type (a `ValueError`).
        """
        node = entry.get("Node") or {}
        service = entry.get("Service") or {}
        if not isinstance(node, Mapping) or not isinstance(service, Mapping):
            raise MalformedResponse(f"expected Node and Service objects, got {entry!r}")
        return cls(
            service=_text(service.get("Service"), "Service.Service"),
            address=_text(service.get("Address"), "Service.Address"),
            port=_port(service.get("Port"), "Service.Port"),
            tags=_tags(service.get("Tags"), "Service.Tags"),
            node=_text(node.get("Node"), "Node.Node"),
            node_address=_text(node.get("Address"), "Node.Address"),
            service_id=_text(service.get("ID"), "Service.ID"),
            checks=_checks(entry.get("Checks")),
            datacenter=_text(node.get("Datacenter"), "Node.Datacenter"),
            namespace=_text(service.get("Namespace"), "Service.Namespace"),
        )

    @classmethod
    def from_catalog_entry(
        cls, entry: Mapping[str, Any], checks: Iterable[Mapping[str, Any]] | None = None
    ) -> CatalogInstance:
        """Read one element of ``GET /v1/catalog/service/<name>`` (``ServiceName``, ``Address``…).

        The catalog endpoint carries no health; pass the instance's ``Checks`` (the objects of
        ``/v1/health/checks/<name>``) as *checks*, or none for a passing instance.

        Raises:
            MalformedResponse: a field has the wrong type (a `ValueError`).
        """
        return cls(
            service=_text(entry.get("ServiceName"), "ServiceName"),
            address=_text(entry.get("ServiceAddress"), "ServiceAddress"),
            port=_port(entry.get("ServicePort"), "ServicePort"),
            tags=_tags(entry.get("ServiceTags"), "ServiceTags"),
            node=_text(entry.get("Node"), "Node"),
            node_address=_text(entry.get("Address"), "Address"),
            service_id=_text(entry.get("ServiceID"), "ServiceID"),
            checks=_checks(checks),
            datacenter=_text(entry.get("Datacenter"), "Datacenter"),
            namespace=_text(entry.get("Namespace"), "Namespace"),
        )


@final
@attrs.frozen(kw_only=True)
class CatalogService:
    """A Consul catalog service and its instances (all of them: filtering is the decoder's job)."""

    name: str
    instances: tuple[CatalogInstance, ...] = attrs.field(default=(), converter=frozen_tuple)

    @classmethod
    def from_health_entries(
        cls, entries: Sequence[Mapping[str, Any]], name: str | None = None
    ) -> CatalogService:
        """Read the JSON list ``GET /v1/health/service/<name>`` returns (without ``?passing``).

        *name* defaults to the ``Service.Service`` of the entries; it is needed when the list is
        empty.

        Raises:
            MalformedResponse: a field has the wrong type, or no name is known.
        """
        instances = tuple(CatalogInstance.from_health_entry(e) for e in entries)
        if name is None:
            names = {i.service for i in instances if i.service}
            if not names:
                raise MalformedResponse("no service name: pass name= for an empty list of entries")
            name = min(names)
        return cls(name=name, instances=instances)


# -- template functions (config.go: getTag, hasTag, getAttribute) --------------------------------
