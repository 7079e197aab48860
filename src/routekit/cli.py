"""The ``routekit`` command line: check, list and explain configurations, migrate v1 to v3.

``routekit check FILE…``     validate static and dynamic files; every problem, exit 1 if any error
``routekit routes FILE…``    the route table of each entry point, in priority order
``routekit match FILE… --url URL``  the router that wins for a request, and why the others lost
``routekit migrate FILE --to v3``   a v1 configuration (TOML, labels or rules) as v3 TOML
``routekit serve --config FILE [--workers N] [--loop L]``  serve the gateway a static file describes
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, cast

from .errors import Problem, RoutekitError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from .config import StaticConfiguration
    from .providers import Provider, Snapshot
    from .runtime import RouterTarget, Runtime

__all__ = ["main"]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line with *argv* (default: ``sys.argv[1:]``); return the exit status.

    What a command is asked for goes to *out* (default: standard output): ``check``'s report,
    ``routes``' table, ``match``'s explanation, ``migrate``'s TOML.  Diagnostics go to *err*
    (default: standard error, or *out* when only *out* is given): bad arguments, missing files,
    and the problems ``routes``, ``match`` and ``migrate`` meet in the files they read.
    """
    if err is None:
        err = sys.stderr if out is None else out
    out = out or sys.stdout
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "command", None) != "serve":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.flags = extra
    if args.command is None:
        parser.print_help(out)
        return EXIT_USAGE
    try:
        status: int = args.run(args, out, err)
        out.flush()
    except BrokenPipeError:
        # `routekit routes … | head`: the reader left, which is not an error of ours.  Point
        # stdout at devnull so that the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except (OSError, RoutekitError) as exc:
        print(f"routekit {args.command}: {exc}", file=err)
        return EXIT_PROBLEMS
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="routekit", description="Traefik-style routing: check, inspect and migrate configs."
    )
    parser.set_defaults(command=None)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    check = sub.add_parser("check", help="validate static and dynamic configuration files")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.set_defaults(command="check", run=_check)

    routes = sub.add_parser("routes", help="print the route table in priority order")
    routes.add_argument("files", nargs="+", type=Path, metavar="FILE")
    routes.add_argument("--entry-point", "-e", help="only this entry point")
    routes.set_defaults(command="routes", run=_routes)

    match = sub.add_parser("match", help="show which router takes a request, and why")
    match.add_argument("files", nargs="+", type=Path, metavar="FILE")
    match.add_argument("--url", required=True, help="absolute URL, e.g. http://a.com/api")
    match.add_argument("--method", "-X", default="GET")
    match.add_argument(
        "--header", "-H", action="append", default=[], metavar="K:V", help="request header"
    )
    match.add_argument("--client-ip", type=_ip, help="the connection's address, for ClientIP rules")
    match.add_argument("--entry-point", "-e", help="entry point (default: the first one)")
    match.set_defaults(command="match", run=_match)

    migrate = sub.add_parser("migrate", help="translate a v1 configuration into v3 TOML")
    migrate.add_argument("file", type=Path, metavar="FILE")
    migrate.add_argument("--to", choices=["v3"], default="v3")
    migrate.add_argument(
        "--from",
        dest="kind",
        choices=["auto", "toml", "labels", "rules"],
        default="auto",
        help="what FILE holds (default: detect)",
    )
    migrate.add_argument(
        "--rule-syntax",
        choices=["v1", "v2"],
        default=None,
        help="the syntax of rules without ruleSyntax (v2 for a file written for Traefik v2)",
    )
    migrate.add_argument(
        "--format",
        dest="output",
        choices=["toml", "labels"],
        default="toml",
        help="print a dynamic TOML file (default) or v2/v3 labels for a compose file",
    )
    migrate.set_defaults(command="migrate", run=_migrate)

    serve = sub.add_parser(
        "serve",
        help="serve the gateway a static file (and Traefik's flags) describe",
        epilog="Traefik's flags follow, and override the file: --entryPoints.web.address=:80, "
        "--providers.file.directory=DIR, --api.insecure, --log.level=DEBUG, --accessLog, "
        "v1's --logLevel=DEBUG, --web …",
    )
    serve.add_argument("--config", "--configFile", "-c", type=Path, metavar="FILE")
    serve.add_argument(
        "--workers", type=int, default=1, metavar="N", help="worker processes sharing the ports"
    )
    serve.add_argument(
        "--loop",
        choices=("auto", "asyncio", "uvloop"),
        default="auto",
        help="the event loop: uvloop when installed (auto), or asyncio's own",
    )
    serve.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(command="serve", run=_serve)

    whoami = sub.add_parser("whoami", help="a tiny backend that says who it is (for demos)")
    whoami.add_argument("--port", type=int, default=8081, help="port to listen on (8081)")
    whoami.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    whoami.add_argument("--name", default="", help="the name it answers with")
    whoami.set_defaults(command="whoami", run=_whoami)

    demo = sub.add_parser("demo", help="a working gateway with three backends, to try")
    demo.add_argument("--port", type=int, default=0, help="the gateway's port (default: free)")
    demo.set_defaults(command="demo", run=_demo)
    return parser


def _whoami(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import anyio

    from .http import EntryPointServer
    from .whoami import Whoami

    address = f"[{args.host}]:{args.port}" if ":" in args.host else f"{args.host}:{args.port}"
    server = EntryPointServer(address, Whoami(args.name))

    async def run() -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with anyio.create_task_group() as tg:
                await tg.start(server.serve)
                print(
                    f"routekit whoami: {args.name or 'whoami'} on {address}", file=out, flush=True
                )
                async for _ in signals:
                    break
                server.stop()

    anyio.run(run)
    return EXIT_OK


def _demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import anyio

    from . import _demo, _serving

    _serving.configure_logging("WARNING", err)
    _, backend_options = _serving.event_loop("auto")
    anyio.run(lambda: _demo.demo(out, port=args.port), backend_options=backend_options)
    return EXIT_OK


def _serve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import anyio

    from . import _serving
    from .config import EntryPoint, read_static, reads_static

    if args.workers < 1:
        print("routekit serve: --workers must be at least 1", file=err)
        return EXIT_USAGE
    if args.config is None and not args.flags:
        print("routekit serve: give a static file (--config FILE) or Traefik's flags", file=err)
        return EXIT_USAGE
    if args.config is not None:
        result = read_static(args.config, flags=args.flags)
    else:
        result = reads_static("", source="command line", flags=args.flags)
    _print_problems(result.problems, err)
    flagged = [p for p in result.problems if p.source == "command line" and p.severity == "error"]
    if flagged:
        return EXIT_USAGE  # a flag Traefik does not have, or a flag's bad value
    if any(p.severity == "error" for p in result.problems):
        return EXIT_PROBLEMS
    static = result.config
    _serving.configure_logging(static.log_level, err, form=static.log_format, file=static.log_file)
    try:
        loop, backend_options = _serving.event_loop(args.loop)
    except RoutekitError as exc:
        print(f"routekit serve: {exc}", file=err)
        return EXIT_USAGE
    if args.workers > 1:
        return _serving.supervise(args.config, args.flags, args.workers, err, loop=args.loop)
    served = _serving.from_static(static, reuse_port=args.worker)

    def reload() -> dict[str, EntryPoint] | None:
        """The static configuration read again (SIGHUP): its entry points, or ``None``."""
        again = (
            read_static(args.config, flags=args.flags)
            if args.config is not None
            else reads_static("", source="command line", flags=args.flags)
        )
        _print_problems(again.problems, err)
        if any(p.severity == "error" for p in again.problems):
            return None
        return _serving.proxy_entry_points(again.config)

    providers = ", ".join(_serving.started_providers(static)) or "none"
    summary = [
        f"static configuration: {args.config if args.config is not None else 'flags only'}",
        f"providers: {providers}",
        f"event loop: {loop}",
    ]
    anyio.run(_serving.serve, served, err, reload, summary, backend_options=backend_options)
    return EXIT_OK


def _ip(text: str) -> str:
    import ipaddress

    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an IP address: {text!r}") from None


def _missing(files: Sequence[Path], out: TextIO) -> bool:
    """Report the files that do not exist (a usage error, as argparse's own are)."""
    missing = [f for f in files if not f.exists()]
    for f in missing:
        print(f"error: {f}: no such file or directory", file=out)
    return bool(missing)


def _print_problems(problems: Sequence[Problem], out: TextIO) -> None:
    for problem in problems:
        print(f"{problem.severity}: {problem}", file=out)


# -- check ---------------------------------------------------------------------------------------


def _check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .config import Configuration, StaticConfiguration, read_any
    from .providers import config_files
    from .runtime import build

    if _missing(args.files, err):
        return EXIT_USAGE
    # A directory is checked file by file, as the file provider reads it.
    files, _ = config_files(args.files)
    for path in args.files:
        if path.is_dir() and not config_files([path])[0]:
            print(f"warning: {path}: no .toml files to check", file=out)
    failed = False
    for path in files:
        result = read_any(path)
        _print_problems(result.problems, out)
        config = result.config
        errors = len(result.errors)
        if result.kind == "dynamic" and isinstance(config, Configuration):
            # Built as serve builds it (what validation kept): what only building finds — a
            # middleware whose package is not installed, an option only its build refuses.
            built = [p for p in build(config).problems if p not in result.problems]
            _print_problems(built, out)
            errors += sum(p.severity == "error" for p in built)
        if errors:
            failed = True
            print(f"{path}: {errors} error(s)", file=out)
            continue
        if isinstance(config, StaticConfiguration):
            eps = ", ".join(f"{n} ({ep.address})" for n, ep in config.entry_points.items())
            providers = ", ".join(_enabled_providers(config)) or "none"
            print(
                f"{path}: ok — static configuration; entry points: {eps or 'none'}; "
                f"providers: {providers}",
                file=out,
            )
        else:
            http = config.http
            print(
                f"{path}: ok — dynamic configuration; {len(http.routers)} router(s), "
                f"{len(http.services)} service(s), {len(http.middlewares)} middleware(s), "
                f"{len(config.tcp.routers)} TCP router(s)",
                file=out,
            )
    return EXIT_PROBLEMS if failed else EXIT_OK


def _enabled_providers(static: StaticConfiguration) -> list[str]:
    import attrs

    providers = static.providers
    return [
        field.name
        for field in attrs.fields(type(providers))
        if field.name != "throttle_duration" and getattr(providers, field.name) is not None
    ]


# -- routes and match ----------------------------------------------------------------------------


def _runtime(files: Sequence[Path], err: TextIO) -> tuple[Runtime, bool]:
    """Serve *files* once through the providers and the watcher, as ``serve`` would.

    Dynamic files are served by one file provider, as a directory is.  A static file brings its
    own file provider (``[file]`` / ``[providers.file]``), its inline v1 frontends and backends,
    and its default entry points.  Returns the runtime and whether any error was reported.
    """
    import anyio

    from .config import read_any
    from .providers import FileProvider, StaticProvider
    from .runtime import DEFAULT_ENTRY_POINTS, Watcher

    providers: list[Provider] = []
    dynamic: list[str | Path] = []
    entry_points: tuple[str, ...] = ()
    problems: dict[Problem, None] = {}
    for path in files:
        result = read_any(path) if path.is_file() else None
        if result is None or result.kind == "dynamic":
            dynamic.append(path)
            continue
        static = cast("StaticConfiguration", result.config)  # kind == "static"
        problems.update(dict.fromkeys(result.problems))
        entry_points = static.default_entry_points or tuple(static.entry_points) or entry_points
        own = static.providers.file
        if own is not None and (own.filename or own.directory):
            dynamic.append(own.filename or own.directory)
        if static.dynamic is not None:
            # v1 frontends and backends written in traefik.toml itself.
            providers.append(_Once(StaticProvider(static.dynamic, name="inline")))
    if dynamic:
        providers.append(FileProvider(dynamic, watch=False))
    watcher = Watcher(
        providers,
        throttle=0,
        default_entry_points=entry_points or DEFAULT_ENTRY_POINTS,
    )
    anyio.run(watcher.run)
    # The watcher's problems include the build's; a problem is printed once.
    problems.update(
        dict.fromkeys(
            (*(p for ps in watcher.problems.values() for p in ps), *watcher.runtime.problems)
        )
    )
    _print_problems(tuple(problems), err)
    return watcher.runtime, any(p.severity == "error" for p in problems)


class _Once:
    """A provider's first snapshot, then the end: the command line never waits for changes."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.name = provider.name

    async def watch(self) -> AsyncIterator[Snapshot]:
        yield await self.provider.snapshot()

    async def snapshot(self) -> Snapshot:
        return await self.provider.snapshot()


def _routes(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if _missing(args.files, err):
        return EXIT_USAGE
    runtime, failed = _runtime(args.files, err)
    sections = [(name, table, "") for name, table in runtime.tables.items()]
    sections += [(name, table, " (TLS)") for name, table in runtime.tls_tables.items()]
    if args.entry_point:
        sections = [s for s in sections if s[0] == args.entry_point]
        if not sections:
            known = ", ".join(sorted({*runtime.tables, *runtime.tls_tables})) or "none"
            print(f"no entry point {args.entry_point!r} (have: {known})", file=err)
            return EXIT_PROBLEMS
    for name, table, tls in sorted(sections, key=lambda s: (s[0], s[2])):
        print(f"entry point {name}{tls}:", file=out)
        print(f"  {'priority':>8}  {'router':<28} {'service':<24} rule", file=out)
        for route in table.routes:
            target: RouterTarget = route.target
            service = target.service_name
            if target.middlewares:
                service += f" [{', '.join(type(m).type_key for m in target.middlewares)}]"
            print(f"  {route.priority:>8}  {route.name:<28} {service:<24} {route.rule}", file=out)
    return EXIT_PROBLEMS if failed else EXIT_OK


def _match(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .request import Request

    headers = []
    for item in args.header:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            print(f"--header expects NAME:VALUE, got {item!r}", file=err)
            return EXIT_USAGE
        headers.append((name.strip(), value.strip()))
    try:
        request = Request.from_url(
            args.url, method=args.method, headers=headers, client_ip=args.client_ip
        )
    except ValueError as exc:
        print(f"--url: {exc}", file=err)
        return EXIT_USAGE
    if _missing(args.files, err):
        return EXIT_USAGE
    runtime, _ = _runtime(args.files, err)
    known = sorted({*runtime.tables, *runtime.tls_tables})
    if not known:
        print("no routers", file=err)
        return EXIT_PROBLEMS
    entry_point = args.entry_point or known[0]
    # https:// and wss:// URLs are routed by the routers with TLS, like the runtime does.
    table = runtime.table_for(request, entry_point)
    if table is None:
        print(
            f"no entry point {entry_point!r} for {request.scheme} (have: {', '.join(known)})",
            file=err,
        )
        return EXIT_PROBLEMS
    explanation = table.explain(request)
    print(f"entry point {entry_point}: {request.method} {args.url}", file=out)
    print(explanation, file=out)
    return EXIT_OK if explanation.winner is not None else EXIT_PROBLEMS


# -- migrate -------------------------------------------------------------------------------------


def _migrate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ._migrate import migrate_text
    from .config import read_text_file

    text = read_text_file(args.file)
    result, problems = migrate_text(
        text,
        kind=args.kind,
        source=str(args.file),
        rule_syntax=args.rule_syntax,
        output=args.output,
    )
    _print_problems(problems, err)
    out.write(result)
    return EXIT_PROBLEMS if any(p.severity == "error" for p in problems) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
