"""Starting a ``python -m routekit`` process from a test, and stopping it reading all it wrote."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO


def spawn(
    *args: str,
    ready: Callable[[str], bool],
    stdout: bool = False,
    most: int = 50,
    python: tuple[str, ...] = ("-m", "routekit"),
) -> tuple[subprocess.Popen[str], list[str]]:
    """Start ``routekit <args>`` and read its lines until one is *ready*; the process and lines.

    Diagnostics are read from stderr (from stdout, with stderr merged in, when *stdout*).  A
    process that ends, or says *most* lines without being ready, is killed and its lines raised:
    a gateway that did not start is never left running.  *python* is what the interpreter runs
    before *args* (``("-c", code)`` to prepare the process first).
    """
    proc = subprocess.Popen(
        [sys.executable, *python, *args],
        stdout=subprocess.PIPE if stdout else None,
        stderr=subprocess.STDOUT if stdout else subprocess.PIPE,
        text=True,
    )
    pipe = proc.stdout if stdout else proc.stderr
    assert pipe is not None
    lines = [pipe.readline()]
    while not ready(lines[-1]):
        if not lines[-1] or len(lines) >= most:
            proc.kill()
            proc.wait(timeout=30)
            lines.append(pipe.read())
            pipe.close()
            raise AssertionError("".join(lines))
        lines.append(pipe.readline())
    return proc, lines


def serve(static: Path, http: int, web: int) -> tuple[subprocess.Popen[str], list[str]]:
    """``routekit serve`` with the article's file, its entry points moved to free loopback ports."""
    return spawn(
        "serve", "--config", str(static),
        f"--entryPoints.http.address=127.0.0.1:{http}", f"--web.address=127.0.0.1:{web}",
        "--logLevel=INFO",
        ready=lambda line: "routekit serve: providers:" in line,
    )  # fmt: skip


def finish(proc: subprocess.Popen[str], pipe: IO[str], sig: int = signal.SIGTERM) -> str:
    """Send *sig*, wait for the exit and return the rest of *pipe*; a failed exit raises.

    Not ``communicate(timeout=...)``: it reads the raw pipe and would drop what an earlier
    ``readline()`` had already buffered.
    """
    proc.send_signal(sig)
    proc.wait(timeout=30)
    rest = pipe.read()
    pipe.close()
    assert proc.returncode == 0, rest
    return rest
