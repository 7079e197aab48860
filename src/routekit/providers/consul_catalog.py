"""`ConsulCatalogProvider`: services registered in Consul's catalog, and their tags.

As Traefik's ``consulCatalog`` provider (v1.7 ``provider/consulcatalog``, v2/v3
``pkg/provider/consulcatalog``): the service list (``GET /v1/catalog/services``) and each
service's instances with their health (``GET /v1/health/service/<name>``) are decoded by
`routekit.config.consul_catalog_to_config` (``traefik.*`` tags, v2/v3) or
`routekit.config.consul_catalog_v1_to_config` (Traefik 1.x tags, ``domain``, ``frontEndRule``).

With ``watch``, the provider waits on two blocking queries at once — the service list and every
check's state (``/v1/health/state/any``) — and reads the catalog again as soon as either index
moves, as Consul's docs describe (https://developer.hashicorp.com/consul/api-docs/features/
blocking): the index is kept per query, a lower index than the last one resets it, a query
that returns with its index unchanged (the ``wait`` ran out) is simply asked again.  Without
``watch``, the catalog is read every ``refresh_interval``.

When the agent cannot be reached, restarts, answers 403 or garbage, the last good configuration
keeps serving, the failure is reported once, and the provider retries with `Backoff`.
"""

from __future__ import annotations

import logging
import math
import urllib.parse
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Final, Literal, final

import anyio
import anyio.abc
import anyio.to_thread
import attrs

from ..config import (
    DEFAULT_FRONTEND_RULE,
    DEFAULT_RULE,
    DEFAULT_STRICT_CHECKS,
    CatalogService,
    Configuration,
    consul_catalog_to_config,
    consul_catalog_v1_to_config,
)
from ..errors import ConfigError, MalformedResponse, Problem, ProviderError
from ..http import Client, UpstreamError
from ._base import Snapshot, check_provider_name
from ._consul_http import ConsulHTTP, newer_index
from ._remote import Backoff, Link, first_failure

if TYPE_CHECKING:
    from ..config import ClientTLS, ConsulCatalogProviderConfig

__all__ = ["ConsulCatalogProvider"]

_log = logging.getLogger("routekit.providers.consulcatalog")

_READ_CONCURRENCY: Final = 8
_INDEX: Final = b"x-consul-index"


@final
@attrs.frozen(kw_only=True)
class _Decode:
    """The provider's options the tag decoders read."""

    syntax: Literal["v1", "v2"]
    prefix: str
    exposed_by_default: bool
    default_rule: str
    constraints: str
    strict_checks: tuple[str, ...]
    domain: str

    def __call__(
        self, services: Sequence[CatalogService], previous: Configuration | None
    ) -> tuple[Configuration, tuple[Problem, ...]]:
        if self.syntax == "v1":
            return consul_catalog_v1_to_config(
                services,
                domain=self.domain,
                prefix=self.prefix,
                frontend_rule=self.default_rule,
                exposed_by_default=self.exposed_by_default,
                strict_checks="warning" not in self.strict_checks,
            )
        return consul_catalog_to_config(
            services,
            prefix=self.prefix,
            default_rule=self.default_rule,
            exposed_by_default=self.exposed_by_default,
            constraints=self.constraints,
            strict_checks=self.strict_checks,
            previous=previous,
        )


@final
class ConsulCatalogProvider:
    """Serve the services of a Consul catalog, following it.

    Args:
        endpoint: the agent's ``host:port`` (Traefik's ``endpoint.address``) or a URL.
        scheme: ``http`` or ``https`` when *endpoint* has none.
        datacenter: the datacenter to read (``?dc=``); the agent's own by default.
        token: the ACL token (sent as ``X-Consul-Token``).
        username: HTTP basic auth in front of the agent (``endpoint.httpAuth``), with *password*.
        password: see *username*.
        tls: TLS to an ``https`` agent.
        prefix: the tag prefix (``traefik``): ``<prefix>.<key>=<value>`` tags configure routing.
        exposed_by_default: serve services without a ``<prefix>.enable=true`` tag.
        default_rule: the rule of routers without one: a Go template (v2/v3; ``.Name`` is the
            service) or, with ``syntax="v1"``, the ``frontEndRule`` template
            (``Host:{{.ServiceName}}.{{.Domain}}``).
        constraints: which services are served: ``Tag(`a`)``, ``TagRegex``, with ``&&``,
            ``||``, ``!`` (v2/v3).
        strict_checks: the health statuses served (``passing``, ``warning``).
        watch: follow the catalog with blocking queries; otherwise read every
            *refresh_interval* seconds.
        refresh_interval: seconds between two reads without *watch*.
        stale: let any server answer (``?stale``), not only the leader.
        syntax: ``v2`` for Traefik v2/v3 tags and defaults, ``v1`` for Traefik 1.x ones.
        domain: v1's ``domain``: the default rule is ``Host:<service>.<domain>``.
        namespace: the Consul Enterprise namespace to read (``?ns=``); the token's own by
            default.
        wait: seconds a blocking query may wait (Consul's ``wait``; at most 600).
        timeout: seconds for each request that does not block.
        retry: the pacing of attempts while the agent is away.
        name: the provider name (elements become ``name@consulcatalog``).

    Raises:
        ConfigError: a bad endpoint, template, constraint, interval or TLS file, or *name*.
    """

    __slots__ = (
        "_api",
        "_decode",
        "_link",
        "_refresh",
        "_retry",
        "_watch",
        "endpoint",
        "name",
    )

    def __init__(
        self,
        endpoint: str = "127.0.0.1:8500",
        *,
        scheme: str = "http",
        datacenter: str = "",
        token: str = "",
        username: str = "",
        password: str = "",
        tls: ClientTLS | None = None,
        prefix: str = "traefik",
        exposed_by_default: bool = True,
        default_rule: str | None = None,
        constraints: str = "",
        strict_checks: Sequence[str] = DEFAULT_STRICT_CHECKS,
        watch: bool = False,
        refresh_interval: float = 15.0,
        stale: bool = False,
        syntax: Literal["v1", "v2"] = "v2",
        domain: str = "",
        namespace: str = "",
        wait: float = 30.0,
        timeout: float = 30.0,
        retry: Backoff | None = None,
        name: str = "consulcatalog",
    ) -> None:
        self.name = check_provider_name(name)
        if not (
            isinstance(refresh_interval, int | float)
            and math.isfinite(refresh_interval)
            and refresh_interval > 0
        ):
            raise ConfigError(f"refresh_interval must be a number > 0, got {refresh_interval!r}")
        self._api = ConsulHTTP(
            endpoint,
            scheme=scheme,
            datacenter=datacenter,
            token=token,
            username=username,
            password=password,
            tls=tls,
            stale=stale,
            namespace=namespace,
            wait=wait,
            timeout=timeout,
        )
        self.endpoint = str(self._api.origin)
        rule = default_rule or (DEFAULT_FRONTEND_RULE if syntax == "v1" else DEFAULT_RULE)
        self._decode = _Decode(
            syntax=syntax,
            prefix=prefix,
            exposed_by_default=exposed_by_default,
            default_rule=rule,
            constraints=constraints,
            strict_checks=tuple(strict_checks),
            domain=domain,
        )
        self._decode([], None)  # a bad template or constraint is refused here
        self._watch = bool(watch)
        self._refresh = float(refresh_interval)
        self._retry = retry if retry is not None else Backoff()
        self._link = Link(self.name, self.endpoint, _log)

    @classmethod
    def from_config(
        cls,
        config: ConsulCatalogProviderConfig,
        *,
        name: str = "consulcatalog",
        namespace: str = "",
    ) -> ConsulCatalogProvider:
        """The provider a static ``[consulCatalog]`` / ``[providers.consulCatalog]`` describes
        (for one of its *namespaces*: `from_static` makes one per namespace)."""
        return cls(
            config.endpoint,
            scheme=config.scheme,
            datacenter=config.datacenter,
            token=config.token,
            username=config.username,
            password=config.password,
            tls=config.tls,
            prefix=config.prefix,
            exposed_by_default=config.exposed_by_default,
            default_rule=config.default_rule or None,
            constraints=config.constraints,
            strict_checks=config.strict_checks,
            watch=config.watch,
            refresh_interval=config.refresh_interval,
            stale=config.stale,
            syntax="v1" if config.syntax == "v1" else "v2",
            domain=config.domain,
            namespace=namespace,
            name=name,
        )

    @property
    def current(self) -> Snapshot:
        """The snapshot served now (empty before the first read)."""
        return self._link.current

    async def snapshot(self) -> Snapshot:
        """Read the catalog now.

        Raises:
            ProviderError: the agent cannot be reached, refuses, or answers what is not
                Consul's API (`MalformedResponse`).
        """
        try:
            async with self._client() as client:
                services, _ = await self._read_all(client)
        except (UpstreamError, OSError) as exc:
            raise ProviderError(f"consulcatalog: {exc}") from exc
        return await self._build(services)

    async def watch(self) -> AsyncIterator[Snapshot]:
        """Yield the catalog's configuration now, then again after each change."""
        while True:
            try:
                async with self._client() as client:
                    services, indexes = await self._read_all(client)
                    yield await self._build(services)
                    self._retry.reset()
                    while True:
                        if self._watch:
                            indexes = await self._wait_change(client, indexes)
                        else:
                            await anyio.sleep(self._refresh)
                        services, fresh = await self._read_all(client)
                        if self._watch:
                            indexes = _newer(indexes, fresh)
                        yield await self._build(services)
            except (ProviderError, UpstreamError, OSError) as exc:
                stale = self._link.failed(exc)
                if stale is not None:
                    yield stale
                await anyio.sleep(self._retry.next())

    # -- Consul's HTTP API --

    def _client(self) -> Client:
        return self._api.client(_READ_CONCURRENCY + 2)

    async def _get(
        self, client: Client, path: str, *, index: int | None = None
    ) -> tuple[int, object]:
        return await self._api.get(client, path, index=index)

    async def _read_all(self, client: Client) -> tuple[list[CatalogService], tuple[int, int]]:
        """Every service with its instances, and the indexes to block on next."""
        services_index, listed = await self._get(client, "/v1/catalog/services")
        if not isinstance(listed, Mapping):
            raise MalformedResponse("consul: /v1/catalog/services: expected an object")
        checks_index = 0
        if self._watch:
            checks_index, _ = await self._get(client, "/v1/health/state/any")
        names = sorted(str(n) for n in listed)
        found: dict[str, CatalogService] = {}

        async def read(part: list[str]) -> None:
            for name in part:
                path = f"/v1/health/service/{urllib.parse.quote(name, safe='')}"
                _, entries = await self._get(client, path)
                if not isinstance(entries, list) or not all(
                    isinstance(e, Mapping) for e in entries
                ):
                    raise MalformedResponse(f"consul: {path}: expected a list of objects")
                try:
                    found[name] = CatalogService.from_health_entries(entries, name=name)
                except MalformedResponse as exc:
                    raise MalformedResponse(f"consul: {path}: {exc}") from None

        with first_failure():
            async with anyio.create_task_group() as tg:
                for n in range(_READ_CONCURRENCY):
                    tg.start_soon(read, names[n::_READ_CONCURRENCY])
        return [found[n] for n in names], (services_index, checks_index)

    async def _wait_change(self, client: Client, indexes: tuple[int, int]) -> tuple[int, int]:
        """Block until the service list or a check changes; the indexes it answered."""
        got = list(indexes)
        paths = ("/v1/catalog/services", "/v1/health/state/any")

        async def block(at: int, tg: anyio.abc.TaskGroup) -> None:
            # Asked again while the wait runs out with nothing new (the same index).
            while (index := (await self._get(client, paths[at], index=indexes[at]))[0]) == (
                indexes[at]
            ):
                pass
            got[at] = index
            tg.cancel_scope.cancel()  # one change is enough: everything is read again

        with first_failure():
            async with anyio.create_task_group() as tg:
                for at in range(2):
                    tg.start_soon(block, at, tg)
        return _newer(indexes, (got[0], got[1]))

    async def _build(self, services: list[CatalogService]) -> Snapshot:
        config, problems = await anyio.to_thread.run_sync(
            self._decode, services, self._link.good.config
        )
        count = sum(len(s.instances) for s in services)
        found = f"{len(services)} services, {count} instances"
        return self._link.served(Snapshot(config, problems), found)

    def __repr__(self) -> str:
        mode = "watching" if self._watch else f"every {self._refresh:g}s"
        return f"<ConsulCatalogProvider {self.name!r} {self.endpoint!r} ({mode})>"


def _newer(old: tuple[int, int], new: tuple[int, int]) -> tuple[int, int]:
    """Consul's index rule for each of the two queries."""
    return newer_index(old[0], new[0]), newer_index(old[1], new[1])
