"""routekit.admin: the admin entry point — Traefik's API, ``/ping`` and Prometheus ``/metrics``.

`AdminAPI` answers Traefik v3's API paths over the current runtime; `Metrics` is an exchange
observer that keeps Traefik's Prometheus metrics; `Admin` serves both on one handler, with the
dashboard at ``/dashboard/`` (one self-contained page that refreshes itself from the API: no
build step, nothing fetched from elsewhere), to put on an entry point of its own (bound to
127.0.0.1 unless configured otherwise, as Traefik's ``api.insecure`` entry point).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from importlib import resources
from typing import Final, final

from ..http import RequestHead, Response
from ._api import AdminAPI as AdminAPI
from ._metrics import Metrics as Metrics

__all__ = ["Admin", "AdminAPI", "Metrics"]

_HTML: Final = (b"content-type", b"text/html; charset=utf-8")
# The page may run its own inline script and reach this origin only.
_CSP: Final = (
    b"content-security-policy",
    b"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    b"connect-src 'self'",
)


@final
class Admin:
    """The admin handler: ``/metrics`` from *metrics* (when given), the rest from *api*."""

    def __init__(self, api: AdminAPI, metrics: Metrics | None = None) -> None:
        self.api = api
        self.metrics = metrics
        self._page = resources.files(__package__).joinpath("dashboard.html").read_bytes()

    async def __call__(self, head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        """Answer one admin request."""
        path = head.event.target.split(b"?", 1)[0]
        if self.metrics is not None and path == b"/metrics":
            return await self.metrics.serve(head, body)
        if path in (b"/", b"/dashboard"):
            return Response(302, [(b"location", b"/dashboard/")], b"")
        if path == b"/dashboard/":
            return Response(200, [_HTML, _CSP], self._page)
        return await self.api(head, body)
