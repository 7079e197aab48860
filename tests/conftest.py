"""Shared test settings.

Hypothesis: no per-example deadline anywhere (the machines that run the suite have two shared
cores, and a slow example is not a wrong one); under CI (``CI`` set) examples are derived from a
fixed seed so that a run is reproducible, while local runs keep exploring new examples.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", deadline=None)
settings.register_profile(
    "ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Every async test runs on both anyio backends (a module may narrow it)."""
    return str(request.param)
