"""`RedisProvider`: the configuration kept in Redis under a root key, followed as it changes.

As Traefik's ``redis`` provider (``pkg/provider/kv/redis``), with the key layouts of
`routekit.config.kv_to_config`.  Redis is reached with ``redis-py`` (the ``redis`` extra:
``pip install 'routekit[redis]'``), the client Redis users already run; its blocking calls run
on worker threads, so the provider works on asyncio and trio alike.

- A read is ``SCAN MATCH <root>*`` then ``MGET`` in batches: every string key under the root.
- Changes are followed with keyspace notifications (``PSUBSCRIBE __keyspace@<db>__:<root>*``),
  which the provider turns on as Traefik does (``CONFIG SET notify-keyspace-events``, adding
  ``K`` and ``A`` to what is set).  A notification only says *that* a key changed: the keys are
  read again, and a new snapshot is yielded when they differ — so the commands of one
  ``MULTI``/``EXEC`` (which Redis runs before any other client's) are applied as one change.
- Where ``CONFIG`` is refused (managed Redis services often rename it), the provider says so
  once and reads the keys every ``poll_interval`` instead.
- Notifications are fire-and-forget: after a lost connection, everything is read again.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar, final

import anyio
import anyio.to_thread

from ..config import kv_to_config
from ..errors import ConfigError, MalformedResponse, ProviderError
from ._base import Snapshot, check_provider_name
from ._remote import MAX_RESPONSE, Backoff, Link

if TYPE_CHECKING:
    from ..config import ClientTLS, KVProviderConfig

__all__ = ["RedisProvider"]

T = TypeVar("T")

_log = logging.getLogger("routekit.providers.redis")

_BATCH: Final = 1000  # keys per SCAN step and per MGET
#: How long one wait for a notification blocks a worker thread; a cancelled watch stops
#: within it.
_WAIT_STEP: Final = 0.25
#: After a notification, more may follow (a transaction's commands, a script's writes): they
#: are collected for this long before the keys are read again.
_SETTLE: Final = 0.01


@final
class RedisProvider:
    """Serve the configuration stored in Redis under *root_key*, following its changes.

    Args:
        endpoints: ``host:port`` of the server (Traefik's ``endpoints``); the first is used,
            the others are tried when it cannot be reached.
        root_key: the prefix of every key read (Traefik's ``rootKey``).
        username: ACL user (Redis 6+); empty for the default user.
        password: the user's password (``requirepass`` without a username).
        db: the database number.
        tls: CA, client certificate and key, ``insecureSkipVerify``.
        watch: follow changes; ``False`` reads once.
        poll_interval: seconds between reads when keyspace notifications cannot be turned on.
        timeout: seconds allowed for connecting and for each command.
        retry: pacing of the retries while Redis cannot be read.
        name: the provider's name (``redis``; elements are ``name@redis``).

    Raises:
        ConfigError: the ``redis`` package is missing, an endpoint is not ``host:port``, or the
            TLS files cannot be read.
    """

    def __init__(
        self,
        endpoints: Sequence[str] | str = ("127.0.0.1:6379",),
        *,
        root_key: str = "traefik",
        username: str = "",
        password: str = "",
        db: int = 0,
        tls: ClientTLS | None = None,
        watch: bool = True,
        poll_interval: float = 5.0,
        timeout: float = 30.0,
        retry: Backoff | None = None,
        name: str = "redis",
    ) -> None:
        try:
            import redis  # noqa: F401  (an optional extra)
        except ImportError:
            raise ConfigError(
                "the redis provider needs the redis package: pip install 'routekit[redis]'"
            ) from None
        self.name = check_provider_name(name)
        listed = (endpoints,) if isinstance(endpoints, str) else tuple(endpoints)
        if not listed:
            raise ConfigError("redis: no endpoint given")
        self.endpoints = listed
        self._addresses = tuple(_address(e) for e in listed)
        self._at = 0
        if not (isinstance(db, int) and db >= 0):
            raise ConfigError(f"redis: db must be a number >= 0, got {db!r}")
        if not poll_interval > 0:
            raise ConfigError(f"redis: poll_interval must be > 0, got {poll_interval!r}")
        self.root_key = root_key.rstrip("/") or "traefik"
        self._username, self._password, self._db = username, password, db
        self._ssl = _ssl_options(tls)
        self._watch = bool(watch)
        self._poll = float(poll_interval)
        self._timeout = float(timeout)
        self._retry = retry if retry is not None else Backoff()
        self._link = Link(self.name, ",".join(listed), _log)
        self._keys: dict[str, str] = {}
        self._polling_said = False

    @classmethod
    def from_config(cls, config: KVProviderConfig, *, name: str = "redis") -> RedisProvider:
        """The provider a static ``[redis]`` / ``[providers.redis]`` section describes."""
        return cls(
            config.endpoints,
            root_key=config.root_key,
            username=config.username,
            password=config.password,
            db=config.db,
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

    async def snapshot(self) -> Snapshot:
        """Read every key under the root key now.

        Raises:
            ProviderError: Redis cannot be reached, refuses the credentials, or answers
                what is not Redis's protocol.
        """
        client = await self._connect()
        try:
            self._keys = await self._read(client)
        finally:
            await anyio.to_thread.run_sync(client.close)
        return await self._build()

    async def watch(self) -> AsyncIterator[Snapshot]:
        """Yield the stored configuration now, then again after each change."""
        while True:
            client = None
            try:
                client = await self._connect()
                listen = await self._subscribe(client) if self._watch else None
                try:
                    self._keys = await self._read(client)
                    yield await self._build()
                    self._retry.reset()
                    if not self._watch:
                        return
                    while True:
                        if listen is not None:
                            await self._wait(listen)
                        else:
                            await anyio.sleep(self._poll)
                        keys = await self._read(client)
                        if keys != self._keys:
                            self._keys = keys
                            yield await self._build()
                finally:
                    if listen is not None:
                        with anyio.CancelScope(shield=True):
                            await anyio.to_thread.run_sync(listen.close)
            except ProviderError as exc:
                stale = self._link.failed(exc)
                if stale is not None:
                    yield stale
                self._at = (self._at + 1) % len(self._addresses)
                await anyio.sleep(self._retry.next())
            finally:
                if client is not None:
                    with anyio.CancelScope(shield=True):
                        await anyio.to_thread.run_sync(client.close)

    # -- Redis, on worker threads --

    async def _connect(self) -> Any:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        host, port = self._addresses[self._at]
        client = redis.Redis(
            host=host,
            port=port,
            # RESP2, which every Redis speaks (RESP3's HELLO came with Redis 6).
            protocol=2,
            # The provider paces its own retries (with `Backoff`, logging once): redis-py's
            # would only hide a failure for seconds.
            retry=Retry(NoBackoff(), 0),
            db=self._db,
            username=self._username or None,
            password=self._password or None,
            **self._ssl,
            socket_timeout=self._timeout,
            socket_connect_timeout=self._timeout,
            health_check_interval=0,
        )
        try:
            await self._run(client.ping)
        except BaseException:
            await anyio.to_thread.run_sync(client.close)
            raise
        return client

    async def _subscribe(self, client: Any) -> Any | None:
        """Turn keyspace notifications on and subscribe; ``None`` (polling) where refused."""
        import redis

        def setup() -> Any | None:
            try:
                flags = str(
                    client.config_get("notify-keyspace-events").get("notify-keyspace-events", "")
                )
                wanted = "".join(sorted(set(flags) | {"K", "A"}))
                if not ({"K", "A"} <= set(flags)):
                    client.config_set("notify-keyspace-events", wanted)
            except redis.exceptions.ResponseError as exc:
                if not self._polling_said:
                    self._polling_said = True
                    _log.warning(
                        "%s: keyspace notifications cannot be turned on (%s); reading the keys "
                        "every %g s instead",
                        self.name, exc, self._poll,
                    )  # fmt: skip
                return None
            listen = client.pubsub(ignore_subscribe_messages=True)
            pattern = f"__keyspace@{self._db}__:{_glob_escape(self.root_key)}*"
            listen.psubscribe(pattern)
            return listen

        return await self._run(setup)

    async def _wait(self, listen: Any) -> None:
        """Until a notification for a key under the root key comes (and its fellows)."""

        def step(timeout: float) -> bool:
            return listen.get_message(timeout=timeout) is not None

        while not await self._run(step, _WAIT_STEP):
            pass
        while await self._run(step, _SETTLE):
            pass  # a burst: read once, after it

    async def _read(self, client: Any) -> dict[str, str]:
        pattern = _glob_escape(self.root_key) + "*"

        def read() -> dict[str, str]:
            names: list[bytes] = list(client.scan_iter(match=pattern, count=_BATCH))
            out: dict[str, str] = {}
            size = 0
            for at in range(0, len(names), _BATCH):
                part = names[at : at + _BATCH]
                for name, value in zip(part, client.mget(part), strict=True):
                    if value is None:
                        continue  # deleted meanwhile, or not a string (hashes are not read)
                    if not isinstance(name, bytes) or not isinstance(value, bytes):
                        raise MalformedResponse("redis: MGET answered what is not bytes")
                    size += len(name) + len(value)
                    if size > MAX_RESPONSE:
                        raise MalformedResponse(
                            f"redis: the keys under {self.root_key!r} hold over "
                            f"{MAX_RESPONSE} bytes"
                        )
                    # Bytes that are not UTF-8 become lone surrogates: reported by key.
                    key = name.decode("utf-8", "surrogateescape")
                    out[key] = value.decode("utf-8", "surrogateescape")
            return out

        return await self._run(read)

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        """*fn* on a worker thread, its redis errors as `ProviderError` naming the server."""
        import redis

        host, port = self._addresses[self._at]
        where = f"redis {host}:{port}"
        try:
            return await anyio.to_thread.run_sync(fn, *args)
        except redis.exceptions.AuthenticationError as exc:
            raise ProviderError(f"{where}: {exc} (check the username and password)") from exc
        except redis.exceptions.ResponseError as exc:
            hint = " (check the username and password)" if "NOAUTH" in str(exc) else ""
            raise ProviderError(f"{where}: {exc}{hint}") from exc
        except (redis.exceptions.RedisError, OSError) as exc:
            raise ProviderError(f"{where}: {exc}") from exc

    async def _build(self) -> Snapshot:
        pairs = dict(self._keys)
        config, problems = await anyio.to_thread.run_sync(
            lambda: kv_to_config(pairs, root=self.root_key)
        )
        return self._link.served(Snapshot(config, problems), f"{len(pairs)} keys")

    def __repr__(self) -> str:
        mode = "watching" if self._watch else "read once"
        return f"<RedisProvider {self.name!r} {','.join(self.endpoints)!r} ({mode})>"


def _address(endpoint: str) -> tuple[str, int]:
    url = endpoint if "://" in endpoint else f"redis://{endpoint}"
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port or 6379
    except ValueError:
        port = 0
    if parts.scheme not in ("redis", "rediss") or not parts.hostname or not port:
        raise ConfigError(f"redis endpoint {endpoint!r}: expected host:port")
    return parts.hostname, port


def _ssl_options(tls: ClientTLS | None) -> dict[str, Any]:
    """redis-py's TLS keywords for Traefik's ``tls`` options (files, or PEM text for the CA)."""
    if tls is None:
        return {}
    options: dict[str, Any] = {"ssl": True}
    if tls.ca.lstrip().startswith("-----BEGIN"):
        options["ssl_ca_data"] = tls.ca
    elif tls.ca:
        options["ssl_ca_certs"] = tls.ca
    if tls.cert or tls.key:
        options["ssl_certfile"], options["ssl_keyfile"] = tls.cert, tls.key
    if tls.insecure_skip_verify:
        options["ssl_cert_reqs"], options["ssl_check_hostname"] = "none", False
    for what in ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile"):
        if what in options and not Path(options[what]).is_file():
            raise ConfigError(f"redis tls: {options[what]!r} is not a readable file")
    return options


def _glob_escape(text: str) -> str:
    """*text* matched literally by a Redis glob pattern (SCAN MATCH, PSUBSCRIBE)."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
