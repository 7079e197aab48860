"""The access log: Traefik's common and JSON lines, filters and header modes, from a gateway."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from _echo import site, with_middlewares
from routekit.config import AccessLogConfig, reads_static
from routekit.errors import ConfigError
from routekit.proxy import AccessLog, Exchange, access_fields, common_line

pytestmark = pytest.mark.anyio

AUTH = """
[http.middlewares.auth.basicAuth]
users = ["ann:{SHA}2PRZAyDhNDqRW2OUFwZQqPNdaSY="]
"""
ANN = [(b"authorization", b"Basic YW5uOnNoYQ=="), (b"user-agent", b"curl/8.0")]  # ann:sha


async def test_common_format_lines_from_real_requests(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    log = AccessLog(AccessLogConfig(file_path=str(path)))
    async with site(with_middlewares(AUTH, '["auth"]'), access_log=log) as s:
        await s.get("/a?b=1", headers=ANN)
        await s.get("/nope")
        await s.get("/", host="other.test")
    lines = path.read_text().splitlines()
    assert len(lines) == 3
    pattern = (
        r"127\.0\.0\.1 - ann \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "
        r'"GET /a\?b=1 HTTP/1\.1" 200 \d+ "-" "curl/8\.0" 1 "site" '
        r'"http://127\.0\.0\.1:\d+" \d+ms'
    )
    assert re.fullmatch(pattern, lines[0]), lines[0]
    assert '"GET /nope HTTP/1.1" 401 17 "-" "-" 2 "site" "-"' in lines[1]
    assert '"GET / HTTP/1.1" 404 19 "-" "-" 3 "-" "-"' in lines[2]  # no router matched


async def test_json_lines_with_filters_and_header_modes(tmp_path: Path) -> None:
    static = reads_static(f"""
[entryPoints.web]
address = ":80"
[accessLog]
filePath = "{tmp_path / "access.json"}"
format = "json"
[accessLog.filters]
statusCodes = ["400-499"]
[accessLog.fields]
[accessLog.fields.names]
StartLocal = "drop"
[accessLog.fields.headers]
defaultMode = "keep"
[accessLog.fields.headers.names]
Authorization = "redact"
User-Agent = "drop"
""")
    assert static.problems == ()
    assert static.config.access_log is not None
    log = AccessLog(static.config.access_log)
    async with site(with_middlewares(AUTH, '["auth"]'), access_log=log) as s:
        await s.get("/", headers=ANN)  # 200: filtered out
        await s.get("/x", headers=[(b"authorization", b"Basic bm9ib2R5Og=="), ANN[1]])
    (line,) = (tmp_path / "access.json").read_text().splitlines()
    entry = json.loads(line)
    assert entry["DownstreamStatus"] == 401 and entry["RequestPath"] == "/x"
    assert entry["RouterName"] == "site" and entry["entryPointName"] == "web"
    assert entry["RequestCount"] == 2 and entry["ClientUsername"] == "nobody"
    assert entry["request_Authorization"] == "REDACTED"
    assert "request_User-Agent" not in entry and "StartLocal" not in entry
    assert entry["downstream_Www-Authenticate"] == 'Basic realm="traefik"'
    assert isinstance(entry["Duration"], int) and entry["level"] == "info"


def test_filters_and_fields_as_pure_functions() -> None:
    exchange = Exchange(entry_point="web", method="GET", status=200, duration=0.5, retries=1)
    config = AccessLogConfig(min_duration=1.0)
    out = io.StringIO()
    assert not AccessLog(config, stream=out).keep(exchange)
    assert AccessLog(AccessLogConfig(retry_attempts=True), stream=out).keep(exchange)
    assert AccessLog(AccessLogConfig(status_codes=("200",)), stream=out).keep(exchange)
    fields = access_fields(exchange, AccessLogConfig(default_mode="drop"), 7)
    assert fields == {}
    line = common_line(access_fields(exchange, AccessLogConfig(), 7), 0.0)
    assert line.endswith('"GET  HTTP/1.1" 200 0 "-" "-" 7 "-" "-" 500ms')
    with pytest.raises(ConfigError, match="filePath"):
        AccessLog(AccessLogConfig(file_path="/nonexistent/dir/log"))
