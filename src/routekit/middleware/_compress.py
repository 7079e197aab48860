"""compress: gzip, Brotli and zstd answers, negotiated as Traefik negotiates them.

As ``master:pkg/middlewares/compress``: HEAD requests and gRPC pass as they are; the encoding
is the client's ``Accept-Encoding`` choice with the highest ``q``, ties going to the
configured order (``encodings``, by default zstd, br, gzip), ``*`` meaning ``defaultEncoding``
(or the first configured), no header meaning ``defaultEncoding`` (or none).  The answer gets
``Vary: Accept-Encoding``; it is compressed unless it already has a ``Content-Encoding``, its
type is excluded (or not included), or its body is shorter than ``minResponseBodyBytes``
(1024) — the first bytes are held until that much has come.  A streamed body is compressed as
it streams, flushed after each piece so that the client sees it as soon as the server sends it.

gzip is the standard library's zlib; Brotli comes from the ``brotli`` package and zstd from
``backports.zstd`` (``compression.zstd`` from Python 3.14): the ``compress`` extra.  Without
them the default list keeps gzip, and naming one explicitly is a configuration error.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from typing import Any, Final

import attrs

from ..config import Compress
from ..errors import ConfigError
from ..http import Response
from ._call import Call, Layer, Next, get_header, remove_header

__all__ = ["ENCODERS", "available_encodings", "negotiate"]

_DEFAULT_MIN: Final = 1024
_GRPC: Final = "application/grpc"


class _Encoder:
    """One compressed stream: ``chunk()`` for each piece (flushed), ``end()`` at the end."""

    def __init__(self, chunk: Callable[[bytes], bytes], end: Callable[[], bytes]) -> None:
        self.chunk = chunk
        self.end = end


def _gzip() -> _Encoder:
    # wbits 31: the gzip container (RFC 1952) around deflate.
    z = zlib.compressobj(6, zlib.DEFLATED, 31)
    return _Encoder(lambda data: z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH), z.flush)


def _brotli() -> _Encoder:
    brotli: Any = importlib.import_module("brotli")
    c = brotli.Compressor(quality=5)  # Traefik's brotli level is 5 (andybalholm default 6…)
    return _Encoder(lambda data: c.process(data) + c.flush(), c.finish)


def _zstd_module() -> Any:
    try:
        return importlib.import_module("compression.zstd")
    except ImportError:
        return importlib.import_module("backports.zstd")


def _zstd() -> _Encoder:
    zstd = _zstd_module()
    c = zstd.ZstdCompressor()
    block = zstd.ZstdCompressor.FLUSH_BLOCK
    return _Encoder(lambda data: c.compress(data, mode=block), c.flush)


#: Encoding name → a factory of its compressed streams.
ENCODERS: Final[dict[str, Callable[[], _Encoder]]] = {
    "gzip": _gzip,
    "br": _brotli,
    "zstd": _zstd,
}
_MODULES: Final = {"br": ("brotli",), "zstd": ("compression.zstd", "backports.zstd")}


def available_encodings() -> frozenset[str]:
    """The encodings this installation can produce (gzip always)."""
    out = {"gzip"}
    for name, modules in _MODULES.items():
        for module in modules:
            try:
                importlib.import_module(module)
            except ImportError:
                continue
            out.add(name)
            break
    return frozenset(out)


def negotiate(
    accept: Sequence[bytes] | None, encodings: tuple[str, ...], default: str
) -> str | None:
    """The encoding to answer in, from the ``Accept-Encoding`` values (``None``: the header is
    absent), or ``None`` for an uncompressed answer."""
    if accept is None:
        return default or None
    if len(accept) == 1 and not accept[0]:
        return None  # an empty header: identity only
    rank = {name: index for index, name in enumerate(encodings)}
    rank["*"] = -1
    rank["identity"] = len(encodings)
    choices: list[tuple[float, int, str]] = []
    for line in accept:
        for item in line.decode("latin-1").replace(" ", "").split(","):
            name, _, param = item.partition(";")
            if name not in rank:
                continue
            weight = 1.0
            if param.startswith("q="):
                try:
                    weight = float(param[2:])
                except ValueError:
                    weight = 0.0
                if weight == 0:
                    continue
            choices.append((-weight, rank[name], name))
    if not choices:
        return None
    best = min(choices)[2]
    if best == "*":
        return default or encodings[0]
    return None if best == "identity" else best


def _media(value: str) -> tuple[str, frozenset[tuple[str, str]]]:
    kind, *params = value.split(";")
    pairs = set()
    for param in params:
        name, _, v = param.strip().partition("=")
        if name:
            pairs.add((name.lower(), v.strip('"')))
    return kind.strip().lower(), frozenset(pairs)


def _matches(
    content_type: tuple[str, frozenset[tuple[str, str]]],
    patterns: tuple[tuple[str, frozenset[tuple[str, str]]], ...],
) -> bool:
    kind, params = content_type
    return any(kind == k and p <= params for k, p in patterns)


@attrs.frozen
class _Plan:
    encodings: tuple[str, ...]
    default: str
    min_size: int
    excluded: tuple[tuple[str, frozenset[tuple[str, str]]], ...]
    included: tuple[tuple[str, frozenset[tuple[str, str]]], ...]


def plan(model: Compress) -> _Plan:
    """Check and work out a compress middleware."""
    if model.excluded_content_types and model.included_content_types:
        raise ConfigError(
            "compress: excludedContentTypes and includedContentTypes are mutually exclusive"
        )
    available = available_encodings()
    encodings = model.encodings
    unknown = [e for e in encodings if e not in ENCODERS]
    if unknown:
        raise ConfigError(f"compress: unsupported encoding {unknown[0]!r} (zstd, br, gzip)")
    if encodings == Compress().encodings:  # the default list: what this installation has
        encodings = tuple(e for e in encodings if e in available)
    missing = [e for e in encodings if e not in available]
    if missing:
        package = _MODULES[missing[0]][-1]
        raise ConfigError(
            f"compress: encodings: {missing[0]!r} needs the {package!r} package, which is not "
            "installed: pip install 'routekit[compress]'"
        )
    if model.default_encoding and model.default_encoding not in encodings:
        raise ConfigError(f"compress: defaultEncoding {model.default_encoding!r} is not listed")
    return _Plan(
        encodings=encodings,
        default=model.default_encoding,
        min_size=model.min_response_body_bytes or _DEFAULT_MIN,
        excluded=(_media(_GRPC), *(_media(t) for t in model.excluded_content_types)),
        included=tuple(_media(t) for t in model.included_content_types),
    )


async def _compressed(
    first: list[bytes], rest: AsyncIterable[bytes] | None, encoder: _Encoder
) -> AsyncIterator[bytes]:
    try:
        data = encoder.chunk(b"".join(first))
        if data:
            yield data
        if rest is not None:
            async for chunk in rest:
                data = encoder.chunk(chunk)
                if data:
                    yield data
        yield encoder.end()
    finally:
        closing = getattr(rest, "aclose", None)
        if closing is not None:
            await closing()


def build_compress(model: Compress) -> Layer:
    """The compress layer."""
    p = plan(model)

    def layer(next_: Next) -> Next:
        async def handle(call: Call) -> Response:
            if call.method == b"HEAD":
                return await next_(call)
            sent_type = get_header(call.headers, b"content-type")
            if sent_type and _matches(_media(sent_type.decode("latin-1")), p.excluded[:1]):
                return await next_(call)
            accept = [v for k, v in call.headers if k == b"accept-encoding"] or None
            encoding = negotiate(accept, p.encodings, p.default)
            if encoding is None:
                return await next_(call)
            response = await next_(call)
            return await _encode(response, encoding, p)

        return handle

    return layer


async def _encode(response: Response, encoding: str, p: _Plan) -> Response:
    headers = list(response.headers)
    headers.append((b"vary", b"Accept-Encoding"))
    kept = attrs.evolve(response, headers=headers, checked=False)
    if response.tunnel is not None or response.status < 200 or response.status in (204, 304):
        return kept
    if get_header(headers, b"content-encoding") is not None:
        return kept
    content_type = get_header(headers, b"content-type")
    if content_type is not None:
        media = _media(content_type.decode("latin-1"))
        if p.included and not _matches(media, p.included):
            return kept
        if _matches(media, p.excluded):
            return kept
    body = response.body
    if isinstance(body, bytes):
        if len(body) < p.min_size:
            return kept
        encoder = ENCODERS[encoding]()
        compressed = encoder.chunk(body) + encoder.end()
        remove_header(headers, b"content-length")
        headers.append((b"content-encoding", encoding.encode()))
        return attrs.evolve(kept, body=compressed)
    # Hold the first bytes until there are enough to be worth compressing (or the end).
    first: list[bytes] = []
    size = 0
    stream = body.__aiter__()
    ended = False
    while size < p.min_size:
        try:
            chunk = await stream.__anext__()
        except StopAsyncIteration:
            ended = True
            break
        first.append(chunk)
        size += len(chunk)
    if ended:
        return attrs.evolve(kept, body=b"".join(first))
    remove_header(headers, b"content-length")
    headers.append((b"content-encoding", encoding.encode()))
    return attrs.evolve(kept, body=_compressed(first, stream, ENCODERS[encoding]()))
