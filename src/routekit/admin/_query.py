"""The admin API's list queries as Traefik's ``pkg/api`` answers them: filters, order, pages.

``criterion.go``: ``search`` (case-insensitive, in a router's name or rule, in the name of the
others), ``status`` (case-insensitive), and on routers ``serviceName`` and ``middlewareName``;
``page`` and ``per_page`` (100), the next page in ``X-Next-Page`` (1 after the last), 400 with
``{"message": "invalid request: ..."}`` for a page that is not a positive number or starts past
the end.  ``sort.go``: ``sortBy`` (per kind, below) and ``direction`` (``asc`` unless ``desc``),
ties broken by name; by name when ``sortBy`` is not one of the kind's fields.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

from ..http import Response

__all__ = ["Item", "Kind", "json_response", "page", "parse_query"]

Item = dict[str, Any]
#: What a list holds: it decides which filters and ``sortBy`` fields apply.
Kind = Literal["routers", "udp-routers", "services", "middlewares", "entrypoints"]

JSON: Final = (b"content-type", b"application/json")
_PER_PAGE: Final = 100
# Go's strconv.Atoi: an optional sign and ASCII digits.
_INT: Final = re.compile(r"[+-]?[0-9]+")


def _servers(item: Item) -> int:
    # sort.go counts a load balancer's own servers only (as Traefik's web UI does).
    return len(item.get("loadBalancer", {}).get("servers", ()))


_SORT_FIELDS: Final[dict[str, dict[str, Callable[[Item], Any]]]] = {
    "routers": {
        "provider": lambda i: i.get("provider", ""),
        "priority": lambda i: i.get("priority", 0),
        "status": lambda i: i.get("status", ""),
        "rule": lambda i: i.get("rule", ""),
        "service": lambda i: i.get("service", ""),
        "entryPoints": lambda i: len(i.get("entryPoints", ())),
    },
    "services": {
        "type": lambda i: i.get("type", ""),
        "servers": _servers,
        "provider": lambda i: i.get("provider", ""),
        "status": lambda i: i.get("status", ""),
    },
    "middlewares": {
        "type": lambda i: i.get("type", ""),
        "provider": lambda i: i.get("provider", ""),
        "status": lambda i: i.get("status", ""),
    },
}
_SORT_FIELDS["udp-routers"] = _SORT_FIELDS["routers"]


def parse_query(query: str) -> dict[str, str]:
    """The parameters of a query string, each with its first value (Go's ``url.Values.Get``)."""
    out: dict[str, str] = {}
    for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        out.setdefault(key, value)
    return out


def json_response(data: object, status: int = 200) -> Response:
    """*data* as a JSON response."""
    return Response(status, [JSON], json.dumps(data, sort_keys=True).encode())


def _named(wanted: str, reference: str) -> bool:
    """Whether the qualified *reference* is the one *wanted* names: exactly when *wanted* has a
    provider (``auth@file``), by its name part in any provider when it has none (``auth``)."""
    return reference == wanted if "@" in wanted else reference.partition("@")[0] == wanted


def _keep(item: Item, kind: Kind, query: Mapping[str, str]) -> bool:
    status = query.get("status", "")
    if status and item.get("status", "").lower() != status.lower():
        return False
    search = query.get("search", "").lower()
    if search:
        places = [item["name"]]
        if kind == "routers":
            places.append(item.get("rule", ""))
        if not any(search in p.lower() for p in places):
            return False
    if kind not in ("routers", "udp-routers"):
        return True
    service = query.get("serviceName", "")
    if service and not _named(service, item.get("service", "")):
        return False
    middleware = query.get("middlewareName", "")
    if middleware and kind == "routers":
        return any(_named(middleware, m) for m in item.get("middlewares", ()))
    return True


def _sort(items: list[Item], kind: Kind, query: Mapping[str, str]) -> None:
    if kind == "entrypoints":  # handler_entrypoint.go: by name, whatever is asked
        items.sort(key=lambda i: i["name"])
        return
    descending = query.get("direction", "asc") != "asc"
    field = _SORT_FIELDS.get(kind, {}).get(query.get("sortBy", ""))
    if field is None:
        items.sort(key=lambda i: i["name"], reverse=descending)
    else:
        items.sort(key=lambda i: (field(i), i["name"]), reverse=descending)


def _number(query: Mapping[str, str], key: str, default: int) -> int | str:
    """The positive number *key* gives, or the message of Traefik's 400."""
    raw = query.get(key, "")
    if not raw:
        return default
    value = int(raw) if _INT.fullmatch(raw) else 0
    return value if value > 0 else f"invalid request: {key}: {value}"


def page(items: list[Item], kind: Kind, query: Mapping[str, str]) -> Response:
    """The page of *items* (of *kind*) that *query* asks for, filtered and sorted."""
    if kind != "entrypoints":  # entry points are neither searched nor filtered
        items = [i for i in items if _keep(i, kind, query)]
    _sort(items, kind, query)
    per_page = _number(query, "per_page", _PER_PAGE)
    number = _number(query, "page", 1)
    if isinstance(per_page, str) or isinstance(number, str):
        return json_response({"message": per_page if isinstance(per_page, str) else number}, 400)
    start = (number - 1) * per_page
    if start and start >= len(items):
        message = f"invalid request: page: {number}, per_page: {per_page}"
        return json_response({"message": message}, 400)
    following = number + 1 if number * per_page < len(items) else 1
    response = json_response(items[start : start + per_page])
    return Response(200, [*response.headers, (b"x-next-page", b"%d" % following)], response.body)
