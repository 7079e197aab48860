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


@pytest.fixture
def anyio_backend(request: pytest.FixtureRequest) -> object:
    """Every async test runs on both anyio backends (a module may narrow it, defining its own
    fixture); the data path's modules (``ON_UVLOOP = True``) run on uvloop as well, the loop
    that ``routekit serve`` takes when it is installed."""
    return request.param


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize `anyio_backend` where this file's fixture is the one in use."""
    if "anyio_backend" not in metafunc.fixturenames or hasattr(metafunc.module, "anyio_backend"):
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        if isinstance(names, str):
            names = names.replace(" ", "").split(",")
        if "anyio_backend" in names:
            return  # the test names its backends itself
    backends: list[object] = ["asyncio", "trio"]
    if getattr(metafunc.module, "ON_UVLOOP", False):
        backends.append(pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop"))
    metafunc.parametrize("anyio_backend", backends, indirect=True)


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
