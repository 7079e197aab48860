"""`ingress_to_config`: Kubernetes Ingress objects translated as Traefik's Ingress provider does
(expected names and rules from ``pkg/provider/kubernetes/ingress/kubernetes_test.go``)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _kube_objects import (
    endpoint,
    endpoint_slice,
    ingress,
    ingress_class,
    path,
    secret,
    service,
)
from routekit.config import (
    ClusterState,
    IngressOptions,
    IngressResult,
    ingress_to_config,
    validate,
)
from routekit.request import Request
from routekit.runtime import build

ANNOTATION = "traefik.ingress.kubernetes.io/"
KINDS = {
    "Ingress": "ingresses",
    "Service": "services",
    "EndpointSlice": "endpoint_slices",
    "Secret": "secrets",
    "IngressClass": "ingress_classes",
}


def state(*objects: dict[str, Any]) -> ClusterState:
    groups: dict[str, list[dict[str, Any]]] = {field: [] for field in KINDS.values()}
    for obj in objects:
        groups[KINDS[obj["kind"]]].append(obj)
    return ClusterState(**groups)


def translate(*objects: dict[str, Any], **options: Any) -> IngressResult:
    return ingress_to_config(state(*objects), IngressOptions(**options))


def whoami(namespace: str = "testing", *addresses: str, port: int = 80) -> list[dict[str, Any]]:
    """A Service ``whoami`` on *port* and its slice with *addresses* on 8080."""
    return [
        service(namespace, "whoami", (("", port),)),
        endpoint_slice(namespace, "whoami", [endpoint(a) for a in addresses or ("10.10.0.1",)]),
    ]


def urls(result: IngressResult, name: str) -> list[str]:
    lb = result.config.http.services[name].load_balancer
    assert lb is not None
    return [s.url for s in lb.servers]


def test_one_path_gives_one_router_and_one_service() -> None:
    result = translate(
        ingress("testing", "web", [("traefik.tchouk", [path("whoami", 80, "/bar")])]),
        *whoami("testing", "10.10.0.1", "10.10.0.2"),
    )
    assert result.problems == ()
    assert result.served == (("testing", "web"),)
    router = result.config.http.routers["testing-web-traefik-tchouk-bar"]
    assert router.rule == 'Host("traefik.tchouk") && PathPrefix("/bar")'
    assert router.service == "testing-whoami-80"
    assert urls(result, "testing-whoami-80") == ["http://10.10.0.1:8080", "http://10.10.0.2:8080"]
    runtime = build(result.config)
    assert runtime.route(Request(host="traefik.tchouk", path="/bar/x")) is not None
    assert runtime.route(Request(host="traefik.tchouk", path="/other")) is None


def test_path_types_and_the_path_matcher_annotation() -> None:
    result = translate(
        ingress("testing", "exact", [("a.test", [path("whoami", 80, "/x", "Exact")])]),
        ingress(
            "testing",
            "regexp",
            [("b.test", [path("whoami", 80, "/v[0-9]+", "ImplementationSpecific")])],
            annotations={"traefik.ingress.kubernetes.io/router.pathmatcher": "PathRegexp"},
        ),
        ingress(
            "testing",
            "bad",
            [("c.test", [path("whoami", 80, "/y", "ImplementationSpecific")])],
            annotations={"traefik.ingress.kubernetes.io/router.pathmatcher": "Prefix"},
        ),
        ingress("testing", "nopath", [("d.test", [path("whoami", 80, "")])]),
        *whoami(),
    )
    routers = result.config.http.routers
    assert routers["testing-exact-a-test-x"].rule == 'Host("a.test") && Path("/x")'
    assert routers["testing-regexp-b-test-v-0-9"].rule == 'Host("b.test") && PathRegexp("/v[0-9]+")'
    assert routers["testing-nopath-d-test"].rule == 'Host("d.test")'
    assert not any("testing-bad" in name for name in routers)
    (problem,) = result.problems
    assert problem.source == "ingress testing/bad"
    assert "spec.rules[0].http.paths[0]" in problem.path and "invalid router path matcher" in str(
        problem
    )


def test_two_paths_with_the_same_name_get_the_hash_of_their_rule() -> None:
    result = translate(
        ingress(
            "testing",
            "x",
            [("*.bar", [path("whoami", 80, "/bar")]), ("bar", [path("whoami", 80, "/bar")])],
        ),
        *whoami(),
    )
    names = set(result.config.http.routers)
    # The hashes Traefik's own test expects for these two rules.
    assert names == {
        "testing-x-bar-bar-41871576e140babe40bd",
        "testing-x-bar-bar-605945111a3c9f84dc65",
    }
    rule = result.config.http.routers["testing-x-bar-bar-605945111a3c9f84dc65"].rule
    assert hashlib.sha256(rule.encode()).hexdigest()[:20] == "605945111a3c9f84dc65"


def test_ingress_classes() -> None:
    objects = [
        ingress_class("traefik-lb"),
        ingress_class("nginx", controller="k8s.io/ingress-nginx"),
        ingress("ns", "by-class", [("a.test", [path("whoami")])], class_name="traefik-lb"),
        ingress("ns", "other-class", [("b.test", [path("whoami")])], class_name="nginx"),
        ingress("ns", "unknown-class", [("c.test", [path("whoami")])], class_name="missing"),
        ingress(
            "ns",
            "annotated",
            [("d.test", [path("whoami")])],
            annotations={"kubernetes.io/ingress.class": "traefik"},
        ),
        ingress(
            "ns",
            "annotated-other",
            [("e.test", [path("whoami")])],
            annotations={"kubernetes.io/ingress.class": "nginx"},
        ),
        ingress("ns", "classless", [("f.test", [path("whoami")])]),
        *whoami("ns"),
    ]
    served = {name for _, name in translate(*objects).served}
    assert served == {"by-class", "annotated", "classless"}
    # ingressClass: that IngressClass, or that annotation, and nothing class-less.
    served = {name for _, name in translate(*objects, ingress_class="traefik-lb").served}
    assert served == {"by-class"}
    served = {name for _, name in translate(*objects, ingress_class="nginx").served}
    assert served == {"annotated-other"}  # nginx's IngressClass is not Traefik's controller
    # Without the IngressClass lookup, spec.ingressClassName matches nothing.
    served = {n for _, n in translate(*objects, ingress_class_lookup=False).served}
    assert served == {"annotated", "classless"}


def test_router_annotations() -> None:
    notes = {
        "traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
        "traefik.ingress.kubernetes.io/router.middlewares": "default-auth@kubernetescrd",
        "traefik.ingress.kubernetes.io/router.priority": "42",
        "traefik.ingress.kubernetes.io/router.tls": "true",
        "traefik.ingress.kubernetes.io/router.tls.domains.0.main": "example.com",
        "traefik.ingress.kubernetes.io/router.tls.domains.0.sans": "a.example.com,b.example.com",
        "unrelated.io/annotation": "ignored",
    }
    result = translate(
        ingress("testing", "web", [("example.com", [path("whoami")])], annotations=notes),
        *whoami(),
    )
    assert result.problems == ()
    router = result.config.http.routers["testing-web-example-com"]
    assert router.entry_points == ("websecure",)
    assert router.middlewares == ("default-auth@kubernetescrd",)
    assert router.priority == 42
    assert router.tls is not None
    (domain,) = router.tls.domains
    assert domain.main == "example.com" and domain.sans == ("a.example.com", "b.example.com")


def test_a_bad_annotation_names_itself_and_leaves_the_router_out() -> None:
    notes = {"traefik.ingress.kubernetes.io/router.priority": "high"}
    result = translate(
        ingress("testing", "web", [("example.com", [path("whoami")])], annotations=notes),
        *whoami(),
    )
    assert "testing-web-example-com" not in result.config.http.routers
    (problem,) = result.problems
    assert problem.source == (
        "ingress testing/web: annotation traefik.ingress.kubernetes.io/router.priority"
    )


def test_service_annotations_and_schemes() -> None:
    notes = {
        "traefik.ingress.kubernetes.io/service.sticky.cookie": "true",
        "traefik.ingress.kubernetes.io/service.sticky.cookie.name": "pod",
        "traefik.ingress.kubernetes.io/service.passhostheader": "false",
        "traefik.ingress.kubernetes.io/service.serversscheme": "h2c",
    }
    result = translate(
        ingress("testing", "web", [("a.test", [path("grpc", 80), path("tls", "https-api", "/s")])]),
        service("testing", "grpc", (("", 80),), annotations=notes),
        endpoint_slice("testing", "grpc", [endpoint("10.0.0.1")]),
        service("testing", "tls", (("https-api", 8443),)),
        endpoint_slice("testing", "tls", [endpoint("10.0.0.2")], (("https-api", 9443),)),
    )
    assert result.problems == ()
    lb = result.config.http.services["testing-grpc-80"].load_balancer
    assert lb is not None and not lb.pass_host_header
    assert lb.sticky is not None and lb.sticky.cookie is not None
    assert lb.sticky.cookie.name == "pod"
    assert urls(result, "testing-grpc-80") == ["h2c://10.0.0.1:8080"]
    # A port named https… (or port 443) is reached over HTTPS.
    assert urls(result, "testing-tls-https-api") == ["https://10.0.0.2:9443"]


def test_endpoints_serving_only_deduplicated_ipv6_bracketed() -> None:
    slices = [
        endpoint_slice("ns", "whoami", [
            endpoint("10.0.0.1"), endpoint("10.0.0.2", ready=False),
            endpoint("10.0.0.3", terminating=True), endpoint("10.0.0.1"),
        ], name="whoami-v4"),
        endpoint_slice("ns", "whoami", [endpoint("fd00::1")], name="whoami-v6", family="IPv6"),
        endpoint_slice("ns", "whoami", [endpoint("10.9.9.9")], (("metrics", 9100),),
                       name="whoami-other-port"),
        endpoint_slice("ns", "someone-else", [endpoint("10.8.8.8")]),
    ]  # fmt: skip
    result = translate(
        ingress("ns", "web", [("a.test", [path("whoami")])]),
        service("ns", "whoami"),
        *slices,
    )
    assert urls(result, "ns-whoami-80") == ["http://10.0.0.1:8080", "http://[fd00::1]:8080"]


def test_a_service_without_endpoints_is_left_out_unless_allowed() -> None:
    objects = [ingress("ns", "web", [("a.test", [path("whoami")])]), service("ns", "whoami")]
    result = translate(*objects)
    assert result.config.http.routers == {} and result.config.http.services == {}
    (problem,) = result.problems
    assert problem.source == "service ns/whoami" and "no endpoints found" in problem.message
    allowed = translate(*objects, allow_empty_services=True)
    assert urls(allowed, "ns-whoami-80") == []
    assert "ns-web-a-test" in allowed.config.http.routers


def test_missing_service_and_port() -> None:
    result = translate(
        ingress("ns", "web", [("a.test", [path("nothere"), path("whoami", 81, "/p")])]),
        *whoami("ns"),
    )
    assert result.config.http.routers == {}
    assert sorted(str(p) for p in result.problems) == [
        "ingress ns/web: spec.rules[0].http.paths[0].backend.service.name: service ns/nothere "
        "not found",
        "service ns/whoami: spec.ports: no port 81",
    ]


def test_external_name_and_native_lb() -> None:
    objects = [
        ingress("ns", "web", [("a.test", [path("ext", 443), path("native", 80, "/n")])]),
        service("ns", "ext", (("", 443),), kind="ExternalName", external_name="api.example.com"),
        service("ns", "native", annotations={f"{ANNOTATION}service.nativelb": "true"}),
    ]  # fmt: skip
    result = translate(*objects)
    assert "ns-ext-443" not in result.config.http.services
    assert any("ExternalName services are not allowed" in str(p) for p in result.problems)
    assert urls(result, "ns-native-80") == ["http://10.96.0.10:80"]
    allowed = translate(*objects, allow_external_name_services=True)
    assert urls(allowed, "ns-ext-443") == ["https://api.example.com:443"]


def test_the_default_backend() -> None:
    result = translate(
        ingress("ns", "fallback", default={"service": {"name": "whoami", "port": {"number": 80}}}),
        ingress("ns", "second", default={"service": {"name": "whoami", "port": {"number": 80}}}),
        *whoami("ns"),
    )
    router = result.config.http.routers["default-router"]
    assert router.rule == 'PathPrefix("/")' and router.priority == -(2**31)
    assert router.service == "default-backend"
    assert urls(result, "default-backend") == ["http://10.10.0.1:8080"]
    (problem,) = result.problems
    assert problem.source == "ingress ns/second" and "already exists" in problem.message
    assert build(result.config).route(Request(host="any.test", path="/x")) is not None


def test_tls_secrets_become_certificates() -> None:
    result = translate(
        ingress("ns", "b", [("a.test", [path("whoami")])], tls=[(["a.test"], "cert-b")]),
        ingress("ns", "a", [("b.test", [path("whoami")])], tls=[(["b.test"], "cert-a")]),
        ingress("ns", "c", [("c.test", [path("whoami")])], tls=[(["c.test"], "missing")]),
        secret("ns", "cert-a", "CERT A", "KEY A"),
        secret("ns", "cert-b", "CERT B", "KEY B"),
        *whoami("ns"),
    )
    certs = result.config.tls.certificates
    assert [(c.cert_file, c.key_file) for c in certs] == [("CERT A", "KEY A"), ("CERT B", "KEY B")]
    (problem,) = result.problems
    assert str(problem) == "ingress ns/c: spec.tls[0].secretName: secret ns/missing does not exist"
    assert "ns-c-c-test" in result.config.http.routers  # a bad certificate leaves the routes


def test_a_secret_without_its_key() -> None:
    broken = secret("ns", "cert", "CERT", "KEY")
    del broken["data"]["tls.key"]
    result = translate(
        ingress("ns", "a", [("a.test", [path("whoami")])], tls=[(["a.test"], "cert")]),
        broken,
        *whoami("ns"),
    )
    assert result.config.tls.certificates == ()
    (problem,) = result.problems
    assert problem.source == "secret ns/cert" and problem.path == "data.tls.key"


def test_strict_prefix_matching() -> None:
    objects = [ingress("ns", "web", [("", [path("whoami", 80, "/v1/")])]), *whoami("ns")]
    loose = translate(*objects).config.http.routers["ns-web-v1"]
    assert loose.rule == 'PathPrefix("/v1/")'
    strict = translate(*objects, strict_prefix_matching=True).config.http.routers["ns-web-v1"]
    assert strict.rule == '(Path("/v1") || PathPrefix("/v1/"))'
    runtime = build(translate(*objects, strict_prefix_matching=True).config)
    assert runtime.route(Request(host="x", path="/v1")) is not None
    assert runtime.route(Request(host="x", path="/v12")) is None


def test_cross_provider_references_outside_the_allowed_namespaces() -> None:
    notes = {"traefik.ingress.kubernetes.io/router.middlewares": "auth@file"}
    objects = [
        ingress("team", "web", [("a.test", [path("whoami")])], annotations=notes),
        *whoami("team"),
    ]
    assert "team-web-a-test" in translate(*objects).config.http.routers
    refused = translate(*objects, cross_provider_namespaces=("platform",))
    assert refused.config.http.routers == {}
    assert "cross-provider middlewares reference is not allowed" in str(refused.problems[0])


@pytest.mark.parametrize(
    ("broken", "field"),
    [
        ({"rules": "a.test"}, "spec.rules"),
        ({"rules": [{"host": 7}]}, "spec.rules[0].host"),
        ({"rules": [{"http": {"paths": [{"path": "/"}]}}]}, "spec.rules[0].http.paths[0].backend"),
        (
            {"rules": [{"http": {"paths": [{"backend": {"resource": {"kind": "Bucket"}}}]}}]},
            "spec.rules[0].http.paths[0].backend.resource",
        ),
        (
            {
                "rules": [
                    {
                        "http": {
                            "paths": [
                                {
                                    "backend": {
                                        "service": {"name": "whoami", "port": {"number": "80"}}
                                    }
                                }
                            ]
                        }
                    }
                ]
            },
            "spec.rules[0].http.paths[0].backend.service.port.number",
        ),
    ],
)
def test_malformed_objects_are_reported_with_their_field(
    broken: dict[str, Any], field: str
) -> None:
    bad = ingress("ns", "bad", [])
    bad["spec"] = broken
    result = translate(bad, ingress("ns", "good", [("a.test", [path("whoami")])]), *whoami("ns"))
    assert set(result.config.http.routers) == {"ns-good-a-test"}
    (problem,) = result.problems
    assert problem.source == "ingress ns/bad" and problem.path == field


def test_the_result_passes_validation() -> None:
    result = translate(
        ingress("ns", "web", [("a.test", [path("whoami")])], tls=[(["a.test"], "c")]),
        secret("ns", "c", "CERT", "KEY"),
        *whoami("ns"),
    )
    assert [p for p in validate(result.config).problems if p.severity == "error"] == []


@settings(max_examples=30, deadline=None)
@given(st.permutations(range(8)))
def test_the_result_does_not_depend_on_the_order_objects_arrived_in(order: list[int]) -> None:
    objects = [
        ingress("b", "web", [("a.test", [path("whoami")]), ("a.test", [path("whoami")])]),
        ingress("a", "web", default={"service": {"name": "whoami", "port": {"number": 80}}}),
        ingress("b", "tls", [("t.test", [path("whoami")])], tls=[(["t.test"], "s")]),
        secret("b", "s", "C", "K"),
        *whoami("a", "10.0.0.1"),
        *whoami("b", "10.0.0.2", "10.0.0.3"),
    ]
    first = translate(*objects)
    again = translate(*(objects[i] for i in order))
    assert again.config == first.config and again.problems == first.problems
