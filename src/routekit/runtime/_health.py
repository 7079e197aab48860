"""Active health checks: every server of a load balancer that asks for them, probed over HTTP.

As Traefik v3 (``master:pkg/healthcheck/healthcheck.go``, traefik-semantics §8.1): each server
gets a request every ``interval`` (``unhealthyInterval`` while it is down) — ``method`` (GET)
``scheme://host:port/path`` with ``hostname`` as its ``Host`` and ``headers`` — that must answer
within ``timeout``, with ``status`` when one is set, else any code from 200 to 399 (redirects
followed as Go's client follows them — at most ten, 301/302/303 as GET — unless
``followRedirects = false``).  A server that fails goes out of its balancer
(`Group.mark_down`), one that passes comes back; a balancer left with no server tells its
parents, as passive health does.

`HealthChecks` follows the runtime: after a reload, a server that stays keeps its checker (and
its state: down stays down until a check passes), a new one gets a checker, one that left has
its checker stopped.  The checks use the HTTP client they are given.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Final, final

import anyio
import anyio.abc

from ..balance import Group
from ..config import HealthCheck
from ..http import Client, UpstreamError
from ._runtime import Runtime

__all__ = ["HealthChecks", "probe_target"]

_log: Final = logging.getLogger("routekit.health")
_MAX_REDIRECTS: Final = 10
_DEFAULT_INTERVAL: Final = 30.0

_Key = tuple[str, str, HealthCheck]


def probe_target(server: str, check: HealthCheck) -> tuple[str, str]:
    """The URL a check of *server* requests, and the ``Host`` it sends.

    As Traefik's ``newRequest``: ``path`` is resolved against the server URL as a reference
    (Go's ``URL.Parse``, RFC 3986 §5.2: a relative path replaces the last segment), then
    ``scheme`` and ``port`` replace the URL's; ``Host`` is ``hostname``, else the authority
    probed.
    """
    parts = urllib.parse.urlsplit(urllib.parse.urljoin(server, check.path))
    netloc = parts.netloc
    if check.port:
        host = parts.hostname or ""
        netloc = f"[{host}]:{check.port}" if ":" in host else f"{host}:{check.port}"
    url = urllib.parse.urlunsplit(
        (check.scheme or parts.scheme, netloc, parts.path or "/", parts.query, "")
    )
    return url, check.hostname or netloc


def _redirected(method: str, status: int) -> str:
    # Go's http.Client: 301, 302 and 303 go on as GET (HEAD stays HEAD), 307 and 308 keep
    # the method (RFC 9110 §15.4).
    return method if status in (307, 308) or method == "HEAD" else "GET"


async def probe(client: Client, server: str, check: HealthCheck) -> str | None:
    """Check *server* once: ``None`` when healthy, else what was wrong."""
    url, host = probe_target(server, check)
    # Go sends Request.Host, never a Host among the headers.
    fields = [
        (k.lower().encode("latin-1"), v.encode("latin-1"))
        for k, v in check.headers.items()
        if k.lower() != "host"
    ]
    method = check.method or "GET"
    timeout = check.timeout if check.timeout > 0 else 5.0
    try:
        with anyio.fail_after(timeout):
            for redirects in range(_MAX_REDIRECTS + 1):
                headers = [(b"host", host.encode("idna")), *fields]
                response = await client.request(method, url, headers=headers)
                await response.read()
                location = dict(response.headers).get(b"location")
                if not (check.follow_redirects and 300 <= response.status < 400 and location):
                    break
                if redirects == _MAX_REDIRECTS:
                    return f"stopped after {_MAX_REDIRECTS} redirects"
                target = location.decode("latin-1")
                url = urllib.parse.urljoin(url, target)
                # Go keeps a custom Host through a relative redirect (golang/go#22233); else
                # the Host is the new URL's.
                relative = check.hostname and not urllib.parse.urlsplit(target).scheme
                host = check.hostname if relative else urllib.parse.urlsplit(url).netloc
                method = _redirected(method, response.status)
    except TimeoutError:
        return f"no answer in {timeout} s"
    except UpstreamError as exc:
        return str(exc)
    status = response.status
    if check.status:
        return None if status == check.status else f"status {status}, expected {check.status}"
    return None if 200 <= status < 400 else f"status {status}"


def _interval(check: HealthCheck, up: bool) -> float:
    # Traefik: an interval that is not positive is the default one, 30 s (with an error
    # logged; routekit's validation warns); unhealthyInterval unset is interval.
    interval = check.interval if check.interval > 0 else _DEFAULT_INTERVAL
    if up or check.unhealthy_interval is None:
        return interval
    return check.unhealthy_interval if check.unhealthy_interval > 0 else _DEFAULT_INTERVAL


@final
class HealthChecks:
    """The active health checks of a runtime's load balancers; `follow` runs them.

    Args:
        client: the client the probes use.
        sleep: how to wait between probes (tests give a faster one).
    """

    def __init__(
        self, client: Client, *, sleep: Callable[[float], Awaitable[None]] = anyio.sleep
    ) -> None:
        self._client = client
        self._sleep = sleep
        self._balancers: dict[str, Group] = {}
        self._checkers: dict[_Key, anyio.CancelScope] = {}
        self._group: anyio.abc.TaskGroup | None = None
        #: (service, server URL) → whether its last probe passed (for the admin face and tests).
        self.status: dict[tuple[str, str], bool] = {}

    def targets(self, runtime: Runtime) -> dict[_Key, Group]:
        """What *runtime* asks to check: (service, server, options) → the server's balancer."""
        out: dict[_Key, Group] = {}
        for name, service in runtime.config.http.services.items():
            lb = service.load_balancer
            balancer = runtime.services.get(name)
            if lb is None or lb.health_check is None or not isinstance(balancer, Group):
                continue
            if lb.health_check.mode == "grpc":
                _log.warning("service %s: gRPC health checks are not supported yet", name)
                continue
            for server in lb.servers:
                out[(name, server.url, lb.health_check)] = balancer
        return out

    def apply(self, runtime: Runtime) -> None:
        """Check what *runtime* asks for: start, keep and stop checkers to match."""
        assert self._group is not None, "apply() needs follow() running"
        wanted = self.targets(runtime)
        self._balancers = {key[0]: balancer for key, balancer in wanted.items()}
        for key in [k for k in self._checkers if k not in wanted]:
            self._checkers.pop(key).cancel()
            self.status.pop(key[:2], None)
        for key in wanted:
            if key not in self._checkers:
                scope = anyio.CancelScope()
                self._checkers[key] = scope
                self._group.start_soon(self._check, key, scope)

    async def follow(self, runtime: Runtime, changes: AsyncIterator[Runtime] | None = None) -> None:
        """Run the checks of *runtime*, then of each runtime *changes* (an async iterator of
        runtimes, such as `Watcher.subscribe()`) yields, until cancelled."""
        async with anyio.create_task_group() as group:
            self._group = group
            try:
                self.apply(runtime)
                if changes is not None:
                    async for new in changes:
                        self.apply(new)
                await anyio.sleep_forever()
            finally:
                self._group = None
                group.cancel_scope.cancel()

    async def _check(self, key: _Key, scope: anyio.CancelScope) -> None:
        service, server, check = key
        up = True
        with scope:
            while True:
                wait = _interval(check, up)
                await self._sleep(wait)
                problem = await probe(self._client, server, check)
                healthy = problem is None
                self.status[(service, server)] = healthy
                balancer = self._balancers.get(service)
                if balancer is None or server not in balancer:
                    continue
                if healthy != balancer.is_up(server) or healthy != up:
                    if healthy:
                        balancer.mark_up(server)
                        _log.info("service %s: server %s is up again", service, server)
                    else:
                        balancer.mark_down(server)
                        _log.warning("service %s: server %s down: %s", service, server, problem)
                up = healthy
