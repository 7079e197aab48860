"""`KubernetesIngressProvider` against the API server stand-in (tests/_kube.py), over HTTPS:
objects come, change and go; watches expire; the API server refuses, goes away, comes back."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from _following import following, rules, servers
from _kube import KubeAPI, kube_api
from _kube_objects import endpoint, endpoint_slice, ingress, ingress_class, path, secret, service
from routekit.config import loads_static
from routekit.errors import ConfigError, ProviderError
from routekit.http import UpstreamError
from routekit.providers import Backoff, IngressEndpoint, KubernetesIngressProvider

pytestmark = pytest.mark.anyio


@pytest.fixture
def api(tmp_path: Path) -> Iterator[KubeAPI]:
    with kube_api(tmp_path) as started:
        yield started


def fast() -> Backoff:
    return Backoff(initial=0.05, cap=0.3, jitter=0)


def provider(api: KubeAPI, **options: Any) -> KubernetesIngressProvider:
    options.setdefault("retry", fast())
    return KubernetesIngressProvider(
        api.endpoint, token=api.token, cert_auth_file_path=api.ca, environ={}, **options
    )


def whoami(namespace: str, *addresses: str, name: str = "whoami") -> list[dict[str, Any]]:
    return [
        service(namespace, name),
        endpoint_slice(namespace, name, [endpoint(a) for a in addresses]),
    ]


async def test_initial_state_then_objects_added_changed_and_removed(api: KubeAPI) -> None:
    api.apply(ingress("apps", "web", [("web.test", [path("whoami")])]), *whoami("apps", "10.0.0.1"))
    snapshot = await provider(api).snapshot()
    assert rules(snapshot) == {"apps-web-web-test": 'Host("web.test") && PathPrefix("/")'}
    assert servers(snapshot) == {"apps-whoami-80": ["http://10.0.0.1:8080"]}
    async with following(provider(api)) as seen:
        await seen.until(lambda s: "apps-web-web-test" in rules(s))
        # A pod more: the EndpointSlice changes.
        api.apply(endpoint_slice("apps", "whoami", [endpoint("10.0.0.1"), endpoint("10.0.0.2")]))
        await seen.until(lambda s: len(servers(s).get("apps-whoami-80", [])) == 2)
        # A new Ingress, in another namespace.
        api.apply(
            ingress("shop", "front", [("shop.test", [path("whoami")])]), *whoami("shop", "10.1.0.1")
        )
        await seen.until(lambda s: "shop-front-shop-test" in rules(s))
        # The first one removed.
        api.delete("Ingress", "apps", "web")
        snap = await seen.until(lambda s: "apps-web-web-test" not in rules(s))
        assert set(rules(snap)) == {"shop-front-shop-test"} and snap.problems == ()
    # Every watch asked for bookmarks and resumed from a version; lists were paged.
    watches = [r for r in api.requests if "watch=1" in r]
    assert watches and all(
        "allowWatchBookmarks=true" in r and "resourceVersion=" in r for r in watches
    )
    assert all("limit=500" in r for r in api.requests if "watch=1" not in r)


async def test_a_burst_of_endpoint_changes_is_one_configuration(api: KubeAPI) -> None:
    api.apply(ingress("apps", "web", [("web.test", [path("whoami")])]), *whoami("apps", "10.0.0.1"))
    async with following(provider(api)) as seen:
        await seen.until(lambda s: "apps-web-web-test" in rules(s))
        before = len(seen.seen)
        api.apply(
            *(
                endpoint_slice("apps", "whoami", [endpoint(f"10.0.0.{n}") for n in range(1, k + 2)])
                for k in range(5)
            )
        )
        await seen.until(lambda s: len(servers(s).get("apps-whoami-80", [])) == 5)
        assert len(seen.seen) - before <= 2  # a rolling update: one or two, not five


async def test_a_watch_from_a_compacted_version_lists_again(api: KubeAPI) -> None:
    api.apply(ingress("apps", "web", [("web.test", [path("whoami")])]), *whoami("apps", "10.0.0.1"))
    api.bookmark_every = 60  # no bookmark moves the watch on: its version gets too old
    async with following(provider(api)) as seen:
        await seen.until(lambda s: "apps-web-web-test" in rules(s))
        api.stop()  # every watch is cut; the history is compacted meanwhile
        api.apply(*whoami("apps", "10.0.0.9"))
        api.compact()
        api.start(api.port)
        await seen.until(lambda s: servers(s).get("apps-whoami-80") == ["http://10.0.0.9:8080"])


async def test_the_last_configuration_serves_while_the_api_server_is_away(
    api: KubeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="routekit")
    api.apply(ingress("apps", "web", [("web.test", [path("whoami")])]), *whoami("apps", "10.0.0.1"))
    async with following(provider(api)) as seen:
        await seen.until(lambda s: "apps-web-web-test" in rules(s))
        api.stop()
        stale = await seen.until(lambda s: bool(s.problems))
        assert "apps-web-web-test" in rules(stale)  # still served
        assert "cannot read the provider's source" in str(stale.problems[0])
        await anyio.sleep(0.5)  # several retries
        api.apply(ingress("apps", "new", [("new.test", [path("whoami")])]))
        api.start(api.port)
        back = await seen.until(lambda s: "apps-new-new-test" in rules(s))
        assert back.problems == ()
    ours = [r for r in caplog.records if r.name.startswith("routekit")]
    warnings = [r for r in ours if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]  # an outage is one line
    assert any("reachable again" in r.getMessage() for r in ours)


async def test_a_wrong_token_and_an_rbac_refusal_are_named(api: KubeAPI) -> None:
    with pytest.raises(ProviderError, match=r"401 Unauthorized \(check the token"):
        await KubernetesIngressProvider(
            api.endpoint, token="wrong", cert_auth_file_path=api.ca, environ={}
        ).snapshot()
    api.forbidden.add("secrets")
    message = (
        r'secrets is forbidden: User "system:serviceaccount:default:routekit" cannot list '
        r'resource "secrets" in API group "" at the cluster scope'
    )
    with pytest.raises(ProviderError, match=message):
        await provider(api).snapshot()
    with pytest.raises(UpstreamError, match="certificate verify failed"):
        await KubernetesIngressProvider(api.endpoint, token=api.token, environ={}).snapshot()


async def test_an_rbac_refusal_while_watching_is_reported_once_and_recovers(
    api: KubeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="routekit")
    api.apply(ingress("apps", "web", [("web.test", [path("whoami")])]), *whoami("apps", "10.0.0.1"))
    api.forbidden.add("endpointslices")
    async with following(provider(api)) as seen:
        first = await seen.until(lambda s: bool(s.problems))
        assert "endpointslices.discovery.k8s.io is forbidden" in str(first.problems[0])
        await anyio.sleep(0.5)
        api.forbidden.clear()  # the ClusterRole fixed
        await seen.until(lambda s: servers(s).get("apps-whoami-80") == ["http://10.0.0.1:8080"])
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1


async def test_namespaces_and_label_selector(api: KubeAPI) -> None:
    api.apply(
        ingress("team-a", "web", [("a.test", [path("whoami")])], labels={"expose": "public"}),
        ingress("team-a", "internal", [("i.test", [path("whoami")])]),
        ingress("team-b", "web", [("b.test", [path("whoami")])], labels={"expose": "public"}),
        *whoami("team-a", "10.0.0.1"),
        *whoami("team-b", "10.0.0.2"),
    )
    snapshot = await provider(api, namespaces=["team-a"], label_selector="expose=public").snapshot()
    assert set(rules(snapshot)) == {"team-a-web-a-test"}
    # Namespaced watches only: no cluster-wide list of a namespaced resource.
    namespaced = [r for r in api.requests if "/namespaces/team-a/" in r]
    assert namespaced and not any(r.startswith("/api/v1/services") for r in api.requests)
    with pytest.raises(ConfigError, match="invalid ingress label selector: 'a b'"):
        provider(api, label_selector="a b")


async def test_ingress_class_and_tls_secrets(api: KubeAPI) -> None:
    api.apply(
        ingress_class("traefik"),
        ingress(
            "apps",
            "web",
            [("web.test", [path("whoami")])],
            class_name="traefik",
            tls=[(["web.test"], "web-cert")],
        ),
        ingress("apps", "other", [("o.test", [path("whoami")])], class_name="nginx"),
        secret("apps", "web-cert", "-----BEGIN CERTIFICATE-----\nX\n", "KEY"),
        *whoami("apps", "10.0.0.1"),
    )
    snapshot = await provider(api).snapshot()
    assert set(rules(snapshot)) == {"apps-web-web-test"}
    (cert,) = snapshot.config.tls.certificates
    assert cert.cert_file.startswith("-----BEGIN CERTIFICATE-----") and cert.key_file == "KEY"
    # Helm's release secrets are never asked for.
    assert any("labelSelector=owner%21%3Dhelm" in r for r in api.requests if "secrets" in r)


async def test_a_malformed_object_is_reported_and_the_rest_applies(api: KubeAPI) -> None:
    bad = ingress("apps", "bad", [("bad.test", [path("whoami")])])
    bad["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"] = {"number": "80"}
    api.apply(
        bad, ingress("apps", "good", [("good.test", [path("whoami")])]), *whoami("apps", "10.0.0.1")
    )
    snapshot = await provider(api).snapshot()
    assert set(rules(snapshot)) == {"apps-good-good-test"}
    (problem,) = snapshot.problems
    assert problem.source == "ingress apps/bad"
    assert problem.path == "spec.rules[0].http.paths[0].backend.service.port.number"


async def test_the_status_of_served_ingresses_is_written(api: KubeAPI) -> None:
    api.apply(
        ingress("apps", "web", [("web.test", [path("whoami")])]),
        ingress(
            "apps",
            "theirs",
            [("t.test", [path("whoami")])],
            annotations={"kubernetes.io/ingress.class": "nginx"},
        ),
        *whoami("apps", "10.0.0.1"),
        service(
            "kube-system", "routekit", kind="LoadBalancer", load_balancer=[{"ip": "203.0.113.7"}]
        ),
    )
    published = IngressEndpoint(published_service="kube-system/routekit")
    async with following(provider(api, ingress_endpoint=published)) as seen:
        await seen.until(lambda s: "apps-web-web-test" in rules(s))
        with anyio.fail_after(5):
            while api.get("Ingress", "apps", "web")["status"]["loadBalancer"].get("ingress") != [
                {"ip": "203.0.113.7"}
            ]:
                await anyio.sleep(0.02)
        assert api.get("Ingress", "apps", "theirs")["status"] == {"loadBalancer": {}}
        patches = [r for r in api.requests if r.startswith("PATCH")]
        await anyio.sleep(0.3)  # our own status change comes back as an event: no new write
        assert [r for r in api.requests if r.startswith("PATCH")] == patches
        assert patches == ["PATCH /apis/networking.k8s.io/v1/namespaces/apps/ingresses/web/status"]
        # The load balancer gets another address: every served Ingress follows.
        api.apply(
            service(
                "kube-system",
                "routekit",
                kind="LoadBalancer",
                load_balancer=[{"hostname": "lb.example.com"}],
            )
        )
        with anyio.fail_after(5):
            while api.get("Ingress", "apps", "web")["status"]["loadBalancer"].get("ingress") != [
                {"hostname": "lb.example.com"}
            ]:
                await anyio.sleep(0.02)


async def test_in_cluster_credentials_and_a_kubeconfig(api: KubeAPI, tmp_path: Path) -> None:
    api.apply(ingress("apps", "web", [("web.test", [path("whoami")])]), *whoami("apps", "10.0.0.1"))
    # Inside a pod: the service account's token (read again when the kubelet rotates it).
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("old\n")
    (account / "ca.crt").write_text(Path(api.ca).read_text())
    env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(api.port)}
    pod = KubernetesIngressProvider(service_account=account, environ=env, retry=fast())
    assert pod.credentials.server == api.endpoint
    with pytest.raises(ProviderError, match="401"):
        await pod.snapshot()
    (account / "token").write_text(api.token + "\n")
    assert "apps-web-web-test" in rules(await pod.snapshot())
    # Outside: KUBECONFIG's current context (here a JSON one; YAML reads with PyYAML).
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "test",
        "contexts": [{"name": "test", "context": {"cluster": "c", "user": "u"}}],
        "clusters": [
            {"name": "c", "cluster": {"server": api.endpoint, "certificate-authority": api.ca}}
        ],
        "users": [{"name": "u", "user": {"token": api.token}}],
    }
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(json.dumps(config))
    outside = KubernetesIngressProvider(environ={"KUBECONFIG": str(kubeconfig)})
    assert "apps-web-web-test" in rules(await outside.snapshot())
    yaml_config = tmp_path / "config.yaml"
    yaml_config.write_text(
        "current-context: test\ncontexts:\n- name: test\n  context: {cluster: c, user: u}\n"
        f"clusters:\n- name: c\n  cluster:\n    server: {api.endpoint}\n"
        f"    certificate-authority: {api.ca}\nusers:\n- name: u\n  user:\n    token: {api.token}\n"
    )
    assert "apps-web-web-test" in rules(
        await KubernetesIngressProvider(kubeconfig=str(yaml_config), environ={}).snapshot()
    )
    with pytest.raises(ConfigError, match="no context named 'nope'"):
        config["current-context"] = "nope"
        kubeconfig.write_text(json.dumps(config))
        KubernetesIngressProvider(environ={"KUBECONFIG": str(kubeconfig)})
    with pytest.raises(ConfigError, match="no endpoint"):
        KubernetesIngressProvider(environ={})


async def test_watch_false_reads_once(api: KubeAPI) -> None:
    api.apply(ingress("apps", "web", [("web.test", [path("whoami")])]), *whoami("apps", "10.0.0.1"))
    got = [s async for s in provider(api, watch=False).watch()]
    assert len(got) == 1 and "apps-web-web-test" in rules(got[0])


def test_options_from_a_static_file() -> None:
    static = loads_static(
        "[providers.kubernetesIngress]\n"
        'endpoint = "https://10.0.0.1:6443"\ntoken = "t"\nnamespaces = ["a", "b"]\n'
        'labelSelector = "app=web"\ningressClass = "edge"\nthrottleDuration = "2s"\n'
        "allowEmptyServices = true\nstrictPrefixMatching = true\n"
        'crossProviderNamespaces = ["platform"]\n'
        '[providers.kubernetesIngress.ingressEndpoint]\npublishedService = "kube-system/lb"\n'
    )
    config = static.providers.kubernetes
    assert config is not None
    made = KubernetesIngressProvider.from_config(config)
    assert made.credentials.server == "https://10.0.0.1:6443" and made.namespaces == ("a", "b")
    assert made.throttle_duration == 2.0 and made.label_selector == "app=web"
    assert made.options.ingress_class == "edge" and made.options.allow_empty_services
    assert made.options.strict_prefix_matching
    assert made.options.cross_provider_namespaces == ("platform",)
    assert made.ingress_endpoint == IngressEndpoint(published_service="kube-system/lb")
    with pytest.raises(ConfigError, match="publishedService must be 'namespace/service'"):
        IngressEndpoint(published_service="lb")
