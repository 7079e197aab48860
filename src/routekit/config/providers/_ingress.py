"""Kubernetes Ingress objects → a configuration, as Traefik's Kubernetes Ingress provider.

The objects are the JSON the API server sends (``networking.k8s.io/v1`` Ingress and
IngressClass, ``v1`` Service and Secret, ``discovery.k8s.io/v1`` EndpointSlice), held by the
provider's watches; this module is pure and deterministic, so a cluster's state can be
replayed, diffed and property-tested without a cluster.

The translation follows ``pkg/provider/kubernetes/ingress/kubernetes.go`` and
https://doc.traefik.io/traefik/routing/providers/kubernetes-ingress/:

- one router per path, named ``normalize(<namespace>-<ingress>-<host><path>)`` (a hash of the
  rule is appended when two paths give the same name), with the rule ``Host("h") &&
  PathPrefix("/p")`` — ``Path`` for ``pathType: Exact``, the ``router.pathmatcher``
  annotation for ``ImplementationSpecific``;
- one service per backend Service port, ``normalize(<namespace>-<service>-<port>)``, whose
  servers are the serving addresses of the Service's EndpointSlices (or its cluster IP with
  ``nativeLB``, or its external name when ExternalName services are allowed);
- an Ingress without rules and with a ``defaultBackend`` gives ``default-router`` →
  ``default-backend`` at the lowest priority;
- ``spec.tls`` secrets become certificates (``tls.crt``/``tls.key``);
- the ``traefik.ingress.kubernetes.io/router.*`` annotations of an Ingress and ``service.*``
  annotations of a Service are read as labels are (``router.entrypoints``,
  ``router.middlewares``, ``router.priority``, ``router.tls``, ``service.sticky.cookie``…).

Where Traefik logs an error and skips a path, a backend or an Ingress, routekit does the same
and reports a `Problem` naming the object and the field.  One difference: endpoints that are
terminating are left out (Traefik keeps them "fenced", for sticky sessions only; routekit's
balancers have no fenced servers).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, Final, final

import attrs

from ...errors import Problem
from ..model import MIN_PRIORITY, Configuration, Node, decode_configuration, split_label_key
from ._gotemplate import normalize

__all__ = [
    "INGRESS_CLASS_ANNOTATION",
    "TRAEFIK_INGRESS_CONTROLLER",
    "ClusterState",
    "IngressOptions",
    "IngressResult",
    "ingress_to_config",
    "object_key",
]

#: The annotation that named an Ingress's class before ``spec.ingressClassName``.
INGRESS_CLASS_ANNOTATION: Final = "kubernetes.io/ingress.class"
#: The ``spec.controller`` of the IngressClass objects this provider serves.
TRAEFIK_INGRESS_CONTROLLER: Final = "traefik.io/ingress-controller"
_ANNOTATIONS: Final = "traefik.ingress.kubernetes.io/"
_SERVICE_NAME_LABEL: Final = "kubernetes.io/service-name"
_PATH_MATCHERS: Final = ("Path", "PathPrefix", "PathRegexp")
#: Service annotations the provider itself reads; the others go to the load balancer.
_SERVICE_OWN: Final = ("serversscheme", "nativelb", "nodeportlb")
_SERVICE_TO_LB: Final = {
    "passhostheader": "passHostHeader",
    "serverstransport": "serversTransport",
    "sticky": "sticky",
}

JSON = Mapping[str, Any]


@final
@attrs.frozen(kw_only=True)
class IngressOptions:
    """The provider options that change the translation (Traefik's names in brackets).

    Attributes:
        ingress_class: serve only this class (``ingressClass``): the IngressClass of that
            name, or Ingresses annotated with it; empty serves the class-less ones, those
            annotated ``traefik`` and every class of Traefik's controller.
        ingress_class_lookup: read IngressClass objects (off with
            ``disableIngressClassLookup`` / ``disableClusterScopeResources``).
        allow_empty_services: keep a service without endpoints (``allowEmptyServices``).
        allow_external_name_services: serve ExternalName services
            (``allowExternalNameServices``).
        native_lb_by_default: send to the Service's cluster IP rather than to its endpoints
            (``nativeLBByDefault``; the ``service.nativelb`` annotation decides per Service).
        strict_prefix_matching: ``Prefix`` paths match whole path elements, as the Ingress
            specification says (``strictPrefixMatching``).
        cross_provider_namespaces: the namespaces allowed to refer to middlewares, TLS options
            and servers transports (``crossProviderNamespaces``); ``None`` allows all.
    """

    ingress_class: str = ""
    ingress_class_lookup: bool = True
    allow_empty_services: bool = False
    allow_external_name_services: bool = False
    native_lb_by_default: bool = False
    strict_prefix_matching: bool = False
    cross_provider_namespaces: tuple[str, ...] | None = None


def _objects(value: Iterable[JSON]) -> tuple[JSON, ...]:
    return tuple(value)


@final
@attrs.frozen
class ClusterState:
    """The objects the provider follows, as the API server sent them (JSON objects)."""

    ingresses: tuple[JSON, ...] = attrs.field(default=(), converter=_objects)
    services: tuple[JSON, ...] = attrs.field(default=(), converter=_objects)
    endpoint_slices: tuple[JSON, ...] = attrs.field(default=(), converter=_objects)
    secrets: tuple[JSON, ...] = attrs.field(default=(), converter=_objects)
    ingress_classes: tuple[JSON, ...] = attrs.field(default=(), converter=_objects)


@final
@attrs.frozen
class IngressResult:
    """What `ingress_to_config` made of a cluster state.

    Attributes:
        config: the routers, services and certificates.
        problems: each object or field left out, naming it.
        served: ``(namespace, name)`` of every Ingress of this controller's class, in order:
            those whose status the provider keeps up to date.
    """

    config: Configuration
    problems: tuple[Problem, ...]
    served: tuple[tuple[str, str], ...]


class _Bad(Exception):
    """A field of an object is missing or of the wrong type."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def object_key(obj: object) -> tuple[str, str]:
    """``(namespace, name)`` of an object (``""`` for a cluster-scoped one's namespace).

    Raises:
        ValueError: it has no ``metadata.name`` string.
    """
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    name = meta.get("name") if isinstance(meta, Mapping) else None
    if not isinstance(name, str) or not name:
        raise ValueError("an object without metadata.name")
    namespace = meta.get("namespace", "") if isinstance(meta, Mapping) else ""
    return (namespace if isinstance(namespace, str) else "", name)


def _get(
    obj: JSON, field: str, kind: type | tuple[type, ...], where: str, default: Any = None
) -> Any:
    """``obj[field]``, checked to be *kind* (absent or null gives *default*)."""
    value = obj.get(field)
    if value is None:
        return default
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        name = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise _Bad(f"{where}{field}", f"expected {_SHOWN.get(name, name)}, got {value!r}")
    return value


_SHOWN: Final = {"Mapping": "an object", "list": "a list", "str": "a string", "int": "an integer"}


def _map(obj: JSON, field: str, where: str) -> JSON:
    return _get(obj, field, Mapping, where, {})  # type: ignore[no-any-return]


def _list(obj: JSON, field: str, where: str) -> list[Any]:
    return _get(obj, field, list, where, [])  # type: ignore[no-any-return]


def _str(obj: JSON, field: str, where: str) -> str:
    return _get(obj, field, str, where, "")  # type: ignore[no-any-return]


def _labels(obj: JSON, field: str) -> dict[str, str]:
    """``metadata.labels`` or ``metadata.annotations``: string values only."""
    meta = _map(obj, "metadata", "")
    found = _map(meta, field, "metadata.")
    bad = [k for k, v in found.items() if not isinstance(v, str)]
    if bad:
        raise _Bad(f"metadata.{field}.{bad[0]}", "expected a string")
    return dict(found)


def _go_quote(text: str) -> str:
    # Traefik writes rule values with Go's %q: a double-quoted string with \" and \\ escaped.
    return json.dumps(text, ensure_ascii=False)


def _join_host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@final
class _Index:
    """The cluster state's lookups: services and secrets by name, slices by Service."""

    def __init__(self, state: ClusterState) -> None:
        self.services = _by_key(state.services)
        self.secrets = _by_key(state.secrets)
        self.slices: dict[tuple[str, str], list[JSON]] = {}
        for item in sorted(state.endpoint_slices, key=_sort_key):
            try:
                owner = _labels(item, "labels").get(_SERVICE_NAME_LABEL)
                namespace, _ = object_key(item)
            except (_Bad, ValueError):
                continue  # reported where the Service that needs it is used
            if owner:
                self.slices.setdefault((namespace, owner), []).append(item)


def _sort_key(obj: JSON) -> tuple[str, str]:
    try:
        return object_key(obj)
    except ValueError:
        return ("", "")


def _by_key(objects: Iterable[JSON]) -> dict[tuple[str, str], JSON]:
    out: dict[tuple[str, str], JSON] = {}
    for obj in objects:
        try:
            out[object_key(obj)] = obj
        except ValueError:
            continue
    return out


def _classes(state: ClusterState, options: IngressOptions) -> set[str]:
    """The IngressClass names served: Traefik's controller, and the configured name."""
    if not options.ingress_class_lookup:
        return set()
    names = set()
    for item in state.ingress_classes:
        spec = item.get("spec")
        controller = spec.get("controller") if isinstance(spec, Mapping) else None
        try:
            _, name = object_key(item)
        except ValueError:
            continue
        if controller == TRAEFIK_INGRESS_CONTROLLER and options.ingress_class in ("", name):
            names.add(name)
    return names


def _is_ours(ingress: JSON, classes: set[str], options: IngressOptions) -> bool:
    spec = ingress.get("spec")
    named = spec.get("ingressClassName") if isinstance(spec, Mapping) else None
    if isinstance(named, str):
        return named in classes
    meta = ingress.get("metadata")
    notes = meta.get("annotations") if isinstance(meta, Mapping) else None
    annotated = notes.get(INGRESS_CLASS_ANNOTATION, "") if isinstance(notes, Mapping) else ""
    return annotated == options.ingress_class or (
        not options.ingress_class and annotated == "traefik"
    )


def _annotation_tree(annotations: Mapping[str, str], section: str, source: str) -> Node:
    """The ``traefik.ingress.kubernetes.io/<section>.…`` annotations as a label tree."""
    tree = Node(section)
    for key, value in sorted(annotations.items()):
        if not key.startswith(_ANNOTATIONS):
            continue
        parts = split_label_key(key[len(_ANNOTATIONS) :])
        if parts and parts[0].lower() == section and len(parts) > 1:
            tree.insert(parts[1:], value, f"{source}: annotation {key}")
    return tree


def _leaf(tree: Node, name: str) -> str | None:
    node = tree.pop(name)
    return node.value if node is not None else None


@final
class _Translation:
    """One run of `ingress_to_config`: the tree being filled and the problems found."""

    def __init__(self, state: ClusterState, options: IngressOptions) -> None:
        self.options = options
        self.index = _Index(state)
        self.root = Node("kubernetes")
        self.problems: list[Problem] = []
        self.certificates: dict[str, tuple[str, str, str]] = {}
        self.loaded: dict[str, bool] = {}  # service name → made (False: failed)

    def problem(self, source: str, field: str, message: str) -> None:
        self.problems.append(Problem(field, message, source))

    # -- services --

    def service(self, namespace: str, backend: JSON, where: str, source: str) -> str | None:
        """The name of the service for *backend* (``spec…backend``), made on first use."""
        service = _get(backend, "service", Mapping, where)
        if service is None:
            if backend.get("resource") is not None:
                raise _Bad(f"{where}resource", "resource backends are not supported")
            raise _Bad(f"{where}service", "missing service definition")
        name = _str(service, "name", f"{where}service.")
        port = _map(service, "port", f"{where}service.")
        number = _get(port, "number", int, f"{where}service.port.", 0)
        port_name = _str(port, "name", f"{where}service.port.")
        if not name or not (number or port_name):
            raise _Bad(f"{where}service", "a backend needs a service name and a port")
        key = normalize(f"{namespace}-{name}-{port_name or number}")
        if key not in self.loaded:
            self.loaded[key] = self._load(key, namespace, name, number, port_name, source, where)
        return key if self.loaded[key] else None

    def _load(  # noqa: PLR0917
        self, key: str, namespace: str, name: str, number: int, port_name: str, source: str,
        where: str,
    ) -> bool:  # fmt: skip
        what = f"service {namespace}/{name}"
        found = self.index.services.get((namespace, name))
        if found is None:
            self.problem(source, f"{where}service.name", f"{what} not found")
            return False
        try:
            servers, node = self._servers(found, what, number, port_name)
        except _Bad as bad:
            self.problem(what, bad.field, bad.message)
            return False
        if not servers and not self.options.allow_empty_services:
            self.problem(what, "", "no endpoints found: the service is left out "
                         "(allowEmptyServices keeps it)")  # fmt: skip
            return False
        lb = self.root.child("http").child("services").child(key).child("loadBalancer")
        for child in node.children.values():
            lb.children[child.name] = child
        for i, url in enumerate(servers):
            lb.insert(["servers", str(i), "url"], url, what)
        if not servers:
            lb.child("servers")
        return True

    def _servers(
        self, service: JSON, what: str, number: int, port_name: str
    ) -> tuple[list[str], Node]:
        spec = _map(service, "spec", "")
        annotations = _labels(service, "annotations")
        node = _annotation_tree(annotations, "service", what)
        scheme = (_leaf(node, "serversscheme") or "").strip()
        native = _leaf(node, "nativelb")
        _leaf(node, "nodeportlb")  # NodePort balancing needs the nodes: not read here
        lb = Node("loadBalancer")
        for child in list(node.children.values()):
            lb.children[_SERVICE_TO_LB.get(child.name.lower(), child.name)] = child
        if lb.find("serversTransport") is not None and not self._cross_allowed(service):
            raise _Bad("metadata.annotations", "a serversTransport reference is not allowed "
                       "from this namespace (crossProviderNamespaces)")  # fmt: skip
        ports = _list(spec, "ports", "spec.")
        chosen: JSON | None = None
        for i, item in enumerate(ports):
            if not isinstance(item, Mapping):
                raise _Bad(f"spec.ports[{i}]", "expected an object")
            named = _str(item, "name", f"spec.ports[{i}].")
            if _get(item, "port", int, f"spec.ports[{i}].", 0) == number or (
                port_name and named == port_name
            ):
                chosen = item
                break
        if chosen is None:
            raise _Bad("spec.ports", f"no port {port_name or number}")
        port = int(chosen["port"])
        chosen_name = _str(chosen, "name", "spec.ports.")

        def protocol(name: str) -> str:
            if scheme:
                return scheme
            return "https" if port == 443 or name.startswith("https") else "http"

        kind = _str(spec, "type", "spec.") or "ClusterIP"
        if kind == "ExternalName":
            if not self.options.allow_external_name_services:
                raise _Bad("spec.type", "ExternalName services are not allowed "
                           "(allowExternalNameServices)")  # fmt: skip
            external = _str(spec, "externalName", "spec.")
            return [f"{protocol(chosen_name)}://{_join_host_port(external, port)}"], lb
        use_native = self.options.native_lb_by_default if native is None else _true(native)
        if use_native:
            ip = _str(spec, "clusterIP", "spec.")
            if ip in ("", "None"):
                raise _Bad("spec.clusterIP", "no cluster IP (a headless service) for nativeLB")
            return [f"{protocol(chosen_name)}://{_join_host_port(ip, port)}"], lb
        return self._endpoints(service, chosen_name, protocol), lb

    def _endpoints(self, service: JSON, port_name: str, protocol: Any) -> list[str]:
        namespace, name = object_key(service)
        urls: list[str] = []
        seen: set[str] = set()
        for item in self.index.slices.get((namespace, name), []):
            where = f"endpointslice {'/'.join(object_key(item))}"
            try:
                target = 0
                for p in _list(item, "ports", ""):
                    if isinstance(p, Mapping) and (p.get("name") or "") == port_name:
                        target = _get(p, "port", int, "ports[].", 0)
                        break
                if not target:
                    continue
                for endpoint in _list(item, "endpoints", ""):
                    if not isinstance(endpoint, Mapping):
                        raise _Bad("endpoints[]", "expected an object")
                    conditions = _map(endpoint, "conditions", "endpoints[].")
                    # A nil "serving" means true (the API's documented default); terminating
                    # endpoints receive no new connections here (see the module docstring).
                    if conditions.get("serving") is False or conditions.get("terminating") is True:
                        continue
                    for address in _list(endpoint, "addresses", "endpoints[]."):
                        if isinstance(address, str) and address not in seen:
                            seen.add(address)
                            where_to = _join_host_port(address, target)
                            urls.append(f"{protocol(port_name)}://{where_to}")
            except _Bad as bad:
                self.problem(where, bad.field, bad.message)
        return urls

    def _cross_allowed(self, obj: JSON) -> bool:
        allowed = self.options.cross_provider_namespaces
        return allowed is None or object_key(obj)[0] in allowed

    # -- ingresses --

    def ingress(self, ingress: JSON) -> None:
        namespace, name = object_key(ingress)
        source = f"ingress {namespace}/{name}"
        annotations = _labels(ingress, "annotations")
        router = _annotation_tree(annotations, "router", source)
        if not self._cross_allowed(ingress):
            tls = router.find("tls")
            options = tls.find("options") if tls else None
            for refused, node in (("middlewares", router.find("middlewares")),
                                  ("TLS options", options)):  # fmt: skip
                if node is not None:
                    self.problem(source, "metadata.annotations",
                                 f"a cross-provider {refused} reference is not allowed from "
                                 f"namespace {namespace!r} (crossProviderNamespaces)")  # fmt: skip
                    return
        self._certificates(ingress, namespace, source)
        spec = _map(ingress, "spec", "")
        rules = _list(spec, "rules", "spec.")
        default = _map(spec, "defaultBackend", "spec.")
        if not rules and default:
            self._default(namespace, default, router, source)
        routers: dict[str, list[Node]] = {}
        for i, rule in enumerate(rules):
            where = f"spec.rules[{i}]."
            if not isinstance(rule, Mapping):
                raise _Bad(f"spec.rules[{i}]", "expected an object")
            host = _str(rule, "host", where)
            http = _map(rule, "http", where)
            for j, path in enumerate(_list(http, "paths", f"{where}http.")):
                at = f"{where}http.paths[{j}]."
                try:
                    if not isinstance(path, Mapping):
                        raise _Bad(at[:-1], "expected an object")
                    made = self._path(namespace, name, host, path, router, at, source)
                except _Bad as bad:
                    self.problem(source, bad.field, bad.message)
                    continue
                if made is not None:
                    routers.setdefault(made[0], []).append(made[1])
        for key, nodes in routers.items():
            for node in nodes:
                if len(nodes) > 1:  # the same name from two paths: each gets its rule's hash
                    digest = hashlib.sha256((node.find("rule") or Node("")).value.encode())  # type: ignore[union-attr]
                    node.name = f"{key}-{digest.hexdigest()[:20]}"
                self.root.child("http").child("routers").children[node.name] = node

    def _path(  # noqa: PLR0917
        self, namespace: str, name: str, host: str, path: JSON, router: Node, at: str,
        source: str,
    ) -> tuple[str, Node] | None:  # fmt: skip
        backend = _get(path, "backend", Mapping, at)
        if backend is None:
            raise _Bad(f"{at}backend", "missing backend")
        value = _str(path, "path", at)
        kind = _str(path, "pathType", at) or "ImplementationSpecific"
        service = self.service(namespace, backend, f"{at}backend.", source)
        if service is None:
            return None
        node = _copy(router)
        matcher = _leaf(node, "pathmatcher")
        syntax = (node.find("rulesyntax") or Node("")).value
        parts = []
        if host:
            parts.append(_v2_host(host) if syntax == "v2" else f"Host({_go_quote(host)})")
        if value:
            chosen = "PathPrefix"
            if kind == "Exact":
                chosen = "Path"
            elif kind == "ImplementationSpecific" and matcher:
                if matcher not in _PATH_MATCHERS:
                    raise _Bad(f"{at}path", f"invalid router path matcher {matcher!r}: must be "
                               "one of Path, PathPrefix, PathRegexp")  # fmt: skip
                chosen = matcher
            parts.append(self._path_rule(chosen, value))
        where = f"{source}: {at[:-1]}"
        node.insert(["rule"], " && ".join(parts), where)
        node.insert(["service"], service, where)
        node.name = normalize(f"{namespace}-{name}-{host}{value}")
        return node.name, node

    def _path_rule(self, matcher: str, path: str) -> str:
        if self.options.strict_prefix_matching and matcher == "PathPrefix" and path != "/":
            # Ingress's Prefix matches path elements: /v1 matches /v1 and /v1/x, not /v12.
            bare = path.removesuffix("/")
            return f"(Path({_go_quote(bare)}) || PathPrefix({_go_quote(bare + '/')}))"
        return f"{matcher}({_go_quote(path)})"

    def _default(self, namespace: str, backend: JSON, router: Node, source: str) -> None:
        if "default-backend" in self.root.child("http").child("services").children:
            self.problem(source, "spec.defaultBackend", "the default backend already exists")
            return
        try:
            real = self.service(namespace, backend, "spec.defaultBackend.", source)
        except _Bad as bad:
            self.problem(source, bad.field, bad.message)
            return
        if real is None:
            return
        services = self.root.child("http").child("services")
        made = services.children[real]
        services.children["default-backend"] = Node("default-backend", children=made.children)
        node = Node("default-router")
        for kept in ("entrypoints", "middlewares", "tls"):
            found = router.find(kept)
            if found is not None:
                node.children[found.name] = _copy(found)
        where = f"{source}: spec.defaultBackend"
        node.insert(["rule"], 'PathPrefix("/")', where)
        node.insert(["priority"], str(max(MIN_PRIORITY, -(2**31))), where)
        node.insert(["service"], "default-backend", where)
        self.root.child("http").child("routers").children["default-router"] = node

    def _certificates(self, ingress: JSON, namespace: str, source: str) -> None:
        spec = _map(ingress, "spec", "")
        for i, item in enumerate(_list(spec, "tls", "spec.")):
            if not isinstance(item, Mapping):
                raise _Bad(f"spec.tls[{i}]", "expected an object")
            secret = _str(item, "secretName", f"spec.tls[{i}].")
            key = f"{namespace}-{secret}"
            if not secret or key in self.certificates:
                continue
            what = f"secret {namespace}/{secret}"
            found = self.index.secrets.get((namespace, secret))
            if found is None:
                self.problem(source, f"spec.tls[{i}].secretName", f"{what} does not exist")
                continue
            try:
                data = _map(found, "data", "")
                pem = [_secret_value(data, entry) for entry in ("tls.crt", "tls.key")]
            except _Bad as bad:
                self.problem(what, bad.field, bad.message)
                continue
            self.certificates[key] = (pem[0], pem[1], what)

    def finish(self) -> Configuration:
        for i, key in enumerate(sorted(self.certificates)):
            cert, private, what = self.certificates[key]
            self.root.insert(["tls", "certificates", str(i), "certFile"], cert, what)
            self.root.insert(["tls", "certificates", str(i), "keyFile"], private, what)
        config, _ = decode_configuration(self.root, problems=self.problems)
        return config


def _secret_value(data: JSON, entry: str) -> str:
    raw = data.get(entry)
    if not isinstance(raw, str) or not raw:
        raise _Bad(f"data.{entry}", "missing or empty: a TLS secret needs tls.crt and tls.key")
    try:
        return base64.b64decode(raw, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise _Bad(f"data.{entry}", "not base64-encoded PEM text") from None


def _v2_host(host: str) -> str:
    if host.startswith("*."):
        return f"HostRegexp({_go_quote('{subdomain:[a-zA-Z0-9-]+}.' + host[2:])})"
    return f"Host({_go_quote(host)})"


def _true(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "t", "yes")


def _copy(node: Node) -> Node:
    return Node(node.name, node.value, node.source, {k: _copy(v) for k, v in node.children.items()})


def ingress_to_config(state: ClusterState, options: IngressOptions | None = None) -> IngressResult:
    """Translate the Ingresses of *state* served by this controller, as Traefik does.

    Ingresses are taken in ``namespace/name`` order, so the result depends on the objects
    only, not on the order they arrived in.  A malformed object is reported with its kind,
    ``namespace/name`` and field, and left out; the rest applies.
    """
    options = options if options is not None else IngressOptions()
    run = _Translation(state, options)
    classes = _classes(state, options)
    served = []
    for ingress in sorted(state.ingresses, key=_sort_key):
        try:
            key = object_key(ingress)
        except ValueError as exc:
            run.problem("ingress", "metadata.name", str(exc))
            continue
        if not _is_ours(ingress, classes, options):
            continue
        served.append(key)
        try:
            run.ingress(ingress)
        except _Bad as bad:
            run.problem(f"ingress {key[0]}/{key[1]}", bad.field, bad.message)
    config = run.finish()
    return IngressResult(config, tuple(run.problems), tuple(served))
