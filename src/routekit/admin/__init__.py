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
from ..middleware import Users, basic_credentials
from ._api import AdminAPI as AdminAPI
from ._metrics import Metrics as Metrics

__all__ = ["Admin", "AdminAPI", "Metrics"]

_HTML: Final = (b"content-type", b"text/html; charset=utf-8")
_TEXT: Final = (b"content-type", b"text/plain; charset=utf-8")
# The page may run its own inline script and reach this origin only.
_CSP: Final = (
    b"content-security-policy",
    b"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    b"connect-src 'self'",
)


@final
class Admin:
    """The admin handler: the API and dashboard from *api*, ``/metrics`` from *metrics*,
    ``/ping`` — each when given — behind basic authentication when *users* are.

    Args:
        api: Traefik's API over the runtime (``None``: no API, no dashboard).
        metrics: the Prometheus metrics to expose at ``/metrics``.
        ping: answer ``/ping`` (``OK``), the health probe of load balancers and orchestrators;
            it is never behind the authentication, as probes carry no credentials.
        users: the users allowed in (v1's ``[web.auth.basic]``), or ``None``: no login.
        realm: the realm the login is asked for in.
    """

    def __init__(
        self,
        api: AdminAPI | None,
        metrics: Metrics | None = None,
        *,
        ping: bool = True,
        users: Users | None = None,
        realm: str = "traefik",
    ) -> None:
        self.api = api
        self.metrics = metrics
        self.ping = ping
        self.users = users
        self._challenge = f'Basic realm="{realm}"'.encode("latin-1", "replace")
        self._page = resources.files(__package__).joinpath("dashboard.html").read_bytes()

    async def __call__(self, head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        """Answer one admin request."""
        path = head.event.target.split(b"?", 1)[0]
        if self.ping and path.rstrip(b"/") == b"/ping":
            async for _ in body:
                pass
            return Response(200, [(b"content-type", b"text/plain; charset=utf-8")], b"OK")
        if self.users is not None and not await self._allowed(head):
            async for _ in body:
                pass
            return Response(
                401, [(b"www-authenticate", self._challenge), _TEXT], b"401 Unauthorized\n"
            )
        if self.metrics is not None and path == b"/metrics":
            return await self.metrics.serve(head, body)
        if self.api is None:
            async for _ in body:
                pass
            return Response(404, [_TEXT], b"404 page not found\n")
        if path in (b"/", b"/dashboard"):
            return Response(302, [(b"location", b"/dashboard/")], b"")
        if path == b"/dashboard/":
            return Response(200, [_HTML, _CSP], self._page)
        return await self.api(head, body)

    async def _allowed(self, head: RequestHead) -> bool:
        assert self.users is not None
        value = next((v for k, v in head.event.headers if k == b"authorization"), None)
        credentials = basic_credentials(bytes(value) if value is not None else None)
        if credentials is None:
            return False
        return await self.users.check(*credentials, header=bytes(value or b""))
