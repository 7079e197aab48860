"""Entry point addresses, as Traefik writes them: ``:80``, ``host:port``, ``[::1]:443``."""

from __future__ import annotations

import ipaddress

from ..errors import ConfigError

__all__ = ["parse_address"]


def parse_address(address: str) -> tuple[str | None, int]:
    """``(host, port)`` of an entry point address; host ``None`` means every interface.

    Raises:
        ConfigError: not ``[host]:port`` with a port from 0 to 65535, or a UDP address.
    """
    text = address.strip()
    if text.lower().endswith("/udp"):
        raise ConfigError(f"entry point address {address!r}: UDP is not served by HTTP")
    text = text.removesuffix("/tcp").removesuffix("/TCP")
    host, sep, port = text.rpartition(":")
    if not sep or not port.isascii() or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"entry point address {address!r}: expected [host]:port, e.g. ':80'")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ConfigError(f"entry point address {address!r}: bad IPv6 address") from None
    elif ":" in host:
        raise ConfigError(f"entry point address {address!r}: write an IPv6 host in brackets")
    return (host or None), int(port)
