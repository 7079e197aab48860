"""Shared test settings.

Hypothesis: no per-example deadline anywhere (the machines that run the suite have two shared
cores, and a slow example is not a wrong one); under CI (``CI`` set) examples are derived from a
fixed seed so that a run is reproducible, while local runs keep exploring new examples.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from _dockerd import Dockerd, dockerd

settings.register_profile("dev", deadline=None)
settings.register_profile(
    "ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Every async test runs on both anyio backends (a module may narrow it)."""
    return str(request.param)


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dockerd]:
    """One real Docker engine for the whole run (started on first use)."""
    with dockerd(tmp_path_factory.mktemp("dockerd")) as started:
        yield started


@pytest.fixture
def docker(engine: Dockerd) -> Iterator[Dockerd]:
    """The engine, without containers before and after the test."""
    engine.remove_all()
    yield engine
    if engine.proc is None:  # a test that stopped the engine and failed before restarting it
        engine.start()
    engine.remove_all()
