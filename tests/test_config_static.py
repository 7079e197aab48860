"""Static configuration: v1 and v2 traefik.toml shapes into one model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from routekit.config import (
    DEFAULT_RULE,
    EntryPoint,
    StaticConfiguration,
    load_config,
    load_static,
    loads_static,
    read_any,
    read_config,
    reads_any,
    reads_static,
)
from routekit.errors import ConfigError, Problem

COMPAT = Path(__file__).resolve().parent.parent / "docs" / "compat"


def test_docker_v1_file_loads_as_it_is() -> None:
    config = load_static(COMPAT / "docker-v1.toml")
    assert config.version == "v1"
    docker = config.providers.docker
    assert docker is not None
    assert docker.domain == "docker"
    assert docker.endpoint == "unix:///var/run/docker.sock"
    assert docker.watch
    assert docker.exposed_by_default
    assert docker.default_rule == DEFAULT_RULE  # v1 labels use Host:<name>.<domain> themselves
    assert config.entry_points == {"http": EntryPoint(address=":80")}


def test_consul_catalog_v1_file_loads_as_it_is() -> None:
    config = load_static(COMPAT / "consul-catalog-v1.toml")
    assert config.log_level == "DEBUG"
    catalog = config.providers.consul_catalog
    assert catalog is not None
    assert (catalog.endpoint, catalog.domain, catalog.prefix) == (
        "172.17.0.1:8500",
        "consul.local",
        "traefik",
    )
    assert catalog.strict_checks == ("passing",)
    assert config.api is not None and config.api.dashboard
    assert config.entry_points["traefik"].address == ":8080"
    assert config.providers.throttle_duration == 2.0


def _read(text: str, *, source: str = "<text>") -> tuple[StaticConfiguration, list[Problem]]:
    result = reads_static(text, source=source)
    return result.config, list(result.problems)


def test_read_any_tells_static_from_dynamic() -> None:
    assert read_any(COMPAT / "docker-v1.toml").kind == "static"
    assert reads_any('[http.routers.a]\nrule = "Host(`a`)"\n').kind == "dynamic"
    assert isinstance(read_any(COMPAT / "docker-v1.toml").config, StaticConfiguration)


def test_each_front_door_refuses_the_other_kind() -> None:
    result = read_config(COMPAT / "docker-v1.toml")
    assert result.config.http.routers == {}
    [problem] = result.errors
    assert "this is a static configuration, not a dynamic one" in str(problem)
    assert "load_static" in str(problem)
    with pytest.raises(ConfigError, match="static configuration"):
        load_config(COMPAT / "docker-v1.toml")
    with pytest.raises(ConfigError, match="this is a dynamic configuration"):
        loads_static('[http.routers.a]\nrule = "Host(`a`)"\nservice = "s"\n')
    assert load_static(COMPAT / "docker-v1.toml").version == "v1"


V2 = """
[entryPoints.web]
address = ":80"
[entryPoints.web.http.redirections.entryPoint]
to = "websecure"
[entryPoints.websecure]
address = ":443"

[providers]
providersThrottleDuration = "5s"
[providers.file]
directory = "/etc/routekit/dynamic"
[providers.docker]
exposedByDefault = false
[providers.etcd]
endpoints = ["10.0.0.1:2379"]
rootKey = "edge"

[api]
dashboard = true
insecure = true

[log]
level = "info"

[core]
defaultRuleSyntax = "v2"

[metrics.prometheus]
[tracing]
"""


def test_v2_static_file() -> None:
    config, problems = _read(V2, source="traefik.toml")
    assert config.version == "v2"
    assert config.entry_points["web"].redirect_to == "websecure"
    assert config.providers.throttle_duration == 5.0
    assert config.providers.file is not None and config.providers.file.watch
    assert config.providers.file.directory == "/etc/routekit/dynamic"
    assert config.providers.docker is not None and not config.providers.docker.exposed_by_default
    assert config.providers.docker.default_rule == "Host(`{{ normalize .Name }}`)"
    assert config.providers.etcd is not None
    assert config.providers.etcd.endpoints == ("10.0.0.1:2379",)
    assert config.providers.etcd.root_key == "edge"
    assert config.api is not None and config.api.insecure
    assert config.log_level == "INFO"
    assert config.default_rule_syntax == "v2"
    assert config.metrics is not None and config.metrics.entry_point == "traefik"
    # Keys routekit does not use are warnings, with where they are.
    assert [(p.path, p.severity, p.source) for p in problems] == [
        ("tracing", "warning", "traefik.toml:30:1")
    ]


def test_v1_static_with_inline_frontends_and_backends() -> None:
    text = """
defaultEntryPoints = ["http"]
providersThrottleDuration = "3s"
[entryPoints.http]
address = ":8000"
[file]
[frontends.f]
backend = "b"
[frontends.f.routes.r]
rule = "Host:a.com"
[backends.b.servers.s]
url = "http://10.0.0.1:80"
"""
    config, problems = _read(text)
    assert problems == []
    assert config.providers.throttle_duration == 3.0
    assert config.providers.file is not None and not config.providers.file.watch
    assert config.dynamic is not None
    assert config.dynamic.http.routers["f"].service == "b"


def test_wrong_types_in_static_files_are_errors() -> None:
    _, problems = _read('[entryPoints.web]\naddress = 80\n[providers.docker]\nwatch = "often"\n')
    messages = [(p.path, p.severity) for p in problems]
    assert ("providers.docker.watch", "error") in messages or (
        "entryPoints.web.address",
        "error",
    ) in messages


def test_every_v1_provider_section_is_read() -> None:
    text = """
[consul]
endpoint = "127.0.0.1:8500"
prefix = "/kv"
[etcd]
endpoint = "127.0.0.1:2379"
[redis]
endpoint = "127.0.0.1:6379"
[zookeeper]
endpoint = "127.0.0.1:2181"
[kubernetes]
namespaces = ["default"]
[file]
filename = "rules.toml"
watch = true
"""
    config, problems = _read(text)
    assert problems == []
    p = config.providers
    assert p.consul is not None and (p.consul.endpoints, p.consul.root_key) == (
        ("127.0.0.1:8500",),
        "/kv",  # Traefik 1.x's KV keys start with "/": the prefix is looked up as written
    )
    assert p.etcd is not None and p.etcd.endpoints == ("127.0.0.1:2379",)
    assert p.etcd.root_key == "/traefik"  # v1's default prefix
    assert p.redis is not None and p.zookeeper is not None
    assert p.kubernetes is not None and p.kubernetes.namespaces == ("default",)
    assert p.file is not None and (p.file.filename, p.file.watch) == ("rules.toml", True)


def test_a_provider_routekit_does_not_have_is_a_warning_not_silence() -> None:
    config, problems = _read("[providers.kubernetesCRD]\n[providers.docker]\n")
    assert config.providers.docker is not None and config.providers.kubernetes is None
    assert [(p.path, p.severity, p.message) for p in problems] == [
        ("providers.kubernetesCRD", "warning", "'kubernetesCRD' is not used by routekit; ignored")
    ]


def test_admin_sections_are_read_and_refused_with_their_place() -> None:
    config, problems = _read(
        '[web]\naddress = ":8081"\nreadOnly = true\n[web.auth.basic]\nusersFile = "/etc/htpasswd"\n'
        '[web.metrics.prometheus]\nbuckets = [1, 0.2]\n[ping]\nentryPoint = "probe"\n'
        '[traefikLog]\nformat = "json"\n',
        source="traefik.toml",
    )
    assert config.api is not None and config.api.users_file == "/etc/htpasswd"
    assert config.metrics is not None and config.metrics.buckets == (0.2, 1.0)
    assert config.ping is not None and config.ping.entry_point == "probe"
    assert config.log_format == "json"
    assert [str(p) for p in problems] == [
        "traefik.toml:3:1: web.readOnly: 'readOnly' is not used by routekit; ignored"
    ]
    for text, message in (
        ('[log]\nformat = "xml"\n', "traefik.toml:2:1: log.format: unknown log format 'xml'"),
        ('[web.auth.digest]\nusers = ["a:b:c"]\n', "digest authentication of the admin is not"),
        ("[web.auth.basic]\n", "web.auth.basic: no users"),
    ):
        with pytest.raises(ConfigError, match=re.escape(message)):
            loads_static(text, source="traefik.toml")
