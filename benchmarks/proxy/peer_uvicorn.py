"""The uvicorn + httpx peer: an ASGI app on uvicorn forwarding with one httpx.AsyncClient.

Run: ``python peer_uvicorn.py PORT BACKEND_URL`` (what ``bench_proxy.py`` starts).
"""

from __future__ import annotations

import sys
from typing import Any

import httpx
import uvicorn

HOP = frozenset(
    [b"connection", b"keep-alive", b"transfer-encoding", b"upgrade", b"te", b"trailer",
     b"content-length", b"host"]
)  # fmt: skip


def main() -> None:
    port, backend = int(sys.argv[1]), sys.argv[2].rstrip("/")
    client = httpx.AsyncClient(base_url=backend, limits=httpx.Limits(max_connections=None))

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k, v) for k, v in scope["headers"] if k not in HOP]
        target = scope["path"] + (
            "?" + scope["query_string"].decode() if scope["query_string"] else ""
        )
        upstream = await client.request(scope["method"], target, headers=headers, content=body)
        out = [(k, v) for k, v in upstream.headers.raw if k.lower() not in HOP]
        await send({"type": "http.response.start", "status": upstream.status_code, "headers": out})
        await send({"type": "http.response.body", "body": upstream.content})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


if __name__ == "__main__":
    main()
