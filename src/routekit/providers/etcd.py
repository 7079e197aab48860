"""`EtcdProvider`: the configuration kept in etcd v3 under a root key, followed as it changes.

As Traefik's ``etcd`` provider (``pkg/provider/kv/etcd``; v1.7 ``provider/etcd``), with the
key layouts of `routekit.config.kv_to_config` (v2/v3 ``traefik/http/routers/<r>/rule``…, v1
``/traefik/backends/…``).  etcd is read through its gRPC JSON gateway, which every etcd v3
server serves on its client URL (https://etcd.io/docs/v3.4/dev-guide/api_grpc_gateway/):

- ``POST /v3/kv/range`` over the root key's prefix gives every key **at one revision** R —
  a consistent snapshot, whatever writers do meanwhile;
- ``POST /v3/watch`` from R + 1 streams every change after it, in revision order, one message
  per transaction — so a subtree replaced in one transaction is applied as one change;
- when R has been compacted away (the watch is cancelled with ``compact_revision``), or the
  connection broke, the prefix is read again: nothing missed in between is lost.

Keys and values travel base64-encoded; int64 fields are JSON strings; a field at its default
value (an empty value, the event type ``PUT``) is left out — all as the gateway's proto3 JSON
mapping does.  With a username, the provider authenticates (``/v3/auth/authenticate``) and
sends the token, and authenticates again when etcd says it expired.

Several endpoints (the members of a cluster) are tried in turn: when one cannot be reached,
the next one is used, so the provider keeps following while a quorum remains.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import urllib.parse
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, Final, NoReturn, final

import anyio
import anyio.to_thread

from ..config import kv_to_config
from ..errors import ConfigError, MalformedResponse, ProviderError
from ..http import (
    Client,
    ClientResponse,
    Origin,
    PoolLimits,
    UpstreamError,
    UpstreamTimeout,
)
from ._base import Snapshot, check_provider_name
from ._remote import MAX_RESPONSE, Backoff, Link, json_lines, read_json, tls_context

if TYPE_CHECKING:
    from ..config import ClientTLS, KVProviderConfig

__all__ = ["EtcdProvider"]

_log = logging.getLogger("routekit.providers.etcd")

#: A watch that says nothing for this long is opened again (from the revision reached): a
#: connection dropped by a middlebox without a word is noticed.  etcd sends a progress
#: notification every 10 minutes when asked (``progress_notify``), so a live one is not idle
#: for longer than that.
_WATCH_IDLE: Final = 300.0
#: gRPC status codes etcd answers with (https://grpc.github.io/grpc/core/md_doc_statuscodes.html).
_UNAUTHENTICATED: Final = 16
_GRPC_CODES: Final = {
    3: "invalid argument",
    5: "not found",
    7: "permission denied",
    8: "resource exhausted",
    9: "failed precondition",
    11: "out of range",
    14: "unavailable",
    16: "unauthenticated",
}


class _Compacted(Exception):
    """The revision to watch from is gone: read everything again."""


@final
class EtcdProvider:
    """Serve the configuration stored in etcd under *root_key*, following its changes.

    Args:
        endpoints: the members' client URLs or ``host:port`` (Traefik's ``endpoints``), tried
            in turn.
        root_key: the prefix of every key read (Traefik's ``rootKey``; v1's ``prefix``).
        username: etcd user to authenticate as (with *password*), when auth is enabled.
        password: its password.
        tls: CA, client certificate and key, ``insecureSkipVerify``; with it, ``host:port``
            endpoints are reached over HTTPS.
        watch: follow changes; ``False`` reads once.
        timeout: seconds allowed for connecting and for each answer (the watch excepted).
        watch_idle: seconds a watch that says nothing stays open before it is opened again
            from the revision reached (5 minutes).
        retry: pacing of the retries while etcd cannot be read.
        name: the provider's name (``etcd``; elements are ``name@etcd``).

    Raises:
        ConfigError: an endpoint is not a ``host:port`` or URL, or the TLS files cannot be read.
    """

    def __init__(
        self,
        endpoints: Sequence[str] | str = ("127.0.0.1:2379",),
        *,
        root_key: str = "traefik",
        username: str = "",
        password: str = "",
        tls: ClientTLS | None = None,
        watch: bool = True,
        timeout: float = 30.0,
        watch_idle: float = _WATCH_IDLE,
        retry: Backoff | None = None,
        name: str = "etcd",
    ) -> None:
        self.name = check_provider_name(name)
        listed = (endpoints,) if isinstance(endpoints, str) else tuple(endpoints)
        if not listed:
            raise ConfigError("etcd: no endpoint given")
        self.endpoints = listed
        self._origins = tuple(_origin(e, tls is not None) for e in listed)
        self._at = 0
        self.root_key = root_key.rstrip("/") or "traefik"
        self._range = {
            "key": _b64(self.root_key.encode()),
            "range_end": _b64(_prefix_end(self.root_key.encode())),
        }
        self._username, self._password = username, password
        self._client_tls = tls_context(tls, "etcd tls")
        self._watch = bool(watch)
        self._timeout = float(timeout)
        if not watch_idle > 0:
            raise ConfigError(f"etcd: watch_idle must be > 0, got {watch_idle!r}")
        self._idle = float(watch_idle)
        self._retry = retry if retry is not None else Backoff()
        self._link = Link(self.name, ",".join(listed), _log)
        self._keys: dict[str, str] = {}
        self._revision = 0

    @classmethod
    def from_config(cls, config: KVProviderConfig, *, name: str = "etcd") -> EtcdProvider:
        """The provider a static ``[etcd]`` / ``[providers.etcd]`` section describes."""
        return cls(
            config.endpoints,
            root_key=config.root_key,
            username=config.username,
            password=config.password,
            tls=config.tls,
            watch=config.watch,
            name=name,
        )

    @property
    def current(self) -> Snapshot:
        """The snapshot served now (empty before the first read)."""
        return self._link.current

    @property
    def keys(self) -> Mapping[str, str]:
        """The keys under the root key, as last read, with their values."""
        return dict(self._keys)

    @property
    def revision(self) -> int:
        """The etcd revision the current keys are at (0 before the first read)."""
        return self._revision

    async def snapshot(self) -> Snapshot:
        """Read every key under the root key now.

        Raises:
            ProviderError: no endpoint can be read, or one answers what is not etcd's API.
        """
        try:
            async with self._session() as session:
                await session.read_all()
        except (UpstreamError, OSError) as exc:
            raise ProviderError(f"etcd: {exc}") from exc
        return await self._build()

    async def watch(self) -> AsyncIterator[Snapshot]:
        """Yield the stored configuration now, then again after each change."""
        while True:
            try:
                async with self._session() as session:
                    await session.read_all()
                    yield await self._build()
                    self._retry.reset()
                    if not self._watch:
                        return
                    while True:
                        try:
                            async with aclosing(session.follow()) as changes:
                                async for _ in changes:
                                    yield await self._build()
                        except UpstreamTimeout:
                            continue  # quiet for long: opened again from the same revision
                        except _Compacted:
                            await session.read_all()
                            yield await self._build()
            except (ProviderError, UpstreamError, OSError) as exc:
                stale = self._link.failed(exc)
                if stale is not None:
                    yield stale
                # The next member may be up while this one is not.
                self._at = (self._at + 1) % len(self._origins)
                await anyio.sleep(self._retry.next())

    def _session(self) -> _Session:
        return _Session(self, self._origins[self._at])

    async def _build(self) -> Snapshot:
        pairs = dict(self._keys)
        config, problems = await anyio.to_thread.run_sync(
            lambda: kv_to_config(pairs, root=self.root_key)
        )
        found = f"{len(pairs)} keys at revision {self._revision}"
        return self._link.served(Snapshot(config, problems), found)

    def __repr__(self) -> str:
        mode = "watching" if self._watch else "read once"
        return f"<EtcdProvider {self.name!r} {','.join(self.endpoints)!r} ({mode})>"


class _Session:
    """One connection to one member: its clients and auth token."""

    def __init__(self, provider: EtcdProvider, origin: Origin) -> None:
        self._p = provider
        self._origin = origin
        timeout = provider._timeout
        limits = PoolLimits(connect=timeout, read=timeout, write=timeout, pool=timeout)
        watch = PoolLimits(connect=timeout, read=provider._idle, write=timeout, pool=timeout)
        self._rpc = Client(limits, ssl_context=provider._client_tls)
        self._stream = Client(watch, ssl_context=provider._client_tls)
        self._token: bytes | None = None

    async def __aenter__(self) -> _Session:
        return self

    async def __aexit__(self, *exc: object) -> None:
        with anyio.CancelScope(shield=True):
            await self._stream.aclose()
            await self._rpc.aclose()

    async def read_all(self) -> None:
        """Every key under the root key, at one revision."""
        answer = await self._call("/v3/kv/range", self._p._range)
        revision = _revision(answer, "/v3/kv/range")
        kvs = answer.get("kvs", [])
        if not isinstance(kvs, list):
            raise MalformedResponse("etcd: /v3/kv/range: 'kvs' is not a list")
        keys: dict[str, str] = {}
        for item in kvs:
            key, value = _pair(item, "/v3/kv/range")
            keys[key] = value
        self._p._keys, self._p._revision = keys, revision

    async def follow(self) -> AsyncGenerator[int, None]:
        """Apply each change after the current revision; yields the revision reached."""
        p = self._p
        request = {
            "create_request": {
                **p._range,
                "start_revision": str(p._revision + 1),
                "progress_notify": True,
            }
        }
        response = await self._post(self._stream, "/v3/watch", request)
        if response.status != 200:
            await self._failed(response, "/v3/watch")
        # One message holds a whole transaction's events: bounded like a whole answer.
        messages = json_lines(response.iter_bytes(), "etcd: /v3/watch", MAX_RESPONSE)
        try:
            async with aclosing(messages):
                async for batch in messages:
                    changed = False
                    for message in batch:
                        changed = self._apply(message) or changed
                    if changed:
                        yield p._revision
        finally:
            with anyio.CancelScope(shield=True):
                await response.aclose()
        raise ProviderError(f"etcd {self._origin}: the watch stream ended")

    def _apply(self, message: object) -> bool:
        """Apply one watch message; whether it changed a key."""
        what = "etcd: /v3/watch"
        if not isinstance(message, Mapping):
            raise MalformedResponse(f"{what}: a message is not an object")
        if "error" in message:
            raise ProviderError(f"{what}: {_error_text(message)}")
        result = message.get("result")
        if not isinstance(result, Mapping):
            raise MalformedResponse(f"{what}: a message without 'result'")
        if result.get("compact_revision") not in (None, "0", 0):
            _log.info("etcd: revision %d was compacted; reading again", self._p._revision + 1)
            raise _Compacted
        if result.get("canceled"):
            reason = result.get("cancel_reason") or "no reason given"
            raise ProviderError(f"{what}: the watch was cancelled: {reason}")
        events = result.get("events", [])
        if not isinstance(events, list):
            raise MalformedResponse(f"{what}: 'events' is not a list")
        revision = _revision(result, what) if "header" in result else self._p._revision
        keys = self._p._keys
        for event in events:
            if not isinstance(event, Mapping):
                raise MalformedResponse(f"{what}: an event is not an object")
            kind = event.get("type", "PUT")
            key, value = _pair(event.get("kv"), what)
            if kind == "PUT":
                keys[key] = value
            elif kind == "DELETE":
                keys.pop(key, None)
            else:
                raise MalformedResponse(f"{what}: unknown event type {kind!r}")
        self._p._revision = max(revision, self._p._revision)
        return bool(events)

    async def _call(self, path: str, body: Mapping[str, object]) -> Mapping[str, object]:
        """POST *body* to *path*; the JSON object answered (authenticating when needed)."""
        for attempt in range(2):
            response = await self._post(self._rpc, path, body)
            if response.status == 200:
                answer = await read_json(response, f"etcd: {path}")
                if not isinstance(answer, Mapping):
                    raise MalformedResponse(f"etcd: {path}: expected an object")
                return answer
            if response.status == 401 and self._p._username and attempt == 0:
                await response.aclose()
                self._token = None  # expired (etcd's simple tokens last 5 minutes idle)
                continue
            await self._failed(response, path)
        raise AssertionError("unreachable")  # the second 401 is raised by _failed

    async def _post(self, client: Client, path: str, body: Mapping[str, object]) -> ClientResponse:
        if self._token is None and self._p._username:
            self._token = await self._authenticate()
        headers = [
            (b"host", f"{self._origin.host}:{self._origin.port}".encode("idna")),
            (b"content-type", b"application/json"),
        ]
        if self._token is not None:
            headers.append((b"authorization", self._token))
        return await client.request(
            "POST",
            str(self._origin) + path,
            origin=self._origin,
            target=path,
            headers=headers,
            body=_json(body),
        )

    async def _authenticate(self) -> bytes:
        path = "/v3/auth/authenticate"
        body = {"name": self._p._username, "password": self._p._password}
        headers = [
            (b"host", f"{self._origin.host}:{self._origin.port}".encode("idna")),
            (b"content-type", b"application/json"),
        ]
        response = await self._rpc.request(
            "POST",
            str(self._origin) + path,
            origin=self._origin,
            target=path,
            headers=headers,
            body=_json(body),
        )
        if response.status != 200:
            await self._failed(response, path)
        answer = await read_json(response, f"etcd: {path}")
        token = answer.get("token") if isinstance(answer, Mapping) else None
        if not isinstance(token, str) or not token or not token.isascii():
            raise MalformedResponse(f"etcd: {path}: no token in the answer")
        return token.encode()

    async def _failed(self, response: ClientResponse, path: str) -> NoReturn:
        try:
            answer = await read_json(response, f"etcd: {path}", 64 * 1024)
        except MalformedResponse:
            answer = None
        text = _error_text(answer) if isinstance(answer, Mapping) else "(not etcd's JSON)"
        wrong = response.status == 401 or path == "/v3/auth/authenticate"
        hint = " (check the username and password)" if wrong else ""
        raise ProviderError(f"etcd {self._origin}: {path} answered {response.status}: {text}{hint}")


def _origin(endpoint: str, tls: bool) -> Origin:
    url = endpoint if "://" in endpoint else ("https://" if tls else "http://") + endpoint
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.path not in ("", "/"):
        raise ConfigError(f"etcd endpoint {endpoint!r}: expected host:port or an http(s) URL")
    try:
        return Origin.from_url(url)
    except UpstreamError:
        raise ConfigError(
            f"etcd endpoint {endpoint!r}: expected host:port or an http(s) URL"
        ) from None


def _prefix_end(prefix: bytes) -> bytes:
    """The end of the range of keys starting with *prefix* (etcd's ``GetPrefixRangeEnd``)."""
    end = bytearray(prefix)
    while end:
        if end[-1] < 0xFF:
            end[-1] += 1
            return bytes(end)
        end.pop()
    return b"\x00"  # every key


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _json(body: Mapping[str, object]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _unb64(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise MalformedResponse(f"{what}: expected base64 text")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedResponse(f"{what}: not base64") from None
    # Bytes that are not UTF-8 become lone surrogates, which kv_to_config reports by key.
    return raw.decode("utf-8", "surrogateescape")


def _pair(item: object, what: str) -> tuple[str, str]:
    if not isinstance(item, Mapping) or "key" not in item:
        raise MalformedResponse(f"{what}: a key-value without 'key'")
    return _unb64(item["key"], f"{what}: key"), _unb64(item.get("value", ""), f"{what}: value")


def _revision(answer: Mapping[str, object], what: str) -> int:
    header = answer.get("header")
    raw = header.get("revision") if isinstance(header, Mapping) else None
    if isinstance(raw, str) and raw.isascii() and raw.isdigit():
        return int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return raw
    raise MalformedResponse(f"{what}: no revision in the answer's header")


def _error_text(answer: Mapping[str, object]) -> str:
    error = answer.get("error")
    if isinstance(error, Mapping):  # inside a stream: {"error": {"grpc_code": …, "message": …}}
        answer = error
    message = answer.get("message") or answer.get("error") or "no message"
    code = answer.get("code", answer.get("grpc_code"))
    name = _GRPC_CODES.get(code) if isinstance(code, int) else None
    return f"{message} ({name})" if name else str(message)
