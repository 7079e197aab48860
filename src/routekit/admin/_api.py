"""The admin API: the running configuration as Traefik v3's API shows it.

The paths and field names are Traefik's (``master:pkg/api``): ``/api/overview``,
``/api/rawdata``, ``/api/http/routers[/{name}]``, ``/api/http/services[/{name}]`` (with each
server's ``UP``/``DOWN``), ``/api/http/middlewares[/{name}]``, ``/api/tcp/routers``,
``/api/tcp/services``, ``/api/tcp/middlewares``, ``/api/udp/routers``, ``/api/udp/services``,
``/api/entrypoints[/{name}]``, ``/api/version`` (with ``startDate``), and ``/ping``; and
routekit's ``/api/problems``, the problems of the configuration as loaded.  Lists are
sorted by name and paginated with ``page`` and ``per_page`` (100), the next page in
``X-Next-Page`` (1 when there is none); ``search`` keeps the elements whose name (or rule)
contains it and ``status`` those with that status (``enabled``, ``disabled``).  An element left
out by a problem is listed ``disabled`` with its ``error`` messages.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any, Final, final

from .. import __version__
from ..balance import Balancer, Group
from ..config import EntryPoint, to_data
from ..errors import Problem
from ..http import RequestHead, Response
from ..runtime import Runtime

__all__ = ["AdminAPI"]

_JSON: Final = (b"content-type", b"application/json")
_PER_PAGE: Final = 100

Item = dict[str, Any]


def _provider(name: str) -> str:
    return name.rpartition("@")[2] if "@" in name else "internal"


def _errors(runtime: Runtime, prefix: str) -> list[str]:
    return [
        p.message
        for p in runtime.problems
        if p.severity == "error" and (p.path == prefix or p.path.startswith(prefix + "."))
    ]


def _servers_status(balancer: Balancer | None, urls: list[str]) -> dict[str, str]:
    if not isinstance(balancer, Group):
        return {}
    out: dict[str, str] = {}
    for url in urls:
        try:
            out[url] = "UP" if balancer.is_up(url) else "DOWN"
        except (KeyError, ValueError):
            continue
    return out


@final
class AdminAPI:
    """The admin API handler (`routekit.http.Handler`) over the runtime *runtime()* gives.

    Args:
        runtime: the current `Runtime` (``gateway.runtime`` through a lambda).
        entry_points: the entry points served, by name.
        problems: the problems of the configuration as loaded (``Watcher.problems``, or a
            loader's): the elements they left out are listed ``disabled`` with them.
        access_log: whether the gateway writes an access log (``features`` of the overview).
        metrics: the metrics backend served (``prometheus``), or ``""``.
    """

    def __init__(
        self,
        runtime: Callable[[], Runtime],
        entry_points: Mapping[str, EntryPoint],
        *,
        problems: Callable[[], Iterable[Problem]] | None = None,
        access_log: bool = False,
        metrics: str = "prometheus",
    ) -> None:
        self._runtime = runtime
        self._entry_points = dict(entry_points)
        self._problems = problems
        self._features = {"tracing": "", "metrics": metrics, "accessLog": access_log}
        # Traefik's /api/version says when the process started serving.
        self._started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

    def _left_out(self, kind: str, known: Iterable[str]) -> list[Item]:
        """The elements of *kind* (``http.routers``) that problems left out of the runtime."""
        if self._problems is None:
            return []
        present = set(known)
        errors: dict[str, list[str]] = {}
        for problem in self._problems():
            if problem.severity != "error" or not problem.path.startswith(kind + "."):
                continue
            name = problem.path[len(kind) + 1 :].split(".", 1)[0]
            if name not in present:
                errors.setdefault(name, []).append(problem.message)
        return [
            {"name": n, "provider": _provider(n), "status": "disabled", "error": e}
            for n, e in errors.items()
        ]

    # -- the elements ------------------------------------------------------------------------

    def routers(self, runtime: Runtime) -> list[Item]:
        """Every HTTP router, as ``/api/http/routers`` lists them."""
        out = []
        defaults = list(runtime.entry_points)
        for name, router in runtime.config.http.routers.items():
            item: Item = to_data(router)
            item.setdefault("entryPoints", list(router.entry_points) or defaults)
            item["using"] = item["entryPoints"]
            item["name"] = name
            item["provider"] = _provider(name)
            errors = _errors(runtime, f"http.routers.{name}")
            item["status"] = "enabled" if name in runtime.middlewares and not errors else "disabled"
            if errors:
                item["error"] = errors
            out.append(item)
        return out + self._left_out("http.routers", runtime.config.http.routers)

    def services(self, runtime: Runtime) -> list[Item]:
        """Every HTTP service, with its servers' status."""
        used: dict[str, list[str]] = {}
        for name, router in runtime.config.http.routers.items():
            used.setdefault(router.service, []).append(name)
        out = []
        for name, service in runtime.config.http.services.items():
            item: Item = to_data(service)
            kind = next(iter(item), "loadBalancer")
            item["type"] = kind.lower()
            item["name"] = name
            item["provider"] = _provider(name)
            item["usedBy"] = sorted(used.get(name, []))
            balancer = runtime.services.get(name)
            item["status"] = "enabled" if balancer is not None else "disabled"
            lb = service.load_balancer
            if lb is not None:
                item["serverStatus"] = _servers_status(balancer, [s.url for s in lb.servers])
            errors = _errors(runtime, f"http.services.{name}")
            if errors:
                item["error"] = errors
            out.append(item)
        return out + self._left_out("http.services", runtime.config.http.services)

    def middlewares(self, runtime: Runtime) -> list[Item]:
        """Every HTTP middleware, with the routers that use it."""
        used: dict[str, list[str]] = {}
        for name, router in runtime.config.http.routers.items():
            for ref in router.middlewares:
                used.setdefault(ref, []).append(name)
        out = []
        for name, middleware in runtime.config.http.middlewares.items():
            item: Item = to_data(middleware)
            item["type"] = type(middleware).type_key.lower()
            item["name"] = name
            item["provider"] = _provider(name)
            item["usedBy"] = sorted(used.get(name, []))
            errors = _errors(runtime, f"http.middlewares.{name}")
            item["status"] = "disabled" if errors else "enabled"
            if errors:
                item["error"] = errors
            out.append(item)
        return out + self._left_out("http.middlewares", runtime.config.http.middlewares)

    def tcp_routers(self, runtime: Runtime) -> list[Item]:
        """Every TCP router."""
        return _plain(runtime.config.tcp.routers)

    def tcp_services(self, runtime: Runtime) -> list[Item]:
        """Every TCP service."""
        return _plain(runtime.config.tcp.services)

    def tcp_middlewares(self, runtime: Runtime) -> list[Item]:
        """Every TCP middleware."""
        return _plain(runtime.config.tcp.middlewares)

    def udp_routers(self, runtime: Runtime) -> list[Item]:
        """Every UDP router (routekit routes no UDP: listed, as configured)."""
        return _plain(runtime.config.udp.routers)

    def udp_services(self, runtime: Runtime) -> list[Item]:
        """Every UDP service."""
        return _plain(runtime.config.udp.services)

    def entry_points(self) -> list[Item]:
        """The entry points served, in the shape of Traefik's ``/api/entrypoints``."""
        out = []
        for name, entry in sorted(self._entry_points.items()):
            item: Item = {
                "name": name,
                "address": entry.address,
                "forwardedHeaders": {
                    "insecure": entry.forwarded_headers_insecure,
                    "trustedIPs": list(entry.trusted_ips),
                },
                "http": {"tls": {}} if entry.tls else {},
            }
            if entry.redirect_to:
                item["http"]["redirections"] = {"entryPoint": {"to": entry.redirect_to}}
            out.append(item)
        return out

    def problems(self) -> list[Item]:
        """``/api/problems`` (routekit's own, beside Traefik's paths): every problem of the
        configuration as loaded — those of no element too, such as a provider that is away."""
        if self._problems is None:
            return []
        found = [
            {"severity": p.severity, "path": p.path, "message": p.message,
             "source": p.source or "", "hint": p.hint or ""}
            for p in self._problems()
        ]  # fmt: skip
        return sorted(found, key=lambda i: (i["severity"] != "error", i["source"], i["path"]))

    def overview(self, runtime: Runtime) -> Item:
        """``/api/overview``: counts of each kind, with their warnings and errors."""

        def counts(items: list[Item]) -> Item:
            errors = sum(1 for i in items if i.get("status") == "disabled")
            return {"total": len(items), "warnings": 0, "errors": errors}

        providers = sorted({_provider(n) for n in runtime.config.http.routers} - {"internal"})
        return {
            "http": {
                "routers": counts(self.routers(runtime)),
                "services": counts(self.services(runtime)),
                "middlewares": counts(self.middlewares(runtime)),
            },
            "tcp": {
                "routers": counts(self.tcp_routers(runtime)),
                "services": counts(self.tcp_services(runtime)),
                "middlewares": counts(self.tcp_middlewares(runtime)),
            },
            "udp": {
                "routers": counts(self.udp_routers(runtime)),
                "services": counts(self.udp_services(runtime)),
            },
            "features": dict(self._features),
            "providers": providers,
        }

    # -- serving -----------------------------------------------------------------------------

    async def __call__(self, head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        """Answer one admin request."""
        async for _ in body:
            pass
        if head.event.method not in (b"GET", b"HEAD"):
            return Response(405, [(b"allow", b"GET, HEAD")], b"")
        target = urllib.parse.urlsplit(head.event.target.decode("latin-1"))
        query = dict(urllib.parse.parse_qsl(target.query))
        path = target.path.rstrip("/") or "/"
        runtime = self._runtime()
        if path == "/ping":
            return Response(200, [(b"content-type", b"text/plain; charset=utf-8")], b"OK")
        if path == "/api/version":
            return _json(
                {"Version": __version__, "Codename": "routekit", "startDate": self._started}
            )
        if path == "/api/overview":
            return _json(self.overview(runtime))
        if path == "/api/problems":
            return _json(self.problems())
        if path == "/api/rawdata":
            return _json(
                {
                    "routers": {i["name"]: i for i in self.routers(runtime)},
                    "services": {i["name"]: i for i in self.services(runtime)},
                    "middlewares": {i["name"]: i for i in self.middlewares(runtime)},
                    "tcpRouters": {i["name"]: i for i in self.tcp_routers(runtime)},
                    "tcpServices": {i["name"]: i for i in self.tcp_services(runtime)},
                    "tcpMiddlewares": {i["name"]: i for i in self.tcp_middlewares(runtime)},
                    "udpRouters": {i["name"]: i for i in self.udp_routers(runtime)},
                    "udpServices": {i["name"]: i for i in self.udp_services(runtime)},
                }
            )
        lists: dict[str, Callable[[], list[Item]]] = {
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
        if path in lists:
            return _page(lists[path](), query)
        parent, _, name = path.rpartition("/")
        if parent in lists and name:
            wanted = urllib.parse.unquote(name)
            for item in lists[parent]():
                if item["name"] == wanted:
                    return _json(item)
            return _json({"message": f"{parent.rsplit('/', 1)[-1][:-1]} not found"}, 404)
        return _json({"message": "404 page not found"}, 404)


def _plain(elements: Mapping[str, object]) -> list[Item]:
    """Elements as the API lists them, with their name, provider and status."""
    out = []
    for name, element in elements.items():
        item: Item = to_data(element)
        item.update(name=name, provider=_provider(name), status="enabled")
        out.append(item)
    return out


def _json(data: object, status: int = 200) -> Response:
    return Response(status, [_JSON], json.dumps(data, sort_keys=True).encode())


def _page(items: list[Item], query: Mapping[str, str]) -> Response:
    search = query.get("search", "")
    if search:
        items = [i for i in items if search in i["name"] or search in str(i.get("rule", ""))]
    status = query.get("status", "")
    if status:
        items = [i for i in items if i.get("status", "enabled") == status]
    items.sort(key=lambda i: i["name"])
    try:
        page = max(1, int(query.get("page", "1")))
        per_page = max(1, int(query.get("per_page", str(_PER_PAGE))))
    except ValueError:
        return _json({"message": "page and per_page must be numbers"}, 400)
    start = (page - 1) * per_page
    if start and start >= len(items):
        return _json({"message": "invalid request: page out of range"}, 400)
    chosen = items[start : start + per_page]
    following = page + 1 if start + per_page < len(items) else 1
    response = _json(chosen)
    return Response(200, [*response.headers, (b"x-next-page", b"%d" % following)], response.body)
