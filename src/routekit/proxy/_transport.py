"""Clients for ``serversTransports``: TLS verification, CAs, client certificates, timeouts.

A service may name a servers transport (Traefik's ``serversTransport``): how the proxy talks to
its servers.  Each distinct transport gets its own pooled `Client`, made on first use and kept
while the proxy lives (a reload that keeps a transport keeps its connections).
"""

from __future__ import annotations

from ..config import ServersTransport
from ..http import Client, PoolLimits, client_context

__all__ = ["transport_client"]


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
    context = client_context(
        root_cas=transport.root_cas,
        certificates=[(c.cert_file, c.key_file) for c in transport.certificates],
        insecure_skip_verify=transport.insecure_skip_verify,
        what="servers transport",
    )
    return Client(limits, ssl_context=context, server_name=transport.server_name or None)
