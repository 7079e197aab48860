"""`ZooKeeperProvider`: the configuration kept in ZooKeeper under a root node, followed.

As Traefik's ``zookeeper`` provider (``pkg/provider/kv/zk``), with the key layouts of
`routekit.config.kv_to_config`: the znode ``/traefik/http/routers/r/rule`` holds the rule, and
keys are the paths of the znodes below the root.  ZooKeeper is reached with ``kazoo`` (the
``zookeeper`` extra: ``pip install 'routekit[zookeeper]'``), the client its Python users run;
its blocking calls run on worker threads, so the provider works on asyncio and trio alike.

- A read walks the tree below the root: every znode without children is a key, its data the
  value (a znode with children and data counts too).
- Every read sets ZooKeeper's one-shot watches on what it read (children and data of each
  znode, the root's existence), so any change below the root fires one; the tree is then read
  again — re-arming the watches — after the burst settles, and a new snapshot is yielded when
  the keys differ.  A write that lands during a read fires a watch too: nothing is missed.
- When the session is suspended or lost (the ensemble unreachable), the last good snapshot
  keeps serving; the provider connects again with its `Backoff` and reads everything.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar, final

import anyio
import anyio.to_thread

from ..config import kv_to_config
from ..errors import ConfigError, MalformedResponse, ProviderError
from ._base import Snapshot, check_provider_name
from ._remote import MAX_RESPONSE, Backoff, Link

if TYPE_CHECKING:
    from ..config import ClientTLS, KVProviderConfig

__all__ = ["ZooKeeperProvider"]

T = TypeVar("T")

_log = logging.getLogger("routekit.providers.zookeeper")

_WAIT_STEP: Final = 0.25  # one blocking wait on a worker thread; a cancelled watch stops within
_SETTLE: Final = 0.02  # more watches may fire after the first (one writer's several writes)
_MAX_DEPTH: Final = 32  # below the root; Traefik's deepest keys have about ten parts


@final
class ZooKeeperProvider:
    """Serve the configuration stored in ZooKeeper under *root_key*, following its changes.

    Args:
        endpoints: the ensemble's ``host:port`` (Traefik's ``endpoints``); kazoo picks one and
            moves to another when it fails.
        root_key: the root znode of the configuration (Traefik's ``rootKey``; leading ``/``
            optional).
        username: for ZooKeeper's ``digest`` authentication (with *password*).
        password: its password.
        tls: CA, client certificate and key, ``insecureSkipVerify`` (ZooKeeper 3.5+ secure
            client port).
        watch: follow changes; ``False`` reads once.
        timeout: seconds allowed for connecting and for each request.
        retry: pacing of the retries while the ensemble cannot be read.
        name: the provider's name (``zookeeper``; elements are ``name@zookeeper``).

    Raises:
        ConfigError: the ``kazoo`` package is missing, or an endpoint is not ``host:port``.
    """

    def __init__(
        self,
        endpoints: Sequence[str] | str = ("127.0.0.1:2181",),
        *,
        root_key: str = "traefik",
        username: str = "",
        password: str = "",
        tls: ClientTLS | None = None,
        watch: bool = True,
        timeout: float = 10.0,
        retry: Backoff | None = None,
        name: str = "zookeeper",
    ) -> None:
        try:
            import kazoo  # noqa: F401  (an optional extra)
        except ImportError:
            raise ConfigError(
                "the zookeeper provider needs the kazoo package: pip install 'routekit[zookeeper]'"
            ) from None
        self.name = check_provider_name(name)
        listed = (endpoints,) if isinstance(endpoints, str) else tuple(endpoints)
        if not listed:
            raise ConfigError("zookeeper: no endpoint given")
        for endpoint in listed:
            host, _, port = endpoint.rpartition(":")
            if "/" in endpoint or not host or not (port.isascii() and port.isdigit()):
                raise ConfigError(f"zookeeper endpoint {endpoint!r}: expected host:port")
        self.endpoints = listed
        self.root_key = root_key.strip("/") or "traefik"
        self._root = "/" + self.root_key
        self._auth = [("digest", f"{username}:{password}")] if username else []
        self._tls = tls
        self._watch = bool(watch)
        self._timeout = float(timeout)
        self._retry = retry if retry is not None else Backoff()
        self._link = Link(self.name, ",".join(listed), _log)
        self._keys: dict[str, str] = {}

    @classmethod
    def from_config(cls, config: KVProviderConfig, *, name: str = "zookeeper") -> ZooKeeperProvider:
        """The provider a static ``[zookeeper]`` / ``[providers.zooKeeper]`` section describes."""
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
        """The keys under the root, as last read, with their values."""
        return dict(self._keys)

    async def snapshot(self) -> Snapshot:
        """Read every znode under the root now.

        Raises:
            ProviderError: the ensemble cannot be reached or refuses the credentials.
        """
        session = _Session(self)
        try:
            await self._run(session.start)
            self._keys = await self._run(session.read, False)
        finally:
            await anyio.to_thread.run_sync(session.close)
        return await self._build()

    async def watch(self) -> AsyncIterator[Snapshot]:
        """Yield the stored configuration now, then again after each change."""
        while True:
            session = _Session(self)
            try:
                await self._run(session.start)
                self._keys = await self._run(session.read, self._watch)
                yield await self._build()
                self._retry.reset()
                if not self._watch:
                    return
                while True:
                    while not await self._run(session.fired.wait, _WAIT_STEP):
                        pass
                    await anyio.sleep(_SETTLE)
                    session.fired.clear()
                    session.check()  # a lost session is a failure, not a change
                    keys = await self._run(session.read, True)
                    if keys != self._keys:
                        self._keys = keys
                        yield await self._build()
            except ProviderError as exc:
                stale = self._link.failed(exc)
                if stale is not None:
                    yield stale
                await anyio.sleep(self._retry.next())
            finally:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(session.close)

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        """*fn* on a worker thread, kazoo's errors as `ProviderError` naming the ensemble."""
        from kazoo.exceptions import AuthFailedError, KazooException, NoAuthError
        from kazoo.handlers.threading import KazooTimeoutError

        where = f"zookeeper {','.join(self.endpoints)}"
        try:
            return await anyio.to_thread.run_sync(fn, *args)
        except (AuthFailedError, NoAuthError) as exc:
            what = type(exc).__name__
            raise ProviderError(f"{where}: {what} (check the username and password)") from exc
        except KazooTimeoutError as exc:
            raise ProviderError(f"{where}: no connection in {self._timeout:g} s") from exc
        except (KazooException, OSError) as exc:
            raise ProviderError(f"{where}: {type(exc).__name__} {exc}".rstrip()) from exc
        except ProviderError as exc:
            raise ProviderError(f"{where}: {exc}") from exc

    async def _build(self) -> Snapshot:
        pairs = dict(self._keys)
        config, problems = await anyio.to_thread.run_sync(
            lambda: kv_to_config(pairs, root=self.root_key)
        )
        return self._link.served(Snapshot(config, problems), f"{len(pairs)} keys")

    def __repr__(self) -> str:
        mode = "watching" if self._watch else "read once"
        return f"<ZooKeeperProvider {self.name!r} {','.join(self.endpoints)!r} ({mode})>"


class _Session:
    """One kazoo client and session, and the flag its watches raise (from kazoo's thread)."""

    def __init__(self, provider: ZooKeeperProvider) -> None:
        from kazoo.client import KazooClient

        self._p = provider
        tls = provider._tls
        options: dict[str, Any] = {}
        if tls is not None:
            options = {
                "use_ssl": True,
                "ca": tls.ca or None,
                "certfile": tls.cert or None,
                "keyfile": tls.key or None,
                "verify_certs": not tls.insecure_skip_verify,
            }
        self.client = KazooClient(
            hosts=",".join(provider.endpoints),
            handler=_handler(),
            timeout=provider._timeout,
            auth_data=provider._auth or None,
            # The provider paces its reconnects (with `Backoff`, logging once); kazoo's own
            # endless retry would hide an outage.
            connection_retry={"max_tries": 1, "delay": 0.1, "ignore_expire": False},
            **options,
        )
        self.fired = threading.Event()
        self._lost = False
        self.client.add_listener(self._state)

    def _state(self, state: str) -> None:
        if state in ("SUSPENDED", "LOST"):
            self._lost = True
            self.fired.set()

    def _fire(self, _event: object) -> None:
        self.fired.set()

    def start(self) -> None:
        """Connect (and authenticate)."""
        self.client.start(timeout=self._p._timeout)

    def check(self) -> None:
        """Raise when the session was suspended or lost since it started."""
        if self._lost:
            raise ProviderError("the session with the ensemble was lost")

    def read(self, watch: bool) -> dict[str, str]:
        """Every key under the root; with *watch*, a watch on everything read."""
        zk = self.client
        hook = self._fire if watch else None
        root = self._p._root
        if zk.exists(root, watch=hook) is None:
            return {}  # no configuration yet: its creation fires the watch
        keys: dict[str, str] = {}
        size = 0
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            path, depth = stack.pop()
            children = _children(zk, path, hook)
            if children is None:
                continue  # deleted meanwhile: the watch on its parent fired
            data = _data(zk, path, hook)
            if data is None:
                continue
            if (not children or data) and path != root:
                size += len(path) + len(data)
                if size > MAX_RESPONSE:
                    raise MalformedResponse(
                        f"the znodes under {root} hold over {MAX_RESPONSE} bytes"
                    )
                # Bytes that are not UTF-8 become lone surrogates: reported by key.
                keys[path.lstrip("/")] = data.decode("utf-8", "surrogateescape")
            if children and depth >= _MAX_DEPTH:
                raise MalformedResponse(f"{path}: deeper than {_MAX_DEPTH} znodes below {root}")
            stack += [(f"{path}/{child}", depth + 1) for child in children]
        return keys

    def close(self) -> None:
        """End the session and its threads."""
        try:
            self.client.stop()
        finally:
            self.client.close()


def _handler() -> Any:
    """kazoo's threading handler, closing the TLS socket of a failed handshake.

    kazoo 2.11's ``create_tcp_connection`` re-raises an `ssl.SSLError` from ``connect()``
    without closing the socket it wrapped, and retries: every refused handshake (an untrusted
    server, a missing client certificate) would leave a socket to the garbage collector.
    """
    import ssl

    from kazoo.handlers.threading import SequentialThreadingHandler

    class Handler(SequentialThreadingHandler):  # type: ignore[misc]
        def create_connection(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().create_connection(*args, **kwargs)
            except ssl.SSLError as exc:
                trace = exc.__traceback__
                while trace is not None:
                    conn = trace.tb_frame.f_locals.get("conn")
                    if isinstance(conn, ssl.SSLSocket):
                        conn.close()
                    trace = trace.tb_next
                raise

    return Handler()


def _children(zk: Any, path: str, hook: Callable[[object], None] | None) -> list[str] | None:
    from kazoo.exceptions import NoNodeError

    try:
        return list(zk.get_children(path, watch=hook))
    except NoNodeError:
        return None


def _data(zk: Any, path: str, hook: Callable[[object], None] | None) -> bytes | None:
    from kazoo.exceptions import NoNodeError

    try:
        data, _ = zk.get(path, watch=hook)
    except NoNodeError:
        return None
    return bytes(data or b"")
