"""examples/kubernetes/: the manifests of a routekit ingress controller are what the provider
needs — its static file loads, its RBAC grants every request the provider makes, and the
example application's Ingress is served as Traefik would serve it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from _kube_objects import endpoint, endpoint_slice
from routekit.config import (
    TRAEFIK_INGRESS_CONTROLLER,
    ClusterState,
    IngressOptions,
    ingress_to_config,
    loads_static,
)
from routekit.providers import KubernetesIngressProvider

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "kubernetes"


def documents(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((EXAMPLE / name).read_text()) if d]


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [d for d in docs if d["kind"] == kind]
    return found


def test_the_rbac_rules_grant_what_the_provider_asks() -> None:
    role = of_kind(documents("rbac.yaml"), "ClusterRole")
    granted = {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    asked = [
        ("networking.k8s.io", "ingresses"), ("networking.k8s.io", "ingressclasses"),
        ("", "services"), ("", "secrets"), ("discovery.k8s.io", "endpointslices"),
    ]  # fmt: skip
    for group, resource in asked:
        assert {(group, resource, "list"), (group, resource, "watch")} <= granted, resource
    assert ("networking.k8s.io", "ingresses/status", "patch") in granted


def test_the_controllers_static_file_and_ingress_class(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = documents("routekit.yaml")
    assert of_kind(docs, "IngressClass")["spec"]["controller"] == TRAEFIK_INGRESS_CONTROLLER
    static = loads_static(of_kind(docs, "ConfigMap")["data"]["routekit.toml"])
    assert set(static.entry_points) >= {"web", "websecure"}
    config = static.providers.kubernetes
    assert config is not None and config.ingress_class == "routekit"
    # Inside the pod: the service account is found by itself.
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    provider = KubernetesIngressProvider.from_config(config)
    assert provider.credentials.server == "https://10.96.0.1:443"
    assert provider.credentials.token_file == "/var/run/secrets/kubernetes.io/serviceaccount/token"
    assert provider.ingress_endpoint is not None
    assert provider.ingress_endpoint.published_service == "routekit/routekit"
    deployment = of_kind(docs, "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert "routekit serve --config /etc/routekit/routekit.toml" in container["command"][-1]


def test_the_example_application_is_served() -> None:
    app = documents("whoami.yaml")
    ingress, service = of_kind(app, "Ingress"), of_kind(app, "Service")
    for obj in (ingress, service):
        obj["metadata"].setdefault("namespace", "default")
    pods = endpoint_slice(
        "default", "whoami", [endpoint("10.42.0.7"), endpoint("10.42.1.3")], (("http", 80),)
    )
    ingress_class = of_kind(documents("routekit.yaml"), "IngressClass")
    result = ingress_to_config(
        ClusterState(
            ingresses=[ingress],
            services=[service],
            endpoint_slices=[pods],
            ingress_classes=[ingress_class],
        ),
        IngressOptions(ingress_class="routekit"),
    )
    router = result.config.http.routers["default-whoami-whoami-example-com"]
    assert router.rule == 'Host("whoami.example.com") && PathPrefix("/")'
    assert router.entry_points == ("web", "websecure")
    lb = result.config.http.services["default-whoami-http"].load_balancer
    assert lb is not None
    assert [s.url for s in lb.servers] == ["http://10.42.0.7:80", "http://10.42.1.3:80"]
    # Its TLS secret is created by hand (kubectl create secret tls): until then, it is named.
    (problem,) = result.problems
    assert "secret default/whoami-tls does not exist" in str(problem)
