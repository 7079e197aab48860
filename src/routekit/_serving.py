"""``routekit serve``: a `Gateway` made from a static file, served until SIGINT or SIGTERM.

The static file gives the entry points (``[entryPoints.<name>] address``), the file provider
(``[providers.file]`` / v1 ``[file]``: ``filename`` or ``directory``, ``watch``), the v1 inline
frontends and backends, the reload throttle and ``[log] level``.  With ``--workers N`` the
command supervises N worker processes, each a whole gateway with its own watcher, sharing every
listening port through ``SO_REUSEPORT`` (the kernel spreads new connections over them); a
worker that dies is started again, and SIGINT/SIGTERM stop them all gracefully.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO, final

import attrs

from .errors import RoutekitError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from .config import EntryPoint, StaticConfiguration
    from .http import EntryPointServer
    from .providers import Provider
    from .proxy import Gateway

__all__ = [
    "JSONFormatter",
    "Served",
    "admin_parts",
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
_GC_YOUNG: Final = 20_000  # net allocations between young collections (CPython: 700)


@final
@attrs.frozen
class Served:
    """What `from_static` makes: the gateway and its admin entry points."""

    gateway: Gateway
    admins: tuple[EntryPointServer, ...] = ()


def admin_parts(static: StaticConfiguration) -> dict[str, set[str]]:
    """Entry point → what it serves of ``api`` (with the dashboard), ``metrics`` and ``ping``:
    Traefik's ``api.insecure``, ``[metrics.prometheus]`` and ``[ping]`` each name one
    (``traefik`` by default).  The API's entry point also serves ``/metrics`` and ``/ping``, as
    routekit always has, when no section moves them elsewhere."""
    parts: dict[str, set[str]] = {}
    api = static.api if static.api is not None and static.api.insecure else None
    if api is not None:
        parts.setdefault(api.entry_point, set()).add("api")
        if static.metrics is None:
            parts[api.entry_point].add("metrics")
        if static.ping is None:
            parts[api.entry_point].add("ping")
    if static.metrics is not None:
        parts.setdefault(static.metrics.entry_point, set()).add("metrics")
    if static.ping is not None:
        parts.setdefault(static.ping.entry_point, set()).add("ping")
    return parts


def from_static(static: StaticConfiguration, *, reuse_port: bool = False) -> Served:
    """The gateway a static configuration describes (its watcher not yet running), and its
    admin entry points.

    An admin entry point (Traefik's ``traefik`` entry point, ``:8080``, unless ``api``,
    ``metrics`` or ``ping`` name another) is bound to 127.0.0.1 when its address names no
    host; it serves what `admin_parts` says, and the proxy does not route on it.  v1's
    ``[web.auth.basic]`` users guard the API's entry point (``/ping`` excepted).

    Raises:
        ConfigError: an entry point's address or forwarded-headers settings are not valid, the
            access log's file cannot be opened, or the admin's users cannot be read.
    """
    from .admin import Admin, AdminAPI, Metrics
    from .config import MetricsConfig, load_users
    from .http import EntryPointServer
    from .middleware import Users
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
    watcher = Watcher(
        providers,
        throttle=static.providers.throttle_duration,
        default_entry_points=tuple(e for e in static.default_entry_points if e in entry_points)
        or tuple(entry_points)
        or DEFAULT_ENTRY_POINTS,
    )
    access_log = AccessLog(static.access_log) if static.access_log is not None else None
    parts = admin_parts(static)
    metrics = None
    if any("metrics" in p for p in parts.values()):
        metrics = Metrics(
            lambda: watcher.runtime,
            lambda: gateway.servers,
            watcher=watcher,
            buckets=(static.metrics or MetricsConfig()).buckets,
        )
    gateway = Gateway(
        watcher, entry_points, reuse_port=reuse_port, access_log=access_log, observe=metrics
    )
    api = static.api
    users = None
    if api is not None and (api.users or api.users_file):
        users = Users(load_users(api.users, api.users_file))
    admins = []
    for name, serves in sorted(parts.items()):
        configured = static.entry_points.get(name)
        address = configured.address if configured is not None else ":8080"
        if address.startswith(":"):
            address = "127.0.0.1" + address  # loopback unless configured otherwise
        handler = None
        if "api" in serves:
            handler = AdminAPI(
                lambda: gateway.runtime,
                entry_points,
                problems=lambda: watcher.problems,
                access_log=access_log is not None,
                metrics="prometheus" if metrics is not None else "",
                providers=lambda: [p.name for p in watcher.providers],
            )
        admin = Admin(
            handler,
            metrics if "metrics" in serves else None,
            ping="ping" in serves,
            users=users if "api" in serves else None,
        )
        admins.append(EntryPointServer(address, admin, reuse_port=reuse_port))
    return Served(gateway, tuple(admins))


def proxy_entry_points(static: StaticConfiguration) -> dict[str, EntryPoint]:
    """The entry points the proxy serves: all but the admin's (`admin_parts`)."""
    entry_points = dict(static.entry_points)
    for name in admin_parts(static):
        entry_points.pop(name, None)
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


class JSONFormatter(logging.Formatter):
    """One JSON object per record, with the fields of Traefik's JSON log (``level``, ``time``
    in RFC 3339, ``message``) and the logger's name."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        moment = dt.datetime.fromtimestamp(record.created, dt.UTC)
        line = {
            "level": record.levelname.lower().replace("warning", "warn"),
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: str, err: TextIO, *, form: str = "common", file: str = "") -> None:
    """Send routekit's log records at *level* (Traefik's names) and above to *err* (or to
    *file*, appended to), as text (``common``) or one JSON object per line (``json``).

    Raises:
        ConfigError: *file* cannot be opened.
    """
    from .errors import ConfigError

    logger = logging.getLogger("routekit")
    logger.setLevel(_LEVELS.get(level.upper(), logging.ERROR))
    handler: logging.Handler
    if file:
        try:
            handler = logging.FileHandler(file, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"log.filePath {file!r}: {exc.strerror or exc}") from None
    else:
        handler = logging.StreamHandler(err)
    if form == "json":
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for old in logger.handlers:
        old.close()
    logger.handlers[:] = [handler]


async def serve(
    served: Served,
    err: TextIO,
    reload: Callable[[], Mapping[str, EntryPoint] | None] | None = None,
    summary: Sequence[str] = (),
) -> None:
    """Serve the gateway (its admin entry points, its background tasks) until SIGINT or
    SIGTERM, then stop it gracefully; on SIGHUP, *reload* gives the entry points again
    (``None``: the static configuration is bad, and nothing changes) and those that changed
    are listened on anew."""
    import anyio

    from .admin import Admin

    gateway = served.gateway

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
                for admin in served.admins:
                    await tg.start(admin.serve)
                    handler = admin.handler
                    assert isinstance(handler, Admin)
                    offered = (
                        ("/api", handler.api is not None),
                        ("/metrics", handler.metrics is not None),
                        ("/ping", handler.ping),
                    )
                    what = [name for name, on in offered if on]
                    print(
                        f"routekit serve: admin API on {admin.address} (port {admin.ports[0]}): "
                        f"{', '.join(what)}{' (basic auth)' if handler.users else ''}",
                        file=err,
                        flush=True,
                    )
                for line in summary:
                    print(f"routekit serve: {line}", file=err, flush=True)
                _settle_gc()

                async def stop_on_signal() -> None:
                    async for received in signals:
                        if received == signal.SIGHUP:
                            await rebind()
                            continue
                        gateway.stop()
                        return

                tg.start_soon(stop_on_signal)
                await gateway.wait()
                for admin in served.admins:
                    admin.stop()
                tg.cancel_scope.cancel()
    print("routekit serve: stopped", file=err, flush=True)


def _settle_gc() -> None:
    """Keep the garbage collector off a serving process's request path.

    What start-up built lives as long as the process: frozen, full collections no longer walk
    it.  The objects of requests in flight come and go by reference counting, but with
    CPython's default first threshold (700 net allocations) their number alone set off a
    collection every few requests, and a full one every second or two — 11 µs of CPU per
    proxied request and the pauses that made the proxy's p99 (docs/benchmarks.md).
    """
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(_GC_YOUNG, middle, oldest)


def event_loop(choice: str) -> tuple[str, dict[str, object]]:
    """The loop's name and anyio's backend options for ``--loop`` *choice*.

    ``auto`` takes uvloop when it is installed (the ``uvloop`` extra), as uvicorn does: its
    sockets' reads and writes cost a proxied request about a tenth less CPU than asyncio's own
    loop (docs/benchmarks.md).  Nothing in routekit depends on it.

    Raises:
        RoutekitError: ``uvloop`` was asked for and is not installed.
    """
    if choice == "asyncio":
        return "asyncio", {}
    try:
        import uvloop  # noqa: F401  (whether it imports is what counts)
    except ImportError:
        if choice == "uvloop":
            raise RoutekitError(
                "--loop uvloop: the uvloop package is not installed "
                "(pip install 'routekit[uvloop]')"
            ) from None
        return "asyncio", {}
    from importlib.metadata import version

    return f"uvloop {version('uvloop')}", {"use_uvloop": True}


def supervise(
    config: Path | None, flags: list[str], workers: int, err: TextIO, *, loop: str = "auto"
) -> int:
    """Run *workers* worker processes on *config* and *flags*; restart those that die; stop
    on a signal."""
    command = [sys.executable, "-m", "routekit", "serve", "--worker", "--loop", loop, *flags]
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
