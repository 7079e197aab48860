"""`DockerProvider`: containers and their ``traefik.*`` labels, read from the Docker Engine API.

As Traefik's docker provider (``pkg/provider/docker/pdocker.go``): the engine is asked for every
container (``GET /containers/json?all=1``) and each is inspected; the labels (v1 or v2/v3) are
decoded by `routekit.config.labels_to_config`.  With ``watch``, the provider follows
``GET /events`` and re-inspects the containers an event names — a start, a death, a health
change, a pause, a rename, a network connection — so a change costs one inspect, not a re-list.
The event stream is opened *before* the list, so nothing that happens during the list is missed.

When the engine cannot be reached, restarts, or answers what the Engine API does not document,
the last good configuration keeps serving, the failure is reported once (log and problem), and
the provider tries again with `Backoff`; on reconnect it lists everything again.

All HTTP goes through `routekit.http.Client`, over the unix socket or TCP (with TLS).
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from typing import TYPE_CHECKING, Final, NoReturn, final

import anyio
import anyio.to_thread
import attrs

from ..config import (
    DEFAULT_RULE,
    Configuration,
    ContainerInfo,
    DockerContainer,
    docker_container,
    labels_to_config,
)
from ..errors import ConfigError, MalformedResponse, Problem, ProviderError
from ..http import (
    Client,
    ClientResponse,
    Origin,
    PoolLimits,
    UpstreamError,
    UpstreamTimeout,
)
from ._base import Snapshot, check_provider_name
from ._remote import Backoff, Link, first_failure, json_lines, read_json, tls_context

if TYPE_CHECKING:
    from ..config import ClientTLS, DockerProviderConfig

__all__ = ["DockerProvider"]

_log = logging.getLogger("routekit.providers.docker")

#: The newest Engine API version routekit speaks, and the oldest it accepts (Docker 1.12).
API_VERSION: Final = (1, 43)
MIN_API_VERSION: Final = (1, 24)
# Container events that change what is served (Traefik acts on start, die and health_status;
# a pause, a rename or a removal change it as well).
_ACTIONS: Final = frozenset({"start", "die", "stop", "pause", "unpause", "rename", "destroy"})
_NETWORK_ACTIONS: Final = frozenset({"connect", "disconnect"})
_EVENT_FILTER: Final = json.dumps({"type": ["container", "network"]}, separators=(",", ":"))
# How many inspects run at once while listing (one connection each).
_INSPECT_CONCURRENCY: Final = 8
# A quiet engine sends nothing on /events; after this long the stream is opened again (with a
# re-list), which also notices a peer that vanished without closing the connection.
_EVENTS_IDLE: Final = 300.0


def _api_version(text: str) -> tuple[int, int] | None:
    major, _, minor = text.strip().partition(".")
    if not (major.isdigit() and minor.isdigit()):
        return None
    return int(major), int(minor)


@final
class DockerProvider:
    """Serve the containers of a Docker engine, following its events.

    Args:
        endpoint: ``unix:///var/run/docker.sock``, ``tcp://host:2375`` (``https`` with *tls*)
            or an ``http(s)://`` URL.
        domain: v1's ``domain``: the default rule is ``Host:<container>.<domain>``.
        exposed_by_default: serve containers without ``traefik.enable=true``.
        default_rule: the Go template for v2/v3 routers without a rule.
        constraints: which containers are served: ``Label(`k`, `v`)``, ``LabelRegex``, with
            ``&&``, ``||``, ``!``.
        network: the network whose address is used (``traefik.docker.network`` overrides).
        use_bind_port_ip: reach containers at the host address their port is published on.
        allow_empty_services: keep the routers of a container that is not healthy (503).
        watch: follow the engine's events; with ``False``, one snapshot and the end.
        tls: TLS to a ``tcp://`` endpoint.
        timeout: seconds for each request to the engine.
        retry: the pacing of attempts while the engine is away.
        name: the provider name (elements become ``name@docker``).

    Raises:
        ConfigError: a bad endpoint, template, constraint or TLS file, or a bad *name*.
    """

    __slots__ = (
        "_client_tls",
        "_containers",
        "_link",
        "_options",
        "_origin",
        "_retry",
        "_timeout",
        "_version",
        "_watch",
        "endpoint",
        "name",
    )

    def __init__(
        self,
        endpoint: str = "unix:///var/run/docker.sock",
        *,
        domain: str = "",
        exposed_by_default: bool = True,
        default_rule: str = DEFAULT_RULE,
        constraints: str = "",
        network: str = "",
        use_bind_port_ip: bool = False,
        allow_empty_services: bool = False,
        watch: bool = True,
        tls: ClientTLS | None = None,
        timeout: float = 30.0,
        retry: Backoff | None = None,
        name: str = "docker",
    ) -> None:
        self.name = check_provider_name(name)
        self.endpoint = endpoint
        self._origin = _origin(endpoint, tls is not None)
        self._client_tls = tls_context(tls, "docker provider tls")
        self._options = _Options(
            domain=domain,
            exposed_by_default=exposed_by_default,
            default_rule=default_rule,
            constraints=constraints,
            network=network or None,
            use_bind_port_ip=use_bind_port_ip,
            allow_empty_services=allow_empty_services,
        )
        self._options.decode([], None)  # a bad template or constraint is refused here
        self._watch = bool(watch)
        self._timeout = float(timeout)
        self._retry = retry if retry is not None else Backoff()
        self._link = Link(self.name, endpoint, _log)
        self._containers: dict[str, DockerContainer] = {}
        self._version = ""

    @classmethod
    def from_config(cls, config: DockerProviderConfig, *, name: str = "docker") -> DockerProvider:
        """The provider a static ``[docker]`` / ``[providers.docker]`` section describes.

        Raises:
            ConfigError: the section asks for ``swarmMode``, which routekit does not follow.
        """
        if config.swarm_mode:
            # Swarm services are listed through /services and /tasks, with virtual IPs: a
            # different provider (Traefik v3 has providers.swarm).  Reading only this node's
            # containers instead would quietly serve a part of each service.
            raise ConfigError(
                "docker: swarmMode is not supported; routekit's docker provider follows the "
                "containers of one engine (remove swarmMode, or run one gateway per node)"
            )
        return cls(
            config.endpoint,
            domain=config.domain,
            exposed_by_default=config.exposed_by_default,
            default_rule=config.default_rule or DEFAULT_RULE,
            constraints=config.constraints,
            network=config.network,
            use_bind_port_ip=config.use_bind_port_ip,
            allow_empty_services=config.allow_empty_services,
            watch=config.watch,
            tls=config.tls,
            timeout=config.http_client_timeout or 30.0,
            name=name,
        )

    @property
    def current(self) -> Snapshot:
        """The snapshot served now (empty before the first read)."""
        return self._link.current

    @property
    def containers(self) -> Mapping[str, DockerContainer]:
        """The containers known now, by id."""
        return dict(self._containers)

    async def snapshot(self) -> Snapshot:
        """List and inspect every container now.

        Raises:
            ProviderError: the engine cannot be reached or answers what is not the Engine API
                (`MalformedResponse`).
        """
        try:
            async with self._client() as client:
                await self._negotiate(client)
                await self._list(client)
        except (UpstreamError, OSError) as exc:
            raise ProviderError(f"docker: {exc}") from exc
        return await self._build()

    async def watch(self) -> AsyncIterator[Snapshot]:
        """Yield the containers' configuration now, then again after each change.

        While the engine is away, the snapshot keeps the last good configuration and says why
        (once per outage); the provider retries with its `Backoff` and lists again on return.
        """
        while True:
            try:
                async with self._client() as client, self._client(events=True) as stream:
                    await self._negotiate(client)
                    events = await self._events(stream) if self._watch else None
                    try:
                        await self._list(client)
                        yield await self._build()
                        self._retry.reset()
                        if events is None:
                            return
                        lines = json_lines(events.iter_bytes(), "docker: /events")
                        async with aclosing(lines):
                            while (batch := await _next_batch(lines)) is not None:
                                if await self._apply_events(client, batch):
                                    yield await self._build()
                    finally:
                        if events is not None:
                            await events.aclose()
                if batch is _QUIET:
                    continue  # a quiet engine: the stream is opened again, and all listed again
                raise ProviderError("the event stream ended")
            except (ProviderError, UpstreamError, OSError) as exc:
                stale = self._link.failed(exc)
                if stale is not None:
                    yield stale
                await anyio.sleep(self._retry.next())

    # -- the Engine API --

    def _client(self, *, events: bool = False) -> Client:
        read = _EVENTS_IDLE if events else self._timeout
        limits = PoolLimits(
            per_origin=_INSPECT_CONCURRENCY,
            connect=self._timeout,
            read=read,
            write=self._timeout,
            pool=self._timeout,
        )
        return Client(limits, ssl_context=self._client_tls)

    async def _get(self, client: Client, path: str, *, versioned: bool = True) -> ClientResponse:
        target = f"/v{self._version}{path}" if versioned else path
        return await client.request(
            "GET",
            str(self._origin) + target,
            origin=self._origin,
            target=target,
            headers=[(b"host", b"docker"), (b"accept", b"application/json")],
        )

    async def _json(self, client: Client, path: str) -> object:
        response = await self._get(client, path)
        if response.status != 200:
            await _refuse(response, path)
        return await read_json(response, f"docker: {path}")

    async def _negotiate(self, client: Client) -> None:
        """The API version both sides speak (Docker's negotiation: the lower of the two)."""
        response = await self._get(client, "/_ping", versioned=False)
        await response.read()
        server = None
        for key, value in response.headers:
            if key.lower() == b"api-version":
                server = _api_version(value.decode("latin-1"))
        if response.status != 200 or server is None:
            raise MalformedResponse(
                f"docker: /_ping answered {response.status} without an API-Version header: "
                "not a Docker engine?"
            )
        if server < MIN_API_VERSION:
            raise ProviderError(f"docker: the engine's API {server[0]}.{server[1]} is too old")
        chosen = min(server, API_VERSION)
        self._version = f"{chosen[0]}.{chosen[1]}"

    async def _events(self, client: Client) -> ClientResponse:
        path = "/events?filters=" + urllib.parse.quote(_EVENT_FILTER)
        response = await self._get(client, path)
        if response.status != 200:
            await _refuse(response, "/events")
        return response

    async def _list(self, client: Client) -> None:
        listed = await self._json(client, "/containers/json?all=1")
        if not isinstance(listed, list):
            raise MalformedResponse("docker: /containers/json: expected a list")
        ids = []
        for item in listed:
            ident = item.get("Id") if isinstance(item, Mapping) else None
            if not isinstance(ident, str) or not ident:
                raise MalformedResponse(
                    f"docker: /containers/json: an item without Id: {item!r:.80}"
                )
            ids.append(ident)
        found: dict[str, DockerContainer] = {}

        async def inspect_all(part: list[str]) -> None:
            for ident in part:
                container = await self._inspect(client, ident)
                if container is not None:
                    found[ident] = container

        with first_failure():
            async with anyio.create_task_group() as tg:
                for n in range(_INSPECT_CONCURRENCY):
                    tg.start_soon(inspect_all, ids[n::_INSPECT_CONCURRENCY])
        self._containers = {i: found[i] for i in ids if i in found}

    async def _inspect(self, client: Client, ident: str) -> DockerContainer | None:
        """The container *ident*, or ``None`` when it is gone."""
        path = f"/containers/{urllib.parse.quote(ident, safe='')}/json"
        response = await self._get(client, path)
        if response.status == 404:
            await response.read()
            return None
        if response.status != 200:
            await _refuse(response, path)
        return docker_container(await read_json(response, f"docker: {path}"))

    async def _apply_events(self, client: Client, batch: list[object]) -> bool:
        """Re-inspect the containers a batch of events names; whether anything changed."""
        touched: dict[str, None] = {}
        for event in batch:
            ident = _event_container(event)
            if ident is not None:
                touched[ident] = None
        changed = False
        for ident in touched:
            container = await self._inspect(client, ident)
            if container is None:
                changed |= self._containers.pop(ident, None) is not None
            elif self._containers.get(ident) != container:
                self._containers[ident] = container
                changed = True
        return changed

    async def _build(self) -> Snapshot:
        containers = list(self._containers.values())
        config, problems = await anyio.to_thread.run_sync(self._decode, containers)
        found = f"API {self._version}, {len(containers)} containers"
        return self._link.served(Snapshot(config, problems), found)

    def _decode(
        self, containers: list[DockerContainer]
    ) -> tuple[Configuration, tuple[Problem, ...]]:
        by_ref = {c.id: c for c in containers} | {c.info.name: c for c in containers}
        infos = []
        for c in containers:
            joined = c.joined
            if joined is not None:
                # ``container:<id>`` shares another container's network: its addresses.
                other = by_ref.get(joined) or next(
                    (o for i, o in by_ref.items() if i.startswith(joined)), None
                )
                if other is not None:
                    infos.append(attrs.evolve(c.info, addresses=other.info.addresses))
                    continue
            infos.append(c.info)
        return self._options.decode(infos, self._link.good.config)

    def __repr__(self) -> str:
        mode = "watching" if self._watch else "once"
        count = len(self._containers)
        return f"<DockerProvider {self.name!r} {self.endpoint!r} ({mode}, {count} containers)>"


@final
@attrs.frozen(kw_only=True)
class _Options:
    """The provider's options the label decoder reads."""

    domain: str
    exposed_by_default: bool
    default_rule: str
    constraints: str
    network: str | None
    use_bind_port_ip: bool
    allow_empty_services: bool

    def decode(
        self, containers: list[ContainerInfo], previous: Configuration | None
    ) -> tuple[Configuration, tuple[Problem, ...]]:
        return labels_to_config(
            containers,
            domain=self.domain,
            exposed_by_default=self.exposed_by_default,
            default_rule=self.default_rule,
            constraints=self.constraints,
            network=self.network,
            use_bind_port_ip=self.use_bind_port_ip,
            allow_empty_services=self.allow_empty_services,
            previous=previous,
        )


def _origin(endpoint: str, tls: bool) -> Origin:
    parts = urllib.parse.urlsplit(endpoint)
    if parts.scheme == "tcp":
        endpoint = ("https" if tls else "http") + endpoint[3:]
    try:
        return Origin.from_url(endpoint)
    except UpstreamError:
        raise ConfigError(
            f"docker endpoint {endpoint!r}: expected unix:///path, tcp://host:port or a URL"
        ) from None


_QUIET: Final[list[object]] = []


async def _next_batch(lines: AsyncGenerator[list[object], None]) -> list[object] | None:
    """The next batch of events; ``None`` when the stream ended, `_QUIET` after a long silence."""
    try:
        return await anext(lines)
    except StopAsyncIteration:
        return None
    except UpstreamTimeout:
        return _QUIET


def _event_container(event: object) -> str | None:
    """The id of the container an event concerns, when it can change what is served."""
    if not isinstance(event, Mapping):
        raise MalformedResponse(f"docker: /events: expected objects, got {event!r:.80}")
    kind = event.get("Type")
    action = event.get("Action")
    actor = event.get("Actor")
    if not isinstance(action, str) or not isinstance(actor, Mapping):
        raise MalformedResponse(
            f"docker: /events: an event without Action and Actor: {event!r:.80}"
        )
    if kind == "network":
        attributes = actor.get("Attributes")
        ident = attributes.get("container") if isinstance(attributes, Mapping) else None
        return ident if action in _NETWORK_ACTIONS and isinstance(ident, str) else None
    if action in _ACTIONS or action.startswith("health_status"):
        ident = actor.get("ID")
        return ident if isinstance(ident, str) and ident else None
    return None


async def _refuse(response: ClientResponse, path: str) -> NoReturn:
    body = await response.read()
    message = body[:200].decode("utf-8", "replace").strip()
    raise ProviderError(f"docker: {path} answered {response.status}: {message}")
