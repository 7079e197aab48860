"""The examples run as a user runs them, and say what they should."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def test_route_demo_prints_each_decision() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "route_demo.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    out = result.stdout
    assert "GET api.example.com/v1/users\n    -> api (api-v1)" in out
    assert "-> api-legacy (api-legacy) then rewrite: PathPrefixStrip(`/legacy`)" in out
    # The admin route refuses 10.0.0.0/8, so that client falls through to the site.
    assert "/admin/panel from 10.1.2.3\n    -> web (website)" in out
    assert "/admin/panel from 192.0.2.7\n    -> admin (forbidden)" in out
    assert "GET store.example.com/cart\n    -> shop (shop)" in out
    assert "unknown.example.org/\n    -> no route (404)" in out
    assert "Host(`example.com`) did not match host 'unknown.example.org'" in out


def test_watch_directory_follows_edits(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(
        '[http.routers.api]\nrule = "Host(`api.example.com`)"\nservice = "api"\n'
        '[[http.services.api.loadBalancer.servers]]\nurl = "http://127.0.0.1:9000"\n'
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            str(EXAMPLES / "watch_directory.py"),
            str(tmp_path),
            "--seconds",
            "90",
            "--throttle",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        first = _read_block(proc)
        assert "api@file" in first and "web@file" not in first
        (tmp_path / "b.toml").write_text(
            '[http.routers.web]\nrule = "Host(`web.example.com`)"\nservice = "api@file"\n'
        )
        second = _read_block(proc)
        assert "api@file" in second and "web@file" in second
        (tmp_path / "a.toml").unlink()
        third = _read_block(proc)
        # The api router and service are gone with their file; web points at a service that no
        # longer exists, so it is left out and reported.
        assert "[web] 0 router(s)" in third
        assert "unknown service" in third and "web" in third
    finally:
        proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()


def _read_block(proc: subprocess.Popen[str], timeout: float = 45.0) -> str:
    """Lines up to the next ``--`` separator the example prints after each runtime."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.strip() == "--":
            return "".join(lines)
        lines.append(line)
    raise AssertionError(f"no complete block from the example; got {lines!r}")
