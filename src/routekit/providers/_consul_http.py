"""Consul's HTTP API as both Consul providers use it: the agent, its auth, blocking queries.

https://developer.hashicorp.com/consul/api-docs: every read answers ``X-Consul-Index``; with
``?index=N&wait=D`` it blocks until the data's index passes N or D runs out
(https://developer.hashicorp.com/consul/api-docs/features/blocking); an index lower than the
last one seen means the data was reset and the index must be reset too (`newer_index`).
"""

from __future__ import annotations

import base64
import math
import urllib.parse
from typing import TYPE_CHECKING, Final, final

from ..errors import ConfigError, MalformedResponse, ProviderError
from ..http import Client, Origin, PoolLimits, UpstreamError
from ._remote import read_json, tls_context

if TYPE_CHECKING:
    import ssl

    from ..config import ClientTLS

__all__ = ["ConsulHTTP", "newer_index"]

_INDEX: Final = b"x-consul-index"


@final
class ConsulHTTP:
    """One agent: its origin, TLS, ACL token or basic auth, datacenter, namespace and wait.

    Raises:
        ConfigError: a bad endpoint, wait or TLS file.
    """

    __slots__ = ("_headers", "_query", "_tls", "origin", "timeout", "wait")

    def __init__(
        self,
        endpoint: str,
        *,
        scheme: str = "http",
        datacenter: str = "",
        token: str = "",
        username: str = "",
        password: str = "",
        tls: ClientTLS | None = None,
        stale: bool = False,
        namespace: str = "",
        wait: float = 30.0,
        timeout: float = 30.0,
    ) -> None:
        if not (isinstance(wait, int | float) and math.isfinite(wait) and wait > 0):
            raise ConfigError(f"wait must be a number > 0, got {wait!r}")
        url = endpoint if "://" in endpoint else f"{scheme}://{endpoint}"
        try:
            self.origin = Origin.from_url(url)
        except UpstreamError:
            raise ConfigError(
                f"consul endpoint {endpoint!r}: expected host:port or a URL"
            ) from None
        self._tls: ssl.SSLContext | None = (
            tls_context(tls, "consul tls") if self.origin.scheme == "https" else None
        )
        self._headers: list[tuple[bytes, bytes]] = [
            (b"host", f"{self.origin.host}:{self.origin.port}".encode("idna")),
            (b"accept", b"application/json"),
        ]
        if token:
            self._headers.append((b"x-consul-token", token.encode()))
        if username or password:
            pair = base64.b64encode(f"{username}:{password}".encode()).decode()
            self._headers.append((b"authorization", f"Basic {pair}".encode()))
        self._query: dict[str, str] = {}
        if datacenter:
            self._query["dc"] = datacenter
        if stale:
            self._query["stale"] = ""
        if namespace:
            self._query["ns"] = namespace  # Consul Enterprise; open-source Consul ignores it
        self.wait = min(float(wait), 600.0)
        self.timeout = float(timeout)

    def client(self, per_origin: int = 2) -> Client:
        """A client whose reads outlast a blocking query."""
        limits = PoolLimits(
            per_origin=per_origin,
            connect=self.timeout,
            # A blocking query may take wait + wait/16 (Consul's jitter) before it answers.
            read=self.wait * 1.1 + self.timeout,
            write=self.timeout,
            pool=self.timeout,
        )
        return Client(limits, ssl_context=self._tls)

    async def get(
        self,
        client: Client,
        path: str,
        *,
        index: int | None = None,
        query: dict[str, str] | None = None,
        missing: object = ...,
    ) -> tuple[int, object]:
        """``GET`` *path*: its ``X-Consul-Index`` and JSON; blocking when *index* is given.

        A 404 answers *missing* when one is given (a KV prefix with no key), else it fails.

        Raises:
            ProviderError: the agent refused (403 names the token) or failed.
            MalformedResponse: the answer is not Consul's (no index, not JSON).
        """
        params = {**self._query, **(query or {})}
        if index is not None:
            params["index"] = str(index)
            params["wait"] = f"{math.ceil(self.wait)}s"
        target = path + ("?" + urllib.parse.urlencode(params) if params else "")
        response = await client.request(
            "GET",
            str(self.origin) + target,
            origin=self.origin,
            target=target,
            headers=self._headers,
        )
        what = f"consul: {path}"
        raw = next((v for k, v in response.headers if k.lower() == _INDEX), None)
        if response.status == 404 and missing is not ...:
            size = 0
            async for chunk in response.iter_bytes():  # read (bounded) so the connection stays
                size += len(chunk)
                if size > 64 * 1024:
                    await response.aclose()
                    break
            if raw is None or not raw.isdigit():
                raise MalformedResponse(f"{what}: no X-Consul-Index in the answer")
            return int(raw), missing
        if response.status != 200:
            body = (await response.read())[:200].decode("utf-8", "replace").strip()
            if response.status == 403:
                raise ProviderError(f"{what}: 403 {body or 'Permission denied'} (check the token)")
            raise ProviderError(f"{what} answered {response.status}: {body}")
        data = await read_json(response, what)
        if raw is None or not raw.isdigit():
            raise MalformedResponse(f"{what}: no X-Consul-Index in the answer")
        return int(raw), data


def newer_index(old: int, new: int) -> int:
    """Consul's index rule: an index lower than the last one resets it (to 0: read at once)."""
    return new if new >= old else 0
