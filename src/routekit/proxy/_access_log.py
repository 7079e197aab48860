"""The access log: one line per request, in Traefik's Common Log Format or JSON.

As Traefik's ``accessLog`` (``master:pkg/middlewares/accesslog``): the fields it names
(``ClientHost``, ``RequestPath``, ``DownstreamStatus``, ``RouterName``, ``ServiceURL``,
``Duration``…), kept or dropped by ``fields``; request headers as ``request_<Name>`` and answer
headers as ``downstream_<Name>``, dropped unless kept (or ``redact``-ed); with ``filters``, a
request is logged when its status is in ``statusCodes``, or it was retried
(``retryAttempts``), or it took longer than ``minDuration``.

The proxy never waits for the log: `AccessLog` is an `Exchange` observer that formats the line
and queues it; `AccessLog.run` writes the queue out in a worker thread.  When the writer falls
more than `MAX_PENDING` lines behind, new lines are dropped and counted (`dropped`), rather
than holding the memory or the requests.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Final, TextIO, final

import anyio
import anyio.to_thread

from ..config import AccessLogConfig, status_ranges
from ..errors import ConfigError
from ._proxy import Exchange

__all__ = ["MAX_PENDING", "AccessLog", "access_fields", "common_line"]

#: The most lines waiting for the writer.
MAX_PENDING: Final = 100_000
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # fmt: skip


def _canonical(name: bytes) -> str:
    return "-".join(part.capitalize() for part in name.decode("latin-1").split("-"))


def _split_host(host: str) -> tuple[str, str]:
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1], host[end + 2 :] if host[end + 1 : end + 2] == ":" else ""
    name, colon, port = host.rpartition(":")
    return (name, port) if colon and port.isdigit() else (host, "")


def _rfc3339(moment: float, *, utc: bool) -> str:
    stamp = time.gmtime(moment) if utc else time.localtime(moment)
    nanos = f"{moment % 1:.9f}"[2:].rstrip("0")
    offset = "Z" if utc else time.strftime("%z", stamp)
    if offset not in ("Z",) and len(offset) == 5:
        offset = offset[:3] + ":" + offset[3:]
    return time.strftime("%Y-%m-%dT%H:%M:%S", stamp) + (f".{nanos}" if nanos else "") + offset


def access_fields(exchange: Exchange, config: AccessLogConfig, count: int) -> dict[str, Any]:
    """The log fields of one exchange, with the field and header modes of *config* applied."""
    request_host, request_port = _split_host(exchange.host)
    server = exchange.server or ""
    service_addr = server.split("://", 1)[-1].split("/", 1)[0] if server else ""
    nanos = round(exchange.duration * 1e9)
    fields: dict[str, Any] = {
        "ClientAddr": exchange.client_ip or "",
        "ClientHost": exchange.client_ip or "",
        "ClientPort": "",
        "ClientUsername": exchange.user or "-",
        "DownstreamContentSize": exchange.size,
        "DownstreamStatus": exchange.status,
        "Duration": nanos,
        "OriginContentSize": exchange.size if server else 0,
        "OriginDuration": nanos if server else 0,
        "OriginStatus": exchange.status if server else 0,
        "Overhead": 0 if server else nanos,
        "RequestAddr": exchange.host,
        "RequestContentSize": exchange.request_size,
        "RequestCount": count,
        "RequestHost": request_host,
        "RequestMethod": exchange.method,
        "RequestPath": exchange.target,
        "RequestPort": request_port or "-",
        "RequestProtocol": exchange.protocol,
        "RequestScheme": "https" if exchange.tls else "http",
        "RetryAttempts": exchange.retries,
        "RouterName": exchange.router,
        "ServiceAddr": service_addr or None,
        "ServiceName": exchange.service,
        "ServiceURL": server or None,
        "StartLocal": _rfc3339(exchange.started, utc=False),
        "StartUTC": _rfc3339(exchange.started, utc=True),
        "entryPointName": exchange.entry_point,
    }
    for key, value in exchange.request_headers:
        # Referer and User-Agent are core fields (the common format shows them), whatever
        # the header mode; a mode named for the header itself still applies.
        if key in (b"referer", b"user-agent") and f"request_{_canonical(key)}" not in fields:
            fields[f"request_{_canonical(key)}"] = value.decode("latin-1")
    kept = {
        k: v
        for k, v in fields.items()
        if v is not None and config.names.get(k, config.default_mode) == "keep"
    }
    modes = {name.lower(): mode for name, mode in config.header_names.items()}
    for core in ("request_Referer", "request_User-Agent"):
        mode = modes.get(core.removeprefix("request_").lower())
        if core in kept and mode in ("drop", "redact"):
            if mode == "drop":
                del kept[core]
            else:
                kept[core] = "REDACTED"
    for prefix, headers in (
        ("request_", exchange.request_headers),
        ("downstream_", exchange.response_headers),
    ):
        for key, value in headers:
            name = _canonical(key)
            mode = modes.get(name.lower(), config.headers_default_mode)
            if mode == "keep":
                kept[prefix + name] = value.decode("latin-1")
            elif mode == "redact":
                kept[prefix + name] = "REDACTED"
    return kept


def _quoted(fields: dict[str, Any], key: str) -> str:
    value = fields.get(key)
    return '"-"' if value in (None, "") else json.dumps(str(value))


def common_line(fields: dict[str, Any], started: float) -> str:
    """Traefik's Common Log Format line (``CommonFormatter``) of some fields."""
    stamp = time.localtime(started)
    local = (
        f"{stamp.tm_mday:02d}/{_MONTHS[stamp.tm_mon - 1]}/{stamp.tm_year}:"
        f"{time.strftime('%H:%M:%S %z', stamp)}"
    )
    return (
        f"{fields.get('ClientHost') or '-'} - {fields.get('ClientUsername') or '-'} [{local}] "
        f'"{fields.get("RequestMethod", "-")} {fields.get("RequestPath", "-")} '
        f'{fields.get("RequestProtocol", "-")}" {fields.get("DownstreamStatus", "-")} '
        f"{fields.get('DownstreamContentSize', '-')} {_quoted(fields, 'request_Referer')} "
        f"{_quoted(fields, 'request_User-Agent')} {fields.get('RequestCount', '-')} "
        f"{_quoted(fields, 'RouterName')} {_quoted(fields, 'ServiceURL')} "
        f"{int(fields.get('Duration', 0)) // 1_000_000}ms"
    )


@final
class AccessLog:
    """An `Exchange` observer writing Traefik's access log; run `run` in a task group.

    Args:
        config: the ``accessLog`` section.
        stream: where to write (default: ``config.file_path``, or standard output).

    Raises:
        ConfigError: the file cannot be opened, or a filter status is not a status.
    """

    def __init__(self, config: AccessLogConfig, *, stream: TextIO | None = None) -> None:
        self.config = config
        self._ranges = status_ranges(config.status_codes)
        self._own = stream is None and bool(config.file_path)
        if stream is None and config.file_path:
            try:
                stream = open(config.file_path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
            except OSError as exc:
                raise ConfigError(f"accessLog.filePath {config.file_path!r}: {exc}") from None
        self._stream: TextIO = stream if stream is not None else sys.stdout
        self._pending: list[str] = []
        self._wake: anyio.Event | None = None
        self._lock = threading.Lock()
        self._count = 0
        #: Lines not written because the writer was too far behind.
        self.dropped = 0
        self._format: Callable[[dict[str, Any], float], str] = (
            (lambda fields, _: json.dumps({**fields, "level": "info", "msg": ""}))
            if config.format == "json"
            else common_line
        )

    def keep(self, exchange: Exchange) -> bool:
        """Whether *exchange* passes the filters."""
        if not self.config.filtered:
            return True
        if any(lo <= exchange.status <= hi for lo, hi in self._ranges):
            return True
        if self.config.retry_attempts and exchange.retries > 0:
            return True
        return 0 < self.config.min_duration < exchange.duration

    def __call__(self, exchange: Exchange) -> None:
        """Log *exchange* (the `Proxy` observer signature); never waits."""
        self._count += 1
        if not self.keep(exchange):
            return
        if len(self._pending) >= MAX_PENDING:
            self.dropped += 1
            return
        fields = access_fields(exchange, self.config, self._count)
        self._pending.append(self._format(fields, exchange.started))
        if self._wake is not None and len(self._pending) > self.config.buffering_size:
            self._wake.set()

    def _write(self, lines: list[str]) -> None:
        with self._lock:
            self._stream.write("".join(line + "\n" for line in lines))
            self._stream.flush()

    async def flush(self) -> None:
        """Write what is queued now (in a worker thread)."""
        lines, self._pending = self._pending, []
        if not lines:
            return
        written = False

        def work() -> None:
            nonlocal written
            self._write(lines)
            written = True

        try:
            await anyio.to_thread.run_sync(work)
        finally:
            if not written:  # cancelled before the thread wrote them: they wait for the next
                self._pending[:0] = lines

    async def run(self) -> None:
        """Write queued lines as they come, until cancelled (then what is left is written)."""
        try:
            while True:
                self._wake = anyio.Event()
                if len(self._pending) <= self.config.buffering_size:
                    await self._wake.wait()
                await self.flush()
        finally:
            self._wake = None
            # The last lines, written here and now: the gateway is stopping.
            lines, self._pending = self._pending, []
            if lines:
                self._write(lines)
            if self._own:
                with self._lock:
                    self._stream.close()
