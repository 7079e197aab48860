"""Kubernetes objects as the API server serializes them, for the Ingress tests.

Each builder gives the JSON of one object of ``networking.k8s.io/v1``, ``v1`` or
``discovery.k8s.io/v1`` (https://kubernetes.io/docs/reference/kubernetes-api/), with the fields
a real server fills in (``uid``, ``resourceVersion`` are set by the stand-in API server).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

Obj = dict[str, Any]


def _meta(
    namespace: str | None,
    name: str,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> Obj:
    meta: Obj = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def path(
    service: str,
    port: int | str = 80,
    value: str = "/",
    kind: str = "Prefix",
) -> Obj:
    """One ``spec.rules[].http.paths[]`` item to *service*:*port* (a number or a port name)."""
    ref = {"number": port} if isinstance(port, int) else {"name": port}
    return {"path": value, "pathType": kind, "backend": {"service": {"name": service, "port": ref}}}


def ingress(
    namespace: str,
    name: str,
    rules: Sequence[tuple[str, Sequence[Obj]]] = (),
    *,
    class_name: str | None = None,
    annotations: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    tls: Sequence[tuple[Sequence[str], str]] = (),
    default: Obj | None = None,
) -> Obj:
    """An Ingress: *rules* are ``(host, paths)``; *tls* ``(hosts, secretName)``."""
    spec: Obj = {}
    if class_name is not None:
        spec["ingressClassName"] = class_name
    if default is not None:
        spec["defaultBackend"] = default
    if rules:
        spec["rules"] = [
            ({"host": host} if host else {}) | {"http": {"paths": list(paths)}}
            for host, paths in rules
        ]
    if tls:
        spec["tls"] = [{"hosts": list(hosts), "secretName": secret} for hosts, secret in tls]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _meta(namespace, name, labels, annotations),
        "spec": spec,
        "status": {"loadBalancer": {}},
    }


def service(
    namespace: str,
    name: str,
    ports: Sequence[tuple[str, int]] = (("", 80),),
    *,
    kind: str = "ClusterIP",
    cluster_ip: str = "10.96.0.10",
    external_name: str = "",
    annotations: Mapping[str, str] | None = None,
    load_balancer: Sequence[Mapping[str, str]] = (),
    external_ips: Sequence[str] = (),
) -> Obj:
    """A Service with *ports* ``(name, port)`` (an empty name for an unnamed port)."""
    spec: Obj = {
        "type": kind,
        "ports": [
            ({"name": n} if n else {}) | {"port": p, "protocol": "TCP", "targetPort": p}
            for n, p in ports
        ],
    }
    if kind == "ExternalName":
        spec["externalName"] = external_name
    else:
        spec["clusterIP"] = cluster_ip
    if external_ips:
        spec["externalIPs"] = list(external_ips)
    status: Obj = {"loadBalancer": {}}
    if load_balancer:
        status["loadBalancer"] = {"ingress": [dict(x) for x in load_balancer]}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(namespace, name, annotations=annotations),
        "spec": spec,
        "status": status,
    }


def endpoint(address: str, *, ready: bool = True, terminating: bool = False) -> Obj:
    """One ``endpoints[]`` item of an EndpointSlice."""
    return {
        "addresses": [address],
        "conditions": {"ready": ready, "serving": ready, "terminating": terminating},
    }


def endpoint_slice(
    namespace: str,
    service_name: str,
    endpoints: Sequence[Obj],
    ports: Sequence[tuple[str, int]] = (("", 8080),),
    *,
    name: str | None = None,
    family: str = "IPv4",
) -> Obj:
    """An EndpointSlice of *service_name* (the ``kubernetes.io/service-name`` label)."""
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": _meta(
            namespace,
            name or f"{service_name}-abc12",
            labels={"kubernetes.io/service-name": service_name},
        ),
        "addressType": family,
        "endpoints": list(endpoints),
        "ports": [{"name": n, "port": p, "protocol": "TCP"} for n, p in ports],
    }


def secret(namespace: str, name: str, cert: str, key: str) -> Obj:
    """A ``kubernetes.io/tls`` Secret (data base64-encoded, as the API sends it)."""
    data = {
        "tls.crt": base64.b64encode(cert.encode()).decode(),
        "tls.key": base64.b64encode(key.encode()).decode(),
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(namespace, name),
        "type": "kubernetes.io/tls",
        "data": data,
    }


def ingress_class(name: str, controller: str = "traefik.io/ingress-controller") -> Obj:
    """A cluster-scoped IngressClass."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": _meta(None, name),
        "spec": {"controller": controller},
    }
