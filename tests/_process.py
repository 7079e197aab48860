"""Stopping a gateway process started by a test and reading all it wrote."""

from __future__ import annotations

import signal
import subprocess
from typing import IO


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
