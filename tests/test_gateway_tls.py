"""TLS on entry points: certificates by SNI (exact, wildcard, default), https routers, reloads.

Certificates are made for each run by trustme; no key is committed.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import anyio
import pytest
import trustme
from anyio.streams.tls import TLSAttribute, TLSStream

from _sockets import read_until_closed
from routekit.config import EntryPoint, TLSCertificate, TLSConfiguration, loads_config
from routekit.errors import ConfigError
from routekit.http import Certificates, EntryPointServer, RequestHead, Response, certificate_names
from routekit.proxy import Gateway, load_certificates
from routekit.runtime import build

pytestmark = pytest.mark.anyio
ON_UVLOOP = True  # the data path: asyncio, trio and uvloop


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def pem_files(ca: trustme.CA, folder: Path, stem: str, *names: str) -> tuple[str, str]:
    issued = ca.issue_cert(*names)
    cert, key = folder / f"{stem}.crt", folder / f"{stem}.key"
    cert.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    key.write_bytes(issued.private_key_pem.bytes())
    return str(cert), str(key)


def peer_names(stream: anyio.abc.ByteStream) -> set[str]:
    obj = stream.extra(TLSAttribute.ssl_object)
    cert = obj.getpeercert()
    assert cert is not None
    alt_names = cast("tuple[tuple[str, str], ...]", cert.get("subjectAltName", ()))
    return {value for kind, value in alt_names if kind == "DNS"}


async def https_get(port: int, host: str, ca: trustme.CA) -> tuple[set[str], bytes]:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    context.check_hostname = False  # the default certificate is checked by name below
    tcp = await anyio.connect_tcp("127.0.0.1", port)
    # As browsers do: the end of the stream ends the answer, no TLS close_notify is needed.
    stream = await TLSStream.wrap(
        tcp, hostname=host, ssl_context=context, standard_compatible=False
    )
    async with stream:
        names = peer_names(stream)
        await stream.send(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        return names, await read_until_closed(stream)


def backend() -> EntryPointServer:
    async def handler(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        proto = dict(head.event.headers).get(b"x-forwarded-proto", b"-")
        return Response(200, [], b"proto=" + proto)

    return EntryPointServer("127.0.0.1:0", handler)


def dynamic(port: int, certs: list[tuple[str, str]], default: tuple[str, str] | None) -> str:
    text = f"""
[http.routers.secure]
rule = "HostRegexp(`.+`)"
service = "app"
[http.routers.secure.tls]
[http.routers.plain]
rule = "Host(`plain.test`)"
service = "app"
[[http.services.app.loadBalancer.servers]]
url = "http://127.0.0.1:{port}"
"""
    for cert, key in certs:
        text += f'[[tls.certificates]]\ncertFile = "{cert}"\nkeyFile = "{key}"\n'
    if default is not None:
        text += (
            f'[tls.stores.default.defaultCertificate]\ncertFile = "{default[0]}"\n'
            f'keyFile = "{default[1]}"\n'
        )
    return text


async def test_sni_picks_the_exact_then_the_wildcard_then_the_default_certificate(
    ca: trustme.CA, tmp_path: Path
) -> None:
    a = pem_files(ca, tmp_path, "a", "a.test")
    b = pem_files(ca, tmp_path, "b", "*.b.test")
    fallback = pem_files(ca, tmp_path, "default", "default.test")
    server = backend()
    async with anyio.create_task_group() as tg:
        await tg.start(server.serve)
        runtime = build(loads_config(dynamic(server.ports[0], [a, b], fallback)))
        async with Gateway(runtime, {"web": EntryPoint(address="127.0.0.1:0")}) as gateway:
            port = gateway.ports["web"][0]
            names, answer = await https_get(port, "a.test", ca)
            assert names == {"a.test"} and answer.endswith(b"proto=https")
            names, answer = await https_get(port, "x.b.test", ca)
            assert names == {"*.b.test"} and answer.startswith(b"HTTP/1.1 200 ")
            names, _ = await https_get(port, "deeper.x.b.test", ca)  # a wildcard is one label
            assert names == {"default.test"}
            names, _ = await https_get(port, "other.test", ca)
            assert names == {"default.test"}
            # The same port still speaks plain HTTP, to the routers without TLS (Traefik v2).
            async with await anyio.connect_tcp("127.0.0.1", port) as plain:
                await plain.send(b"GET / HTTP/1.1\r\nHost: plain.test\r\nConnection: close\r\n\r\n")
                assert (await read_until_closed(plain)).endswith(b"proto=http")
            async with await anyio.connect_tcp("127.0.0.1", port) as plain:
                await plain.send(b"GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
                assert (await read_until_closed(plain)).startswith(b"HTTP/1.1 404 ")
        server.stop()


async def test_a_tls_only_entry_point_refuses_plain_http(ca: trustme.CA, tmp_path: Path) -> None:
    a = pem_files(ca, tmp_path, "a", "a.test")
    runtime = build(loads_config(dynamic(1, [a], None)))
    entry = {"websecure": EntryPoint(address="127.0.0.1:0", tls=True)}
    async with Gateway(runtime, entry) as gateway:
        port = gateway.ports["websecure"][0]
        async with await anyio.connect_tcp("127.0.0.1", port) as plain:
            await plain.send(b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
            answer = await read_until_closed(plain)
        assert answer.startswith(b"HTTP/1.0 400 ") and b"HTTPS server" in answer
        names, _ = await https_get(port, "a.test", ca)  # the first certificate is the default
        assert names == {"a.test"}


async def test_a_failed_handshake_does_not_disturb_the_entry_point(
    ca: trustme.CA, tmp_path: Path
) -> None:
    a = pem_files(ca, tmp_path, "a", "a.test")
    runtime = build(loads_config(dynamic(1, [a], None)))
    async with Gateway(runtime, {"web": EntryPoint(address="127.0.0.1:0")}) as gateway:
        port = gateway.ports["web"][0]
        async with await anyio.connect_tcp("127.0.0.1", port) as garbage:
            await garbage.send(b"\x16\x03\x01\x00\x05hello")  # a broken ClientHello
            await read_until_closed(garbage)  # closed (an alert at most), never left hanging
        names, _ = await https_get(port, "a.test", ca)
        assert names == {"a.test"}


def test_certificate_names_come_from_the_subject_alt_names(ca: trustme.CA, tmp_path: Path) -> None:
    cert, _ = pem_files(ca, tmp_path, "many", "one.test", "*.two.test", "127.0.0.1")
    der = ssl.PEM_cert_to_DER_cert(
        Path(cert).read_text().split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----"
    )
    assert certificate_names(der) == ("one.test", "*.two.test")
    with pytest.raises(ValueError):
        certificate_names(b"\x30\x03\x02\x01")


def test_inline_pem_text_is_accepted_and_bad_files_are_named(
    ca: trustme.CA, tmp_path: Path
) -> None:
    issued = ca.issue_cert("inline.test")
    pair = (issued.cert_chain_pems[0].bytes().decode(), issued.private_key_pem.bytes().decode())
    store = Certificates([pair])
    assert store and store.choose("inline.test") is store.choose(None)
    with pytest.raises(ConfigError, match=r"certificate '/nope.crt': no such file"):
        Certificates([("/nope.crt", "/nope.key")])
    other = pem_files(ca, tmp_path, "other", "other.test")
    mine = pem_files(ca, tmp_path, "mine", "mine.test")
    with pytest.raises(ConfigError, match=r"mine\.crt"):
        Certificates([(mine[0], other[1])])  # a key of another certificate
    tls = TLSConfiguration(certificates=(TLSCertificate(cert_file=mine[0], key_file=mine[1]),))
    assert load_certificates(tls).choose("mine.test") is not None
