"""passTLSClientCert over real mutual TLS: the entry point verifies, the server is told."""

from __future__ import annotations

import json
import ssl
import urllib.parse
from pathlib import Path

import anyio
import pytest
import trustme
from anyio.streams.tls import TLSStream

from _echo import echo
from _sockets import read_until_closed
from routekit.config import EntryPoint, loads_config
from routekit.http import EntryPointServer
from routekit.proxy import Gateway
from routekit.runtime import build

pytestmark = pytest.mark.anyio
ON_UVLOOP = True  # the data path: asyncio, trio and uvloop


def files(issued: trustme.LeafCert, folder: Path, stem: str) -> tuple[str, str]:
    cert, key = folder / f"{stem}.crt", folder / f"{stem}.key"
    cert.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    key.write_bytes(issued.private_key_pem.bytes())
    return str(cert), str(key)


def config(port: int, cert: tuple[str, str], ca: str, auth: str) -> str:
    return f"""
[http.routers.secure]
rule = "Host(`a.test`)"
service = "echo"
middlewares = ["pass"]
[http.routers.secure.tls]
[http.middlewares.pass.passTLSClientCert]
pem = true
[http.middlewares.pass.passTLSClientCert.info]
notAfter = true
sans = true
[http.middlewares.pass.passTLSClientCert.info.subject]
commonName = true
organization = true
[[http.services.echo.loadBalancer.servers]]
url = "http://127.0.0.1:{port}"
[[tls.certificates]]
certFile = "{cert[0]}"
keyFile = "{cert[1]}"
[tls.options.default.clientAuth]
caFiles = ["{ca}"]
clientAuthType = "{auth}"
"""


async def request(port: int, ca: trustme.CA, client: trustme.LeafCert | None) -> bytes:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    if client is not None:
        client.configure_cert(context)
    tcp = await anyio.connect_tcp("127.0.0.1", port)
    try:
        stream = await TLSStream.wrap(
            tcp, hostname="a.test", ssl_context=context, standard_compatible=False
        )
    except (ssl.SSLError, anyio.BrokenResourceError, OSError):
        await tcp.aclose()
        return b"refused"
    async with stream:
        try:
            await stream.send(b"GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n"
                              b"X-Forwarded-Tls-Client-Cert: forged\r\n\r\n")  # fmt: skip
            # TLS 1.3: the client's handshake ends before the server checks its certificate;
            # a refused one sees the connection close with no answer.
            return await read_until_closed(stream) or b"refused"
        except (ssl.SSLError, anyio.BrokenResourceError, anyio.EndOfStream):
            return b"refused"


async def test_the_verified_client_certificate_reaches_the_server(tmp_path: Path) -> None:
    ca = trustme.CA()
    server_cert = files(ca.issue_cert("a.test"), tmp_path, "server")
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    client = ca.issue_cert("client.test", common_name="alice", organization_name="Acme")
    stranger = trustme.CA().issue_cert("client.test")
    backend = EntryPointServer("127.0.0.1:0", echo)
    async with anyio.create_task_group() as tg:
        await tg.start(backend.serve)
        text = config(backend.ports[0], server_cert, str(ca_file), "RequireAndVerifyClientCert")
        runtime = build(loads_config(text))
        async with Gateway(runtime, {"web": EntryPoint(address="127.0.0.1:0")}) as gateway:
            port = gateway.ports["web"][0]
            answer = await request(port, ca, client)
            assert answer.startswith(b"HTTP/1.1 200 "), answer[:100]
            seen = dict(json.loads(answer.partition(b"\r\n\r\n")[2])["headers"])
            pem = urllib.parse.unquote_plus(seen["x-forwarded-tls-client-cert"])
            issued = client.cert_chain_pems[0].bytes().decode()
            body = "".join(issued.splitlines()[1:-1])
            assert pem == body  # not the client's forged value
            info = urllib.parse.unquote_plus(seen["x-forwarded-tls-client-cert-info"])
            assert info.startswith('Subject="O=Acme,CN=alice";NA="')
            assert info.endswith(';SAN="client.test"')
            assert await request(port, ca, None) == b"refused"  # required
            assert await request(port, ca, stranger) == b"refused"  # not from the CA
        backend.stop()
