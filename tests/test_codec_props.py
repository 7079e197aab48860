"""Every codec reads back what it writes, for configurations using every option of the model."""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import given, settings
from hypothesis import strategies as st

from routekit import ConfigError
from routekit.config import (
    Configuration,
    ContainerInfo,
    config_to_kv,
    config_to_labels,
    dumps_dynamic,
    kv_to_config,
    labels_to_config,
    loads_config,
    loads_dynamic,
)
from routekit.testing import configurations


@settings(max_examples=200, deadline=None)
@given(configurations())
def test_kv_round_trip(config: Configuration) -> None:
    again, problems = kv_to_config(config_to_kv(config))
    assert problems == ()
    assert again == config


@settings(max_examples=200, deadline=None)
@given(configurations())
def test_toml_round_trip(config: Configuration) -> None:
    text = dumps_dynamic(config)
    again, problems = loads_dynamic(text, source="d.toml")
    assert problems == []
    assert again == config
    # Writing into the file it came from changes nothing.
    assert dumps_dynamic(config, into=text) == text


def _sections(config: Configuration) -> dict[str, Mapping[str, object]]:
    return {
        f"{section}.{kind}": getattr(getattr(config, section), kind)
        for section, kinds in _COLLECTIONS.items()
        for kind in kinds
    }


_COLLECTIONS = {
    "http": ("routers", "services", "middlewares", "servers_transports"),
    "tcp": ("routers", "services"),
    "udp": ("routers", "services"),
    "tls": ("options", "stores"),
}


def _completed_by_provider(kind: str, element: object) -> bool:
    """Whether the Docker provider fills this element in from the container (so it changes)."""
    if kind.endswith("routers"):
        return not getattr(element, "service", "")
    if not kind.endswith("services"):
        return False
    balancer = getattr(element, "load_balancer", None)
    kinds = ("load_balancer", "weighted", "mirroring", "failover")
    no_kind = all(getattr(element, k, None) is None for k in kinds)
    return no_kind or (balancer is not None and not balancer.servers)


@settings(max_examples=200, deadline=None)
@given(configurations(names=st.text("abcABC0129-_", min_size=1, max_size=6)))
def test_labels_round_trip(config: Configuration) -> None:
    try:
        labels = config_to_labels(config)
    except ConfigError as exc:
        assert "cannot be a label" in str(exc)
        return
    container = ContainerInfo(name="app", labels=labels, addresses={"bridge": "10.0.0.9"})
    again, problems = labels_to_config([container])
    # An element the decoder refuses (an empty service) is reported, and so is what uses it.
    refused = {".".join(p.path.split(".")[:3]) for p in problems}
    assert all(p.message for p in problems)
    # One certificate given twice is one certificate, as merging providers' ones does.
    assert again.tls.certificates == tuple(dict.fromkeys(config.tls.certificates))
    read = _sections(again)
    for kind, elements in _sections(config).items():
        for name, element in elements.items():
            service = f"{kind.split('.')[0]}.services.{getattr(element, 'service', '')}"
            if f"{kind}.{name}" in refused or service in refused:
                continue
            if not _completed_by_provider(kind, element):
                assert read[kind].get(name) == element, (kind, name)


def test_labels_of_the_container_server_are_its_port() -> None:
    config = loads_config("""
        [http.routers.web]
        rule = "Host(`a.example`)"
        service = "web"
        [[http.services.web.loadBalancer.servers]]
        url = "https://10.0.0.9:8443"
        weight = 2
        [[tcp.services.db.loadBalancer.servers]]
        address = "10.0.0.9:5432"
    """)
    labels = config_to_labels(config, container_address="10.0.0.9")
    assert labels == {
        "traefik.http.routers.web.rule": "Host(`a.example`)",
        "traefik.http.routers.web.service": "web",
        "traefik.http.services.web.loadBalancer.server.weight": "2",
        "traefik.http.services.web.loadBalancer.server.scheme": "https",
        "traefik.http.services.web.loadBalancer.server.port": "8443",
        "traefik.tcp.services.db.loadBalancer.server.port": "5432",
    }
    container = ContainerInfo(name="x", labels=labels, addresses={"bridge": "10.0.0.9"})
    again, problems = labels_to_config([container])
    assert problems == ()
    assert again == config
