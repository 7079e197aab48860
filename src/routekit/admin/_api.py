"""The admin API: the running configuration as Traefik v3's API shows it.

The paths, field names and answers are Traefik's (``pkg/api``, checked against its own test
files by ``tests/test_admin_golden.py``): ``/api/overview``, ``/api/rawdata``,
``/api/http/routers[/{name}]``, ``/api/http/services[/{name}]`` (with each server's ``UP``/``DOWN``
in ``serverStatus``), ``/api/http/middlewares[/{name}]``, the same under ``/api/tcp/`` and
``/api/udp/`` (routers and services), ``/api/entrypoints[/{name}]``, ``/api/version`` (with
``startDate``) and ``/ping``; and routekit's ``/api/problems``, the problems of the configuration
as loaded.  Lists are filtered, sorted and paginated as `routekit.admin._query` says.  An element
with a problem that left it out is ``disabled``, one with a warning ``warning``, the messages in
``error``; empty fields are left out, as Go's ``omitempty`` leaves them out of Traefik's answers.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Final, final

from .. import __version__
from ..balance import Balancer, Group
from ..config import EntryPoint, Router, TCPRouter, to_data
from ..errors import Problem
from ..http import RequestHead, Response
from ..runtime import Runtime
from ._query import Item, Kind, json_response, page, parse_query

__all__ = ["AdminAPI"]

#: The overview's ``features.metrics``: the name of the backend's field in Traefik's static
#: configuration (``getMetrics`` in handler_overview.go).
_METRICS: Final = {"prometheus": "Prometheus", "datadog": "Datadog", "statsd": "StatsD",
                   "influxdb2": "InfluxDB2", "otlp": "OTLP"}  # fmt: skip
#: The overview's ``providers``: provider name → its field in Traefik's static ``providers``,
#: in the order of those fields (``getProviders``); other names are listed as they are, after.
_PROVIDERS: Final = {
    "docker": "Docker", "swarm": "Swarm", "file": "File", "marathon": "Marathon",
    "kubernetes": "KubernetesIngress", "kubernetescrd": "KubernetesCRD",
    "kubernetesgateway": "KubernetesGateway", "rest": "Rest", "consulcatalog": "ConsulCatalog",
    "nomad": "Nomad", "ecs": "Ecs", "consul": "Consul", "etcd": "Etcd",
    "zookeeper": "ZooKeeper", "redis": "Redis", "http": "HTTP",
}  # fmt: skip
#: What each list's elements are called in a 404's message (``router not found: x@file``).
_LISTS: Final[dict[str, tuple[str, Kind]]] = {
    "/api/http/routers": ("router", "routers"),
    "/api/http/services": ("service", "services"),
    "/api/http/middlewares": ("middleware", "middlewares"),
    "/api/tcp/routers": ("router", "routers"),
    "/api/tcp/services": ("service", "services"),
    "/api/tcp/middlewares": ("middleware", "middlewares"),
    "/api/udp/routers": ("router", "udp-routers"),
    "/api/udp/services": ("service", "services"),
    "/api/entrypoints": ("entry point", "entrypoints"),
}
#: Representation fields that ``/api/rawdata`` leaves out (it shows Traefik's runtime infos).
_NOT_RAW: Final = frozenset({"name", "provider", "type", "priorityStr"})
_NO_UDP: Final = "no valid entryPoint for this router: routekit serves no UDP entry point"


def _provider(name: str) -> str:
    return name.rpartition("@")[2] if "@" in name else "internal"


def _qualified(name: str, provider: str | None) -> str:
    return name if provider is None or "@" in name else f"{name}@{provider}"


class _Notes:
    """The problems of each element (by ``section.name``), errors and warnings apart; a
    provider's problems about ``name`` are about ``name@provider``."""

    def __init__(self, problems: Iterable[tuple[str | None, Problem]]) -> None:
        self._by_path: dict[str, list[Problem]] = {}
        for provider, problem in problems:
            # Names may contain dots: index every prefix that could be ``section.name``.
            parts = problem.path.split(".")
            for i in range(3, len(parts) + 1):
                section, name = ".".join(parts[:2]), ".".join(parts[2:i])
                key = f"{section}.{_qualified(name, provider)}"
                self._by_path.setdefault(key, []).append(problem)

    def of(self, section: str, name: str) -> tuple[list[str], list[str]]:
        """The error and warning messages of the element *name* of *section*, once each."""
        errors: list[str] = []
        warnings: list[str] = []
        for problem in self._by_path.get(f"{section}.{name}", ()):
            found = errors if problem.severity == "error" else warnings
            if problem.message not in found:  # Traefik's AddError keeps a message once
                found.append(problem.message)
        return errors, warnings


def _mark(item: Item, errors: list[str], warnings: list[str], *, built: bool = True) -> Item:
    """Give *item* its status and messages as Traefik's runtime infos carry them."""
    item["status"] = "disabled" if errors or not built else "warning" if warnings else "enabled"
    if errors or warnings:
        item["error"] = [*errors, *warnings]
    return item


def _used_by(routers: Iterable[tuple[str, Iterable[str]]]) -> dict[str, list[str]]:
    """Element name → the sorted routers that name it (``PopulateUsedBy``)."""
    used: dict[str, list[str]] = {}
    for router, names in routers:
        for name in dict.fromkeys(names):
            used.setdefault(name, []).append(router)
    return {name: sorted(routers) for name, routers in used.items()}


def _servers_status(balancer: Balancer | None, keys: Iterable[str]) -> dict[str, str]:
    if not isinstance(balancer, Group):
        return {}
    out: dict[str, str] = {}
    for key in keys:
        try:
            out[key] = "UP" if balancer.is_up(key) else "DOWN"
        except (KeyError, ValueError):
            continue
    return out


def _with(item: Item, **fields: object) -> Item:
    """*item* with *fields*, those that are empty left out (Go's ``omitempty``)."""
    item.update((k, v) for k, v in fields.items() if v)
    return item


@final
class AdminAPI:
    """The admin API handler (`routekit.http.Handler`) over the runtime *runtime()* gives.

    Args:
        runtime: the current `Runtime` (``gateway.runtime`` through a lambda).
        entry_points: the entry points served, by name: a router's other entry points are
            reported (``entryPoint "x" doesn't exist``) and left out of its ``using``.
        problems: the problems of the configuration as loaded: ``Watcher.problems`` (by
            provider: ``name`` in a provider's problem is ``name@provider``), or a loader's;
            the elements they concern show them, those they left out are listed.
        access_log: whether the gateway writes an access log (``features`` of the overview).
        metrics: the metrics backend served (``prometheus``), or ``""``.
        providers: the names of the configured providers, for the overview; by default those
            that named elements of the runtime.
    """

    def __init__(
        self,
        runtime: Callable[[], Runtime],
        entry_points: Mapping[str, EntryPoint],
        *,
        problems: Callable[[], Iterable[Problem] | Mapping[str, Iterable[Problem]]] | None = None,
        access_log: bool = False,
        metrics: str = "prometheus",
        providers: Callable[[], Iterable[str]] | None = None,
    ) -> None:
        self._runtime = runtime
        self._entry_points = dict(entry_points)
        self._problems = problems
        self._providers = providers
        self._features = {
            "tracing": "",
            "metrics": _METRICS.get(metrics.lower(), metrics),
            "accessLog": access_log,
        }
        # Traefik's /api/version says when the process started serving.
        self._started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

    def _loaded(self) -> list[tuple[str | None, Problem]]:
        """The problems of the configuration as loaded, each with its provider when known."""
        found = self._problems() if self._problems is not None else ()
        if isinstance(found, Mapping):
            return [(provider, p) for provider, ps in found.items() for p in ps]
        return [(None, p) for p in found]

    def _notes(self, runtime: Runtime) -> _Notes:
        return _Notes([*((None, p) for p in runtime.problems), *self._loaded()])

    def _left_out(self, kind: str, known: Iterable[str]) -> list[Item]:
        """The elements of *kind* (``http.routers``) that problems left out of the runtime."""
        present = set(known)
        errors: dict[str, list[str]] = {}
        for provider, problem in self._loaded():
            if problem.severity != "error" or not problem.path.startswith(kind + "."):
                continue
            name = _qualified(problem.path[len(kind) + 1 :].split(".", 1)[0], provider)
            if name not in present:
                errors.setdefault(name, []).append(problem.message)
        return [
            {"name": n, "provider": _provider(n), "status": "disabled", "error": e}
            for n, e in errors.items()
        ]

    def _using(self, entry_points: list[str]) -> tuple[list[str], list[str]]:
        """The entry points of *entry_points* that are served, and a message for each other
        (Traefik's ``GetRoutersByEntryPoints``)."""
        if not self._entry_points:
            return entry_points, []
        using = [ep for ep in entry_points if ep in self._entry_points]
        missing = [f'entryPoint "{ep}" doesn\'t exist' for ep in entry_points if ep not in using]
        return using, missing

    def _router(self, notes: _Notes, section: str, name: str, router: Router | TCPRouter, *,
                defaults: list[str], built: bool) -> Item:  # fmt: skip
        """A router as Traefik's ``routerRepresentation`` (or the TCP one) shows it."""
        item: Item = to_data(router)
        # Traefik's aggregator gives a router without entry points the default ones.
        item["entryPoints"] = entry_points = list(router.entry_points) or defaults
        using, missing = self._using(entry_points)
        errors, warnings = notes.of(section, name)
        if not using:
            errors.append("no valid entryPoint for this router")
        _with(item, using=using, name=name, provider=_provider(name))
        item["priorityStr"] = str(router.priority)
        return _mark(item, errors, [*missing, *warnings], built=built)

    # -- the elements ------------------------------------------------------------------------

    def routers(self, runtime: Runtime) -> list[Item]:
        """Every HTTP router, as ``/api/http/routers`` lists them."""
        notes, defaults = self._notes(runtime), list(runtime.entry_points)
        out = []
        for name, router in runtime.config.http.routers.items():
            built = name in runtime.middlewares
            item = self._router(notes, "http.routers", name, router, defaults=defaults, built=built)
            if "tls" in item:  # newRouterRepresentation: the TLS options a router gets
                item["tls"].setdefault("options", "default")
            out.append(item)
        return out + self._left_out("http.routers", runtime.config.http.routers)

    def services(self, runtime: Runtime) -> list[Item]:
        """Every HTTP service, with its servers' status."""
        notes = self._notes(runtime)
        used = _used_by((n, (r.service,)) for n, r in runtime.config.http.routers.items())
        out = []
        for name, service in runtime.config.http.services.items():
            item: Item = to_data(service)
            balancer = runtime.services.get(name)
            lb = item.get("loadBalancer")
            status: dict[str, str] = {}
            if lb is not None and service.load_balancer is not None:
                lb.setdefault("passHostHeader", True)  # not omitempty in Traefik
                status = _servers_status(balancer, (s.url for s in service.load_balancer.servers))
            kind = (service.kinds or ("loadBalancer",))[0]
            _with(item, name=name, provider=_provider(name), type=kind.lower(),
                  usedBy=used.get(name), serverStatus=status)  # fmt: skip
            out.append(_mark(item, *notes.of("http.services", name), built=balancer is not None))
        return out + self._left_out("http.services", runtime.config.http.services)

    def _middlewares(self, runtime: Runtime, scheme: str) -> list[Item]:
        """The middlewares of *scheme* (``http``, ``tcp``), with the routers that use them."""
        notes = self._notes(runtime)
        config = runtime.config.http if scheme == "http" else runtime.config.tcp
        used = _used_by((n, r.middlewares) for n, r in config.routers.items())
        out = []
        for name, middleware in config.middlewares.items():
            item: Item = to_data(middleware)
            _with(item, name=name, provider=_provider(name),
                  type=type(middleware).type_key.lower(), usedBy=used.get(name))  # fmt: skip
            out.append(_mark(item, *notes.of(f"{scheme}.middlewares", name)))
        return out + self._left_out(f"{scheme}.middlewares", config.middlewares)

    def middlewares(self, runtime: Runtime) -> list[Item]:
        """Every HTTP middleware, with the routers that use it."""
        return self._middlewares(runtime, "http")

    def tcp_routers(self, runtime: Runtime) -> list[Item]:
        """Every TCP router."""
        notes, defaults = self._notes(runtime), list(runtime.entry_points)
        built = {r.name for table in runtime.tcp_tables.values() for r in table}
        out = []
        for name, router in runtime.config.tcp.routers.items():
            item = self._router(
                notes, "tcp.routers", name, router, defaults=defaults, built=name in built
            )
            if "tls" in item:
                item["tls"].setdefault("passthrough", False)  # not omitempty in Traefik
            out.append(item)
        return out + self._left_out("tcp.routers", runtime.config.tcp.routers)

    def tcp_services(self, runtime: Runtime) -> list[Item]:
        """Every TCP service, with its servers' status."""
        notes = self._notes(runtime)
        used = _used_by((n, (r.service,)) for n, r in runtime.config.tcp.routers.items())
        out = []
        for name, service in runtime.config.tcp.services.items():
            item: Item = to_data(service)
            balancer = runtime.tcp_services.get(name)
            lb = service.load_balancer
            status = _servers_status(balancer, (s.address for s in lb.servers)) if lb else {}
            _with(item, name=name, provider=_provider(name),
                  type="loadbalancer" if lb is not None else "weighted",
                  usedBy=used.get(name), serverStatus=status)  # fmt: skip
            out.append(_mark(item, *notes.of("tcp.services", name), built=balancer is not None))
        return out + self._left_out("tcp.services", runtime.config.tcp.services)

    def tcp_middlewares(self, runtime: Runtime) -> list[Item]:
        """Every TCP middleware, with the TCP routers that use it."""
        return self._middlewares(runtime, "tcp")

    def udp_routers(self, runtime: Runtime) -> list[Item]:
        """Every UDP router: ``disabled``, as routekit routes no UDP (no entry point serves it)."""
        notes = self._notes(runtime)
        out = []
        for name, router in runtime.config.udp.routers.items():
            item: Item = _with(to_data(router), name=name, provider=_provider(name))
            errors, warnings = notes.of("udp.routers", name)
            out.append(_mark(item, [*errors, _NO_UDP], warnings))
        return out + self._left_out("udp.routers", runtime.config.udp.routers)

    def udp_services(self, runtime: Runtime) -> list[Item]:
        """Every UDP service, with the UDP routers that name it."""
        notes = self._notes(runtime)
        used = _used_by((n, (r.service,)) for n, r in runtime.config.udp.routers.items())
        out = []
        for name, service in runtime.config.udp.services.items():
            kind = "loadbalancer" if service.load_balancer is not None else "weighted"
            item = _with(to_data(service), name=name, provider=_provider(name), type=kind,
                         usedBy=used.get(name))  # fmt: skip
            out.append(_mark(item, *notes.of("udp.services", name)))
        return out + self._left_out("udp.services", runtime.config.udp.services)

    def entry_points(self) -> list[Item]:
        """The entry points served, in the shape of Traefik's ``/api/entrypoints``."""
        out = []
        for name, entry in sorted(self._entry_points.items()):
            http: Item = {"tls": {}} if entry.tls else {}
            if entry.redirect_to:
                http["redirections"] = {"entryPoint": {"to": entry.redirect_to}}
            forwarded = _with({}, insecure=entry.forwarded_headers_insecure,
                              trustedIPs=list(entry.trusted_ips))  # fmt: skip
            # ``http`` is a struct in Traefik's EntryPoint: shown even when empty.
            out.append(_with({"name": name, "address": entry.address, "http": http},
                             forwardedHeaders=forwarded))  # fmt: skip
        return out

    def problems(self) -> list[Item]:
        """``/api/problems`` (routekit's own, beside Traefik's paths): every problem of the
        configuration as loaded — those of no element too, such as a provider that is away."""
        found = [
            {"severity": p.severity, "path": p.path, "message": p.message,
             "source": p.source or "", "hint": p.hint or ""}
            for _, p in self._loaded()
        ]  # fmt: skip
        return sorted(found, key=lambda i: (i["severity"] != "error", i["source"], i["path"]))

    def _lists(self, runtime: Runtime) -> dict[str, Callable[[], list[Item]]]:
        return {
            "/api/http/routers": lambda: self.routers(runtime),
            "/api/http/services": lambda: self.services(runtime),
            "/api/http/middlewares": lambda: self.middlewares(runtime),
            "/api/tcp/routers": lambda: self.tcp_routers(runtime),
            "/api/tcp/services": lambda: self.tcp_services(runtime),
            "/api/tcp/middlewares": lambda: self.tcp_middlewares(runtime),
            "/api/udp/routers": lambda: self.udp_routers(runtime),
            "/api/udp/services": lambda: self.udp_services(runtime),
            "/api/entrypoints": self.entry_points,
        }

    def overview(self, runtime: Runtime) -> Item:
        """``/api/overview``: counts of each kind, with their warnings and errors."""

        def counts(items: list[Item]) -> Item:
            statuses = [i.get("status") for i in items]
            return {"total": len(items), "warnings": statuses.count("warning"),
                    "errors": statuses.count("disabled")}  # fmt: skip

        lists = self._lists(runtime)
        sections = {
            scheme: {kind: counts(lists[f"/api/{scheme}/{kind}"]()) for kind in kinds}
            for scheme, kinds in (
                ("http", ("routers", "services", "middlewares")),
                ("tcp", ("routers", "services", "middlewares")),
                ("udp", ("routers", "services")),
            )
        }
        return _with({**sections, "features": dict(self._features)},
                     providers=self._provider_names(runtime))  # fmt: skip

    def _provider_names(self, runtime: Runtime) -> list[str]:
        if self._providers is not None:
            names = set(self._providers())
        else:
            config = runtime.config
            names = {
                _provider(n)
                for section in (config.http.routers, config.http.services,
                                config.http.middlewares, config.tcp.routers, config.tcp.services,
                                config.tcp.middlewares, config.udp.routers, config.udp.services)
                for n in section
            } - {"internal"}  # fmt: skip
        # consulcatalog-<namespace> (one provider per namespace) is Traefik's ConsulCatalog.
        known = {_PROVIDERS[n.split("-", 1)[0]] for n in names if n.split("-", 1)[0] in _PROVIDERS}
        others = sorted(n for n in names if n.split("-", 1)[0] not in _PROVIDERS)
        return [field for field in _PROVIDERS.values() if field in known] + others

    def rawdata(self, runtime: Runtime) -> Item:
        """``/api/rawdata``: every element by name as Traefik's runtime infos show them."""
        lists = self._lists(runtime)
        sections = (
            ("routers", "/api/http/routers"), ("services", "/api/http/services"),
            ("middlewares", "/api/http/middlewares"), ("tcpRouters", "/api/tcp/routers"),
            ("tcpServices", "/api/tcp/services"), ("tcpMiddlewares", "/api/tcp/middlewares"),
            ("udpRouters", "/api/udp/routers"), ("udpServices", "/api/udp/services"),
        )  # fmt: skip
        raw = {
            key: {i["name"]: {k: v for k, v in i.items() if k not in _NOT_RAW} for i in items}
            for key, path in sections
            for items in (lists[path](),)
        }
        return _with({}, **raw)

    # -- serving -----------------------------------------------------------------------------

    async def __call__(self, head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        """Answer one admin request."""
        async for _ in body:
            pass
        if head.event.method not in (b"GET", b"HEAD"):
            return Response(405, [(b"allow", b"GET, HEAD")], b"")
        target = urllib.parse.urlsplit(head.event.target.decode("latin-1"))
        query = parse_query(target.query)
        path = target.path.rstrip("/") or "/"
        runtime = self._runtime()
        if path == "/ping":
            return Response(200, [(b"content-type", b"text/plain; charset=utf-8")], b"OK")
        if path == "/api/version":
            return json_response(
                {"Version": __version__, "Codename": "routekit", "startDate": self._started}
            )
        answers: dict[str, Callable[[], object]] = {
            "/api/overview": lambda: self.overview(runtime),
            "/api/problems": self.problems,
            "/api/rawdata": lambda: self.rawdata(runtime),
        }
        if path in answers:
            return json_response(answers[path]())
        lists = self._lists(runtime)
        if path in lists:
            return page(lists[path](), _LISTS[path][1], query)
        # The name is one path segment, percent-encoded (``foo%20%2F%20bar@file``).
        parent, _, name = path.rpartition("/")
        if parent in lists and name:
            wanted = urllib.parse.unquote(name)
            for item in lists[parent]():
                if item["name"] == wanted:
                    return json_response(item)
            return json_response({"message": f"{_LISTS[parent][0]} not found: {wanted}"}, 404)
        # gorilla/mux's answer to a path no route has.
        return Response(404, [(b"content-type", b"text/plain; charset=utf-8")],
                        b"404 page not found\n")  # fmt: skip
