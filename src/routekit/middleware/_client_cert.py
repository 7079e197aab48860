"""passTLSClientCert: the client's TLS certificate, passed to the server in headers.

As Traefik's ``master:pkg/middlewares/passtlsclientcert``: with ``pem``,
``X-Forwarded-Tls-Client-Cert`` carries the certificate's PEM without its armour lines and
newlines, query-escaped; with ``info``, ``X-Forwarded-Tls-Client-Cert-Info`` carries the chosen
fields — ``Subject="C=…,ST=…,L=…,O=…,OU=…,CN=…,SN=…,DC=…"``, ``Issuer="…"``,
``SerialNumber="…"``, ``NB="<unix>"``, ``NA="<unix>"``, ``SAN="a,b"`` — joined by ``;`` and
query-escaped.  Headers of those names that the client sent are always removed first.  The
certificate is the one the client presented (Python's ``ssl`` gives the leaf, not the chain).
Reading the fields needs the ``cryptography`` package (the ``auth`` extra).
"""

from __future__ import annotations

import base64
import importlib
import textwrap
import urllib.parse
from typing import Any, Final

from ..config import CertInfo, CertIssuerInfo, CertSubjectInfo, PassTLSClientCert
from ..errors import ConfigError
from ..http import Response
from ._call import Call, Layer, Next, remove_header, set_header

__all__ = ["certificate_info", "certificate_pem"]

_PEM_HEADER: Final = b"x-forwarded-tls-client-cert"
_INFO_HEADER: Final = b"x-forwarded-tls-client-cert-info"
# Traefik's order of the distinguished name parts, with their prefixes.
_DN: Final = (
    ("country", "COUNTRY_NAME", "C"),
    ("province", "STATE_OR_PROVINCE_NAME", "ST"),
    ("locality", "LOCALITY_NAME", "L"),
    ("organization", "ORGANIZATION_NAME", "O"),
    ("organizational_unit", "ORGANIZATIONAL_UNIT_NAME", "OU"),
    ("common_name", "COMMON_NAME", "CN"),
    ("serial_number", "SERIAL_NUMBER", "SN"),
    ("domain_component", "DOMAIN_COMPONENT", "DC"),
)


def certificate_pem(der: bytes) -> str:
    """The certificate as Traefik passes it: PEM body without armour or newlines, escaped."""
    body = "".join(textwrap.wrap(base64.b64encode(der).decode("ascii"), 64))
    return urllib.parse.quote_plus(body)


def _x509() -> Any:
    try:
        return importlib.import_module("cryptography.x509")
    except ImportError:
        raise ConfigError(
            "passTLSClientCert info needs the 'cryptography' package: pip install 'routekit[auth]'"
        ) from None


def _dn(name: Any, wanted: CertSubjectInfo | CertIssuerInfo, oids: Any) -> str:
    parts: list[str] = []
    for field, oid, prefix in _DN:
        if not getattr(wanted, field, False):
            continue
        for attribute in name.get_attributes_for_oid(getattr(oids, oid)):
            parts.append(f"{prefix}={attribute.value}")
    return ",".join(parts)


def certificate_info(der: bytes, info: CertInfo) -> str:
    """The fields *info* chooses of a certificate, as Traefik writes them (not yet escaped)."""
    x509 = _x509()
    cert = x509.load_der_x509_certificate(der)
    oids = importlib.import_module("cryptography.x509.oid").NameOID
    values: list[str] = []
    if info.subject is not None:
        subject = _dn(cert.subject, info.subject, oids)
        if subject:
            values.append(f'Subject="{subject}"')
    if info.issuer is not None:
        issuer = _dn(cert.issuer, info.issuer, oids)
        if issuer:
            values.append(f'Issuer="{issuer}"')
    if info.serial_number:
        values.append(f'SerialNumber="{cert.serial_number}"')
    if info.not_before:
        values.append(f'NB="{int(cert.not_valid_before_utc.timestamp())}"')
    if info.not_after:
        values.append(f'NA="{int(cert.not_valid_after_utc.timestamp())}"')
    if info.sans:
        try:
            extension = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound:
            extension = None
        if extension is not None:
            sans = [str(getattr(n, "value", n)) for n in extension.value]
            if sans:
                values.append(f'SAN="{",".join(sans)}"')
    return ";".join(values)


def build_pass_tls_client_cert(model: PassTLSClientCert) -> Layer:
    """The passTLSClientCert layer."""
    if model.info is not None:
        _x509()  # the package is there now, not at the first request

    def layer(next_: Next) -> Next:
        async def handle(call: Call) -> Response:
            remove_header(call.headers, _PEM_HEADER)
            remove_header(call.headers, _INFO_HEADER)
            der = call.peer_certificate
            if der is not None:
                if model.pem:
                    set_header(call.headers, _PEM_HEADER, certificate_pem(der).encode("ascii"))
                if model.info is not None:
                    text = urllib.parse.quote_plus(certificate_info(der, model.info))
                    set_header(call.headers, _INFO_HEADER, text.encode("ascii"))
            return await next_(call)

        return handle

    return layer
