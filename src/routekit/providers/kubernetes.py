"""`KubernetesIngressProvider`: a cluster's Ingresses, followed as they change.

As Traefik's Kubernetes Ingress provider (https://doc.traefik.io/traefik/providers/kubernetes-ingress/,
``pkg/provider/kubernetes/ingress``): Ingresses, Services, EndpointSlices, Secrets and
IngressClasses are listed, then watched; each change gives a new configuration, made by
`routekit.config.ingress_to_config`.  The Ingresses served get their ``status.loadBalancer``
set from ``ingressEndpoint`` (an IP, a hostname, or the address of a published Service).

Each collection is listed at one resource version and watched from it; a watch resumes from
the last version seen (bookmarks included), and a version the API server no longer has (410
Gone) makes that collection be listed again.  The watches of a round run together until one
of them brings a change; after a short settling time (so that a rollout's burst of
EndpointSlice updates is one change) the configuration is made again and the round starts
again from the versions reached, so nothing that happened in between is missed.

While the API server is away or refuses (401, an RBAC 403), the last configuration keeps
serving, the reason is reported once, and the provider retries with its `Backoff`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, final

import anyio
import anyio.to_thread
import attrs

from ..config import ClusterState, IngressOptions, ingress_to_config, object_key
from ..errors import ConfigError, MalformedResponse, ProviderError
from ..http import Client, UpstreamError
from ._base import Snapshot, check_provider_name
from ._kube_api import RESOURCES, SERVICE_ACCOUNT, Credentials, Gone, KubeClient, Resource
from ._remote import Backoff, Link, first_failure

if TYPE_CHECKING:
    from ..config import KubernetesProviderConfig

__all__ = ["IngressEndpoint", "KubernetesIngressProvider", "check_label_selector"]

_log = logging.getLogger("routekit.providers.kubernetes")

#: How long the watches of a round keep reading after the first change, to take a burst in.
_SETTLE: Final = 0.05
#: A watch the API server keeps open this long (spread up to twice as long) is opened again.
_WATCH_SECONDS: Final = 300
#: Secrets Helm owns (release records) are never TLS certificates: left out, as Traefik does.
_SECRETS_SELECTOR: Final = "owner!=helm"
_KEY: Final = r"[A-Za-z0-9][A-Za-z0-9._/-]*"
_VALUE: Final = r"[A-Za-z0-9._-]*"
_SELECTOR_PART: Final = re.compile(
    rf"""^\s*(?:
        !?\s*{_KEY}                                                # key, !key
      | {_KEY}\s*(?:==|=|!=)\s*{_VALUE}                           # key=value, key!=value
      | {_KEY}\s+(?:in|notin)\s*\(\s*{_VALUE}(?:\s*,\s*{_VALUE})*\s*\)  # key in (a, b)
    )\s*$""",
    re.VERBOSE,
)


def check_label_selector(text: str) -> str:
    """*text* if it is a Kubernetes label selector, else `ConfigError`."""
    depth, parts, current = 0, [], ""
    for c in text:
        depth += (c == "(") - (c == ")")
        if c == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += c
    parts.append(current)
    if text.strip() and not all(_SELECTOR_PART.match(p) for p in parts):
        raise ConfigError(f"kubernetes: invalid ingress label selector: {text!r}")
    return text


@final
@attrs.frozen(kw_only=True)
class IngressEndpoint:
    """What the served Ingresses' status says they are reached at (Traefik's
    ``ingressEndpoint``): *ip* and/or *hostname*, or the address of *published_service*
    (``namespace/name``: a LoadBalancer's ingress, a ClusterIP's external IPs, an
    ExternalName's name)."""

    ip: str = ""
    hostname: str = ""
    published_service: str = ""

    def __attrs_post_init__(self) -> None:
        if not (self.ip or self.hostname or self.published_service):
            raise ConfigError("kubernetes: ingressEndpoint needs publishedService, ip or hostname")
        if self.published_service and self.published_service.count("/") != 1:
            raise ConfigError(
                "kubernetes: ingressEndpoint.publishedService must be 'namespace/service', got "
                f"{self.published_service!r}"
            )


@final
@attrs.frozen
class _Stream:
    field: str  # a ClusterState field
    resource: Resource
    namespace: str | None
    selector: str = ""

    @property
    def path(self) -> str:
        return self.resource.path(self.namespace)


@final
class KubernetesIngressProvider:
    """The routers, services and certificates of a cluster's Ingresses.

    Args:
        endpoint: the API server's URL, outside a cluster (inside, the service's address).
        token: a bearer token, or a file holding one.
        cert_auth_file_path: the CA file of the API server's certificate.
        kubeconfig: a kubeconfig file (``KUBECONFIG`` by default), used outside a cluster.
        namespaces: the namespaces followed (all when empty).
        label_selector: only the Ingresses with these labels (``app=web,tier!=dev``).
        ingress_class: serve only this class (see `routekit.config.IngressOptions`).
        ingress_endpoint: what to write in the served Ingresses' status (``None``: nothing).
        throttle_duration: seconds between two configurations of this provider (``None``:
            the watcher's ``providersThrottleDuration``).
        allow_empty_services: keep services without endpoints.
        allow_external_name_services: serve ExternalName services.
        native_lb_by_default: balance to cluster IPs, not to the endpoints.
        strict_prefix_matching: ``Prefix`` paths match whole path elements.
        disable_ingress_class_lookup: do not read IngressClasses (cluster-scoped).
        disable_cluster_scope_resources: read no cluster-scoped object at all.
        cross_provider_namespaces: the namespaces allowed to refer to other providers'
            middlewares, TLS options and transports (``None``: all).
        watch: follow changes; ``False`` reads once.
        timeout: seconds allowed for connecting and for each answer (watches excepted).
        retry: pacing of the retries while the API server cannot be read.
        name: the provider's name (``kubernetes``, as Traefik's).
        service_account: where a pod's service account is mounted.
        environ: the environment that says whether this runs in a pod (``os.environ``).

    Raises:
        ConfigError: an option is invalid, or nothing says where the API server is.
    """

    def __init__(
        self,
        endpoint: str = "",
        *,
        token: str = "",
        cert_auth_file_path: str = "",
        kubeconfig: str | None = None,
        namespaces: Sequence[str] = (),
        label_selector: str = "",
        ingress_class: str = "",
        ingress_endpoint: IngressEndpoint | None = None,
        throttle_duration: float | None = None,
        allow_empty_services: bool = False,
        allow_external_name_services: bool = False,
        native_lb_by_default: bool = False,
        strict_prefix_matching: bool = False,
        disable_ingress_class_lookup: bool = False,
        disable_cluster_scope_resources: bool = False,
        cross_provider_namespaces: Sequence[str] | None = None,
        watch: bool = True,
        timeout: float = 30.0,
        retry: Backoff | None = None,
        name: str = "kubernetes",
        service_account: Path = SERVICE_ACCOUNT,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.name = check_provider_name(name)
        self.namespaces = tuple(namespaces)
        self.label_selector = check_label_selector(label_selector)
        self.ingress_endpoint = ingress_endpoint
        self.throttle_duration = throttle_duration or None
        self.credentials = Credentials.find(
            endpoint=endpoint,
            token=token,
            ca_file=cert_auth_file_path,
            kubeconfig=kubeconfig,
            service_account=service_account,
            environ=environ,
        )
        self._api = KubeClient(self.credentials, timeout=float(timeout))
        lookup = not (disable_ingress_class_lookup or disable_cluster_scope_resources)
        self.options = IngressOptions(
            ingress_class=ingress_class,
            ingress_class_lookup=lookup,
            allow_empty_services=allow_empty_services,
            allow_external_name_services=allow_external_name_services,
            native_lb_by_default=native_lb_by_default,
            strict_prefix_matching=strict_prefix_matching,
            cross_provider_namespaces=(
                None if cross_provider_namespaces is None else tuple(cross_provider_namespaces)
            ),
        )
        self._streams = self._plan(lookup)
        self._watch = bool(watch)
        self._retry = retry if retry is not None else Backoff()
        self._link = Link(self.name, self.credentials.server, _log)
        self._objects: dict[_Stream, dict[tuple[str, str], Mapping[str, Any]]] = {}
        self._versions: dict[_Stream, str] = {}
        self._shown: Snapshot | None = None
        self._status_failures: dict[tuple[str, str], str] = {}

    @classmethod
    def from_config(cls, config: KubernetesProviderConfig) -> KubernetesIngressProvider:
        """The provider a static ``[providers.kubernetesIngress]`` section describes."""
        endpoint = None
        if config.ingress_endpoint is not None:
            e = config.ingress_endpoint
            endpoint = IngressEndpoint(
                ip=e.ip, hostname=e.hostname, published_service=e.published_service
            )
        return cls(
            config.endpoint,
            token=config.token,
            cert_auth_file_path=config.cert_auth_file_path,
            namespaces=config.namespaces,
            label_selector=config.label_selector,
            ingress_class=config.ingress_class,
            ingress_endpoint=endpoint,
            throttle_duration=config.throttle_duration or None,
            allow_empty_services=config.allow_empty_services,
            allow_external_name_services=config.allow_external_name_services,
            native_lb_by_default=config.native_lb_by_default,
            strict_prefix_matching=config.strict_prefix_matching,
            disable_ingress_class_lookup=config.disable_ingress_class_lookup,
            disable_cluster_scope_resources=config.disable_cluster_scope_resources,
            cross_provider_namespaces=config.cross_provider_namespaces,
        )

    def _plan(self, cluster_scoped: bool) -> tuple[_Stream, ...]:
        spaces: Sequence[str | None] = self.namespaces or (None,)
        streams = []
        for field in ("ingresses", "services", "endpoint_slices", "secrets"):
            selector = {"ingresses": self.label_selector, "secrets": _SECRETS_SELECTOR}.get(
                field, ""
            )
            streams += [_Stream(field, RESOURCES[field], ns, selector) for ns in spaces]
        if cluster_scoped:
            streams.append(_Stream("ingress_classes", RESOURCES["ingress_classes"], None))
        return tuple(streams)

    # -- the provider protocol --

    async def snapshot(self) -> Snapshot:
        """List everything once and return the configuration."""
        async with self._api.client() as client:
            await self._list_all(client)
            return await self._build(client)

    async def watch(self) -> AsyncIterator[Snapshot]:
        """Yield the Ingresses' configuration now, then again after each change."""
        while True:
            try:
                watches = self._api.client(watch=_WATCH_SECONDS * 2 + 30)
                async with self._api.client() as client, watches:
                    await self._list_all(client)
                    self._shown = await self._build(client)
                    yield self._shown
                    self._retry.reset()
                    if not self._watch:
                        return
                    while True:
                        await self._next_change(client, watches)
                        snapshot = await self._build(client)
                        if snapshot != self._shown:
                            self._shown = snapshot
                            yield snapshot
            except (ProviderError, UpstreamError, OSError) as exc:
                stale = self._link.failed(exc)
                if stale is not None:
                    self._shown = stale
                    yield stale
                await anyio.sleep(self._retry.next())

    # -- reading --

    async def _list_all(self, client: Client) -> None:
        with first_failure():
            async with anyio.create_task_group() as tg:
                for stream in self._streams:
                    tg.start_soon(self._list, client, stream)

    async def _list(self, client: Client, stream: _Stream) -> None:
        items, version = await self._api.collection(client, stream.path, stream.selector)
        found: dict[tuple[str, str], Mapping[str, Any]] = {}
        for item in items:
            try:
                found[object_key(item)] = item
            except ValueError:
                raise MalformedResponse(
                    f"kubernetes: {stream.path}: an item without metadata.name"
                ) from None
        self._objects[stream] = found
        self._versions[stream] = version

    async def _next_change(self, client: Client, watches: Client) -> None:
        """Follow every collection until one changes (and a moment more)."""
        changed = anyio.Event()

        async def follow(stream: _Stream) -> None:
            while True:
                try:
                    events = self._api.watch(
                        watches, stream.path, self._versions[stream], stream.selector,
                        seconds=_WATCH_SECONDS,
                    )  # fmt: skip
                    async with aclosing(events):
                        async for batch in events:
                            if self._apply(stream, batch):
                                changed.set()
                except Gone:
                    _log.debug("%s: %s: listed again (410 Gone)", self.name, stream.path)
                    await self._list(client, stream)
                    changed.set()

        with first_failure():
            async with anyio.create_task_group() as tg:
                for stream in self._streams:
                    tg.start_soon(follow, stream)
                await changed.wait()
                await anyio.sleep(_SETTLE)
                tg.cancel_scope.cancel()

    def _apply(self, stream: _Stream, batch: Sequence[tuple[str, Mapping[str, Any]]]) -> bool:
        objects = self._objects[stream]
        changed = False
        for kind, obj in batch:
            meta = obj.get("metadata")
            version = meta.get("resourceVersion") if isinstance(meta, Mapping) else None
            if isinstance(version, str) and version:
                self._versions[stream] = version
            if kind == "BOOKMARK":
                continue
            try:
                key = object_key(obj)
            except ValueError:
                raise MalformedResponse(
                    f"kubernetes: {stream.path}: a {kind} event without metadata.name"
                ) from None
            if kind == "DELETED":
                changed |= objects.pop(key, None) is not None
            else:
                changed |= objects.get(key) != obj
                objects[key] = obj
        return changed

    # -- the configuration, and the status --

    def _state(self) -> ClusterState:
        groups: dict[str, list[Mapping[str, Any]]] = {}
        for stream in self._streams:
            groups.setdefault(stream.field, []).extend(self._objects.get(stream, {}).values())
        return ClusterState(**groups)

    async def _build(self, client: Client) -> Snapshot:
        state = self._state()
        result = await anyio.to_thread.run_sync(ingress_to_config, state, self.options)
        if self.ingress_endpoint is not None:
            await self._write_status(client, state, result.served)
        found = (
            f"{len(result.served)} ingresses, {len(result.config.http.routers)} routers, "
            f"{len(result.config.http.services)} services"
        )
        return self._link.served(Snapshot(result.config, result.problems), found)

    async def _write_status(
        self, client: Client, state: ClusterState, served: Sequence[tuple[str, str]]
    ) -> None:
        assert self.ingress_endpoint is not None
        try:
            wanted = self._wanted_status(state)
        except ProviderError as exc:
            self._status_failed(("", ""), str(exc))
            return
        if wanted is None:
            return
        ingresses = {object_key(i): i for i in state.ingresses}
        for key in served:
            current = _lb_ingress(ingresses[key])
            if _same_addresses(current, wanted):
                continue
            path = RESOURCES["ingresses"].path(key[0]) + "/" + key[1]
            try:
                await self._api.patch_status(client, path, {"loadBalancer": {"ingress": wanted}})
            except (ProviderError, UpstreamError) as exc:
                self._status_failed(key, str(exc))
            else:
                _log.info("%s: ingress %s/%s: status updated", self.name, *key)
                self._status_failures.pop(key, None)

    def _status_failed(self, key: tuple[str, str], why: str) -> None:
        if self._status_failures.get(key) != why:  # once per cause, not once per round
            what = f"ingress {key[0]}/{key[1]}" if key[1] else "ingressEndpoint"
            _log.warning("%s: %s: the status cannot be written: %s", self.name, what, why)
        self._status_failures[key] = why

    def _wanted_status(self, state: ClusterState) -> list[dict[str, Any]] | None:
        """The ``status.loadBalancer.ingress`` to write; ``None`` when not known yet."""
        endpoint = self.ingress_endpoint
        assert endpoint is not None
        if not endpoint.published_service:
            one = {k: v for k, v in (("ip", endpoint.ip), ("hostname", endpoint.hostname)) if v}
            return [one]
        namespace, name = endpoint.published_service.split("/")
        service = next((s for s in state.services if object_key(s) == (namespace, name)), None)
        if service is None:
            raise ProviderError(f"the published service {namespace}/{name} is not found")
        found_spec = service.get("spec")
        spec: Mapping[str, Any] = found_spec if isinstance(found_spec, Mapping) else {}
        kind = spec.get("type", "ClusterIP")
        if kind == "LoadBalancer":
            found = _lb_ingress(service)
            return found or None  # no address given to it yet
        if kind == "ClusterIP":
            ports = [
                {"port": p.get("port"), "protocol": p.get("protocol", "TCP")}
                for p in spec.get("ports") or []
                if isinstance(p, Mapping)
            ]
            return [{"ip": ip, "ports": ports} for ip in spec.get("externalIPs") or []]
        if kind == "ExternalName":
            return [{"hostname": spec.get("externalName", "")}]
        raise ProviderError(
            f"the published service {namespace}/{name} is of type {kind}: routekit writes the "
            "status from LoadBalancer, ClusterIP and ExternalName services"
        )

    def __repr__(self) -> str:
        mode = "watching" if self._watch else "read once"
        return f"<KubernetesIngressProvider {self.name!r} {self.credentials.server!r} ({mode})>"


def _lb_ingress(obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    status = obj.get("status")
    lb = status.get("loadBalancer") if isinstance(status, Mapping) else None
    found = lb.get("ingress") if isinstance(lb, Mapping) else None
    return [dict(x) for x in found if isinstance(x, Mapping)] if isinstance(found, list) else []


def _same_addresses(a: Sequence[Mapping[str, Any]], b: Sequence[Mapping[str, Any]]) -> bool:
    # As Traefik compares them (isLoadBalancerIngressEquals): the hostname+IP of each entry.
    def keys(items: Sequence[Mapping[str, Any]]) -> set[str]:
        return {f"{i.get('hostname', '')}{i.get('ip', '')}" for i in items}

    return len(a) == len(b) and keys(a) == keys(b)
