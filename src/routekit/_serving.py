"""``routekit serve``: a `Gateway` made from a static file, served until SIGINT or SIGTERM.

The static file gives the entry points (``[entryPoints.<name>] address``), the file provider
(``[providers.file]`` / v1 ``[file]``: ``filename`` or ``directory``, ``watch``), the v1 inline
frontends and backends, the reload throttle and ``[log] level``.  With ``--workers N`` the
command supervises N worker processes, each a whole gateway with its own watcher, sharing every
listening port through ``SO_REUSEPORT`` (the kernel spreads new connections over them); a
worker that dies is started again, and SIGINT/SIGTERM stop them all gracefully.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from .config import EntryPoint, StaticConfiguration
    from .http import EntryPointServer
    from .providers import Provider
    from .proxy import Gateway

__all__ = [
    "from_static",
    "proxy_entry_points",
    "serve",
    "started_providers",
    "supervise",
]

# Traefik's log levels, as Python's.
_LEVELS: Final = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "FATAL": logging.CRITICAL,
    "PANIC": logging.CRITICAL,
}
_RESTART_PAUSE: Final = 1.0  # seconds between a worker's death and its replacement
_QUICK_DEATHS: Final = 5  # a worker dying this often in a row at start-up stops the command


def from_static(
    static: StaticConfiguration, *, reuse_port: bool = False
) -> tuple[Gateway, EntryPointServer | None]:
    """The gateway a static configuration describes (its watcher not yet running), and its
    admin entry point when ``api.insecure`` asks for one.

    The admin entry point is Traefik's ``traefik`` entry point (``:8080``), bound to 127.0.0.1
    when its address names no host; it serves the API, ``/ping`` and ``/metrics``, and the proxy
    does not route on it.

    Raises:
        ConfigError: an entry point's address or forwarded-headers settings are not valid, or
            the access log's file cannot be opened.
    """
    from .admin import Admin, AdminAPI, Metrics
    from .http import EntryPointServer
    from .providers import (
        ConsulCatalogProvider,
        ConsulKVProvider,
        DockerProvider,
        EtcdProvider,
        FileProvider,
        KubernetesIngressProvider,
        MarathonProvider,
        RedisProvider,
        StaticProvider,
        ZooKeeperProvider,
    )
    from .proxy import AccessLog, Gateway
    from .runtime import DEFAULT_ENTRY_POINTS, Watcher

    providers: list[Provider] = []
    own = static.providers.file
    if own is not None and (own.filename or own.directory):
        providers.append(FileProvider(own.filename or own.directory, watch=own.watch))
    if static.dynamic is not None:
        providers.append(StaticProvider(static.dynamic, name="inline"))
    if static.providers.docker is not None:
        providers.append(DockerProvider.from_config(static.providers.docker))
    catalog = static.providers.consul_catalog
    if catalog is not None:
        # Traefik v3: one provider per namespace, named consulcatalog-<namespace>.
        for ns in catalog.namespaces or ("",):
            name = f"consulcatalog-{ns}" if ns else "consulcatalog"
            providers.append(ConsulCatalogProvider.from_config(catalog, name=name, namespace=ns))
    if static.providers.consul is not None:
        providers.append(ConsulKVProvider.from_config(static.providers.consul))
    if static.providers.etcd is not None:
        providers.append(EtcdProvider.from_config(static.providers.etcd))
    if static.providers.redis is not None:
        providers.append(RedisProvider.from_config(static.providers.redis))
    if static.providers.zookeeper is not None:
        providers.append(ZooKeeperProvider.from_config(static.providers.zookeeper))
    if static.providers.kubernetes is not None:
        providers.append(KubernetesIngressProvider.from_config(static.providers.kubernetes))
    if static.providers.marathon is not None:
        providers.append(MarathonProvider.from_config(static.providers.marathon))
    entry_points = proxy_entry_points(static)
    api = static.api if static.api is not None and static.api.insecure else None
    admin_entry = static.entry_points.get(api.entry_point) if api is not None else None
    watcher = Watcher(
        providers,
        throttle=static.providers.throttle_duration,
        default_entry_points=tuple(e for e in static.default_entry_points if e in entry_points)
        or tuple(entry_points)
        or DEFAULT_ENTRY_POINTS,
    )
    access_log = AccessLog(static.access_log) if static.access_log is not None else None
    metrics = Metrics(lambda: watcher.runtime) if api is not None else None
    gateway = Gateway(
        watcher, entry_points, reuse_port=reuse_port, access_log=access_log, observe=metrics
    )
    if api is None:
        return gateway, None
    address = admin_entry.address if admin_entry is not None else ":8080"
    if address.startswith(":"):
        address = "127.0.0.1" + address  # loopback unless configured otherwise
    handler = AdminAPI(
        lambda: gateway.runtime,
        entry_points,
        problems=lambda: [p for ps in watcher.problems.values() for p in ps],
    )
    return gateway, EntryPointServer(address, Admin(handler, metrics), reuse_port=reuse_port)


def proxy_entry_points(static: StaticConfiguration) -> dict[str, EntryPoint]:
    """The entry points the proxy serves: all but the admin's (``api.insecure``)."""
    entry_points = dict(static.entry_points)
    if static.api is not None and static.api.insecure:
        entry_points.pop(static.api.entry_point, None)
    return entry_points


def started_providers(static: StaticConfiguration) -> list[str]:
    """The providers `from_static` starts, as the start-up summary names them."""
    out = []
    own = static.providers.file
    if own is not None and (own.filename or own.directory):
        out.append(f"file ({own.filename or own.directory})")
    if static.dynamic is not None:
        out.append("inline (the static file's frontends and backends)")
    if static.providers.docker is not None:
        docker = static.providers.docker
        out.append(f"docker ({docker.endpoint}{', watching' if docker.watch else ''})")
    if static.providers.consul_catalog is not None:
        catalog = static.providers.consul_catalog
        how = "watching" if catalog.watch else f"every {catalog.refresh_interval:g} s"
        spaces = f", namespaces {', '.join(catalog.namespaces)}" if catalog.namespaces else ""
        out.append(f"consulCatalog ({catalog.scheme}://{catalog.endpoint}, {how}{spaces})")
    stores = (
        ("consul", static.providers.consul),
        ("etcd", static.providers.etcd),
        ("redis", static.providers.redis),
        ("zooKeeper", static.providers.zookeeper),
    )
    for name, kv in stores:
        if kv is not None:
            db = f" db {kv.db}" if name == "redis" else ""
            how = "watching" if kv.watch else "read once"
            out.append(f"{name} ({', '.join(kv.endpoints)}{db} under {kv.root_key!r}, {how})")
    kube = static.providers.kubernetes
    if kube is not None:
        where = kube.endpoint or "in-cluster or KUBECONFIG"
        spaces = f", namespaces {', '.join(kube.namespaces)}" if kube.namespaces else ""
        out.append(f"kubernetesIngress ({where}{spaces}, watching)")
    marathon = static.providers.marathon
    if marathon is not None:
        how = "watching" if marathon.watch else "read once"
        out.append(f"marathon ({marathon.endpoint}, {how})")
    return out


def configure_logging(level: str, err: TextIO) -> None:
    """Send routekit's log records at *level* (Traefik's names) and above to *err*."""
    logger = logging.getLogger("routekit")
    logger.setLevel(_LEVELS.get(level.upper(), logging.ERROR))
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.handlers[:] = [handler]


async def serve(
    gateway: Gateway,
    err: TextIO,
    admin: EntryPointServer | None = None,
    reload: Callable[[], Mapping[str, EntryPoint] | None] | None = None,
    summary: Sequence[str] = (),
) -> None:
    """Serve *gateway* (and its *admin* entry point) until SIGINT or SIGTERM, then stop it
    gracefully; on SIGHUP, *reload* gives the entry points again (``None``: the static
    configuration is bad, and nothing changes) and those that changed are listened on anew."""
    import anyio

    from .errors import ConfigError

    async def rebind() -> None:
        entry_points = reload() if reload is not None else None
        if entry_points is None:
            print("routekit serve: SIGHUP: the static configuration kept", file=err, flush=True)
            return
        try:
            changed = await gateway.rebind(entry_points)
        except (ConfigError, OSError) as exc:
            print(f"routekit serve: SIGHUP: entry points kept: {exc}", file=err, flush=True)
            return
        shown = ", ".join(changed) or "none"
        print(f"routekit serve: SIGHUP: entry points changed: {shown}", file=err, flush=True)
        for name in changed:
            if name in gateway.servers:
                server = gateway.servers[name]
                ports = ", ".join(str(p) for p in server.ports)
                print(f"routekit serve: {name} on {server.address} (port {ports})", file=err)

    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM, signal.SIGHUP) as signals:
        async with gateway:
            for name, ports in gateway.ports.items():
                address = gateway.servers[name].address
                shown = ", ".join(str(p) for p in ports)
                print(f"routekit serve: {name} on {address} (port {shown})", file=err, flush=True)
            async with anyio.create_task_group() as tg:
                if admin is not None:
                    await tg.start(admin.serve)
                    port = admin.ports[0]
                    print(
                        f"routekit serve: admin API on {admin.address} (port {port}): /api, "
                        "/metrics, /ping",
                        file=err,
                        flush=True,
                    )
                for line in summary:
                    print(f"routekit serve: {line}", file=err, flush=True)

                async def stop_on_signal() -> None:
                    async for received in signals:
                        if received == signal.SIGHUP:
                            await rebind()
                            continue
                        gateway.stop()
                        return

                tg.start_soon(stop_on_signal)
                await gateway.wait()
                if admin is not None:
                    admin.stop()
                tg.cancel_scope.cancel()
    print("routekit serve: stopped", file=err, flush=True)


def supervise(config: Path | None, flags: list[str], workers: int, err: TextIO) -> int:
    """Run *workers* worker processes on *config* and *flags*; restart those that die; stop
    on a signal."""
    command = [sys.executable, "-m", "routekit", "serve", "--worker", *flags]
    if config is not None:
        command += ["--config", str(config)]
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    procs: list[tuple[subprocess.Popen[bytes], float]] = []
    quick_deaths = 0
    try:
        procs = [(subprocess.Popen(command), time.monotonic()) for _ in range(workers)]
        while not stopping:
            time.sleep(0.1)
            for i, (proc, started) in enumerate(procs):
                code = proc.poll()
                if code is None or stopping:
                    continue
                lived = time.monotonic() - started
                quick_deaths = quick_deaths + 1 if lived < 2 * _RESTART_PAUSE else 0
                print(
                    f"routekit serve: worker {proc.pid} exited with {code}, starting another",
                    file=err,
                    flush=True,
                )
                if quick_deaths >= _QUICK_DEATHS:
                    print("routekit serve: workers keep dying at start; stopping", file=err)
                    return 1
                time.sleep(_RESTART_PAUSE)
                procs[i] = (subprocess.Popen(command), time.monotonic())
        return 0
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc, _ in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for s, handler in previous.items():
            signal.signal(s, handler)
