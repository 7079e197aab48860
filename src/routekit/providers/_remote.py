"""What every provider that talks to a service shares: retry pacing, bounded reads, state logs.

A remote source (the Docker engine, Consul, etcd…) can be away, restart or answer garbage.  Each
provider then keeps serving its last good configuration, retries with `Backoff`, and logs once
per change of state through `Link` — never once per retry, so an hour-long outage is two lines.
Every answer is read with a size bound (`read_json`, `json_lines`) and shape-checked by the
pure decoders: a service's reply is data, never trusted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from typing import TYPE_CHECKING, Final, final

import attrs

from ..errors import ConfigError, MalformedResponse, Problem, ProviderError
from ..http import ClientResponse, UpstreamError, client_context
from ._base import Snapshot

if TYPE_CHECKING:
    import ssl

    from ..config import ClientTLS

__all__ = [
    "Backoff",
    "Link",
    "first_failure",
    "json_lines",
    "parse_json",
    "problem_source",
    "read_json",
    "tls_context",
]

#: The largest answer a provider reads whole (a 10 000-container list is about 30 MiB).
MAX_RESPONSE: Final = 64 * 1024 * 1024
#: The longest line of a streamed answer (one Docker event, one watch event).
MAX_LINE: Final = 1024 * 1024


def _positive(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(f"Backoff.{attribute.name} must be a number > 0, got {value!r}")


@final
@attrs.define
class Backoff:
    """Capped exponential waits with jitter, between two attempts to reach a service.

    The n-th wait is ``initial * factor**n``, at most *cap*, spread by ±*jitter* (a fraction) so
    that gateways that lost the same service do not all come back at the same instant.  The
    defaults are those of the Go backoff package Traefik's providers use (0.5 s, ×1.5, ±50 %),
    with a cap of 30 s.

    Attributes:
        initial: the first wait, in seconds.
        factor: how much each wait grows.
        cap: the longest wait.
        jitter: the spread of each wait, a fraction of it (0 gives exact waits).
        rng: where the spread comes from (a seeded `random.Random` makes it reproducible).
    """

    initial: float = attrs.field(default=0.5, validator=_positive)
    factor: float = attrs.field(default=1.5, validator=_positive)
    cap: float = attrs.field(default=30.0, validator=_positive)
    jitter: float = 0.5
    rng: random.Random = attrs.field(factory=random.Random, eq=False, repr=False)
    _attempt: int = attrs.field(default=0, init=False)

    def next(self) -> float:
        """The wait before the next attempt (each call is one more failure)."""
        base = min(self.cap, self.initial * self.factor ** min(self._attempt, 64))
        self._attempt += 1
        spread = base * min(max(self.jitter, 0.0), 1.0)
        return min(self.cap, max(0.0, base + self.rng.uniform(-spread, spread)))

    def reset(self) -> None:
        """Forget the failures: the service answered."""
        self._attempt = 0

    @property
    def failures(self) -> int:
        """How many waits were taken since the last `reset`."""
        return self._attempt


@final
class Link:
    """One provider's connection to its service: what it serves, and its state, logged once
    per change.

    The provider hands each snapshot it read to `served`, and each failed attempt to `failed`,
    which answers the snapshot to serve meanwhile: the last good configuration, with a problem
    that says why it may be stale.

    Args:
        provider: the provider's name, in every line.
        endpoint: where the service is, in every line and in the problem it reports.
        logger: where the lines go.
    """

    __slots__ = ("_down", "_logger", "_seen", "current", "endpoint", "good", "provider")

    def __init__(self, provider: str, endpoint: str, logger: logging.Logger) -> None:
        self.provider = provider
        self.endpoint = endpoint
        self._logger = logger
        self._down: str | None = None
        self._seen = False
        #: The last snapshot read from the service.
        self.good = Snapshot()
        #: The snapshot served now (`good`, or `good` with the reason it may be stale).
        self.current = Snapshot()

    @property
    def down(self) -> bool:
        """Whether the last attempt failed."""
        return self._down is not None

    def served(self, snapshot: Snapshot, what: str) -> Snapshot:
        """Note a successful read (*what* it found); logged when it ends an outage or is the
        first one.  Returns *snapshot*, now the one served."""
        if self._down is not None:
            self._logger.info("%s: %s reachable again: %s", self.provider, self.endpoint, what)
        elif not self._seen:
            self._logger.info("%s: connected to %s: %s", self.provider, self.endpoint, what)
        self._down = None
        self._seen = True
        self.good = self.current = snapshot
        return snapshot

    def failed(self, error: BaseException) -> Snapshot | None:
        """Note a failed attempt; the first of a row is logged at WARNING, the others (each
        retry, and a new cause while still down) at DEBUG.

        Returns:
            The snapshot to serve now, or ``None`` when it is the one already served.
        """
        why = str(error) or type(error).__name__
        for head in (f"{self.endpoint}: ", f"{self.provider}: "):
            why = why.removeprefix(head)
        level = logging.DEBUG if self._down is not None else logging.WARNING
        self._logger.log(
            level,
            "%s: cannot read %s (%s); the last configuration keeps serving, retrying",
            self.provider,
            self.endpoint,
            why,
        )
        self._down = why
        problem = Problem(
            "",
            f"cannot read the provider's source: {why}",
            problem_source(self.provider, self.endpoint),
            hint="the last configuration read from it keeps serving",
        )
        stale = Snapshot(self.good.config, (*self.good.problems, problem))
        if stale.problems == self.current.problems:
            return None
        self.current = stale
        return stale


@contextlib.contextmanager
def first_failure() -> Iterator[None]:
    """Let a task group that failed out as its first error, when every error is one a
    provider retries on (`ProviderError`, `UpstreamError`, `OSError`)."""
    try:
        yield
    except BaseExceptionGroup as group:
        leaves = list(_leaves(group))
        if leaves and all(isinstance(e, ProviderError | UpstreamError | OSError) for e in leaves):
            raise leaves[0] from None
        raise


def _leaves(group: BaseExceptionGroup[BaseException]) -> Iterator[BaseException]:
    for item in group.exceptions:
        if isinstance(item, BaseExceptionGroup):
            yield from _leaves(item)
        else:
            yield item


async def read_json(response: ClientResponse, what: str, limit: int = MAX_RESPONSE) -> object:
    """The JSON value of *response*'s body, read to at most *limit* bytes.

    Raises:
        MalformedResponse: the body is longer, or is not JSON (the message starts with *what*).
    """
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            await response.aclose()
            raise MalformedResponse(f"{what}: the answer is over {limit} bytes")
        chunks.append(chunk)
    return parse_json(b"".join(chunks), what)


def parse_json(data: bytes, what: str) -> object:
    """*data* decoded as JSON.

    Raises:
        MalformedResponse: it is not UTF-8 JSON; the message says where it breaks.
    """
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise MalformedResponse(f"{what}: not JSON: {exc}") from None


async def json_lines(
    body: AsyncIterator[bytes], what: str, limit: int = MAX_LINE
) -> AsyncGenerator[list[object], None]:
    """The JSON values of a stream of newline-separated JSON texts (Docker's ``/events``).

    Each item is every value that arrived together, so that a burst (five containers started
    at once) is handled as one change.

    Raises:
        MalformedResponse: a line is not JSON or is longer than *limit*.
    """
    pending = b""
    async for chunk in body:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        if len(pending) > limit:
            raise MalformedResponse(f"{what}: a line over {limit} bytes")
        values = [parse_json(line, what) for line in lines if line.strip()]
        if values:
            yield values


def problem_source(provider: str, endpoint: str) -> str:
    """How a provider-level problem names its origin."""
    return f"{provider} provider at {endpoint}"


def tls_context(tls: ClientTLS | None, what: str) -> ssl.SSLContext | None:
    """The client context a provider's ``tls`` options describe (``None`` without them).

    Raises:
        ConfigError: a CA, certificate or key cannot be read (the message starts with *what*).
    """
    if tls is None:
        return None
    return client_context(
        root_cas=(tls.ca,) if tls.ca else (),
        certificates=((tls.cert, tls.key),) if tls.cert and tls.key else (),
        insecure_skip_verify=tls.insecure_skip_verify,
        what=what,
    )
