"""Server certificates for TLS entry points, chosen by SNI as Traefik chooses them.

A client's server name picks the certificate whose names contain it exactly, else one whose
wildcard (``*.example.com``, one label) covers it, else the default certificate (Traefik's
``tls.stores.default.defaultCertificate``).  Traefik generates a self-signed default when none
is configured; routekit has no certificate generator in its core (that would need a crypto
dependency), so the first certificate given serves as the default then.

A certificate's names are read from its subjectAltName DNS entries (or its subject's common
name when it has none) with a small DER reader: Python's `ssl` module has no public way to read
a certificate it did not verify.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
from collections.abc import Iterator, Sequence
from typing import Final, final

from ..errors import ConfigError

__all__ = ["Certificates", "certificate_names", "client_context", "pem_path"]

_SAN: Final = bytes.fromhex("551d11")  # 2.5.29.17 subjectAltName
_CN: Final = bytes.fromhex("550403")  # 2.5.4.3 commonName
_PEM_START: Final = "-----BEGIN"


def _tlv(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the DER element at *at*."""
    if at + 2 > len(data):
        raise ValueError("truncated DER")
    tag, length = data[at], data[at + 1]
    at += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or at + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[at : at + count], "big")
        at += count
    if at + length > len(data):
        raise ValueError("truncated DER")
    return tag, at, at + length


def _children(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    at = start
    while at < end:
        tag, value, stop = _tlv(data, at)
        yield tag, value, stop
        at = stop


def certificate_names(der: bytes) -> tuple[str, ...]:
    """The DNS names a DER certificate is for: its subjectAltName DNS entries, else its CN.

    Raises:
        ValueError: *der* is not a certificate.
    """
    _, cert, _ = _tlv(der, 0)
    _, tbs, tbs_end = _tlv(der, cert)
    fields = list(_children(der, tbs, tbs_end))
    if fields and fields[0][0] == 0xA0:  # [0] version
        fields = fields[1:]
    if len(fields) < 6:
        raise ValueError("not an X.509 certificate")
    names: list[str] = []
    for tag, start, _ in fields[6:]:
        if tag != 0xA3:  # [3] extensions
            continue
        _, seq, seq_end = _tlv(der, start)
        for _, ext, ext_end in _children(der, seq, seq_end):
            parts = list(_children(der, ext, ext_end))
            if not parts or der[parts[0][1] : parts[0][2]] != _SAN:
                continue
            _, octets, _ = parts[-1]  # the extension's value, an OCTET STRING
            _, general, general_end = _tlv(der, octets)
            for name_tag, n_start, n_end in _children(der, general, general_end):
                if name_tag == 0x82:  # [2] dNSName
                    names.append(der[n_start:n_end].decode("ascii").lower())
    if names:
        return tuple(names)
    _, subject, subject_end = fields[4]
    for _, rdn, rdn_end in _children(der, subject, subject_end):
        for _, pair, pair_end in _children(der, rdn, rdn_end):
            (_, o_start, o_end), (_, v_start, v_end) = list(_children(der, pair, pair_end))[:2]
            if der[o_start:o_end] == _CN:
                names.append(der[v_start:v_end].decode("utf-8").lower())
    return tuple(names)


@contextlib.contextmanager
def pem_path(text_or_path: str) -> Iterator[str]:
    """A path to a PEM given as a path or as PEM text (Traefik accepts both): the path, or a
    private temporary file holding the text while the block runs (`ssl` reads files only)."""
    if not text_or_path.lstrip().startswith(_PEM_START):
        yield text_or_path
        return
    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text_or_path)
        yield path
    finally:
        os.unlink(path)


def client_context(
    *,
    root_cas: Sequence[str] = (),
    certificates: Sequence[tuple[str, str]] = (),
    insecure_skip_verify: bool = False,
    what: str = "TLS",
) -> ssl.SSLContext:
    """A client-side context as Traefik's ``tls``/``serversTransport`` options describe it.

    *root_cas* are CA files or PEM texts added to the system's; *certificates* are
    ``(cert, key)`` pairs (files or PEM texts) shown to the server; verification stays on
    unless *insecure_skip_verify*.

    Raises:
        ConfigError: a CA or certificate cannot be read (the message starts with *what*).
    """
    context = ssl.create_default_context()
    reading = ""
    try:
        for ca in root_cas:
            if ca.lstrip().startswith(_PEM_START):
                reading = "the CA (PEM text)"
                context.load_verify_locations(cadata=ca)
            else:
                reading = f"the CA file {ca}"
                context.load_verify_locations(cafile=ca)
        for cert_file, key_file in certificates:
            reading = "the client certificate and key"
            with pem_path(cert_file) as cert, pem_path(key_file) as key:
                context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        # ssl's own errors name no file ("[Errno 2] No such file or directory"): say which.
        raise ConfigError(f"{what}: {reading}: {exc}") from None
    if insecure_skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _first_der(text_or_path: str) -> bytes:
    """The DER of the first certificate of a PEM chain (the server's own)."""
    text = text_or_path
    if not text.lstrip().startswith(_PEM_START):
        with open(text_or_path, encoding="ascii") as f:
            text = f.read()
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    start = text.find(begin)
    stop = text.find(end, start)
    if start < 0 or stop < 0:
        raise ValueError("no PEM certificate in it")
    return ssl.PEM_cert_to_DER_cert(text[start : stop + len(end)])


@final
class Certificates:
    """Server certificates by name; `context` is the SSL context an entry point serves with.

    Args:
        pairs: (certificate, key) pairs, each a PEM file path or PEM text.
        default: the pair served when no name matches; the first of *pairs* otherwise.
        client_cas: the CAs (PEM files or text) client certificates are verified against.
        client_auth: Traefik's ``clientAuthType``: ``NoClientCert``, ``VerifyClientCertIfGiven``
            or ``RequireAndVerifyClientCert`` (the default when *client_cas* are given);
            ``RequestClientCert`` and ``RequireAnyClientCert`` verify too (Python's ``ssl``
            cannot take a certificate without verifying it).

    Raises:
        ConfigError: a file cannot be read, a pair is not a certificate and its key, or the
            client authentication cannot be set up.
    """

    def __init__(
        self,
        pairs: Sequence[tuple[str, str]],
        *,
        default: tuple[str, str] | None = None,
        client_cas: Sequence[str] = (),
        client_auth: str = "",
    ) -> None:
        self._verify = _client_verify(client_cas, client_auth)
        self._exact: dict[str, ssl.SSLContext] = {}
        self._wildcard: dict[str, ssl.SSLContext] = {}
        self._default: ssl.SSLContext | None = None
        for cert, key in pairs:
            context, names = _load(cert, key, self._verify)
            for name in names:
                if name.startswith("*."):
                    self._wildcard.setdefault(name[2:], context)
                else:
                    self._exact.setdefault(name, context)
            if self._default is None:
                self._default = context
        if default is not None:
            self._default, _ = _load(*default, self._verify)
        self.context: ssl.SSLContext | None = None
        if self._default is not None:
            self.context = _server_context(self._verify)
            self.context.sni_callback = self._choose_for
            # The listening context serves the default certificate to clients without SNI.
            cert, key = default if default is not None else pairs[0]
            with pem_path(cert) as c, pem_path(key) as k:
                self.context.load_cert_chain(c, k)

    def __bool__(self) -> bool:
        return self._default is not None

    def choose(self, server_name: str | None) -> ssl.SSLContext | None:
        """The context for *server_name*: exact, then wildcard, then the default."""
        if server_name:
            name = server_name.lower().rstrip(".")
            found = self._exact.get(name)
            if found is not None:
                return found
            _, dot, parent = name.partition(".")
            if dot:
                found = self._wildcard.get(parent)
                if found is not None:
                    return found
        return self._default

    def _choose_for(
        self, sslobj: ssl.SSLObject | ssl.SSLSocket, server_name: str | None, _: ssl.SSLContext
    ) -> None:
        chosen = self.choose(server_name)
        if chosen is not None:
            sslobj.context = chosen


_Verify = tuple[ssl.VerifyMode, tuple[str, ...]]
_CLIENT_AUTH: Final = {
    "": ssl.CERT_REQUIRED,
    "requestclientcert": ssl.CERT_OPTIONAL,
    "verifyclientcertifgiven": ssl.CERT_OPTIONAL,
    "requireanyclientcert": ssl.CERT_REQUIRED,
    "requireandverifyclientcert": ssl.CERT_REQUIRED,
}


def _client_verify(cas: Sequence[str], kind: str) -> _Verify:
    if kind.lower() == "noclientcert" or (not cas and not kind):
        return ssl.CERT_NONE, ()
    mode = _CLIENT_AUTH.get(kind.lower())
    if mode is None:
        raise ConfigError(f"unknown clientAuthType {kind!r}")
    if not cas:
        raise ConfigError(f"clientAuthType {kind}: give the CA files (caFiles) to verify with")
    return mode, tuple(cas)


def _server_context(verify: _Verify = (ssl.CERT_NONE, ())) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # Traefik's default minVersion
    context.set_alpn_protocols(["http/1.1"])
    mode, cas = verify
    if mode != ssl.CERT_NONE:
        try:
            for ca in cas:
                if ca.lstrip().startswith(_PEM_START):
                    context.load_verify_locations(cadata=ca)
                else:
                    context.load_verify_locations(cafile=ca)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"client CA: {exc}") from None
        context.verify_mode = mode
    return context


def _load(cert: str, key: str, verify: _Verify) -> tuple[ssl.SSLContext, tuple[str, ...]]:
    shown = cert if not cert.lstrip().startswith(_PEM_START) else "inline certificate"
    context = _server_context(verify)
    for what, value in (("certificate", cert), ("key", key)):
        if not value.lstrip().startswith(_PEM_START) and not os.path.isfile(value):
            raise ConfigError(f"TLS {what} {value!r}: no such file")
    try:
        with pem_path(cert) as c, pem_path(key) as k:
            context.load_cert_chain(c, k)
        names = certificate_names(_first_der(cert))
    except (OSError, ssl.SSLError, ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"TLS certificate {shown!r}: {exc}") from None
    return context, names
