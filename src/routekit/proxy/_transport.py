"""Clients for ``serversTransports``: TLS verification, CAs, client certificates, timeouts.

A service may name a servers transport (Traefik's ``serversTransport``): how the proxy talks to
its servers.  Each distinct transport gets its own pooled `Client`, made on first use and kept
while the proxy lives (a reload that keeps a transport keeps its connections).
"""

from __future__ import annotations

import ssl

from ..config import ServersTransport
from ..errors import ConfigError
from ..http import Client, PoolLimits, pem_path

__all__ = ["transport_client"]

_PEM: str = "-----BEGIN"


def transport_client(transport: ServersTransport) -> Client:
    """A client that talks to servers as *transport* says.

    Raises:
        ConfigError: a CA or client certificate cannot be read.
    """
    timeouts = transport.forwarding_timeouts
    limits = PoolLimits(per_origin=max(1, transport.max_idle_conns_per_host))
    if timeouts is not None:
        limits = PoolLimits(
            per_origin=limits.per_origin,
            connect=timeouts.dial_timeout or limits.connect,
            # Traefik: responseHeaderTimeout 0 waits as long as it takes.
            read=timeouts.response_header_timeout or limits.read,
            idle=timeouts.idle_conn_timeout or limits.idle,
        )
    context = ssl.create_default_context()
    try:
        for ca in transport.root_cas:
            if ca.lstrip().startswith(_PEM):
                context.load_verify_locations(cadata=ca)
            else:
                context.load_verify_locations(cafile=ca)
        for pair in transport.certificates:
            with pem_path(pair.cert_file) as cert, pem_path(pair.key_file) as key:
                context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"servers transport: {exc}") from None
    if transport.insecure_skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return Client(limits, ssl_context=context, server_name=transport.server_name or None)
