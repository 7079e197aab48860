"""Building middlewares from their model objects, and composing each router's chain once.

`build_layer` turns one configured middleware into a `Layer` (regexps compiled, users read,
buckets made).  The runtime builds every middleware when the configuration loads
(`shared_layer`), so that one that cannot be built is a located configuration problem and its
routers are left out, never a 500 on a first request.  `Chains` keeps, for the proxy or the
ASGI face, each router's composed handler (and, for a chain of steps alone, its `Fused` form,
which the proxy runs in its own frame), made on the router's first request after a reload
from the runtime's layers and then reused; a middleware that needs the face (its clock, its
client, its services) is built by the face, and keeps its built layer — and its state, rate
limit buckets for one — across reloads while its name and options do not change.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar, final

import anyio
import attrs

from ..config import (
    AddPrefix,
    BasicAuth,
    Buffering,
    CircuitBreaker,
    Compress,
    ContentType,
    DigestAuth,
    Errors,
    ForwardAuth,
    GrpcWeb,
    Headers,
    InFlightReq,
    IPAllowList,
    Middleware,
    PassTLSClientCert,
    RateLimit,
    RedirectRegex,
    RedirectScheme,
    ReplacePath,
    ReplacePathRegex,
    Retry,
    ServersTransport,
    StripPrefix,
    StripPrefixRegex,
)
from ..errors import ConfigError
from ..http import Client, Response
from ..rules import RegexError
from ._auth import build_basic_auth, build_digest_auth
from ._breaker import build_circuit_breaker
from ._buffering import build_buffering, build_content_type
from ._call import Call, Fused, Layer, Next, Step, fuse, plain
from ._client_cert import build_pass_tls_client_cert
from ._compress import build_compress
from ._errors import ForwardTo, build_errors
from ._forward_auth import build_forward_auth
from ._grpc_web import build_grpc_web
from ._headers import build_headers
from ._ip import build_ip_allow_list
from ._limits import build_in_flight_req, build_rate_limit
from ._paths import (
    build_add_prefix,
    build_replace_path,
    build_replace_path_regex,
    build_strip_prefix,
    build_strip_prefix_regex,
)
from ._redirect import build_redirect_regex, build_redirect_scheme
from ._retry import build_retry

if TYPE_CHECKING:
    # Only named: the runtime (a room above) builds middlewares, never the other way round.
    from ..runtime import RoutingDecision

__all__ = [
    "SUPPORTED",
    "Chains",
    "Context",
    "build_layer",
    "compose",
    "needs_face",
    "shared_layer",
    "supported",
]

_log: Final = logging.getLogger("routekit.middleware")


@final
@attrs.frozen(kw_only=True)
class Context:
    """What middlewares may need besides their options: the clock, how to wait, a client."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep
    #: The client for a servers transport (``None``: the default one), for middlewares that
    #: make requests of their own (forwardAuth); the face that serves provides it.
    client: Callable[[ServersTransport | None], Client | None] | None = None
    #: Sends a call to the named service (the errors middleware's pages).
    forward_to: ForwardTo | None = None


_M = TypeVar("_M")
_BUILDERS: Final[dict[type[object], Callable[[Any, Context], Layer]]] = {}
# The types whose layers use the face's context (clock, sleep, client, services) or keep state
# per face: each face builds its own; the others are built once, when the configuration loads,
# and shared.
_FACED: Final[set[type[object]]] = set()


def _register(
    kind: type[_M], builder: Callable[[_M, Context], Layer], *, faced: bool = False
) -> None:
    _BUILDERS[kind] = builder
    if faced:
        _FACED.add(kind)


_register(AddPrefix, lambda m, _: build_add_prefix(m))
_register(StripPrefix, lambda m, _: build_strip_prefix(m))
_register(StripPrefixRegex, lambda m, _: build_strip_prefix_regex(m))
_register(ReplacePath, lambda m, _: build_replace_path(m))
_register(ReplacePathRegex, lambda m, _: build_replace_path_regex(m))
_register(RedirectScheme, lambda m, _: build_redirect_scheme(m))
_register(RedirectRegex, lambda m, _: build_redirect_regex(m))
_register(Headers, lambda m, _: build_headers(m))
_register(IPAllowList, lambda m, _: build_ip_allow_list(m))
_register(BasicAuth, lambda m, _: build_basic_auth(m))
_register(RateLimit, lambda m, c: build_rate_limit(m, c.clock, c.sleep), faced=True)
# Faced though it needs no context: its counts stay per entry point, as they were.
_register(InFlightReq, lambda m, _: build_in_flight_req(m), faced=True)
_register(Retry, lambda m, c: build_retry(m, c.clock, c.sleep), faced=True)
_register(Compress, lambda m, _: build_compress(m))
_register(ForwardAuth, lambda m, c: build_forward_auth(m, c.client), faced=True)
_register(Errors, lambda m, c: build_errors(m, c.forward_to), faced=True)
_register(CircuitBreaker, lambda m, c: build_circuit_breaker(m, c.clock), faced=True)
_register(DigestAuth, lambda m, _: build_digest_auth(m))
_register(Buffering, lambda m, _: build_buffering(m))
_register(ContentType, lambda m, _: build_content_type(m))
_register(PassTLSClientCert, lambda m, _: build_pass_tls_client_cert(m))
_register(GrpcWeb, lambda m, _: build_grpc_web(m))

#: The middleware types routekit applies (their file keys).
SUPPORTED: Final[frozenset[str]] = frozenset(
    getattr(kind, "type_key", kind.__name__) for kind in _BUILDERS
)


def supported(model: Middleware) -> bool:
    """Whether routekit can apply middlewares of *model*'s type."""
    return model.type_key in SUPPORTED


def build_layer(model: Middleware, context: Context | None = None) -> Layer:
    """The layer of one configured middleware.

    Raises:
        ConfigError: its options cannot work (a bad regexp, no users…), or routekit does not
            apply this type of middleware yet.
    """
    builder = _BUILDERS.get(type(model))
    if builder is None:
        raise ConfigError(f"{model.type_key}: this middleware type is not supported yet")
    try:
        return builder(model, context if context is not None else Context())
    except RegexError as exc:
        raise ConfigError(f"{model.type_key}: bad regular expression: {exc}") from None
    except ConfigError as exc:
        if str(exc).startswith(model.type_key):
            raise
        raise ConfigError(f"{model.type_key}: {exc}") from None


def needs_face(model: Middleware) -> bool:
    """Whether each face builds its own layer of *model* (its clock, client, services, state)."""
    return type(model) in _FACED


async def _no_service(call: Call, service: str) -> Response:
    return plain(503, "Service Unavailable")


#: What a middleware built when the configuration loads sees of a face: none yet.
_AT_LOAD: Final = Context(client=lambda transport: None, forward_to=_no_service)


def shared_layer(model: Middleware) -> Layer | None:
    """Build *model* when the configuration loads: its layer, shared by every face, or
    ``None`` for one that each face builds itself (`needs_face`; built here all the same, so
    that what cannot be built is known now).

    Raises:
        ConfigError: as `build_layer`.
    """
    layer = build_layer(model, _AT_LOAD)
    return None if needs_face(model) else layer


def compose(layers: Sequence[Layer], terminal: Next) -> Next:
    """*layers*, in order, around *terminal*; neighbouring `Step` layers share one frame."""
    handler = terminal
    steps: list[Step] = []
    for layer in reversed(layers):
        if isinstance(layer, Step):
            steps.append(layer)
            continue
        if steps:
            handler, steps = fuse(steps[::-1], handler), []
        handler = layer(handler)
    return fuse(steps[::-1], handler) if steps else handler


def _broken(router: str, reason: str) -> Next:
    async def answer(call: Call) -> Response:
        return plain(500, "Internal Server Error")

    _log.error("router %s: middlewares not built, answering 500: %s", router, reason)
    return answer


@final
class Chains:
    """Each router's middlewares composed around *terminal* (the rest of the path), once.

    Args:
        terminal: forwards a call to the router's service.
        context: the clock and sleep the middlewares use.
    """

    __slots__ = ("_context", "_current", "_layers", "_previous", "_terminal")

    def __init__(self, terminal: Next, context: Context | None = None) -> None:
        self._terminal = terminal
        self._context = context if context is not None else Context()
        self._current: dict[str, tuple[object, Next, Next | Fused]] = {}
        # Built layers by (middleware name, options): this runtime's, and the one's before.
        self._layers: dict[tuple[str, Middleware], Layer] = {}
        self._previous: dict[tuple[str, Middleware], Layer] = {}

    def reload(self) -> None:
        """A new runtime: compose again; keep the layers still in use since the last one."""
        self._current = {}
        self._previous, self._layers = self._layers, {}

    def handler(self, decision: RoutingDecision) -> Next:
        """The handler of *decision*'s router: its middlewares, then *terminal*."""
        known = self._current.get(decision.router)
        if known is None or known[0] is not decision.middlewares:
            known = self._known(decision)
        return known[1]

    def path(self, decision: RoutingDecision) -> Next | Fused:
        """*decision*'s router's middlewares: as `handler`, or, when they are all steps, the
        steps to run in the caller's own frame around *terminal* (no coroutine of their own)."""
        known = self._current.get(decision.router)
        if known is None or known[0] is not decision.middlewares:
            known = self._known(decision)
        return known[2]

    def _known(self, decision: RoutingDecision) -> tuple[object, Next, Next | Fused]:
        layers = self._layers_of(decision)
        if isinstance(layers, str):
            handler: Next = _broken(decision.router, layers)
            path: Next | Fused = handler
        else:
            handler = compose(layers, self._terminal)
            path = handler
            steps = [layer for layer in layers if isinstance(layer, Step)]
            if handler is not self._terminal and len(steps) == len(layers):
                path = Fused(steps)
        known = self._current[decision.router] = (decision.middlewares, handler, path)
        return known

    def _layers_of(self, decision: RoutingDecision) -> list[Layer] | str:
        """*decision*'s built layers, or why one cannot be built."""
        names = decision.middleware_names or tuple(
            f"#{i}" for i in range(len(decision.middlewares))
        )
        shared = decision.layers
        if len(shared) != len(decision.middlewares):  # a decision `build` did not make
            shared = (None,) * len(decision.middlewares)
        layers: list[Layer] = []
        for name, model, built in zip(names, decision.middlewares, shared, strict=True):
            if built is not None:  # built when the configuration loaded
                layers.append(built)
                continue
            key = (name, model)
            layer = self._layers.get(key) or self._previous.get(key)
            if layer is None:
                try:
                    layer = build_layer(model, self._context)
                except ConfigError as exc:  # a runtime not made by `build` (checked there)
                    return f"middleware {name}: {exc}"
            self._layers[key] = layer
            layers.append(layer)
        return layers
