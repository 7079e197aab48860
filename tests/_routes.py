"""Configurations that tests put in front of their backends."""

from __future__ import annotations


def one_route(
    port: int, host: str = "app.test", *, ip: str = "127.0.0.1", scheme: str = "http"
) -> str:
    """Dynamic TOML: router and service ``app``, for ``Host(host)``, to one server."""
    return f"""
[http.routers.app]
rule = "Host(`{host}`)"
service = "app"
[[http.services.app.loadBalancer.servers]]
url = "{scheme}://{ip}:{port}"
"""
