"""Mirroring: copies of a request sent to a mirroring service's mirrors, answers discarded.

As Traefik does (``pkg/server/service/loadbalancer/mirror``): the body is read into memory so
that the main server and the mirrors get the same bytes — up to the service's ``maxBodySize``;
a larger body goes to the main server only, and the request is not mirrored.  With
``mirrorBody = false`` the mirrors get the request without its body.  Mirrors are sent in the
background once the main server has answered, one after the other, and never delay or change
the client's answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from ..config import Mirroring
from ..http import NO_BODY

__all__ = ["mirror_copy"]


async def mirror_copy(
    body: AsyncIterator[bytes], mirroring: Mirroring | None
) -> tuple[bytes | AsyncIterator[bytes], bytes | None]:
    """The body to forward to the main server, and the copy for the mirrors (``None``: the
    request is not mirrored, its body being larger than ``maxBodySize``)."""
    if body is NO_BODY or (mirroring is not None and not mirroring.mirror_body):
        return body, b""
    limit = mirroring.max_body_size if mirroring is not None else -1
    chunks: list[bytes] = []
    size = 0
    async for chunk in body:
        chunks.append(chunk)
        size += len(chunk)
        if 0 <= limit < size:
            return _resumed(chunks, body), None
    whole = b"".join(chunks)
    return whole, whole


async def _resumed(first: list[bytes], rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The chunks already read, then the rest of the body as it comes."""
    for chunk in first:
        yield chunk
    async for chunk in rest:
        yield chunk
