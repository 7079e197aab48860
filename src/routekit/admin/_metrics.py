"""Prometheus metrics with Traefik's names, fed by the proxy's exchanges.

``traefik_entrypoint_requests_total``, ``traefik_router_requests_total`` and
``traefik_service_requests_total`` (labels ``code``, ``method``, ``protocol`` and the element's
name) with their ``..._request_duration_seconds`` histograms, ``traefik_open_connections``,
``traefik_service_server_up``, ``traefik_config_reloads_total`` and
``traefik_config_last_reload_success`` — Traefik's names (``master:pkg/metrics/prometheus.go``),
so that existing dashboards and alerts work.  The exposition is ``prometheus_client``'s (the
``admin`` extra), in a registry of the gateway's own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from ..balance import Group
from ..config import MetricsConfig
from ..errors import ConfigError
from ..http import EntryPointServer, RequestHead, Response
from ..proxy import Exchange
from ..runtime import Runtime

if TYPE_CHECKING:
    from ..runtime import Watcher

__all__ = ["Metrics"]

# Traefik's default buckets (``pkg/types/metrics.go``), as the static model has them.
_BUCKETS: Final = MetricsConfig().buckets


def _client() -> Any:
    try:
        import prometheus_client
    except ImportError:
        raise ConfigError(
            "metrics need the 'prometheus_client' package: pip install 'routekit[admin]'"
        ) from None
    return prometheus_client


class Metrics:
    """An `Exchange` observer that keeps Traefik's Prometheus metrics; `serve` exposes them.

    Args:
        runtime: the current runtime (for the servers' up/down gauge).
        watcher: the watcher whose reloads are counted (``traefik_config_reloads_total``);
            without one, `reloaded` is called for each.
        servers: the entry points' servers, by name, or what gives them when the metrics are
            read (for the open connections gauge).
        buckets: the request duration histograms' buckets, in seconds (Traefik's by default).
    """

    def __init__(
        self,
        runtime: Callable[[], Runtime] | None = None,
        servers: Mapping[str, EntryPointServer]
        | Callable[[], Mapping[str, EntryPointServer]]
        | None = None,
        *,
        watcher: Watcher | None = None,
        buckets: Sequence[float] = _BUCKETS,
    ) -> None:
        prom = _client()
        self._prom = prom
        self.registry = prom.CollectorRegistry()
        r = self.registry

        def level(kind: str, what: str, names: tuple[str, ...]) -> tuple[Any, Any]:
            """The requests counter and the duration histogram of one level (Traefik's)."""
            labels = ("code", "method", "protocol", *names)
            total = prom.Counter(
                f"traefik_{kind}_requests", f"How many HTTP requests {what} processed.",
                labels, registry=r,
            )  # fmt: skip
            time = prom.Histogram(
                f"traefik_{kind}_request_duration_seconds", f"How long requests took, by {kind}.",
                labels, buckets=tuple(buckets), registry=r,
            )  # fmt: skip
            return total, time

        self._ep_total, self._ep_time = level("entrypoint", "an entry point", ("entrypoint",))
        self._router_total, self._router_time = level("router", "a router", ("router", "service"))
        self._service_total, self._service_time = level("service", "a service", ("service",))
        self.reloads = prom.Counter("traefik_config_reloads", "Configuration reloads.", registry=r)
        self.last_reload_success = prom.Gauge(
            "traefik_config_last_reload_success", "Last configuration reload time.", registry=r
        )
        self._open = prom.Gauge(
            "traefik_open_connections", "How many connections are open.",
            ("entrypoint", "protocol"), registry=r,
        )  # fmt: skip
        self._up = prom.Gauge(
            "traefik_service_server_up", "Whether a server is up (1) or down (0).",
            ("service", "url"), registry=r,
        )  # fmt: skip
        self._runtime = runtime
        self._watcher = watcher
        self._counted = 0
        self._servers = servers if callable(servers) else dict(servers or {})

    def __call__(self, exchange: Exchange) -> None:
        """Count one exchange (the `Proxy` observer signature)."""
        code, method = str(exchange.status), exchange.method
        protocol = "http"
        seconds = exchange.duration
        self._ep_total.labels(code, method, protocol, exchange.entry_point).inc()
        self._ep_time.labels(code, method, protocol, exchange.entry_point).observe(seconds)
        if exchange.router is not None and exchange.service is not None:
            service = exchange.service
            self._router_total.labels(code, method, protocol, exchange.router, service).inc()
            self._router_time.labels(code, method, protocol, exchange.router, service).observe(
                seconds
            )
            self._service_total.labels(code, method, protocol, service).inc()
            self._service_time.labels(code, method, protocol, service).observe(seconds)

    def reloaded(self, when: float) -> None:
        """Count a configuration reload that succeeded at *when* (a UNIX time)."""
        self.reloads.inc()
        self.last_reload_success.set(when)

    def _refresh(self) -> None:
        watcher = self._watcher
        if watcher is not None and watcher.reloads > self._counted:
            self.reloads.inc(watcher.reloads - self._counted)
            self._counted = watcher.reloads
            self.last_reload_success.set(watcher.last_reload or 0.0)
        servers = self._servers() if callable(self._servers) else self._servers
        for name, listener in servers.items():
            self._open.labels(name, "http").set(listener.open_connections)
        if self._runtime is None:
            return
        runtime = self._runtime()
        for name, service in runtime.config.http.services.items():
            balancer = runtime.services.get(name)
            lb = service.load_balancer
            if lb is None or not isinstance(balancer, Group):
                continue
            for server in lb.servers:
                self._up.labels(name, server.url).set(1 if balancer.is_up(server.url) else 0)

    def exposition(self) -> bytes:
        """The metrics in the Prometheus text format."""
        self._refresh()
        data: bytes = self._prom.generate_latest(self.registry)
        return data

    async def serve(self, head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        """Serve ``/metrics`` (a `routekit.http.Handler`)."""
        async for _ in body:
            pass
        content_type = self._prom.CONTENT_TYPE_LATEST.encode()
        return Response(200, [(b"content-type", content_type)], self.exposition())
