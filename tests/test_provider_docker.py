"""`DockerProvider` against a real Docker engine: containers come, change and go; the engine too."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

import anyio
import anyio.to_thread
import pytest

from _dockerd import Dockerd
from _following import following, rules, servers
from _sockets import free_port
from routekit.config import ClientTLS, loads_static
from routekit.errors import ConfigError, ProviderError
from routekit.http import Client, UpstreamError
from routekit.providers import Backoff, DockerProvider

pytestmark = pytest.mark.anyio


def web(router: str) -> dict[str, str]:
    """v2 labels: a router with a Host rule."""
    return {f"traefik.http.routers.{router}.rule": f"Host(`{router}.test`)"}


def with_port(labels: dict[str, str], service: str, port: int) -> dict[str, str]:
    return {**labels, f"traefik.http.services.{service}.loadbalancer.server.port": str(port)}


async def run(
    docker: Dockerd, name: str, labels: dict[str, str], service: str, *, healthy_file: bool = False
) -> int:
    """Start a container whose labels name its own port; the port."""
    port = free_port()
    await anyio.to_thread.run_sync(
        lambda: docker.run(
            name, with_port(labels, service, port), port=port, healthy_file=healthy_file
        )
    )
    return port


def fast() -> Backoff:
    return Backoff(initial=0.05, cap=0.3, jitter=0)


async def test_initial_state_from_v2_labels(docker: Dockerd) -> None:
    port = await run(docker, "blog", web("blog"), "blog")
    await run(docker, "hidden", {"traefik.enable": "false"}, "hidden")
    snapshot = await DockerProvider(docker.endpoint).snapshot()
    assert rules(snapshot) == {"blog": "Host(`blog.test`)"}
    assert servers(snapshot) == {"blog": [f"http://127.0.0.1:{port}"]}
    assert snapshot.problems == ()


async def test_containers_appear_change_and_leave_as_they_do(docker: Dockerd) -> None:
    provider = DockerProvider(docker.endpoint, retry=fast())
    async with following(provider) as seen:
        await seen.until(lambda s: True)
        one = await run(docker, "one", {}, "one")
        snap = await seen.until(lambda s: "one" in servers(s))
        assert rules(snap) == {"one": "Host(`one`)"}  # Traefik's default rule
        two = await run(docker, "two", {}, "two")
        await seen.until(lambda s: servers(s).get("two") == [f"http://127.0.0.1:{two}"])
        await anyio.to_thread.run_sync(lambda: docker.cli("pause", "two"))
        await seen.until(lambda s: "two" not in servers(s))
        await anyio.to_thread.run_sync(lambda: docker.cli("unpause", "two"))
        await seen.until(lambda s: "two" in servers(s))
        await anyio.to_thread.run_sync(lambda: docker.cli("rename", "one", "uno"))
        snap = await seen.until(lambda s: "uno" in rules(s))
        assert rules(snap)["uno"] == "Host(`uno`)" and "one" not in rules(snap)
        assert servers(snap)["one"] == [f"http://127.0.0.1:{one}"]  # the service its label names
        await anyio.to_thread.run_sync(lambda: docker.cli("stop", "-t", "1", "two"))
        await seen.until(lambda s: "two" not in servers(s))
        await anyio.to_thread.run_sync(lambda: docker.cli("rm", "-f", "uno"))
        snap = await seen.until(lambda s: not servers(s))
        assert snap.problems == ()


async def test_an_unhealthy_container_leaves_the_rotation(docker: Dockerd) -> None:
    port = await run(docker, "sick", {}, "sick", healthy_file=True)
    provider = DockerProvider(docker.endpoint, retry=fast())
    async with following(provider) as seen:
        first = await seen.until(lambda s: True)
        assert not first.config.http.routers  # "starting": not served before its first check
        snap = await seen.until(lambda s: bool(s.config.http.routers))
        assert servers(snap) == {"sick": [f"http://127.0.0.1:{port}"]}
        await anyio.to_thread.run_sync(
            lambda: docker.cli("exec", "sick", "busybox", "rm", "/tmp/healthy")
        )
        await seen.until(lambda s: not s.config.http.routers)


async def test_a_bad_label_is_reported_with_its_container_and_the_rest_applies(
    docker: Dockerd,
) -> None:
    good = await run(docker, "good", web("good"), "good")
    await run(docker, "bad", {"traefik.http.routers.bad.rule": "Host(`bad.test`"}, "bad")
    snapshot = await DockerProvider(docker.endpoint).snapshot()
    assert servers(snapshot)["good"] == [f"http://127.0.0.1:{good}"]
    assert "bad" not in rules(snapshot)
    [problem] = [p for p in snapshot.problems if p.severity == "error"]
    assert problem.source == "label 'traefik.http.routers.bad.rule' on container 'bad'"


async def test_replicas_of_a_compose_service_share_one_v1_backend(docker: Dockerd) -> None:
    ports = []
    for n in range(1, 4):
        labels = {
            "com.docker.compose.project": "demo",
            "com.docker.compose.service": "hello",
            "traefik.backend": "hello",
            "traefik.frontend.rule": "Host:hello.docker",
        }
        port = free_port()
        labels["traefik.port"] = str(port)
        await anyio.to_thread.run_sync(partial(docker.run, f"demo_hello_{n}", labels, port=port))
        ports.append(port)
    snapshot = await DockerProvider(docker.endpoint, domain="docker").snapshot()
    [urls] = servers(snapshot).values()
    assert sorted(urls) == sorted(f"http://127.0.0.1:{p}" for p in ports)
    assert list(rules(snapshot).values()) == ["Host(`hello.docker`)"]  # v1, read as v3


async def test_the_last_configuration_serves_while_the_engine_is_away(
    docker: Dockerd, caplog: pytest.LogCaptureFixture
) -> None:
    port = await run(docker, "stays", web("stays"), "stays")
    provider = DockerProvider(docker.endpoint, retry=fast())
    caplog.set_level(logging.INFO, "routekit.providers.docker")
    async with following(provider) as seen:
        await seen.until(lambda s: "stays" in servers(s))
        await anyio.to_thread.run_sync(docker.stop)
        away = await seen.until(lambda s: bool(s.problems))
        assert servers(away) == {"stays": [f"http://127.0.0.1:{port}"]}
        assert "cannot read the provider's source" in away.problems[0].message
        await anyio.sleep(1.0)  # several retries: logged once
        await anyio.to_thread.run_sync(docker.start)
        back = await seen.until(lambda s: not s.problems)
        assert servers(back) == {"stays": [f"http://127.0.0.1:{port}"]}
        new = await run(docker, "new", web("new"), "new")  # the events are followed again
        await seen.until(lambda s: servers(s).get("new") == [f"http://127.0.0.1:{new}"])
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "reachable again" in caplog.text


async def test_a_remote_engine_over_tcp_with_tls_and_a_client_certificate(
    docker: Dockerd,
) -> None:
    # Docker's "protect the daemon socket" set-up: the engine verifies the client's
    # certificate, the client verifies the engine's against the CA.
    port = await run(docker, "remote", web("remote"), "remote")
    root = docker.root
    tls = ClientTLS(ca=str(root / "ca.pem"), cert=str(root / "cert.pem"), key=str(root / "key.pem"))
    provider = DockerProvider(docker.tls_endpoint, tls=tls, retry=fast())
    async with following(provider) as seen:
        snap = await seen.until(lambda s: "remote" in servers(s))
        assert servers(snap)["remote"] == [f"http://127.0.0.1:{port}"] and not snap.problems
        later = await run(docker, "later", web("later"), "later")  # events over TLS too
        await seen.until(lambda s: servers(s).get("later") == [f"http://127.0.0.1:{later}"])

    # Without a client certificate the engine refuses the handshake; without the CA the
    # client refuses the engine: an error naming the engine, and while watching a problem
    # with that source, never a crash.
    for wrong, why in (
        (ClientTLS(ca=str(root / "ca.pem")), "BAD_CERTIFICATE"),  # the engine's alert
        (ClientTLS(), "CERTIFICATE_VERIFY_FAILED"),
    ):
        with pytest.raises(ProviderError, match=f"https://127.0.0.1:\\d+: .*{why}"):
            await DockerProvider(docker.tls_endpoint, tls=wrong).snapshot()
        async with following(DockerProvider(docker.tls_endpoint, tls=wrong)) as seen:
            [problem] = (await seen.until(lambda s: bool(s.problems))).problems
        assert problem.source == f"docker provider at {docker.tls_endpoint}"
        assert "cannot read the provider's source" in problem.message
    # insecureSkipVerify trusts any engine certificate, but the engine still wants the client's.
    skip = ClientTLS(cert=tls.cert, key=tls.key, insecure_skip_verify=True)
    snapshot = await DockerProvider(docker.tls_endpoint, tls=skip).snapshot()
    assert "remote" in servers(snapshot)


def address(docker: Dockerd, name: str, network: str) -> str:
    """The container's IP address on *network*, as the engine's CLI reports it."""
    template = f'{{{{(index .NetworkSettings.Networks "{network}").IPAddress}}}}'
    return docker.cli("inspect", "-f", template, name)


async def test_the_network_option_and_label_choose_the_address(docker: Dockerd) -> None:
    cli = partial(anyio.to_thread.run_sync, docker.cli)
    for network in ("front", "back"):
        await cli("network", "create", "--driver", "bridge", network)
    app = with_port(web("app"), "app", 80)
    await anyio.to_thread.run_sync(partial(docker.run, "app", app, network="front"))
    labels = {**with_port(web("pinned"), "pinned", 80), "traefik.docker.network": "front"}
    await anyio.to_thread.run_sync(partial(docker.run, "pinned", labels, network="front"))
    await cli("network", "connect", "back", "pinned")
    front = address(docker, "app", "front")
    provider = DockerProvider(docker.endpoint, network="back", retry=fast())
    async with following(provider) as seen:
        snap = await seen.until(lambda s: {"app", "pinned"} <= set(servers(s)))
        # Not on the provider's network: its one network is used, with a warning, as Traefik.
        assert servers(snap)["app"] == [f"http://{front}:80"]
        [warning] = snap.problems
        assert warning.severity == "warning" and warning.source == "container 'app'"
        assert warning.message == "network 'back' not found; using network 'front'"
        assert servers(snap)["pinned"] == [f"http://{address(docker, 'pinned', 'front')}:80"]
        # A network connected later is an event: the container is inspected again.
        await cli("network", "connect", "back", "app")
        back = address(docker, "app", "back")
        snap = await seen.until(lambda s: servers(s).get("app") == [f"http://{back}:80"])
        assert snap.problems == ()
        await cli("network", "disconnect", "back", "app")
        await seen.until(lambda s: servers(s).get("app") == [f"http://{front}:80"])


async def test_use_bind_port_ip_reaches_the_published_port(docker: Dockerd) -> None:
    await anyio.to_thread.run_sync(docker.cli, "network", "create", "front")
    published = free_port()
    labels = with_port(web("pub"), "pub", 80)
    run = partial(docker.run, "pub", labels, network="front", publish=published)
    await anyio.to_thread.run_sync(run)
    snapshot = await DockerProvider(docker.endpoint, use_bind_port_ip=True).snapshot()
    assert servers(snapshot) == {"pub": [f"http://127.0.0.1:{published}"]}
    assert snapshot.problems == ()
    # The engine's proxy carries it: the page answers on the loopback address the provider
    # gave, as it would to the gateway.
    async with Client() as client:
        with anyio.fail_after(10):
            while True:
                try:
                    response = await client.get(f"http://127.0.0.1:{published}/")
                    break
                except UpstreamError:
                    await anyio.sleep(0.1)
        assert response.status == 200 and await response.read() == b"pub\n"
    # Without the option, the container's own address on its network.
    plain = await DockerProvider(docker.endpoint).snapshot()
    assert servers(plain) == {"pub": [f"http://{address(docker, 'pub', 'front')}:80"]}


async def test_watch_false_reads_once(docker: Dockerd) -> None:
    await run(docker, "once", web("once"), "once")
    provider = DockerProvider(docker.endpoint, watch=False)
    got = [s async for s in provider.watch()]
    assert len(got) == 1 and "once" in servers(got[0])


def test_bad_options_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="endpoint"):
        DockerProvider("ftp://nowhere")
    with pytest.raises(ConfigError):
        DockerProvider(default_rule="Host(`{{ .Nope`)")
    with pytest.raises(ConfigError, match="constraints"):
        DockerProvider(constraints="Label(`a`")
    with pytest.raises(ConfigError, match="provider name"):
        DockerProvider(name="a.b")
    swarm = loads_static("[providers.docker]\nswarmMode = true\n").providers.docker
    assert swarm is not None
    with pytest.raises(ConfigError, match="swarmMode is not supported"):
        DockerProvider.from_config(swarm)
