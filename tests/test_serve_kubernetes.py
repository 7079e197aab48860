"""``routekit serve`` as a cluster's ingress controller: Traefik's flags, the API server
stand-in (tests/_kube.py) and real whoami backends as the pods behind a Service."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from _backends import names, until
from _kube import kube_api
from _kube_objects import endpoint, endpoint_slice, ingress, path, service
from _process import finish, spawn
from _sockets import free_port
from routekit.http import Client
from routekit.whoami import whoami

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_serve_follows_the_cluster(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    host = b"web.test"
    with kube_api(tmp_path) as api:
        async with (
            whoami("a", address="127.0.0.1:0") as a,
            whoami("b", address="127.0.0.2:0") as b,
            Client() as client,
        ):
            pods = {"a": ("127.0.0.1", a.ports[0]), "b": ("127.0.0.2", b.ports[0])}

            def pod(name: str) -> dict[str, object]:
                # One slice per pod, each at its own address (Traefik keys servers by address).
                ip, listening = pods[name]
                return endpoint_slice("apps", "whoami", [endpoint(ip)], (("", listening),),
                                      name=f"whoami-{name}")  # fmt: skip

            api.apply(
                ingress("apps", "web", [("web.test", [path("whoami")])]),
                service("apps", "whoami"),
                pod("a"),
            )
            proc, started = spawn(
                "serve", f"--entryPoints.web.address=127.0.0.1:{port}",
                f"--providers.kubernetesIngress.endpoint={api.endpoint}",
                f"--providers.kubernetesIngress.token={api.token}",
                f"--providers.kubernetesIngress.certAuthFilePath={api.ca}",
                "--providers.kubernetesIngress.ingressEndpoint.hostname=edge.example.com",
                "--providers.providersThrottleDuration=0s", "--log.level=INFO",
                ready=lambda line: "routekit serve: web on" in line,
            )  # fmt: skip
            assert proc.stderr is not None
            try:
                await until(client, url, host, {"a"})
                # A second pod is ready: both take requests.
                api.apply(pod("b"))
                await until(client, url, host, {"a", "b"})
                # The Ingress's status names the gateway.
                with anyio.fail_after(10):
                    while api.get("Ingress", "apps", "web")["status"]["loadBalancer"].get(
                        "ingress"
                    ) != [{"hostname": "edge.example.com"}]:
                        await anyio.sleep(0.05)
                # The API server away: the gateway keeps serving what it had.
                api.stop()
                await anyio.sleep(0.5)
                assert set(await names(client, url, host, 4)) == {"a", "b"}
                api.start(api.port)
                # The first pod goes; then the Ingress itself.
                api.delete("EndpointSlice", "apps", "whoami-a")
                await until(client, url, host, {"b"}, within=20)
                api.delete("Ingress", "apps", "web")
                await until(client, url, host, {"404"})
            finally:
                rest = finish(proc, proc.stderr)
            said = "".join(started) + rest
            assert said.count("kubernetes: cannot read") == 1  # the outage, reported once
            assert "ingress apps/web: status updated" in said
