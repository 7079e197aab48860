"""Docker labels and Consul catalog tags → `Configuration` (Traefik v2/v3 label grammar).

``traefik.<http|tcp>.<routers|services|middlewares|serversTransports>.<name>.<field path>=<value>``
plus the provider keys ``traefik.enable`` and ``traefik.docker.network`` (Traefik
``pkg/provider/docker/{config.go,shared.go}``, ``pkg/provider/configuration.go``):

- field names match case-insensitively, ``field[0]`` addresses a list item, comma lists split;
- a container without a router gets one named after its service, with the default rule; a
  container without a service gets a load balancer with one server (its IP and port);
- a router without ``service`` is linked to the only service; with several it is left out;
- ``loadbalancer.server.port``/``.scheme`` build the server URL; otherwise the single, else the
  lowest, exposed port is used;
- containers with v1 labels (``traefik.port``, ``traefik.frontend.rule``…) are read by the v1
  decoder (``_labels_v1``); one with any ``traefik.http.*`` key is v2.

Every key that fits nothing is reported with its label and container, never silently ignored.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, Literal

import attrs

from ...errors import ConfigError, Problem
from ..model import (
    Configuration,
    Decoder,
    Node,
    decode_configuration,
    element_name_problem,
    is_text,
    merge_configurations,
    shown_text,
    split_label_key,
    validate,
)
from ._gotemplate import Template, compile_template
from ._labels_container import (
    ContainerInfo,
    label_source,
    labels_with_prefix,
    pick_port,
    provider_constraint,
    read_bool,
    server_address,
    service_name,
)
from ._labels_v1 import V1Context, is_v1, v1_labels_config

__all__ = [
    "DEFAULT_RULE",
    "ContainerInfo",
    "labels_to_config",
    "tags_to_labels",
    "validate_labelled",
]

#: Traefik's default ``defaultRule`` for Docker and Consul catalog.
DEFAULT_RULE: Final = "Host(`{{ normalize .Name }}`)"

# Keys below "traefik." read by the provider itself, not by the configuration decoder
# (shared_labels.go; swarm and consul catalog have their own).
_PROVIDER_KEYS: Final = {
    "docker": frozenset({"network", "lbswarm", "allownonrunning"}),
    "swarm": frozenset({"network", "lbswarm"}),
    "consulcatalog": frozenset({"canary", "connect"}),
}
_V2_ROOTS: Final = frozenset({"http", "tcp", "udp", "tls"})


def tags_to_labels(tags: Iterable[str], prefix: str = "traefik") -> dict[str, str]:
    """Consul catalog tags → labels: ``<prefix>.x=y`` becomes ``traefik.x`` = ``y``.

    Tags without ``=`` or outside *prefix* are not configuration and are left out (Traefik's
    ``tagsToNeutralLabels``); the first ``=`` separates key and value.  The same tags feed both
    the v2 decoder and the v1 one (``<prefix>.frontend.rule=…``).
    """
    labels: dict[str, str] = {}
    head = prefix.rstrip(".") + "."
    for tag in tags:
        key, sep, value = tag.partition("=")
        key = key.strip()
        if not sep or not key.lower().startswith(head.lower()):
            continue
        labels["traefik." + key[len(head) :]] = value
    return labels


@attrs.frozen(kw_only=True)
class _Options:
    template: Template
    exposed_by_default: bool
    network: str | None
    template_fields: Mapping[str, object]
    allow_empty_services: bool = False
    use_bind_port_ip: bool = False


def labels_to_config(
    containers: Sequence[ContainerInfo],
    *,
    default_rule: str = DEFAULT_RULE,
    exposed_by_default: bool = True,
    network: str | None = None,
    domain: str = "",
    syntax: Literal["auto", "v1", "v2"] = "auto",
    template_fields: Mapping[str, object] | None = None,
    previous: Configuration | None = None,
    allow_empty_services: bool = False,
    use_bind_port_ip: bool = False,
    constraints: str = "",
    check: bool = True,
) -> tuple[Configuration, tuple[Problem, ...]]:
    """Decode the labels of *containers* into one configuration, plus every problem found.

    Args:
        containers: the containers (or catalog instances) of one provider, in any order.
        default_rule: the Go template for routers without a rule (``.Name``, ``.ContainerName``,
            ``.Labels`` and *template_fields* are available).
        exposed_by_default: whether containers without ``traefik.enable`` are served.
        network: the provider's default network (``traefik.docker.network`` overrides it).
        domain: v1's provider ``domain``, for the default rule ``Host:<name>.<domain>``.
        syntax: ``v1``/``v2`` force a label generation; ``auto`` decides per container by its
            keys, and a container without version-specific keys is v1 when *domain* is set.
        template_fields: more fields for the template, e.g. ``{"Domain": "docker.local"}``.
        previous: the last configuration this provider produced; on a conflict its definition
            keeps serving (see `merge_configurations`).
        allow_empty_services: Traefik's ``allowEmptyServices``: an unhealthy or starting
            container keeps its routers, with a service without servers (answered 503).
            The ``traefik.docker.allownonrunning=true`` label does the same for a container
            that is not running.
        use_bind_port_ip: Traefik's ``useBindPortIP``: a server is the host address and port
            its container port is published on (`ContainerInfo.port_bindings`), when the
            binding names a definite address; else the container's address, with a warning.
        constraints: Traefik's ``constraints``: an expression of ``Label(`k`, `v`)`` and
            ``LabelRegex(`k`, `re`)`` with ``&&``, ``||``, ``!``; a container whose labels do
            not pass it is not served.
        check: validate the result (`validate_labelled`): a rule that does not parse, a
            reference to nothing… is reported with the label it came from and left out.

    Returns:
        The merged configuration and the problems (bad keys, values, conflicts).  A container or
        element with an error is left out; the rest still applies.

    Raises:
        ConfigError: *default_rule* is not a template routekit can render, or *constraints*
            does not parse.
    """
    constraint = provider_constraint(constraints, kind="labels")
    opts = _Options(
        template=compile_template(default_rule),
        exposed_by_default=exposed_by_default,
        network=network,
        template_fields=template_fields or {},
        allow_empty_services=allow_empty_services,
        use_bind_port_ip=use_bind_port_ip,
    )
    v1 = V1Context(
        domain=domain,
        exposed_by_default=exposed_by_default,
        network=network,
        use_bind_port_ip=use_bind_port_ip,
    )
    problems: list[Problem] = []
    parts: list[tuple[str, Configuration]] = []
    v1_containers: list[ContainerInfo] = []
    # Traefik's provider.Merge walks containers by name: servers of replicas follow that order.
    for container in sorted(_valid_text(containers, problems), key=lambda c: c.name):
        if constraint is not None and not constraint.matches(container.labels):
            continue  # pruned by the provider's constraints, as Traefik does (quietly)
        verdict = is_v1(container.labels) if syntax == "auto" else syntax == "v1"
        # Undecided (no labels, or only traefik.enable): a provider with a v1 ``domain`` is v1.
        if verdict or (verdict is None and domain):
            v1_containers.append(container)
            continue
        config = _container_config(container, opts, problems)
        if config is not None:
            parts.append((container.name, config))
    # v1 builds frontends and backends across containers (replicas share a backend).
    v1_config = v1_labels_config(v1_containers, v1, problems)
    if v1_config is not None:
        parts.append((", ".join(c.name for c in v1_containers), v1_config))
    merged, conflicts = merge_configurations(parts, previous=previous)
    if not check:
        return merged, (*problems, *conflicts)
    checked, found = validate_labelled(merged, containers)
    return checked, (*problems, *conflicts, *found)


def validate_labelled(
    config: Configuration, containers: Sequence[ContainerInfo]
) -> tuple[Configuration, tuple[Problem, ...]]:
    """`validate` *config*, and name in each error the label (and container) it came from.

    A problem's path (``http.routers.web.rule``) is matched, ignoring case, with the labels
    ``traefik.<path>``; failing that, with the first label under it, then under each shorter
    path, so that an element built from several labels is still traced to one of them.
    """
    checked = validate(config)
    # Warnings leave nothing out; the watcher's own check of the merged runtime reports them.
    errors = [p for p in checked.problems if p.severity == "error"]
    if not errors:
        return checked.config, ()
    index: dict[str, tuple[ContainerInfo, str]] = {}
    for container in containers:
        for key in container.labels:
            if key.lower().startswith("traefik."):
                index.setdefault(key[len("traefik.") :].lower(), (container, key))
    keys = sorted(index)
    out = []
    for problem in errors:
        found = _label_for(problem.path.lower(), index, keys) if problem.source is None else None
        out.append(problem if found is None else attrs.evolve(problem, source=label_source(*found)))
    return checked.config, tuple(out)


def _label_for(
    path: str, index: Mapping[str, tuple[ContainerInfo, str]], keys: Sequence[str]
) -> tuple[ContainerInfo, str] | None:
    parts = path.split(".")
    while len(parts) >= 3:  # down to the element itself (http.routers.<name>)
        head = ".".join(parts)
        if head in index:
            return index[head]
        at = bisect.bisect_left(keys, head + ".")
        if at < len(keys) and keys[at].startswith(head + "."):
            return index[keys[at]]
        parts.pop()
    return None


def _valid_text(
    containers: Sequence[ContainerInfo], problems: list[Problem]
) -> list[ContainerInfo]:
    """The containers without their labels that are not valid Unicode (each reported); a
    container whose name or service name is not valid Unicode is left out whole."""
    out = []
    message = "not valid Unicode text (a lone surrogate)"
    for c in containers:
        if not is_text(c.name) or not is_text(c.service_name or ""):
            problems.append(Problem("", message, f"container '{shown_text(c.name)}'"))
            continue
        bad = [k for k, v in c.labels.items() if not (is_text(k) and is_text(v))]
        for key in bad:
            where = f"label '{shown_text(key)}' on container {c.name!r}"
            problems.append(Problem(shown_text(key), message, where))
        labels = {k: v for k, v in c.labels.items() if k not in bad}
        out.append(attrs.evolve(c, labels=labels) if bad else c)
    return out


def _container_config(
    container: ContainerInfo, opts: _Options, problems: list[Problem]
) -> Configuration | None:
    def where(node: Node) -> str:
        return label_source(container, node.first_source())

    decoder = Decoder(problems, where)
    root, provider = _label_tree(container, decoder)
    enable = read_bool(provider.find("enable"), decoder, "enable", opts.exposed_by_default)
    if not enable or not _kept(container, provider, decoder, opts.allow_empty_services):
        return None
    network = (
        provider.find("docker.network")
        or provider.find("swarm.network")
        or (Node("network", opts.network) if opts.network else None)
    )
    name = service_name(container)
    http = root.find("http")
    tcp = root.find("tcp")
    # A container with only TCP or UDP labels gets no default HTTP router (Traefik's docker
    # provider builds the HTTP default only when no TCP/UDP configuration is given).
    udp_labels = root.find("udp")
    stream_only = (tcp is not None or udp_labels is not None) and (
        http is None or not http.children
    )
    if not stream_only:
        http = root.child(http.name if http is not None else "http")
        _complete_http(container, http, name, opts, decoder, network)
    if tcp is not None:
        _complete_stream(container, tcp, decoder, network, "tcp", opts)
    udp = root.find("udp")
    if udp is not None:
        _complete_stream(container, udp, decoder, network, "udp", opts)
    config, _ = decode_configuration(root, where=where, problems=problems)
    return config


def _label_tree(container: ContainerInfo, decoder: Decoder) -> tuple[Node, Node]:
    """Split the ``traefik.*`` labels into the configuration tree and the provider keys."""
    root, provider = Node("traefik"), Node("provider")
    for key, value in labels_with_prefix(container.labels, "traefik.").items():
        rest = key[len("traefik.") :]
        head, _, tail = rest.partition(".")
        group = _PROVIDER_KEYS.get(head.lower())
        if rest.lower() == "enable" or group is not None:
            if group is not None and tail.lower() not in group:
                opts = [f"{head.lower()}.{k}" for k in sorted(group)]
                decoder.unknown(Node(rest, value, key), "", rest, opts)
                continue
            if head.lower() == "consulcatalog":
                # Canary and Connect change how instances become services: only the Consul
                # catalog decoder can apply them, so saying nothing here would mislead.
                decoder.problems.append(
                    Problem(
                        rest,
                        "applied by consul_catalog_to_config only; ignored here",
                        label_source(container, key),
                        severity="warning",
                    )
                )
            provider.insert([rest.lower()], value, key)
            continue
        parts = split_label_key(rest)
        if parts is None:
            decoder.report(
                Node(rest, value, key),
                rest,
                "malformed key (an empty or bad element)",
                hint="keys look like traefik.http.routers.<name>.<option>",
            )
            continue
        bad_name = element_name_problem(parts)
        if bad_name is not None:
            decoder.report(Node(rest, value, key), ".".join(parts[:3]), bad_name)
            continue
        if parts[0].lower() not in _V2_ROOTS:
            decoder.unknown(Node(rest, value, key), "", parts[0], sorted(_V2_ROOTS | {"enable"}))
            continue
        root.insert(parts, value, key)
    return root, provider


def _kept(
    container: ContainerInfo, provider: Node, decoder: Decoder, allow_empty_services: bool
) -> bool:
    """Whether the container's configuration is kept (Traefik's ``keepContainer``)."""
    allow = read_bool(provider.find("docker.allownonrunning"), decoder, "allownonrunning", False)
    if allow:
        return True  # "AllowNonRunning has precedence over AllowEmptyServices"
    if container.state != "running":
        return False
    return allow_empty_services or container.health in (None, "", "healthy")


def _serving(container: ContainerInfo) -> bool:
    # A kept container that is not running, or not healthy, keeps an empty load balancer
    # (Traefik's buildServiceConfiguration returns before adding its server).
    return container.state == "running" and container.health in (None, "", "healthy")


def _complete_http(  # noqa: PLR0917
    container: ContainerInfo,
    http: Node,
    name: str,
    opts: _Options,
    decoder: Decoder,
    network: Node | None,
) -> None:
    """Add what Traefik adds: the default service and router, servers, rule, service link."""
    services = http.find("services") or http.child("services")
    if not services.children:
        services.child(name).child("loadBalancer")
    linkable = next(iter(services.children)) if len(services.children) == 1 else None
    failed: set[str] = set()
    for service_name_, service in list(services.children.items()):
        kinds = {k.lower() for k in service.children}
        if not kinds and service.value is not None:
            # ``traefik.http.services.<name>=…`` alone: Traefik's "load-balancer is not defined".
            decoder.report(
                service,
                f"http.services.{service_name_}",
                "the label defines no load balancer",
                hint=f"set traefik.http.services.{service_name_}.loadbalancer.server.port",
            )
            del services.children[service_name_]
            failed.add(service_name_)
            continue
        if not kinds & {"weighted", "mirroring", "failover"}:
            lb = service.find("loadBalancer") or service.child("loadBalancer")
            path = f"http.services.{service_name_}"
            bind = opts.use_bind_port_ip
            if not _add_server(container, lb, decoder, network, path=path, use_bind_port_ip=bind):
                # Traefik drops the whole container; routekit drops the service and the routers
                # that use it, the rest of the container still applies.
                del services.children[service_name_]
                failed.add(service_name_)
    routers = http.find("routers")
    if routers is None or not routers.children:
        if linkable is None:
            decoder.problems.append(
                Problem(
                    path="http.routers",
                    message="no router created: the container defines several services",
                    source=label_source(container, None),
                    hint="add traefik.http.routers.<name>.service labels",
                    severity="warning",
                )
            )
            return
        routers = routers if routers is not None else http.child("routers")
        routers.child(name)
    for router_name, router in list(routers.children.items()):
        path = f"http.routers.{router_name}"
        target = router.find("service")
        if (target.value if target is not None else linkable) in failed:
            del routers.children[router_name]
            continue
        if router.find("rule") is None and not _set_default_rule(
            container, router, path, opts, decoder
        ):
            del routers.children[router_name]
            continue
        if target is None:
            if linkable is None:
                decoder.report(
                    router,
                    path,
                    "the router names no service and the container has several",
                    hint=f"set traefik.{path}.service to one of: "
                    + ", ".join(sorted(services.children)),
                )
                del routers.children[router_name]
                continue
            router.child("service").value = linkable


def _set_default_rule(
    container: ContainerInfo, router: Node, path: str, opts: _Options, decoder: Decoder
) -> bool:
    fields = {
        "Name": service_name(container),
        "ContainerName": container.name,
        "Labels": dict(container.labels),
        **opts.template_fields,
    }
    try:
        rule = opts.template.render(fields)
    except ConfigError as exc:
        decoder.report(router, path, f"default rule: {exc}")
        return False
    if not rule.strip():
        decoder.report(
            router, path, "the default rule renders empty", hint=f"set traefik.{path}.rule"
        )
        return False
    router.child("rule").value = rule
    return True


def _add_server(
    container: ContainerInfo,
    lb: Node,
    decoder: Decoder,
    network: Node | None,
    *,
    path: str,
    use_bind_port_ip: bool,
) -> bool:
    """Turn ``loadbalancer.server.{port,scheme,…}`` into ``servers[0]`` with its URL/address.

    Returns False (the problem recorded) when no server can be built: no port or no address.
    """
    tcp = path.startswith(("tcp.", "udp."))  # servers by address, not URL
    server = lb.pop("server")
    if lb.find("servers") is not None:
        return True  # explicit servers[n] keys: nothing to detect
    if not _serving(container):
        lb.child("servers")  # no server: requests get 503 until the container serves
        return True
    server = server if server is not None else Node("server")
    port_node = server.pop("port")
    scheme_node = None if tcp else server.pop("scheme")
    target = "address" if tcp else "url"
    given = server.find(target)
    extra = port_node or scheme_node
    if given is not None and extra is not None and not tcp:
        # Traefik's docker provider refuses the mix rather than guess which one is meant.
        decoder.report(
            extra,
            f"{path}.loadBalancer.server",
            "defining scheme or port is not allowed when url is defined",
            hint="keep either server.url or server.port/server.scheme",
        )
        return False
    if server.find(target) is None:
        port: str | int | None = port_node.value if port_node is not None else pick_port(container)
        where_key = port_node.source if port_node is not None else None
        if port is None or not str(port).strip():
            decoder.report(
                port_node or lb,
                f"{path}.loadBalancer.server.port",
                "no port: the container exposes none",
                hint=f"set a traefik.{path}.loadbalancer.server.port label",
            )
            return False
        hostport = server_address(
            container,
            str(port).strip(),
            network.value if network is not None else None,
            decoder.problems,
            network.source if network is not None else where_key,
            use_bind_port_ip=use_bind_port_ip,
        )
        if hostport is None:
            return False
        if tcp:
            value = hostport
        else:
            scheme = (scheme_node.value if scheme_node is not None else None) or "http"
            value = f"{scheme}://{hostport}"
        server.insert([target], value, where_key or "")
    server.name = "0"
    lb.child("servers").children["0"] = server
    return True


def _complete_stream(  # noqa: PLR0917
    container: ContainerInfo,
    section: Node,
    decoder: Decoder,
    network: Node | None,
    stream: str,
    opts: _Options,
) -> None:
    """Servers of the ``tcp`` or ``udp`` (*stream*) services, and each router's service.

    As Traefik's Docker provider (``buildTCPServiceConfiguration``,
    ``BuildTCPRouterConfiguration``): without service labels the container gets one service
    named after it; a router without a ``service`` takes the only service, and is left out,
    reported, when there are several.
    """
    services = section.find("services")
    if services is None or not services.children:
        services = section.child("services")
        services.child(service_name(container)).child("loadBalancer")
    for sname, service in list(services.children.items()):
        if service.find("weighted") is None:
            lb = service.find("loadBalancer") or service.child("loadBalancer")
            where = f"{stream}.services.{sname}"
            bind = opts.use_bind_port_ip
            if not _add_server(container, lb, decoder, network, path=where, use_bind_port_ip=bind):
                del services.children[sname]
    routers = section.find("routers")
    if routers is None:
        return
    for rname, router in list(routers.children.items()):
        if router.find("service") is not None:
            continue
        if len(services.children) == 1:
            router.child("service").value = next(iter(services.children))
        elif len(services.children) > 1:
            decoder.report(
                router,
                f"{stream}.routers.{rname}",
                "cannot be linked automatically with several services: "
                + ", ".join(sorted(services.children)),
                hint=f"set traefik.{stream}.routers.{rname}.service",
            )
            del routers.children[rname]
