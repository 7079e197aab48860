"""`ConsulKVProvider`: the configuration kept in Consul's KV store under a root key.

As Traefik's ``consul`` provider (``pkg/provider/kv/consul``; v1.7 ``[consul]``), with the key
layouts of `routekit.config.kv_to_config`.  The keys under the root are read with one
recursive query (``GET /v1/kv/<root>?recurse``), which Consul answers at one index — a
consistent snapshot; a ``PUT /v1/txn`` changing many keys is seen whole.  With ``watch``, the
same query blocks (``index``, ``wait``) until the index moves, as Consul's blocking queries
work (https://developer.hashicorp.com/consul/api-docs/features/blocking); an index that goes
backwards (a restored snapshot) resets it, and every reconnect reads again.
"""

from __future__ import annotations

import base64
import binascii
import logging
import urllib.parse
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, final

import anyio
import anyio.to_thread

from ..config import kv_to_config
from ..errors import ConfigError, MalformedResponse, ProviderError
from ..http import Client, UpstreamError
from ._base import Snapshot, check_provider_name
from ._consul_http import ConsulHTTP, newer_index
from ._remote import Backoff, Link

if TYPE_CHECKING:
    from ..config import ClientTLS, KVProviderConfig

__all__ = ["ConsulKVProvider"]

_log = logging.getLogger("routekit.providers.consul")


@final
class ConsulKVProvider:
    """Serve the configuration stored in Consul's KV store under *root_key*, following it.

    Args:
        endpoints: the agent's ``host:port`` or URL (Traefik's ``endpoints``); the first is
            read, the next ones when it cannot be.
        root_key: the prefix of every key read (Traefik's ``rootKey``; v1's ``prefix``).
        token: the ACL token (``X-Consul-Token``).
        username: HTTP basic auth in front of the agent, with *password*.
        password: see *username*.
        tls: TLS to an ``https`` agent (``host:port`` endpoints become ``https`` with it).
        datacenter: the datacenter to read; the agent's own by default.
        watch: follow changes with blocking queries; ``False`` reads once.
        wait: seconds a blocking query may wait (at most 600).
        timeout: seconds for connecting and for each answer that does not block.
        retry: pacing of the retries while the agent cannot be read.
        name: the provider's name (``consul``; elements are ``name@consul``).

    Raises:
        ConfigError: an endpoint or the wait is not valid, or the TLS files cannot be read.
    """

    def __init__(
        self,
        endpoints: Sequence[str] | str = ("127.0.0.1:8500",),
        *,
        root_key: str = "traefik",
        token: str = "",
        username: str = "",
        password: str = "",
        tls: ClientTLS | None = None,
        datacenter: str = "",
        watch: bool = True,
        wait: float = 30.0,
        timeout: float = 30.0,
        retry: Backoff | None = None,
        name: str = "consul",
    ) -> None:
        self.name = check_provider_name(name)
        listed = (endpoints,) if isinstance(endpoints, str) else tuple(endpoints)
        if not listed:
            raise ConfigError("consul: no endpoint given")
        self.endpoints = listed
        self._agents = tuple(
            ConsulHTTP(
                e,
                scheme="https" if tls is not None else "http",
                datacenter=datacenter,
                token=token,
                username=username,
                password=password,
                tls=tls,
                wait=wait,
                timeout=timeout,
            )
            for e in listed
        )
        self._at = 0
        # Consul's keys have no leading "/" (Traefik 1.x's "/traefik" prefix is "traefik").
        self.root_key = root_key.strip("/") or "traefik"
        self._path = "/v1/kv/" + urllib.parse.quote(self.root_key, safe="/")
        self._watch = bool(watch)
        self._retry = retry if retry is not None else Backoff()
        self._link = Link(self.name, ",".join(listed), _log)
        self._keys: dict[str, str] = {}
        self._index = 0

    @classmethod
    def from_config(cls, config: KVProviderConfig, *, name: str = "consul") -> ConsulKVProvider:
        """The provider a static ``[consul]`` / ``[providers.consul]`` section describes."""
        return cls(
            config.endpoints,
            root_key=config.root_key,
            token=config.token,
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

    async def snapshot(self) -> Snapshot:
        """Read every key under the root key now.

        Raises:
            ProviderError: the agent cannot be reached, refuses, or answers what is not
                Consul's API (`MalformedResponse`).
        """
        agent = self._agents[self._at]
        try:
            async with agent.client() as client:
                await self._read(agent, client, None)
        except (UpstreamError, OSError) as exc:
            raise ProviderError(f"consul: {exc}") from exc
        return await self._build()

    async def watch(self) -> AsyncIterator[Snapshot]:
        """Yield the stored configuration now, then again after each change."""
        while True:
            agent = self._agents[self._at]
            try:
                async with agent.client() as client:
                    self._index = 0
                    await self._read(agent, client, None)
                    yield await self._build()
                    self._retry.reset()
                    if not self._watch:
                        return
                    while True:
                        before = dict(self._keys)
                        await self._read(agent, client, self._index)
                        if self._keys != before:
                            yield await self._build()
            except (ProviderError, UpstreamError, OSError) as exc:
                stale = self._link.failed(exc)
                if stale is not None:
                    yield stale
                self._at = (self._at + 1) % len(self._agents)
                await anyio.sleep(self._retry.next())

    async def _read(self, agent: ConsulHTTP, client: Client, index: int | None) -> None:
        """Read the keys (blocking past *index* when given) into the provider's state."""
        got, data = await agent.get(
            client, self._path, index=index, query={"recurse": "true"}, missing=[]
        )
        self._keys = _pairs(data, self._path)
        self._index = newer_index(self._index, got)
        if index is not None and got < index:
            _log.info("consul: the KV index went back from %d to %d; reading again", index, got)

    async def _build(self) -> Snapshot:
        pairs = dict(self._keys)
        config, problems = await anyio.to_thread.run_sync(
            lambda: kv_to_config(pairs, root=self.root_key)
        )
        found = f"{len(pairs)} keys at index {self._index}"
        return self._link.served(Snapshot(config, problems), found)

    def __repr__(self) -> str:
        mode = "watching" if self._watch else "read once"
        return f"<ConsulKVProvider {self.name!r} {','.join(self.endpoints)!r} ({mode})>"


def _pairs(data: object, path: str) -> dict[str, str]:
    """The key → value pairs of a recursive KV answer, shape-checked."""
    what = f"consul: {path}"
    if not isinstance(data, list):
        raise MalformedResponse(f"{what}: expected a list of keys")
    out: dict[str, str] = {}
    for entry in data:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("Key"), str):
            raise MalformedResponse(f"{what}: an entry without a 'Key'")
        if entry["Key"].endswith("/"):
            continue  # a folder (what the UI makes): no value of its own
        value = entry.get("Value")
        if value is None:
            raw = b""
        elif isinstance(value, str):
            try:
                raw = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                bad = f"{what}: {entry['Key']!r}: the value is not base64"
                raise MalformedResponse(bad) from None
        else:
            raise MalformedResponse(f"{what}: {entry['Key']!r}: the value is not base64 text")
        # Bytes that are not UTF-8 become lone surrogates, which kv_to_config reports by key.
        out[entry["Key"]] = raw.decode("utf-8", "surrogateescape")
    return out
