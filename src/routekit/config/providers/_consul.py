"""Traefik v2/v3 Consul catalog provider: catalog services and their tags → `Configuration`.

As Traefik's ``consulcatalog`` provider (``master:pkg/provider/consulcatalog/{consul_catalog.go,
config.go,connect_tls.go}``):

- each instance (one registration on one node) is configured on its own from its tags
  (``<prefix>.http.routers.…``, read as Docker labels are) and the results are merged; an
  instance is known by node and service ID (``Normalize(node-name-id)``), so one registered
  twice under the same ID on the same node is one server;
- an instance is served when ``<prefix>.enable`` (else ``exposedByDefault``) allows it, its tags
  pass the provider's ``constraints`` (``Tag``, ``TagRegex``), its aggregated health is one of
  ``strictChecks`` (``passing`` and ``warning`` by default; ``any`` takes every status), and it
  is not a Connect service while ``connectAware`` is off;
- ``<prefix>.consulcatalog.canary=true`` makes a separate service (and default router) named
  ``<name>-<FNV-64 of the instance's sorted tags>``, so canaries are not mixed with the others;
- ``<prefix>.consulcatalog.connect=true`` (default ``connectByDefault``) routes to the service's
  Connect sidecar over mutual TLS: its servers are ``https`` and use a servers transport
  ``tls-<namespace>-<datacenter>-<name>`` that presents the proxy's leaf certificate, trusts the
  Connect roots and checks the SPIFFE identity of the service.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final, final

import attrs

from ..._fnv import fnv1_64
from ...errors import Problem
from ..model import (
    ClientCertificate,
    Configuration,
    FrozenMap,
    ServersTransport,
    frozen_tuple,
    merge_configurations,
)
from ._consul_data import CatalogInstance, CatalogService
from ._gotemplate import normalize
from ._labels import DEFAULT_RULE, labels_to_config, tags_to_labels, validate_labelled
from ._labels_container import ContainerInfo, provider_constraint

__all__ = ["DEFAULT_STRICT_CHECKS", "ConnectCertificates", "consul_catalog_to_config"]

#: Traefik's default ``strictChecks``: the statuses of instances that take traffic.
DEFAULT_STRICT_CHECKS: Final = ("passing", "warning")

_TRUE: Final = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE: Final = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_OWN_KEYS: Final = frozenset({"enable", "consulcatalog.canary", "consulcatalog.connect"})


@final
@attrs.frozen(kw_only=True)
class ConnectCertificates:
    """What the proxy presents and trusts as a Consul Connect client.

    Attributes:
        trust_domain: the Connect CA's trust domain (``/v1/connect/ca/roots``, ``TrustDomain``).
        roots: the PEM text of each root certificate (``Roots[].RootCertPEM``).
        cert: the proxy's leaf certificate, PEM (``/v1/agent/connect/ca/leaf/<service>``).
        key: the leaf's private key, PEM.
    """

    trust_domain: str
    roots: tuple[str, ...] = attrs.field(converter=frozen_tuple)
    cert: str
    key: str


def consul_catalog_to_config(
    services: Sequence[CatalogService],
    *,
    prefix: str = "traefik",
    default_rule: str = DEFAULT_RULE,
    exposed_by_default: bool = True,
    constraints: str = "",
    strict_checks: Sequence[str] = DEFAULT_STRICT_CHECKS,
    connect_aware: bool = False,
    connect_by_default: bool = False,
    connect: ConnectCertificates | None = None,
    previous: Configuration | None = None,
) -> tuple[Configuration, tuple[Problem, ...]]:
    """Decode Consul catalog services the way Traefik v2/v3's ``consulCatalog`` provider does.

    Args:
        services: the catalog services with all their instances (healthy or not).
        prefix: the provider's ``prefix``: tags ``<prefix>.<key>=<value>`` configure routing.
        default_rule: the Go template for routers without a rule (``.Name`` is the service).
        exposed_by_default: the provider's ``exposedByDefault``.
        constraints: the provider's ``constraints`` over tags (``Tag(`a`) && !TagRegex(`^b`)``).
        strict_checks: the provider's ``strictChecks``: the health statuses served.
        connect_aware: the provider's ``connectAware``: Connect services are served.
        connect_by_default: the provider's ``connectByDefault``.
        connect: the Connect certificates; a Connect service without them is not served yet
            (Traefik waits for its certificates in the same way).
        previous: the last configuration this provider produced; on a conflict its definition
            keeps serving.

    Returns:
        The merged configuration and every problem (bad tags, skipped Connect services…).

    Raises:
        ConfigError: *default_rule* or *constraints* does not parse.
    """
    constraint = provider_constraint(constraints, kind="tags")
    allowed = {s.lower() for s in strict_checks}
    problems: list[Problem] = []
    # Normalize(node-name-id) → the instance: a later registration of one ID replaces it.
    items: dict[str, _Item] = {}
    for service in services:
        for instance in service.instances:
            name = instance.service or service.name
            where = f"Consul service {name!r} (ID {instance.service_id!r} on {instance.node!r})"
            labels = tags_to_labels(instance.tags, prefix)
            own = {k[len("traefik.") :].lower(): v for k, v in labels.items()}
            flags = {k: own.get(k) for k in _OWN_KEYS}
            enable = _flag(flags["enable"], exposed_by_default, "enable", where, problems)
            if not enable:
                continue
            if constraint is not None and not constraint.matches(instance.tags):
                continue  # pruned by the constraints, as Traefik does (quietly)
            connects = _flag(
                flags["consulcatalog.connect"], connect_by_default, "connect", where, problems
            )
            if connects and not connect_aware:
                problems.append(_warn(where, "a Connect service, not served: connectAware is off"))
                continue
            if "any" not in allowed and instance.status not in allowed:
                continue  # not in strictChecks: no traffic, as Traefik's includesHealthStatus
            canary = _flag(flags["consulcatalog.canary"], False, "canary", where, problems)
            key = normalize(f"{instance.node}-{name}-{instance.service_id}")
            labels = {
                k: v for k, v in labels.items() if k[len("traefik.") :].lower() not in _OWN_KEYS
            }
            if connects:
                routed = _connect_labels(
                    labels,
                    name=name,
                    instance=instance,
                    connect=connect,
                    where=where,
                    problems=problems,
                )
                if routed is None:
                    continue
                labels = routed
            service_name = _service_name(name, instance, canary=canary)
            items[key] = _Item(name, service_name, instance, labels, connects)
    parts: list[tuple[str, Configuration]] = []
    containers: list[ContainerInfo] = []
    for key in sorted(items):  # provider.NameSortedConfigurations
        item = items[key]
        container = ContainerInfo(
            name=key,
            service_name=item.service_name,
            labels=item.labels,
            addresses={"consul": item.instance.address or item.instance.node_address},
            ports=(item.instance.port,) if item.instance.port else (),
            origin="consul",
        )
        containers.append(container)
        config, found = labels_to_config(
            [container],
            default_rule=default_rule,
            syntax="v2",
            template_fields={"Name": item.name},
            check=False,  # the merged result is checked below: items may refer to each other
        )
        problems.extend(found)
        parts.append((key, config))
    merged, conflicts = merge_configurations(parts, previous=previous)
    transports = _connect_transports(items.values(), connect)
    if transports:
        http = attrs.evolve(
            merged.http,
            servers_transports=FrozenMap({**merged.http.servers_transports, **transports}),
        )
        merged = attrs.evolve(merged, http=http)
    checked, found = validate_labelled(merged, containers)
    return checked, (*problems, *conflicts, *found)


@attrs.frozen
class _Item:
    name: str  # the Consul service name
    service_name: str  # the routekit service it feeds (a canary has its own)
    instance: CatalogInstance
    labels: dict[str, str]
    connect: bool


def _service_name(name: str, instance: CatalogInstance, *, canary: bool) -> str:
    """Traefik's ``getName``: a canary gets its own service, by the hash of its sorted tags."""
    if not canary:
        return normalize(name)
    digest = fnv1_64("".join(sorted(instance.tags)).encode())
    return normalize(f"{name}-{digest}")


def _flag(value: str | None, default: bool, what: str, where: str, problems: list[Problem]) -> bool:
    if value is None:
        return default
    if value.strip() in _TRUE:
        return True
    if value.strip() in _FALSE:
        return False
    problems.append(Problem(what, f"not a boolean: {value!r}", where, hint="use true or false"))
    return False  # an instance whose own switches cannot be read is not served


def _warn(where: str, message: str) -> Problem:
    return Problem("", message, where, severity="warning")


def _transport_name(name: str, instance: CatalogInstance) -> str:
    namespace = instance.namespace or "default"
    return normalize(f"tls-{namespace}-{instance.datacenter}-{name}")


def _connect_labels(
    labels: dict[str, str],
    *,
    name: str,
    instance: CatalogInstance,
    connect: ConnectCertificates | None,
    where: str,
    problems: list[Problem],
) -> dict[str, str] | None:
    """The labels of a Connect instance: https servers through its Connect transport."""
    if connect is None:
        problems.append(_warn(where, "a Connect service, not served until the certificates come"))
        return None
    if any(k.lower().startswith(("traefik.tcp.", "traefik.udp.")) for k in labels):
        problems.append(
            Problem(
                "",
                "Consul Connect for TCP or UDP services is not supported by routekit: not served",
                where,
                hint="route it over HTTP, or without Connect",
            )
        )
        return None
    out = dict(labels)
    services = {k.split(".")[3] for k in labels if k.lower().startswith("traefik.http.services.")}
    transport = _transport_name(name, instance)
    for service in services or {normalize(name)}:
        base = f"traefik.http.services.{service}.loadbalancer"
        out[f"{base}.server.scheme"] = "https"
        out[f"{base}.serverstransport"] = transport
    return out


def _connect_transports(
    items: Iterable[_Item], connect: ConnectCertificates | None
) -> dict[str, ServersTransport]:
    """The servers transport of each Connect service (``connectCert.serversTransport``)."""
    if connect is None:
        return {}
    out: dict[str, ServersTransport] = {}
    for item in items:
        if not item.connect:
            continue
        namespace = item.instance.namespace or "default"
        datacenter = item.instance.datacenter
        spiffe = f"spiffe://{connect.trust_domain}/ns/{namespace}/dc/{datacenter}/svc/{item.name}"
        out[_transport_name(item.name, item.instance)] = ServersTransport(
            # Go checks a host name otherwise; the SPIFFE URI is what identifies the peer.
            server_name=f"{namespace}-{datacenter}-{item.name}",
            insecure_skip_verify=True,
            root_cas=connect.roots,
            certificates=(ClientCertificate(cert_file=connect.cert, key_file=connect.key),),
            peer_cert_uri=spiffe,
        )
    return out
