"""Checks a proxy makes of a request head before routing or forwarding it, beyond h11's own.

h11 already refuses conflicting ``Content-Length`` values, transfer codings other than
``chunked``, whitespace before a colon, a missing or repeated ``Host``.  It accepts a few things
a proxy must not pass on, because the next server may read the message differently (request
smuggling):

- ``Content-Length`` together with ``Transfer-Encoding`` (RFC 9112 §6.3: "ought to be handled
  as an error"; Go and Traefik answer 400 and close);
- obsolete line folding, which h11 unfolds (RFC 9112 §5.2: a server must reject it or replace
  it; a proxy that forwards the unfolded form changes the message) — seen only in the raw head;
- a version other than HTTP/1.0 and 1.1 in the request line (505);
- a ``Host`` value, or an absolute-form target's authority, that is not ``host[:port]``
  (RFC 9112 §3.2; the authority of an absolute-form target replaces ``Host``, §3.2.2);
- more header fields, a longer target, or a larger declared body than the entry point allows.

Each check answers ``(status, reason)`` or ``None``; the connection is closed after the answer.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Final, Protocol

__all__ = [
    "HeadProblem",
    "filter_trailers",
    "raw_head_problem",
    "request_head_problem",
]

#: ``(status, reason)``: the answer to a head that must be refused.
HeadProblem = tuple[int, str]

# RFC 3986 reg-name (unreserved, pct-encoded, sub-delims) and an optional port.
_REG_NAME: Final = re.compile(rb"(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")
_PORT: Final = re.compile(rb"[0-9]{0,5}")
_ABSOLUTE: Final = re.compile(rb"(?i)(https?|wss?)://([^/?#]*)(.*)\Z", re.DOTALL)

#: Fields a trailer section may not carry (RFC 9110 §6.5.1): framing, routing, hop-by-hop.
_NOT_IN_TRAILERS: Final = frozenset(
    {
        b"content-length",
        b"transfer-encoding",
        b"host",
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"upgrade",
        b"content-type",
        b"content-encoding",
        b"content-range",
        b"authorization",
        b"proxy-authorization",
        b"set-cookie",
        b"cookie",
    }
)


class _RequestHead(Protocol):
    @property
    def method(self) -> bytes: ...
    @property
    def target(self) -> bytes: ...
    @property
    def http_version(self) -> bytes: ...
    @property
    def headers(self) -> Sequence[tuple[bytes, bytes]]: ...


def raw_head_problem(head: bytes) -> HeadProblem | None:
    """What is wrong with the raw bytes of a request head that h11 would hide, or ``None``.

    *head* is the request line and header fields as received (up to the blank line).
    """
    # A field line that starts with a space or a tab continues the previous one (obs-fold).
    if b"\n " in head or b"\n\t" in head:
        return 400, "obsolete line folding is not accepted"
    return None


def request_head_problem(
    event: _RequestHead,
    *,
    max_fields: int = 100,
    max_target: int = 8192,
    max_body: int | None = None,
) -> HeadProblem | None:
    """Why a request head (an ``h11.Request``) must be refused, or ``None`` when it may pass.

    Args:
        event: the request head.
        max_fields: the most header fields accepted (431 beyond).
        max_target: the longest request target accepted, in bytes (414 beyond).
        max_body: the largest declared ``Content-Length`` accepted (413 beyond); ``None``
            accepts any.
    """
    if event.http_version not in (b"1.0", b"1.1"):
        return 505, f"HTTP/{event.http_version.decode('latin-1')} is not supported"
    if len(event.target) > max_target:
        return 414, f"the request target is longer than {max_target} bytes"
    if len(event.headers) > max_fields:
        return 431, f"more than {max_fields} header fields"
    length: bytes | None = None
    coded = False
    host: bytes | None = None
    for name, value in event.headers:
        if name == b"content-length":
            length = value
        elif name == b"transfer-encoding":
            coded = True
        elif name == b"host":
            host = value
    if length is not None and coded:
        return 400, "Content-Length and Transfer-Encoding together"
    if max_body is not None and length is not None and int(length) > max_body:
        return 413, f"the declared body is larger than {max_body} bytes"
    if event.method == b"CONNECT":
        # authority-form (RFC 9112 §3.2.3): the target is the host and port to tunnel to.
        if not _valid_authority(event.target) or b":" not in event.target:
            return 400, "a CONNECT target must be host:port"
        return None
    absolute = _ABSOLUTE.match(event.target)
    if absolute is not None:
        if not _valid_authority(absolute.group(2)):
            return 400, "the target's authority is not a valid host[:port]"
    elif host and not _valid_authority(host):
        # An empty Host is valid: a target URI without an authority (RFC 9112 §3.2).
        return 400, "the Host header is not a valid host[:port]"
    return None


def _valid_authority(value: bytes) -> bool:
    """Whether *value* is ``host[:port]`` (RFC 3986 §3.2.2), without user information."""
    if value.startswith(b"["):
        end = value.find(b"]")
        if end < 0:
            return False
        literal, rest = value[1:end], value[end + 1 :]
        try:
            ipaddress.IPv6Address(literal.decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            return False
        return rest == b"" or (rest[:1] == b":" and _PORT.fullmatch(rest[1:]) is not None)
    host, sep, port = value.rpartition(b":")
    if not sep:
        host, port = value, b""
    if not host or _REG_NAME.fullmatch(host) is None:
        return False
    return _PORT.fullmatch(port) is not None


def filter_trailers(trailers: Sequence[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The trailer fields that may be relayed: none that frames, routes or is hop-by-hop."""
    return [(k, v) for k, v in trailers if k not in _NOT_IN_TRAILERS]
