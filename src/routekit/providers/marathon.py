"""`MarathonProvider`: the labels of a Marathon cluster's applications, followed as tasks come
and go.

As Traefik's Marathon provider (Traefik 2's ``pkg/provider/marathon``; 1.7's
``provider/marathon``): the applications are read with their tasks, deployments and readiness
results (``GET /v2/apps?embed=apps.tasks&embed=apps.deployments&embed=apps.readiness``) and
decoded by `routekit.config.marathon_to_config`; with ``watch``, Marathon's event bus
(``GET /v2/events``, server-sent events) says when to read them again — a task's status, a
health check result, a deployment step.  The event stream is opened before the applications
are read, so no change in between is missed.

Several Marathon masters can be listed (``http://m1:8080,http://m2:8080``): when one cannot be
reached the next is used.  While none answers, the last configuration keeps serving, the reason
is reported once, and the provider retries with its `Backoff`.
"""

from __future__ import annotations

import base64
import logging
import urllib.parse
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Final, final

import anyio
import anyio.to_thread

from ..config import DEFAULT_RULE, marathon_to_config
from ..errors import ConfigError, MalformedResponse, ProviderError
from ..http import Client, ClientResponse, PoolLimits, UpstreamError
from ._base import Snapshot, check_provider_name
from ._remote import MAX_LINE, Backoff, Link, read_json, tls_context

if TYPE_CHECKING:
    from ..config import ClientTLS, MarathonProviderConfig

__all__ = ["MARATHON_EVENTS", "MarathonProvider"]

_log = logging.getLogger("routekit.providers.marathon")

#: The events that can change what is served (go-marathon's EventIDApplications and the
#: health and deployment events Traefik subscribes to).
MARATHON_EVENTS: Final = (
    "status_update_event",
    "health_status_changed_event",
    "instance_health_changed_event",
    "api_post_event",
    "app_terminated_event",
    "failed_health_check_event",
    "add_health_check_event",
    "remove_health_check_event",
    "deployment_success",
    "deployment_failed",
    "deployment_info",
    "deployment_step_success",
    "deployment_step_failure",
)
_APPS: Final = "/v2/apps?embed=apps.tasks&embed=apps.deployments&embed=apps.readiness"
#: A stream silent this long is opened again (and everything read again).
_EVENTS_IDLE: Final = 600.0
#: After a change, events that follow within this time are taken in by the same read.
_SETTLE: Final = 0.05


@final
class MarathonProvider:
    """The routers and services of a Marathon cluster's labelled applications.

    Args:
        endpoint: the Marathon masters, ``http(s)://host:port``, comma-separated.
        default_rule: the Go template for routers without a rule (``.Name`` is the app ID).
        exposed_by_default: serve applications without ``traefik.enable``.
        constraints: ``Label``, ``LabelRegex``, ``MarathonConstraint`` expressions.
        domain: v1 labels' default rule is ``Host:<app>.<domain>``.
        force_task_hostname: a task's server is its agent's host, not its IP.
        respect_readiness_checks: leave out tasks a deployment has not found ready.
        basic_auth: ``(user, password)`` for Marathon's HTTP basic authentication.
        dcos_token: a DC/OS token (sent as ``Authorization: token=…``).
        tls: TLS to ``https`` masters.
        watch: follow the event bus; ``False`` reads once.
        timeout: seconds for connecting and for each answer (the event stream excepted).
        retry: pacing of the retries while no master answers.
        name: the provider's name (``marathon``).

    Raises:
        ConfigError: a bad endpoint, template, constraint or TLS file.
    """

    def __init__(
        self,
        endpoint: str = "http://127.0.0.1:8080",
        *,
        default_rule: str = DEFAULT_RULE,
        exposed_by_default: bool = True,
        constraints: str = "",
        domain: str = "",
        force_task_hostname: bool = False,
        respect_readiness_checks: bool = False,
        basic_auth: tuple[str, str] | None = None,
        dcos_token: str = "",
        tls: ClientTLS | None = None,
        watch: bool = True,
        timeout: float = 30.0,
        retry: Backoff | None = None,
        name: str = "marathon",
    ) -> None:
        self.name = check_provider_name(name)
        self.endpoints = tuple(e.strip().rstrip("/") for e in endpoint.split(",") if e.strip())
        for one in self.endpoints or ("",):
            parts = urllib.parse.urlsplit(one)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError(f"marathon: endpoint must be http(s)://host:port, got {one!r}")
        self._options: dict[str, Any] = {
            "default_rule": default_rule,
            "exposed_by_default": exposed_by_default,
            "constraints": constraints,
            "domain": domain,
            "force_task_hostname": force_task_hostname,
            "respect_readiness_checks": respect_readiness_checks,
        }
        marathon_to_config([], **self._options)  # a bad template or constraint is refused here
        self._headers = [(b"accept", b"application/json"), (b"user-agent", b"routekit")]
        if dcos_token:
            self._headers.append((b"authorization", b"token=" + dcos_token.encode()))
        elif basic_auth is not None:
            pair = f"{basic_auth[0]}:{basic_auth[1]}".encode()
            self._headers.append((b"authorization", b"Basic " + base64.b64encode(pair)))
        self._tls = tls_context(tls, "marathon tls")
        self._watch = bool(watch)
        self._timeout = float(timeout)
        self._retry = retry if retry is not None else Backoff()
        self._link = Link(self.name, ",".join(self.endpoints), _log)
        self._at = 0  # the master in use
        self._apps: list[Mapping[str, Any]] = []

    @classmethod
    def from_config(cls, config: MarathonProviderConfig) -> MarathonProvider:
        """The provider a static ``[marathon]`` / ``[providers.marathon]`` section describes."""
        basic = (config.basic_user, config.basic_password) if config.basic_user else None
        return cls(
            config.endpoint,
            default_rule=config.default_rule or DEFAULT_RULE,
            exposed_by_default=config.exposed_by_default,
            constraints=config.constraints,
            domain=config.domain,
            force_task_hostname=config.force_task_hostname,
            respect_readiness_checks=config.respect_readiness_checks,
            basic_auth=basic,
            dcos_token=config.dcos_token,
            tls=config.tls,
            watch=config.watch,
            timeout=config.response_header_timeout or 30.0,
        )

    @property
    def endpoint(self) -> str:
        """The master read now."""
        return self.endpoints[self._at]

    def _client(self, *, events: bool = False) -> Client:
        t = self._timeout
        limits = PoolLimits(connect=t, read=_EVENTS_IDLE if events else t, write=t, pool=t)
        return Client(limits, ssl_context=self._tls)

    async def snapshot(self) -> Snapshot:
        """Read the applications once."""
        async with self._client() as client:
            await self._read(client)
        return await self._build()

    async def watch(self) -> AsyncIterator[Snapshot]:
        """Yield the applications' configuration now, then again after each change."""
        last: Snapshot | None = None
        while True:
            try:
                async with self._client() as client, self._client(events=True) as stream:
                    events = await self._subscribe(stream) if self._watch else None
                    try:
                        await self._read(client)
                        last = await self._build()
                        yield last
                        self._retry.reset()
                        if events is None:
                            return
                        batches = _sse(events.iter_bytes(), f"marathon {self.endpoint}/v2/events")
                        async with aclosing(batches):
                            async for batch in batches:
                                if not any(kind in MARATHON_EVENTS for kind, _ in batch):
                                    continue
                                await anyio.sleep(_SETTLE)
                                await self._read(client)
                                snapshot = await self._build()
                                if snapshot != last:
                                    last = snapshot
                                    yield snapshot
                        raise ProviderError("the event stream ended")
                    finally:
                        if events is not None:
                            await events.aclose()
            except (ProviderError, UpstreamError, OSError) as exc:
                self._at = (self._at + 1) % len(self.endpoints)  # the next master, next time
                stale = self._link.failed(exc)
                if stale is not None:
                    last = stale
                    yield stale
                await anyio.sleep(self._retry.next())

    async def _subscribe(self, stream: Client) -> ClientResponse:
        query = urllib.parse.urlencode([("event_type", e) for e in MARATHON_EVENTS])
        headers = [*self._headers[1:], (b"accept", b"text/event-stream")]
        response = await stream.request(
            "GET", f"{self.endpoint}/v2/events?{query}", headers=headers
        )
        if response.status != 200:
            await self._refuse(response, "/v2/events")
        return response

    async def _read(self, client: Client) -> None:
        response = await client.request("GET", self.endpoint + _APPS, headers=self._headers)
        if response.status != 200:
            await self._refuse(response, "/v2/apps")
        data = await read_json(response, f"marathon {self.endpoint}/v2/apps")
        apps = data.get("apps") if isinstance(data, Mapping) else None
        if not isinstance(apps, list) or not all(isinstance(a, Mapping) for a in apps):
            raise MalformedResponse(f'marathon {self.endpoint}/v2/apps: expected {{"apps": [...]}}')
        self._apps = apps

    async def _refuse(self, response: ClientResponse, path: str) -> None:
        text = (await response.read())[:300].decode("utf-8", "replace").strip()
        hint = {
            401: " (check the basic auth user and password, or the DC/OS token)",
            403: " (the user or token may not read the applications)",
        }.get(response.status, "")
        raise ProviderError(f"marathon {self.endpoint}{path}: {response.status} {text}{hint}")

    async def _build(self) -> Snapshot:
        apps = self._apps
        previous = self._link.good.config
        config, problems = await anyio.to_thread.run_sync(
            lambda: marathon_to_config(apps, previous=previous, **self._options)
        )
        tasks = sum(len(a.get("tasks") or []) for a in apps)
        return self._link.served(Snapshot(config, problems), f"{len(apps)} apps, {tasks} tasks")

    def __repr__(self) -> str:
        mode = "watching" if self._watch else "read once"
        return f"<MarathonProvider {self.name!r} {','.join(self.endpoints)!r} ({mode})>"


async def _sse(
    body: AsyncIterator[bytes], what: str
) -> AsyncGenerator[list[tuple[str, str]], None]:
    """Server-sent events (https://html.spec.whatwg.org/multipage/server-sent-events.html):
    ``(event, data)`` pairs, those that arrived together in one list."""
    pending = b""
    kind, data = "message", list[str]()
    async for chunk in body:
        pending += chunk
        *lines, pending = pending.replace(b"\r\n", b"\n").split(b"\n")
        if len(pending) > MAX_LINE:
            raise MalformedResponse(f"{what}: a line over {MAX_LINE} bytes")
        batch = []
        for raw in lines:
            line = raw.decode("utf-8", "replace")
            if not line:  # a blank line dispatches the event
                if data:
                    batch.append((kind, "\n".join(data)))
                kind, data = "message", []
            elif line.startswith(":"):
                continue  # a comment: Marathon's keep-alive
            else:
                field, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if field == "event":
                    kind = value
                elif field == "data":
                    data.append(value)
        if batch:
            yield batch
