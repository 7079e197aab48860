"""Certificates for the tests' TLS servers (etcd, Redis, ZooKeeper): a CA, a server and a
client."""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme

from routekit.config import ClientTLS


def client_ssl(tls: Path | None) -> ssl.SSLContext | None:
    """What the tests' own writes show a TLS member: its CA, and a client certificate."""
    if tls is None:
        return None
    context = ssl.create_default_context(cafile=str(tls / "ca.pem"))
    context.load_cert_chain(str(tls / "client.pem"), str(tls / "client-key.pem"))
    return context


def provider_tls(tls: Path) -> ClientTLS:
    """A provider's ``tls`` options for a member made by `make_tls`: its CA, the client's
    certificate and key."""
    return ClientTLS(
        ca=str(tls / "ca.pem"), cert=str(tls / "client.pem"), key=str(tls / "client-key.pem")
    )


def make_tls(root: Path) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, under *root*."""
    tls = root / "tls"
    tls.mkdir()
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tls / "ca.pem"))
    for name, identity in (("server", "127.0.0.1"), ("client", "routekit-client.example")):
        cert = ca.issue_cert(identity)
        cert.cert_chain_pems[0].write_to_path(str(tls / f"{name}.pem"))
        cert.private_key_pem.write_to_path(str(tls / f"{name}-key.pem"))
    return tls
