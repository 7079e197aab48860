"""`Configuration` → v2/v3 Docker labels, the ones a compose file's ``labels:`` list carries.

Label keys mirror the file structure below ``traefik.`` (``master:…/routing/providers/docker.md``):
``traefik.http.routers.<r>.rule``, ``traefik.http.services.<s>.loadbalancer.server.port``…
Field names keep their file spelling (labels match them case-insensitively), a list of plain
values is one comma-separated value, and other lists are written ``field[0].…``, as Traefik's
label parser reads them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..model import Configuration, flatten_data, to_data

__all__ = ["config_to_labels"]


def config_to_labels(
    config: Configuration, *, container_address: str | None = None
) -> dict[str, str]:
    """Write *config* as v2/v3 labels; `labels_to_config` reads them back equal.

    Args:
        config: the configuration.
        container_address: the address the container of these labels has; a load balancer's
            only server at that address is written ``loadbalancer.server.port`` (and
            ``.scheme``), which the Docker provider completes with the address of whichever
            container carries the labels.

    Fields at their default are left out; an element with only defaults (``tls`` on a router)
    is written as ``<key>=true``.

    Raises:
        ConfigError: a name or map key is empty or holds ``.``, which a label key cannot say.
    """
    data = to_data(config)
    if container_address is not None:
        for section in ("http", "tcp", "udp"):
            for service in data.get(section, {}).get("services", {}).values():
                balancer = service.get("loadBalancer")
                if balancer is not None:
                    _container_server(balancer, container_address, http=section == "http")
    out: dict[str, str] = {}
    flatten_data(
        data,
        "traefik",
        out,
        separator=".",
        index=lambda key, i: f"{key}[{i}]",
        what="a label",
        joined_lists=True,
    )
    return out


def _container_server(balancer: dict[str, Any], address: str, *, http: bool) -> None:
    """Turn the only server at *address* of *balancer* into ``server.port``/``server.scheme``."""
    servers = balancer.get("servers", [])
    if len(servers) != 1:
        return
    server = dict(servers[0])
    try:
        if http:
            parts = urlsplit(server.pop("url", ""))
            host, port, scheme = parts.hostname, parts.port, parts.scheme
            if parts.path or parts.query or parts.fragment or parts.username:
                return
        else:
            parts = urlsplit(f"//{server.pop('address', '')}")
            host, port, scheme = parts.hostname, parts.port, "http"
    except ValueError:
        return  # not a URL a port label can say: keep it whole
    if host is None or port is None or host != address.strip("[]").lower():
        return
    if scheme != "http":
        server["scheme"] = scheme
    server["port"] = str(port)
    del balancer["servers"]
    balancer["server"] = server
