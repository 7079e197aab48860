"""The strict fast path beside h11: the common request and response heads, without I/O.

A proxied request passes through two HTTP/1.1 state machines (the client's side and the
server's side), and h11's generality costs about 120 µs of it.  Most requests are plain: a
request line with an origin-form target, a few well-formed fields, one ``Host``, no body or
one ``Content-Length``.  For those, this module parses and writes the bytes itself; anything it
is not sure of (``Transfer-Encoding``, an absolute-form target, ``Upgrade``, ``Expect``,
``CONNECT``, bytes outside tchar/VCHAR, obs-fold, bare LF, a repeated ``Content-Length``…) is
*declined* (``None``), and the caller hands the bytes to a fresh h11 connection, which decides
exactly as before.  h11 stays the reference: what the fast path accepts, it reads as h11 would
(the same method, target, version, lower-cased field names and values, framing and keep-alive
decision — tests/test_http_fastpath.py checks it against h11 on generated heads), and what it
writes are h11's bytes, byte for byte.

Each head is matched by one precompiled regular expression over its bytes (RFC 9112 §3, §5:
``token ":" OWS field-value OWS``, lines ended by CRLF only); the fields are then split by a
simpler one, since the whole head is known to be valid.
"""

from __future__ import annotations

import http
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Final, NamedTuple, final

import h11
from h11._headers import Headers as _H11Headers  # the type h11 keeps fields in

__all__ = [
    "BLANK_LINE",
    "CHUNKED",
    "FAST_PATH",
    "UNTIL_CLOSE",
    "FastHeaders",
    "FastRequest",
    "FastResponse",
    "ResponseWriter",
    "parse_request_head",
    "parse_response_head",
    "request_bytes",
]

#: Whether servers and clients take the fast path unless told otherwise: on, and off with the
#: environment variable ``ROUTEKIT_FAST_PATH=0`` (every request through h11, as a way out and
#: for A/B measurements).
FAST_PATH: Final = os.environ.get("ROUTEKIT_FAST_PATH", "1") != "0"

#: Where h11 ends a head: its first blank line, after CRLF or a bare LF (its receive buffer).
BLANK_LINE: Final = re.compile(rb"\n\r?\n")
_TCHAR: Final = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]"
# A field line: a token name, a colon, and a value of VCHARs, spaces and tabs (RFC 9110 §5.5:
# OWS, VCHAR runs with spaces or tabs inside, OWS — any such string is one); no obs-text, no
# control character, no bare CR or LF.
_FIELDS: Final = rb"((?:" + _TCHAR + rb"+:[\t \x21-\x7e]*\r\n)*)\r\n"
_REQUEST_HEAD: Final = re.compile(
    rb"(" + _TCHAR + rb"+) (/[\x21-\x7e]*) HTTP/(1\.[01])\r\n" + _FIELDS
)
_RESPONSE_HEAD: Final = re.compile(rb"HTTP/1\.1 ([0-9]{3})(?: ([\t \x21-\x7e]*))?\r\n" + _FIELDS)
# Splits fields already known valid: name, and value without the whitespace around it.
_FIELD: Final = re.compile(rb"([^:]+):[ \t]*([^\r]*[^\r \t])?[ \t]*\r\n")
# h11's own rules for the fields it is given to send (its _abnf module): token names, values
# without NUL or whitespace other than inner spaces and tabs.
_NAME_OK: Final = re.compile(_TCHAR + rb"+")
_VALUE_OK: Final = re.compile(rb"(?:[^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?")
_METHOD_OK: Final = _NAME_OK
_TARGET_OK: Final = re.compile(rb"[\x21-\x7e]+")
_LENGTH: Final = re.compile(rb"[0-9]{1,20}")
#: Fields the fast path leaves to h11: other framings, protocol switches, expectations.
# Each status's phrase as Go's net/http writes it in the status line (and so Traefik): the
# standard one of RFC 9110 §15, none for an unregistered code; the lines are made once.
REASONS: Final = {s.value: s.phrase.encode("ascii") for s in http.HTTPStatus}
_STATUS_LINES: Final = {
    code: b"HTTP/1.1 %d %s\r\n" % (code, phrase) for code, phrase in REASONS.items()
}


def status_line(status: int) -> bytes:
    """The status line of a response with *status*, standard phrase included where one exists."""
    line = _STATUS_LINES.get(status)
    return line if line is not None else b"HTTP/1.1 %d \r\n" % status


_DECLINED: Final = frozenset({b"transfer-encoding", b"upgrade", b"expect"})
# Fields a request without a body may not carry on the shortest way out.
_PLAIN_REQUEST: Final = frozenset({b"content-length", b"connection", *_DECLINED})
#: Body modes besides a length: chunked, or read until the connection closes (HTTP/1.0).
CHUNKED: Final = -1
UNTIL_CLOSE: Final = -2


@final
class FastHeaders(_H11Headers):
    """h11's field list, iterated without a call per item (the proxy iterates it often)."""

    __slots__ = ("_pairs",)

    def __init__(self, full_items: list[tuple[bytes, bytes, bytes]]) -> None:
        super().__init__(full_items)
        # Fields never change once parsed: their (lower name, value) pairs are made once.
        self._pairs = [(name, value) for _, name, value in full_items]

    def __iter__(self) -> Iterator[tuple[bytes, bytes]]:
        return iter(self._pairs)


def _request_event(
    method: bytes, target: bytes, items: list[tuple[bytes, bytes, bytes]], version: bytes
) -> h11.Request:
    # The fields passed every check h11's constructor makes (one Host, token method, VCHAR
    # target, a valid Content-Length): the event is built without running them again.
    event: h11.Request = object.__new__(h11.Request)
    setattr_ = object.__setattr__
    setattr_(event, "method", method)
    setattr_(event, "target", target)
    setattr_(event, "headers", FastHeaders(items))
    setattr_(event, "http_version", version)
    return event


class FastRequest(NamedTuple):
    """A request head the fast path read: the h11 event, its body's length, keep-alive."""

    event: h11.Request
    length: int
    keep_alive: bool


def _closes(value: bytes) -> bool:
    """Whether a ``Connection`` value lists ``close`` (h11's comma-list reading)."""
    return any(token.strip() == b"close" for token in value.lower().split(b","))


class _Read(NamedTuple):
    """The fields of a head the fast path takes: as h11 keeps them, and what frames it."""

    items: list[tuple[bytes, bytes, bytes]]  # (raw name, lower name, value)
    hosts: int
    length: int | None
    close: bool


def _read_fields(fields: Iterable[tuple[bytes, bytes]]) -> _Read | None:
    """Valid fields as the fast path takes them; ``None`` for what h11 must judge: a repeated
    or odd ``Content-Length``, another framing, a protocol switch, an expectation."""
    items: list[tuple[bytes, bytes, bytes]] = []
    hosts = 0
    length: bytes | None = None
    close = False
    for name, value in fields:
        lower = name.lower()
        if lower == b"host":
            hosts += 1
        elif lower == b"content-length":
            if length is not None or _LENGTH.fullmatch(value) is None:
                return None
            length = value
        elif lower in _DECLINED:
            return None
        elif lower == b"connection" and _closes(value):
            close = True
        items.append((name, lower, value))
    return _Read(items, hosts, int(length) if length is not None else None, close)


def parse_request_head(head: bytes) -> FastRequest | None:
    """The request in *head* (up to and with its blank line), or ``None``: leave it to h11."""
    match = _REQUEST_HEAD.fullmatch(head)
    if match is None:
        return None
    method, target, version, fields = match.groups()
    if method == b"CONNECT":
        return None
    read = _read_fields(_FIELD.findall(fields))
    if read is None or read.hosts != 1:
        return None
    event = _request_event(method, target, read.items, version)
    # h11 keeps no HTTP/1.0 connection alive, whatever its fields say.
    keep_alive = version == b"1.1" and not read.close
    return FastRequest(event, read.length or 0, keep_alive)


class FastResponse(NamedTuple):
    """A response head the fast path read: status, fields, body length, keep-alive."""

    status: int
    headers: list[tuple[bytes, bytes]]
    length: int
    keep_alive: bool


def parse_response_head(head: bytes, method: bytes) -> FastResponse | None:
    """The final response in *head* to a *method* request, framed by ``Content-Length`` or
    bodiless; ``None`` for anything else (1xx, chunked, HTTP/1.0, read-until-close…)."""
    match = _RESPONSE_HEAD.fullmatch(head)
    if match is None:
        return None
    status = int(match.group(1))
    if status < 200:
        return None
    read = _read_fields(_FIELD.findall(match.group(3)))
    if read is None:
        return None
    headers = [(lower, value) for _, lower, value in read.items]
    # RFC 9112 §6.3: no body after HEAD, 204 and 304, whatever the fields say.
    if method == b"HEAD" or status in (204, 304):
        return FastResponse(status, headers, 0, not read.close)
    if read.length is None:
        return None  # read until the server closes: h11's
    return FastResponse(status, headers, read.length, not read.close)


def _bytesify(value: object) -> bytes:
    # h11's conversion of what it is given to send (its _util.bytesify).
    if type(value) is bytes:
        return value
    if isinstance(value, str):
        return value.encode("ascii")
    if isinstance(value, int):
        raise TypeError("expected bytes-like object, not int")
    return bytes(value)  # type: ignore[call-overload,no-any-return]


def _lpe(message: str, status: int = 400) -> h11.LocalProtocolError:
    return h11.LocalProtocolError(message, error_status_hint=status)


class _Fields(NamedTuple):
    """Fields as h11 keeps them — (raw name, lower name, value) — and what framing needs."""

    items: list[tuple[bytes, bytes, bytes]]
    length: bytes | None
    coded: bool
    host: bool
    connection: bool


def _normalize(headers: Sequence[tuple[bytes, bytes]], *, checked: bool) -> _Fields:
    """h11's ``normalize_and_validate``: one Content-Length, ``chunked`` the only transfer
    coding, `h11.LocalProtocolError` as h11 raises it; *checked* fields are not validated."""
    items: list[tuple[bytes, bytes, bytes]] = []
    length: bytes | None = None
    coded = host = connection = False
    for raw_name, raw_value in headers:
        name, value = raw_name, raw_value
        if not checked:
            name, value = _bytesify(name), _bytesify(value)
            if _NAME_OK.fullmatch(name) is None:
                raise _lpe(f"Illegal header name {name!r}")
            if _VALUE_OK.fullmatch(value) is None:
                raise _lpe(f"Illegal header value {value!r}")
        lower = name.lower()
        if lower == b"content-length":
            lengths = {part.strip() for part in value.split(b",")}
            if len(lengths) != 1:
                raise _lpe("conflicting Content-Length headers")
            value = lengths.pop()
            if _LENGTH.fullmatch(value) is None:
                raise _lpe("bad Content-Length")
            if length is None:
                length = value
                items.append((name, lower, value))
            elif length != value:
                raise _lpe("conflicting Content-Length headers")
            continue
        if lower == b"transfer-encoding":
            if coded:
                raise _lpe("multiple Transfer-Encoding headers", 501)
            value = value.lower()
            if value != b"chunked":
                raise _lpe("Only Transfer-Encoding: chunked is supported", 501)
            coded = True
        elif lower == b"host":
            host = True
        elif lower == b"connection":
            connection = True
        items.append((name, lower, value))
    return _Fields(items, length, coded, host, connection)


def _write_fields(fields: _Fields) -> bytes:
    """h11's write_headers: Host first (RFC 9110 §7.2 "SHOULD"), then the rest in order."""
    # The pieces joined once (a formatted line per field costs a third more).
    parts: list[bytes] = []
    if not fields.host:
        for raw, _, value in fields.items:
            parts += (raw, b": ", value, b"\r\n")
    else:
        rest: list[bytes] = []
        for raw, name, value in fields.items:
            if name == b"host":
                parts += (raw, b": ", value, b"\r\n")
            else:
                rest += (raw, b": ", value, b"\r\n")
        parts += rest
    parts.append(b"\r\n")
    return b"".join(parts)


def _tokens(items: list[tuple[bytes, bytes, bytes]], name: bytes) -> list[bytes]:
    """h11's ``get_comma_header``: the lower-cased, comma-separated values of *name*."""
    out: list[bytes] = []
    for _, found, value in items:
        if found == name:
            out.extend(part.strip() for part in value.lower().split(b",") if part.strip())
    return out


def _set(fields: _Fields, name: bytes, values: list[bytes]) -> _Fields:
    """h11's ``set_comma_header``: *name*'s fields replaced by *values*, at the end, and every
    field validated again."""
    kept = [(raw, value) for raw, lower, value in fields.items if lower != name]
    kept.extend((name.title(), value) for value in values)
    return _normalize(kept, checked=False)


@final
class ResponseWriter:
    """One response's bytes as h11's server writes them, for a request the fast path read.

    h11's rules (its ``_clean_up_response_headers_for_sending`` and writers): no body after
    HEAD, 204 and 304; without ``Content-Length`` a body goes chunked to an HTTP/1.1 client and
    until the close to an HTTP/1.0 one; ``Connection: close`` is added when the connection will
    not be kept.
    """

    __slots__ = ("keep_alive", "mode")

    def __init__(self) -> None:
        self.mode = 0  # bytes of body left, or CHUNKED, UNTIL_CLOSE
        #: Whether the connection serves another request after this response.
        self.keep_alive = True

    def head(
        self,
        status: int,
        headers: Sequence[tuple[bytes, bytes]],
        *,
        checked: bool,
        method: bytes,
        http11: bool,
        keep_alive: bool,
    ) -> bytes:
        """The status line and fields; `h11.LocalProtocolError` where h11 raises it."""
        fields = _normalize(headers, checked=checked)  # first, as h11's Response does
        if not 200 <= status < 1000:
            raise _lpe(f"Response status_code should be in range [200, 1000), not {status}")
        length = int(fields.length) if fields.length is not None else None
        bodiless = status in (204, 304)
        need_close = False
        # Framing as for a GET (h11 answers HEAD with the fields a GET would have).
        if not bodiless and (fields.coded or length is None):
            fields = _set(fields, b"content-length", [])
            if not http11:
                fields = _set(fields, b"transfer-encoding", [])
                need_close = method != b"HEAD"
            else:
                fields = _set(fields, b"transfer-encoding", [b"chunked"])
        if not keep_alive or need_close:
            connection = set(_tokens(fields.items, b"connection"))
            connection.discard(b"keep-alive")
            connection.add(b"close")
            fields = _set(fields, b"connection", sorted(connection))
        self.keep_alive = keep_alive and not (
            fields.connection and b"close" in _tokens(fields.items, b"connection")
        )
        if method == b"HEAD" or bodiless:
            self.mode = 0
        elif fields.coded:
            self.mode = CHUNKED
        elif length is not None:
            self.mode = length
        else:
            self.mode = UNTIL_CLOSE
        return status_line(status) + _write_fields(fields)

    def body(self, data: bytes) -> bytes:
        """The bytes that carry *data* (not empty)."""
        mode = self.mode
        if mode == CHUNKED:
            return b"%x\r\n%s\r\n" % (len(data), data)
        if mode == UNTIL_CLOSE:
            return data
        self.mode = mode - len(data)
        if self.mode < 0:
            raise _lpe("Too much data for declared Content-Length")
        return data

    def end(self, trailers: Sequence[tuple[bytes, bytes]]) -> bytes:
        """The bytes that end the body (the last chunk and the trailer fields)."""
        if self.mode == CHUNKED:
            return b"0\r\n" + _write_fields(_normalize(trailers, checked=False))
        if self.mode == UNTIL_CLOSE:
            if trailers:
                raise _lpe("can't send trailers to HTTP/1.0 client")
            return b""
        if self.mode != 0:
            raise _lpe("Too little data for declared Content-Length")
        if trailers:
            raise _lpe("Content-Length and trailers don't mix")
        return b""


def request_bytes(
    method: bytes,
    target: bytes,
    headers: Sequence[tuple[bytes, bytes]],
    body: int,
    *,
    checked: bool,
) -> tuple[bytes, bool] | None:
    """A request's head as h11's client writes it, and whether it keeps the connection; for a
    body of *body* bytes framed by its ``Content-Length`` (or none).  ``None``: leave it to h11
    (other framings, protocol switches, invalid fields — h11 says why).  *checked* fields are
    valid with lower-case names (`Client.request`'s promise): not checked again."""
    if (
        method == b"CONNECT"
        or _METHOD_OK.fullmatch(method) is None
        or _TARGET_OK.fullmatch(target) is None
    ):
        return None
    line = b"%s %s HTTP/1.1\r\n" % (method, target)
    if checked and not body and headers:
        # The proxy's GET: Host first, nothing to reorder or frame.  Checked fields have their
        # names in lower case already (h11's parser, the middlewares' build, the proxy's own):
        # they are neither lowered nor validated again.
        names = [name for name, _ in headers]
        if names[0] == b"host" and names.count(b"host") == 1 and _PLAIN_REQUEST.isdisjoint(names):
            fields = b"\r\n".join([b": ".join(field) for field in headers])
            return b"".join((line, fields, b"\r\n\r\n")), True
    for name, value in headers:
        if type(name) is not bytes or type(value) is not bytes:
            return None
        if not checked and (_NAME_OK.fullmatch(name) is None or _VALUE_OK.fullmatch(value) is None):
            return None
    read = _read_fields(headers)
    if read is None or read.hosts != 1 or (read.length or 0) != body:
        return None
    fields = _write_fields(_Fields(read.items, None, coded=False, host=True, connection=False))
    return line + fields, not read.close
