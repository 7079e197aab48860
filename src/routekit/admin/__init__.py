"""routekit.admin: the admin entry point — Traefik's API, ``/ping`` and Prometheus ``/metrics``.

`AdminAPI` answers Traefik v3's API paths over the current runtime; `Metrics` is an exchange
observer that keeps Traefik's Prometheus metrics; `Admin` serves both on one handler, to put on
an entry point of its own (bound to 127.0.0.1 unless configured otherwise, as Traefik's
``api.insecure`` entry point).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import final

from ..http import RequestHead, Response
from ._api import AdminAPI as AdminAPI
from ._metrics import Metrics as Metrics

__all__ = ["Admin", "AdminAPI", "Metrics"]


@final
class Admin:
    """The admin handler: ``/metrics`` from *metrics* (when given), the rest from *api*."""

    def __init__(self, api: AdminAPI, metrics: Metrics | None = None) -> None:
        self.api = api
        self.metrics = metrics

    async def __call__(self, head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        """Answer one admin request."""
        if self.metrics is not None and head.event.target.split(b"?", 1)[0] == b"/metrics":
            return await self.metrics.serve(head, body)
        return await self.api(head, body)
