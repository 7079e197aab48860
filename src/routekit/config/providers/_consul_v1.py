"""Traefik 1.7 Consul catalog provider: catalog services and their tags → `Configuration`.

Traefik 1.7's ``consulCatalog`` provider (``v1.7:provider/consulcatalog/{consul_catalog.go,
config.go,convert_types.go}``, ``v1.7:templates/consul_catalog.tmpl``) differs from the Docker v1
provider in names, defaults and the rule template, so it has its own front end here; the
``[frontends]``/``[backends]`` tables it builds go through the same v1 decoder as Docker labels
and v1 files.

- Instances are kept when ``<prefix>.enable`` (else ``exposedByDefault``) allows it and their
  aggregated check status is ``passing`` (``strictChecks=false``: also ``warning``); a failing
  ``serfHealth`` always drops the instance.  A service without instances left is not served.
- One backend per service, ``backend-<lower(name)>``; one server per instance, named
  ``Normalize(<name>-<index>-<sha1>)`` where ``<index>`` counts all kept instances of all services
  in Traefik's order and the hash covers name, service address, port and tags; the URL is
  ``<protocol>://<service address, else node address>:<port>``; the weight is ``<prefix>.weight``.
- One frontend per service, ``frontend-<lower(name)>`` with the route ``route-host-<name>``; its
  rule is ``<prefix>.frontend.rule``, else the provider's ``frontEndRule``, both Go templates over
  ``.ServiceName``, ``.Domain``, ``.Attributes`` (the service's tags) with ``getTag``, ``hasTag``
  and ``getAttribute``; a trailing ``.`` is dropped.  ``<prefix>.frontends.<name>.<option>`` tags
  add frontends ``frontend-<service>-<name>`` on the same backend.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import attrs

from ...errors import ConfigError, Problem
from ..files import decode_v1
from ..model import Configuration, closest, parse_int
from ._consul_data import CatalogInstance, CatalogService
from ._gotemplate import Template, TemplateFunc, compile_template, normalize
from ._labels_container import join_host_port
from ._labels_v1 import V1Builder, copy_v1_options

__all__ = ["DEFAULT_FRONTEND_RULE", "consul_catalog_v1_to_config"]

#: Traefik 1.7's default ``frontEndRule`` for the Consul catalog provider.
DEFAULT_FRONTEND_RULE: Final = "Host:{{.ServiceName}}.{{.Domain}}"

# Go's strconv.ParseBool.
_TRUE: Final = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE: Final = frozenset({"0", "f", "F", "FALSE", "false", "False"})
# Properties the provider reads from each instance's own tags (not from the merged labels).
_PER_INSTANCE: Final = frozenset({"enable", "weight", "protocol", "backend.weight"})
# Docker v1 properties Traefik 1.7's Consul catalog provider never reads.
_IGNORED: Final[Mapping[str, str]] = {
    "port": "the server port is the instance's ServicePort",
    "backend": "the backend is named after the catalog service",
    "domain": "the domain is the provider's domain option",
    "tags": "constraints are not supported",
}
_KNOWN_TOP: Final = sorted({*_PER_INSTANCE, *_IGNORED, "frontend.rule", "frontends.<name>"})


def _tag_list(tags: object) -> list[str]:
    if isinstance(tags, str) or not isinstance(tags, Iterable):
        raise TypeError(f"expected a list of tags, got {tags!r}")
    return [str(t) for t in tags]


def _matches(name: str, tag: str) -> bool:
    lower_name, lower_tag = name.lower(), tag.lower()
    # A Consul tag is either a marker ("name") or a pair ("name=value"); names match ignoring case.
    return lower_tag.startswith(lower_name + "=") or lower_tag == lower_name


def get_tag(name: object, tags: object, default: object) -> str:
    """``getTag(name, tags, default)``: the value of the first ``name=value`` tag (case-blind).

    A marker tag ``name`` without ``=`` gives the tag itself; no match gives *default*.
    """
    for tag in _tag_list(tags):
        if _matches(str(name), tag):
            key, sep, value = tag.partition("=")
            return value if sep else key
    return str(default)


def has_tag(name: object, tags: object) -> bool:
    """``hasTag(name, tags)``: whether a tag ``name`` or ``name=…`` exists (case-blind)."""
    return any(_matches(str(name), tag) for tag in _tag_list(tags))


def _prefixed(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix and name else name


def _template_funcs(prefix: str) -> dict[str, TemplateFunc]:
    def get_attribute(name: object, tags: object, default: object) -> str:
        return get_tag(_prefixed(prefix, str(name)), tags, default)

    return {"getTag": get_tag, "hasTag": has_tag, "getAttribute": get_attribute}


# -- decoding -----------------------------------------------------------------------------------


@attrs.frozen
class _Kept:
    """A service that has instances left after filtering."""

    name: str  # lower-cased, as Traefik queries it
    original: str
    instances: tuple[CatalogInstance, ...]
    attributes: tuple[str, ...]
    labels: dict[str, tuple[str, str]]  # neutral key → (value, tag key as written)


@attrs.frozen
class _Ctx:
    domain: str
    prefix: str
    template: Template
    funcs: Mapping[str, TemplateFunc]
    exposed_by_default: bool
    strict_checks: bool
    problems: list[Problem]
    reported: set[tuple[str, str]] = attrs.field(factory=set)

    def where(self, service: str, key: str | None = None) -> str:
        if key is None:
            return f"Consul service {service!r}"
        return f"tag {key!r} on Consul service {service!r}"

    @property
    def wording(self) -> dict[str, str]:
        """How the shared v1 option decoder names things here: tags on Consul services."""
        return {"noun": "tag", "owner": "Consul service", "prefix": self.prefix}

    def report(self, problem: Problem) -> None:
        # Instances of one service usually carry the same tags: say each thing once.
        if (problem.source or "", problem.message) not in self.reported:
            self.reported.add((problem.source or "", problem.message))
            self.problems.append(problem)


def consul_catalog_v1_to_config(
    services: Sequence[CatalogService],
    *,
    domain: str = "",
    prefix: str = "traefik",
    frontend_rule: str = DEFAULT_FRONTEND_RULE,
    exposed_by_default: bool = True,
    strict_checks: bool = True,
) -> tuple[Configuration, tuple[Problem, ...]]:
    """Decode Consul catalog services the way Traefik 1.7's ``consulCatalog`` provider does.

    Args:
        services: the catalog services with all their instances (healthy or not).
        domain: the provider's ``domain``, ``.Domain`` in the rule template.
        prefix: the provider's ``prefix``: tags ``<prefix>.<property>=<value>`` configure Traefik.
        frontend_rule: the provider's ``frontEndRule`` Go template.
        exposed_by_default: the provider's ``exposedByDefault``; ``<prefix>.enable`` overrides it
            per instance.
        strict_checks: the provider's ``strictChecks``: only ``passing`` instances are served;
            ``False`` also serves ``warning`` ones.

    Returns:
        The configuration (v1 names, rules translated to v3) and every problem found: unknown or
        unsupported tags, bad values, rules that cannot be rendered.  An element with an error is
        left out; the rest still applies.

    Raises:
        ConfigError: *frontend_rule* is not a template routekit can render.
    """
    funcs = _template_funcs(prefix)
    problems: list[Problem] = []
    ctx = _Ctx(
        domain=domain,
        prefix=prefix,
        template=compile_template(frontend_rule, funcs=funcs),
        funcs=funcs,
        exposed_by_default=exposed_by_default,
        strict_checks=strict_checks,
        problems=problems,
    )
    b = V1Builder()
    kept = _keep(services, ctx)
    # config.go sorts the instances of all services together (nodeSorter) and numbers them in
    # that order; the number is part of the server name.  Node name and ID only break ties.
    nodes = sorted(
        ((service, inst) for service in kept for inst in service.instances),
        key=lambda si: (
            (si[1].service or si[0].original).lower(),
            si[1].address,
            si[1].node_address,
            si[1].port,
            si[1].node,
            si[1].service_id,
        ),
    )
    for index, (service, inst) in enumerate(nodes):
        _server(service, inst, index, ctx, b)
    for service in kept:
        _frontends(service, ctx, b)
    config, found = decode_v1(b.data, b.locate)
    problems.extend(found)
    return config, tuple(problems)


def _keep(services: Sequence[CatalogService], ctx: _Ctx) -> list[_Kept]:
    kept: list[_Kept] = []
    seen: dict[str, str] = {}
    for service in sorted(services, key=lambda s: s.name):
        name = service.name.lower()
        if " " in name:
            # consul_catalog.go getNodes skips these names.
            ctx.report(
                Problem("", "a service name with a space is not served", ctx.where(service.name))
            )
            continue
        if name in seen:
            ctx.report(
                Problem(
                    "",
                    f"same name as Consul service {seen[name]!r} ignoring case; only that one "
                    "is served",
                    ctx.where(service.name),
                )
            )
            continue
        seen[name] = service.name
        instances = tuple(i for i in service.instances if _enabled(service, i, ctx))
        instances = tuple(i for i in instances if _healthy(i, ctx.strict_checks))
        if not instances:
            continue
        # healthyNodes: the service's attributes are the union of its kept instances' tags.
        attributes = tuple(sorted({t for i in instances for t in i.tags}))
        labels = _neutral_labels(service.name, attributes, ctx)
        kept.append(_Kept(name, service.name, instances, attributes, labels))
    return kept


def _enabled(service: CatalogService, inst: CatalogInstance, ctx: _Ctx) -> bool:
    key = _prefixed(ctx.prefix, "enable")
    raw = get_tag(key, inst.tags, "")
    if not raw:
        return ctx.exposed_by_default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    ctx.report(
        Problem(
            "enable",
            f"expected true or false, got {raw!r}; exposedByDefault "
            f"({str(ctx.exposed_by_default).lower()}) applies",
            ctx.where(service.name, key),
            severity="warning",
        )
    )
    return ctx.exposed_by_default


def _healthy(inst: CatalogInstance, strict: bool) -> bool:
    # hasPassingChecks: a failing serfHealth means the node is gone, whatever the other checks say.
    if any(cid == "serfHealth" and st != "passing" for cid, st in inst.checks.items()):
        return False
    status = inst.status
    return status == "passing" or (not strict and status == "warning")


def _neutral_labels(
    service: str, attributes: Sequence[str], ctx: _Ctx
) -> dict[str, tuple[str, str]]:
    """``tagsToNeutralLabels``: ``<prefix>.x=v`` → ``traefik.x``; other tags are left out."""
    head = ctx.prefix + "."
    labels: dict[str, tuple[str, str]] = {}
    for tag in attributes:
        key, sep, value = tag.partition("=")
        if not key.lower().startswith(head.lower()):
            continue
        if not sep:
            ctx.report(
                Problem(
                    key[len(head) :],
                    f"tag {tag!r} has no '=value': it is not configuration "
                    "(getTag/hasTag still see it)",
                    ctx.where(service, tag),
                    severity="warning",
                )
            )
            continue
        neutral = "traefik." + key[len(head) :]
        earlier = labels.get(neutral)
        if earlier is not None:
            if neutral.lower()[len("traefik.") :] not in _PER_INSTANCE:
                # Traefik merges the instances' tags into one map: which value wins is random.
                ctx.report(
                    Problem(
                        neutral[len("traefik.") :],
                        f"instances disagree: {earlier[1]}={earlier[0]!r} and {tag!r}; "
                        "the first applies",
                        ctx.where(service, key),
                        severity="warning",
                    )
                )
            continue
        labels[neutral] = (value, key)
    return labels


def _server(service: _Kept, inst: CatalogInstance, index: int, ctx: _Ctx, b: V1Builder) -> None:
    registered = inst.service or service.original
    where = f"Consul service {service.original!r}, instance {inst.service_id or inst.node!r}"
    address = inst.address or inst.node_address
    if not address:
        ctx.report(Problem("", "the instance has no service address and no node address", where))
        return
    scheme = get_tag(_prefixed(ctx.prefix, "protocol"), inst.tags, "http")
    weight = _weight(service, inst, ctx)
    name = _server_name(registered, inst.address, inst.port, inst.tags, index)
    # getNodeBackendName lower-cases the registered name, as the frontends' backend does.
    backend = "backend-" + service.name
    url = f"{scheme}://{join_host_port(address, inst.port)}"
    b.set(("backends", backend, "servers", name, "url"), url, where)
    b.set(("backends", backend, "servers", name, "weight"), weight, where)


def _server_name(service: str, address: str, port: int, tags: Sequence[str], index: int) -> str:
    """``getServerName``: ``Normalize(<service>-<index>-<base64url(sha1(…))>)``.

    The hash covers the registered name, the *service* address (empty when the node address is
    used), the port and the tags in their registered order.
    """
    # A naming hash, as in Traefik, not a security measure.
    digest = hashlib.sha1((service + address + str(port) + "".join(tags)).encode()).digest()
    return normalize(f"{service}-{index}-{base64.urlsafe_b64encode(digest).decode()}")


def _weight(service: _Kept, inst: CatalogInstance, ctx: _Ctx) -> int:
    # getWeight: <prefix>.weight, overridden by the deprecated <prefix>.backend.weight.
    weight = 1
    for prop in ("weight", "backend.weight"):
        key = _prefixed(ctx.prefix, prop)
        if not has_tag(key, inst.tags):
            continue
        raw = get_tag(key, inst.tags, "")
        if prop == "backend.weight":
            ctx.report(
                Problem(
                    prop,
                    f"{key} is deprecated",
                    ctx.where(service.original, key),
                    f"use {_prefixed(ctx.prefix, 'weight')}",
                    severity="warning",
                )
            )
        try:
            weight = parse_int(raw) if raw else 1
        except ValueError:
            ctx.report(
                Problem(
                    prop,
                    f"expected an integer, got {raw!r}; the weight is 1",
                    ctx.where(service.original, key),
                    severity="warning",
                )
            )
            weight = 1
    return weight


def _frontends(service: _Kept, ctx: _Ctx, b: V1Builder) -> None:
    backend = "backend-" + service.name
    main: dict[str, tuple[str, str]] = {}
    segments: dict[str, dict[str, tuple[str, str]]] = {}
    # getAttribute/getTag let a rule template read any tag, so a tag that is no v1 property may
    # still be meant for the template: then it is only worth a warning.
    rules = [ctx.template.source] + [
        v for k, (v, _) in service.labels.items() if k.lower().endswith(".rule")
    ]
    reads_tags = any("getAttribute" in r or "getTag" in r for r in rules)
    for neutral, (value, key) in service.labels.items():
        rest = neutral[len("traefik.") :]
        lowered = rest.lower()
        head, _, tail = lowered.partition(".")
        if lowered in _PER_INSTANCE:
            continue
        if lowered in _IGNORED:
            ctx.report(
                Problem(
                    rest,
                    f"{key} is not read by Traefik 1.7's Consul catalog provider; ignored",
                    ctx.where(service.original, key),
                    _IGNORED[lowered],
                    severity="warning",
                )
            )
        elif head == "frontends":
            # generateFrontends: <prefix>.frontends.<name>.<option> → that frontend's
            # traefik.frontend.<option>; the name keeps its case.
            segment, _, option = rest.partition(".")[2].partition(".")
            if not segment or not option:
                _unknown(service, rest, key, ctx)
                continue
            segments.setdefault(segment, {})["traefik.frontend." + option] = (value, key)
        elif head in ("frontend", "backend") and tail:
            main[neutral] = (value, key)
        else:
            _unknown(service, rest, key, ctx, template_property=reads_tags)
    _deprecated_load_balancer(service, main, ctx)
    _frontend(service, service.name, main, backend, ctx, b)
    for segment in sorted(segments):
        _frontend(service, f"{service.name}-{segment}", segments[segment], backend, ctx, b)


def _unknown(
    service: _Kept, rest: str, key: str, ctx: _Ctx, *, template_property: bool = False
) -> None:
    close = closest(rest, _KNOWN_TOP)
    hint = (
        f"did you mean '{ctx.prefix}.{close}'?"
        if close is not None
        else f"v1 tags: {ctx.prefix}." + ", .".join([*_KNOWN_TOP, "frontend.*", "backend.*"])
    )
    where = ctx.where(service.original, key)
    if template_property:
        message = f"{key!r} is no v1 property; only the frontend rule template can read it"
        ctx.report(Problem(rest, message, where, hint, severity="warning"))
        return
    ctx.report(Problem(rest, f"unknown v1 tag {key!r}", where, hint))


def _deprecated_load_balancer(
    service: _Kept, labels: dict[str, tuple[str, str]], ctx: _Ctx
) -> None:
    # config.go getLoadBalancer: <prefix>.backend.loadbalancer=<method> still sets the method.
    for neutral in list(labels):
        if neutral.lower() != "traefik.backend.loadbalancer":
            continue
        value, key = labels.pop(neutral)
        ctx.report(
            Problem(
                "backend.loadbalancer",
                f"{key} is deprecated",
                ctx.where(service.original, key),
                f"use {key}.method",
                severity="warning",
            )
        )
        if not any(k.lower() == "traefik.backend.loadbalancer.method" for k in labels):
            labels["traefik.backend.loadbalancer.method"] = (value, key)


def _frontend(  # noqa: PLR0917 - one frontend's whole context
    service: _Kept,
    name: str,
    labels: dict[str, tuple[str, str]],
    backend: str,
    ctx: _Ctx,
    b: V1Builder,
) -> None:
    frontend = "frontend-" + name
    rule_item = next(
        (item for k, item in labels.items() if k.lower() == "traefik.frontend.rule"), None
    )
    where = ctx.where(service.original, rule_item[1] if rule_item else None)
    rule = _rule(service, name, rule_item, where, ctx)

    def locate(key: str | None) -> str:
        return ctx.where(service.original, key)

    if rule is None:
        # Without a frontend the backend options still apply (the backend is served elsewhere).
        copy_v1_options(labels, backend, None, b, ctx.problems, locate, **ctx.wording)
        return
    b.set(("frontends", frontend, "backend"), backend, where)
    b.set(("frontends", frontend, "routes", "route-host-" + name, "rule"), rule, where)
    copy_v1_options(labels, backend, frontend, b, ctx.problems, locate, **ctx.wording)


def _rule(
    service: _Kept, name: str, item: tuple[str, str] | None, where: str, ctx: _Ctx
) -> str | None:
    """``getFrontendRule``: the rule tag or the provider's template, rendered; ``None`` if none."""
    template = ctx.template
    if item is not None and item[0]:
        try:
            template = compile_template(item[0], funcs=ctx.funcs)
        except ConfigError as exc:
            ctx.report(Problem("frontend.rule", str(exc), where))
            return None
    data = {"ServiceName": name, "Domain": ctx.domain, "Attributes": service.attributes}
    try:
        rule = template.render(data)
    except ConfigError as exc:
        ctx.report(Problem("frontend.rule", str(exc), where))
        return None
    # Traefik 1.7 drops a trailing "." so that an empty domain gives "Host:<service>".
    rule = rule.removesuffix(".")
    if not rule.strip():
        ctx.report(
            Problem(
                "frontend.rule",
                f"the frontend rule of {name!r} renders empty: the frontend is not served",
                where,
                f"set a {_prefixed(ctx.prefix, 'frontend.rule')} tag",
            )
        )
        return None
    return rule
