"""Traefik v1 Docker labels and Consul catalog tags → `Configuration`.

v1 labels (``v1.7:docs/configuration/backends/docker.md``, ``v1.7:provider/docker/config.go``,
``v1.7:provider/label``) describe one frontend and one backend per container (or per *segment*,
``traefik.<segment>.port``…).  This module rebuilds, from the labels, the ``[frontends]`` /
``[backends]`` tables a v1 TOML file would hold and hands them to the v1 file decoder, so labels,
files and KV stores share one translation to the v3 model (rule translation, explicit v1
priorities, options that became middlewares).

Names follow v1.7: the backend is ``backend-<name>`` (``<name>`` = ``traefik.backend``, else the
Compose ``<service>_<project>``, else the container name, normalised; a segment adds
``-<segment>``), the frontend ``frontend-<normalised "rule-index">`` (segments:
``frontend-<segment>-<backend name>``).  The default rule is ``Host:<sub>.<domain>`` with ``<sub>``
the container name or Compose ``<service>.<project>``, ``/`` and ``_`` turned into ``-``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, cast, final

import attrs

from ...errors import Problem
from ..files import decode_v1
from ..model import Configuration, closest
from ._gotemplate import normalize
from ._labels_container import ContainerInfo, label_source, pick_port, server_address

__all__ = ["V1Builder", "V1Context", "copy_v1_options", "is_v1", "v1_labels_config"]

# v1.7 provider/label/segment.go.
_SEGMENT: Final = re.compile(
    r"^traefik\.(?P<segment>.+?)\.(?P<prop>port|portIndex|portName|weight|protocol|backend"
    r"|frontend\.(.+))$"
)
_V2_ROOTS: Final = ("traefik.http.", "traefik.tcp.", "traefik.udp.", "traefik.tls.")
_TOP: Final = frozenset(
    {"enable", "port", "portindex", "portname", "weight", "protocol", "backend", "domain", "tags"}
)
# Label path below "frontend." / "backend." → path in a v1 file's frontend / backend table.
# Values that are "Name:value||Name2:value2" maps in labels are tables in files.
_FRONTEND: Final[Mapping[str, tuple[str, ...]]] = {
    "priority": ("priority",),
    "entrypoints": ("entryPoints",),
    "passhostheader": ("passHostHeader",),
    "passtlscert": ("passTLSCert",),
    "auth.basic": ("basicAuth",),
    "auth.basic.users": ("auth", "basic", "users"),
    "auth.basic.usersfile": ("auth", "basic", "usersFile"),
    "auth.basic.removeheader": ("auth", "basic", "removeHeader"),
    "auth.headerfield": ("auth", "headerField"),
    "auth.digest.users": ("auth", "digest", "users"),
    "auth.digest.usersfile": ("auth", "digest", "usersFile"),
    "auth.digest.removeheader": ("auth", "digest", "removeHeader"),
    "auth.forward.address": ("auth", "forward", "address"),
    "auth.forward.authresponseheaders": ("auth", "forward", "authResponseHeaders"),
    "auth.forward.trustforwardheader": ("auth", "forward", "trustForwardHeader"),
    "auth.forward.tls.ca": ("auth", "forward", "tls", "ca"),
    "auth.forward.tls.caoptional": ("auth", "forward", "tls", "caOptional"),
    "auth.forward.tls.cert": ("auth", "forward", "tls", "cert"),
    "auth.forward.tls.insecureskipverify": ("auth", "forward", "tls", "insecureSkipVerify"),
    "auth.forward.tls.key": ("auth", "forward", "tls", "key"),
    "whitelistsourcerange": ("whitelistSourceRange",),
    "whitelist.sourcerange": ("whiteList", "sourceRange"),
    "whitelist.usexforwardedfor": ("whiteList", "useXForwardedFor"),
    "redirect.entrypoint": ("redirect", "entryPoint"),
    "redirect.regex": ("redirect", "regex"),
    "redirect.replacement": ("redirect", "replacement"),
    "redirect.permanent": ("redirect", "permanent"),
    "ratelimit.extractorfunc": ("rateLimit", "extractorFunc"),
}
_FRONTEND_PREFIXES: Final[Mapping[str, tuple[str, ...]]] = {
    "headers.": ("headers",),
    "passtlsclientcert.": ("passTLSClientCert",),
    "errors.": ("errors",),
    "ratelimit.rateset.": ("rateLimit", "rateSet"),
}
_BACKEND: Final[Mapping[str, tuple[str, ...]]] = {
    "loadbalancer.method": ("loadBalancer", "method"),
    "loadbalancer.sticky": ("loadBalancer", "sticky"),
    "loadbalancer.stickiness": ("loadBalancer", "stickiness"),
    "loadbalancer.stickiness.cookiename": ("loadBalancer", "stickiness", "cookieName"),
    "loadbalancer.stickiness.secure": ("loadBalancer", "stickiness", "secure"),
    "loadbalancer.stickiness.httponly": ("loadBalancer", "stickiness", "httpOnly"),
    "loadbalancer.stickiness.samesite": ("loadBalancer", "stickiness", "sameSite"),
    "circuitbreaker": ("circuitBreaker", "expression"),
    "circuitbreaker.expression": ("circuitBreaker", "expression"),
    "maxconn.amount": ("maxConn", "amount"),
    "maxconn.extractorfunc": ("maxConn", "extractorFunc"),
    "responseforwarding.flushinterval": ("responseForwarding", "flushInterval"),
}
_BACKEND_PREFIXES: Final[Mapping[str, tuple[str, ...]]] = {
    "healthcheck.": ("healthCheck",),
    "buffering.": ("buffering",),
}
_MAP_VALUED: Final = frozenset(
    {"customrequestheaders", "customresponseheaders", "sslproxyheaders", "headers"}
)


@final
@attrs.frozen(kw_only=True)
class V1Context:
    """Provider options the v1 decoder needs (``domain``, ``exposedByDefault``, ``network``)."""

    domain: str = ""
    exposed_by_default: bool = True
    network: str | None = None
    use_bind_port_ip: bool = False


def is_v1(labels: Mapping[str, str]) -> bool | None:
    """Whether *labels* use the v1 grammar; ``None`` when nothing tells (no version-specific key).

    Any ``traefik.http.*``-style key makes a container v2; ``traefik.port``,
    ``traefik.frontend.*``, ``traefik.backend``… or a segment key make it v1.
    """
    keys = [k for k in labels if k.lower().startswith("traefik.")]
    if any(k.lower().startswith(_V2_ROOTS) for k in keys):
        return False
    for key in keys:
        rest = key[len("traefik.") :].lower()
        if rest in _TOP - {"enable"} or rest.startswith(("frontend.", "backend.")):
            return True
        if _SEGMENT.match(key):
            return True
    return None


@attrs.define
class V1Builder:
    """Accumulates the v1 ``[frontends]``/``[backends]`` tables and where each value came from."""

    data: dict[str, dict[str, Any]] = attrs.field(factory=lambda: {"frontends": {}, "backends": {}})
    where: dict[tuple[str, ...], str] = attrs.field(factory=dict)
    seen_compose: set[tuple[str, str, str]] = attrs.field(factory=set)
    #: (container, backend, server URL) already added: one server per URL and container.
    seen_servers: set[tuple[str, str, str]] = attrs.field(factory=set)

    def set(self, path: tuple[str, ...], value: object, source: str) -> object | None:
        """Set *path* unless already set; return the earlier value when it differs."""
        table: dict[str, object] = cast(dict[str, object], self.data)
        for end, part in enumerate(path[:-1], start=1):
            self.where.setdefault(path[:end], source)
            child = table.setdefault(part, {})
            if not isinstance(child, dict):
                return child
            table = child
        earlier = table.get(path[-1])
        if earlier is None:
            table[path[-1]] = value
            self.where[path] = source
            return None
        if isinstance(earlier, dict) and isinstance(value, dict):
            return None
        return None if earlier == value else earlier

    def locate(self, path: tuple[str, ...]) -> str:
        """Where the element at *path* (or its nearest parent with a source) came from."""
        for end in range(len(path), 0, -1):
            found = self.where.get(path[:end])
            if found is not None:
                return found
        return "v1 labels"


def v1_labels_config(
    containers: Sequence[ContainerInfo], ctx: V1Context, problems: list[Problem]
) -> Configuration | None:
    """Decode v1-labelled containers (sorted by name) into one configuration."""
    if not containers:
        return None
    b = V1Builder()
    # v1.7 numbers frontends by the position among the containers its filter kept
    # (``for idx, container := range filteredContainers``): left-out ones take no number.
    index = 0
    for container in containers:
        if _container(container, index, ctx, b, problems):
            index += 1
    config, found = decode_v1(b.data, b.locate)
    problems.extend(found)
    return config


def _container(
    c: ContainerInfo, index: int, ctx: V1Context, b: V1Builder, problems: list[Problem]
) -> bool:
    """Add the frontends and backends of one container; return whether it passed the filter."""
    labels = {k: v for k, v in c.labels.items() if k.lower().startswith("traefik.")}
    enable = labels.get("traefik.enable")
    if enable is not None and enable.strip().lower() not in ("true", "false", "1", "0"):
        problems.append(
            Problem(
                "enable",
                f"expected true or false, got {enable!r}",
                label_source(c, "traefik.enable"),
            )
        )
        return False
    exposed = ctx.exposed_by_default if enable is None else enable.strip().lower() in ("true", "1")
    if not exposed or c.state != "running" or c.health not in (None, "", "healthy"):
        return False
    segments: dict[str, dict[str, str]] = {"": {}}
    for key in sorted(labels):
        m = _SEGMENT.match(key)
        rest = key[len("traefik.") :]
        if m is None or rest.lower().startswith(("frontend.", "backend.")):
            segments[""][key] = labels[key]
        else:
            prop = "traefik." + m.group("prop")
            segments.setdefault(m.group("segment"), {})[prop] = key
    shared = {k: (v, k) for k, v in segments[""].items()}
    # A segment inherits the container-wide labels and overrides them with its own.
    views = [
        (seg, shared | {prop: (labels[key], key) for prop, key in props.items()})
        for seg, props in segments.items()
        if seg
    ] or [("", shared)]
    if not all(_passes(c, view, ctx, problems) for _, view in views):
        return False
    for seg, view in views:
        _segment(c, index, seg, view, ctx, b, problems)
    return True


#: ``get(prop)``: the (value, label key) of ``traefik.<prop>`` (*prop* lower-case), or ``None``.
_Getter = Callable[[str], tuple[str, str] | None]


def _getter(labels: Mapping[str, tuple[str, str]]) -> _Getter:
    """The `_Getter` over *labels*, whose keys match whatever their case (the first one wins)."""
    by_lower: dict[str, tuple[str, str]] = {}
    for key, item in labels.items():
        by_lower.setdefault(key.lower(), item)
    return lambda prop: by_lower.get(f"traefik.{prop}")


def _port(c: ContainerInfo, get: _Getter) -> str | int | None:
    # An empty traefik.port falls back to the detected port (v1.7 getPort).
    item = get("port")
    if item is not None and item[0].strip():
        return str(item[0]).strip()
    return pick_port(c)


def _passes(
    c: ContainerInfo, labels: Mapping[str, tuple[str, str]], ctx: V1Context, problems: list[Problem]
) -> bool:
    """v1.7 ``containerFilter`` for one segment: it needs a frontend rule and a port.

    A container one of whose segments fails is left out entirely (no frontend, no backend), as
    in Traefik; routekit says why instead of leaving it out silently.
    """
    get = _getter(labels)
    if not _rule(c, get, ctx)[0]:
        problems.append(
            Problem(
                "",
                "no frontend rule and no domain: the container is not served",
                label_source(c, None),
                "set traefik.frontend.rule or traefik.domain",
                severity="warning",
            )
        )
        return False
    if _port(c, get) is None:
        item = get("port")
        problems.append(
            Problem(
                "",
                "no port: the container exposes none",
                label_source(c, item[1] if item else None),
                "set a traefik.port label",
            )
        )
        return False
    return True


def _segment(  # noqa: PLR0917 - the segment's whole context, passed once
    c: ContainerInfo,
    index: int,
    seg: str,
    labels: dict[str, tuple[str, str]],
    ctx: V1Context,
    b: V1Builder,
    problems: list[Problem],
) -> None:
    get = _getter(labels)
    compose = c.compose
    service = c.base_name
    backend_label = get("backend")
    if seg:
        base = f"{service}-{backend_label[0]}" if backend_label else f"{service}-{seg}"
    else:
        base = backend_label[0] if backend_label else service
    backend = "backend-" + normalize(base)
    # Server: protocol://ip:port, weight (default 1).
    port_item = get("port")
    port = _port(c, get)  # never None: _passes checked it
    network = get("docker.network")
    src = port_item[1] if port_item else None
    hostport = server_address(
        c,
        str(port).strip(),
        network[0] if network else ctx.network,
        problems,
        src,
        use_bind_port_ip=ctx.use_bind_port_ip,
    )
    if hostport is None:
        return
    protocol = get("protocol")
    scheme = protocol[0] if protocol else "http"
    server = "server-" + normalize(c.name + (f"-{seg}" if seg else ""))
    url = f"{scheme}://{hostport}"
    # Traefik 1.7 names a server after its container and URL (getServerName): two segments of
    # one container on the same backend and port are one server ("Skipping server … with the
    # same URL").
    duplicate = (c.name, backend, url) in b.seen_servers
    b.seen_servers.add((c.name, backend, url))
    if not duplicate:
        b.set(("backends", backend, "servers", server, "url"), url, label_source(c, src))
    weight = get("weight")
    if weight is not None and not duplicate:
        b.set(
            ("backends", backend, "servers", server, "weight"),
            weight[0],
            label_source(c, weight[1]),
        )
    # Frontend: the first container of a Compose service (+segment) defines it (v1.7).
    rule, rule_key = _rule(c, get, ctx)
    if compose is not None:
        compose_key = (*compose, seg)
        if compose_key in b.seen_compose:
            _options(c, labels, backend, None, b, problems)
            return
        b.seen_compose.add(compose_key)
    name = f"{seg}-{base}" if seg else f"{rule}-{index}"
    frontend = "frontend-" + normalize(name)
    fsrc = label_source(c, rule_key)
    b.set(("frontends", frontend, "backend"), backend, fsrc)
    b.set(("frontends", frontend, "routes", "route-" + frontend, "rule"), rule, fsrc)
    _options(c, labels, backend, frontend, b, problems)


def v1_frontend_rule(container: ContainerInfo, *, domain: str = "") -> str:
    """The v1 frontend rule Traefik 1.7 gives *container* (its segment-less frontend).

    Its ``traefik.frontend.rule`` label, else the default ``Host:<name>.<domain>`` (the Compose
    ``service.project``, else the service or container name; ``traefik.domain`` overrides
    *domain*); ``""`` when there is neither, which Traefik 1.7 filters out.
    """
    labels = {k: (v, k) for k, v in container.labels.items()}
    return _rule(container, _getter(labels), V1Context(domain=domain))[0]


def _rule(c: ContainerInfo, get: _Getter, ctx: V1Context) -> tuple[str, str | None]:
    """The frontend rule and the label that set it (``None``: the default rule, maybe empty)."""
    item = get("frontend.rule")
    if item is not None and item[0].strip():
        return item[0], item[1]
    return _default_rule(c, get, ctx), None


def _default_rule(c: ContainerInfo, get: _Getter, ctx: V1Context) -> str:
    domain_item = get("domain")
    domain = domain_item[0] if domain_item else ctx.domain
    compose = c.compose
    if compose is not None:
        sub = f"{compose[1]}.{compose[0]}"
    elif domain:
        sub = c.service_name or c.name
    else:
        return ""  # v1.7: "Filtering container with empty frontend rule"
    sub = sub.replace("/", "-").replace("_", "-")
    return f"Host:{sub}.{domain}" if domain else f"Host:{sub}"


def _options(  # noqa: PLR0917
    c: ContainerInfo,
    labels: dict[str, tuple[str, str]],
    backend: str,
    frontend: str | None,
    b: V1Builder,
    problems: list[Problem],
) -> None:
    """Copy ``frontend.*``/``backend.*`` labels into the tables; report the unknown ones."""
    copy_v1_options(labels, backend, frontend, b, problems, lambda key: label_source(c, key))


def copy_v1_options(  # noqa: PLR0917
    labels: Mapping[str, tuple[str, str]],
    backend: str,
    frontend: str | None,
    b: V1Builder,
    problems: list[Problem],
    where: Callable[[str | None], str],
    *,
    noun: str = "label",
    owner: str = "container",
    prefix: str = "traefik",
) -> None:
    """Copy ``traefik.frontend.*``/``traefik.backend.*`` entries into the v1 tables.

    *labels* maps the neutral key (``traefik.<property>``) to its value and the key as written
    (a Docker label, or a Consul tag key with its own *prefix*); *where* names the origin of a
    written key for problems.  Unknown keys are reported as problems; with *frontend* ``None``
    only the backend options are written (the frontend is defined elsewhere).
    """
    for prop, (value, key) in labels.items():
        rest = prop[len("traefik.") :]
        lowered = rest.lower()
        head, _, tail = lowered.partition(".")
        written = rest.partition(".")[2]
        if head == "frontend" and tail and tail != "rule":
            path = _lookup(tail, written, _FRONTEND, _FRONTEND_PREFIXES)
            table: tuple[str, ...] | None = ("frontends", frontend) if frontend else None
        elif head == "backend" and tail and tail != "id":
            path = _lookup(tail, written, _BACKEND, _BACKEND_PREFIXES)
            table = ("backends", backend)
        elif (
            lowered in _TOP
            or lowered in ("frontend.rule", "docker.network", "backend.id")
            or head == "docker"
        ):
            # Marathon's port index and name, constraint tags and backend IDs of other
            # providers: Traefik 1.7's Docker provider reads none of them either.
            if lowered in ("portindex", "portname", "tags", "backend.id") or (
                head == "docker" and lowered != "docker.network"
            ):
                problems.append(
                    Problem(
                        rest,
                        f"{key} is not supported; ignored",
                        where(key),
                        severity="warning",
                    )
                )
            continue
        else:
            problems.append(
                Problem(
                    rest,
                    f"unknown v1 {noun} {key!r}",
                    where(key),
                    f"v1 {noun}s: {prefix}.port, .backend, .frontend.*, .backend.*, …",
                )
            )
            continue
        if path is None:
            known = sorted({*(_FRONTEND if head == "frontend" else _BACKEND)})
            problems.append(
                Problem(
                    rest,
                    f"unknown v1 {noun} {key!r}",
                    where(key),
                    _did_you_mean(tail, known, head, prefix),
                )
            )
            continue
        if table is None:
            continue
        item: object = value
        if path[-1].lower() in _MAP_VALUED:
            item = _header_map(value)
        if path == ("loadBalancer", "stickiness") and value.strip().lower() in ("true", "1"):
            item = {}
        elif path == ("loadBalancer", "stickiness"):
            continue
        earlier = b.set((*table, *path), item, where(key))
        if earlier is not None:
            problems.append(
                Problem(
                    ".".join((*table, *path)),
                    f"{key}={value!r} differs from {earlier!r} set by another {owner}; "
                    "the first one applies",
                    where(key),
                    severity="warning",
                )
            )


def _lookup(
    tail: str,
    written: str,
    exact: Mapping[str, tuple[str, ...]],
    prefixes: Mapping[str, tuple[str, ...]],
) -> tuple[str, ...] | None:
    if tail in exact:
        return exact[tail]
    for prefix, path in prefixes.items():
        if tail.startswith(prefix) and len(tail) > len(prefix):
            return (*path, *written[len(prefix) :].split("."))
    return None


def _did_you_mean(tail: str, known: list[str], head: str, prefix: str = "traefik") -> str:
    close = closest(tail, known)
    if close is not None:
        return f"did you mean '{prefix}.{head}.{close}'?"
    return f"known: {prefix}.{head}." + ", .".join(known)


def _header_map(value: str) -> dict[str, str]:
    # v1 labels write maps as "Name:value||Name2:value2" (label.ParseMapValue).
    out: dict[str, str] = {}
    for item in value.split("||"):
        name, _, text = item.partition(":")
        if name.strip():
            out[name.strip()] = text.strip()
    return out
