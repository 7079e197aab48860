"""``routekit serve`` on a Marathon cluster (the stand-in of tests/_marathon.py): an
application's tasks are real whoami backends; scaling it is followed, over Traefik's flags."""

from __future__ import annotations

import pytest

from _backends import backends, until
from _marathon import marathon
from _marathon_objects import app, task
from _process import finish, spawn
from _sockets import free_port
from routekit.http import Client

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_serve_follows_the_applications_tasks() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    host = b"web.marathon.test"
    labels = {"traefik.http.routers.web.rule": "Host(`web.marathon.test`)"}
    with marathon() as master:
        async with backends("a", "b") as pods, Client() as client:
            one = task("web.a", [pods["a"]], host="127.0.0.1")
            master.put_app(app("/web", [one], labels=labels))
            proc, started = spawn(
                "serve", f"--entryPoints.web.address=127.0.0.1:{port}",
                f"--providers.marathon.endpoint={master.endpoint}",
                "--providers.providersThrottleDuration=0s", "--log.level=INFO",
                ready=lambda line: "routekit serve: web on" in line,
            )  # fmt: skip
            assert proc.stderr is not None
            try:
                await until(client, url, host, {"a"})
                master.set_task("/web", task("web.b", [pods["b"]], host="127.0.0.1"))
                await until(client, url, host, {"a", "b"})
                master.set_task("/web", task("web.a", [pods["a"]], host="127.0.0.1",
                                             state="TASK_KILLED"))  # fmt: skip
                await until(client, url, host, {"b"})
                master.remove_app("/web")
                await until(client, url, host, {"404"})
            finally:
                rest = finish(proc, proc.stderr)
            said = "".join(started) + rest
            assert f"providers: marathon ({master.endpoint}, watching)" in said
