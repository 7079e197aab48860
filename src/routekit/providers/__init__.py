"""Providers: where the configuration comes from.  Each is a named source of `Snapshot` values.

- `StaticProvider` serves a `Configuration` built in Python (and replaced with ``update``).
- `FileProvider` serves a TOML file or a directory of them, following edits.
- `ConsulCatalogProvider` serves the services of a Consul catalog and their tags.
- `ConsulKVProvider` serves the configuration kept in Consul's KV store under a root key.
- `DockerProvider` serves the ``traefik.*`` labels of a Docker engine's containers, following
  its events.
- `EtcdProvider` serves the configuration kept in etcd v3 under a root key, following it.
- `KubernetesIngressProvider` serves a cluster's Ingresses (networking.k8s.io/v1), their
  Services' endpoints and TLS secrets, following them, and writes the Ingresses' status.
- `MarathonProvider` serves the labels of a Marathon cluster's applications, their running
  tasks as servers, following its event bus.
- `RedisProvider` and `ZooKeeperProvider` do the same for Redis and ZooKeeper (with the
  ``redis`` and ``zookeeper`` extras).

A `routekit.runtime.Watcher` follows any number of providers, merges them (``name@provider``) and
publishes the routing runtime.  A provider of your own is any object with a ``name``, an
``async def watch()`` generator of snapshots and an ``async def snapshot()`` (see `Provider`).
"""

from __future__ import annotations

from ._base import Provider as Provider
from ._base import Snapshot as Snapshot
from ._base import as_snapshot as as_snapshot
from ._base import check_provider_name as check_provider_name
from ._remote import Backoff as Backoff
from ._remote import Link as Link
from ._remote import json_lines as json_lines
from ._remote import read_json as read_json
from .consul_catalog import ConsulCatalogProvider as ConsulCatalogProvider
from .consul_kv import ConsulKVProvider as ConsulKVProvider
from .docker import DockerProvider as DockerProvider
from .etcd import EtcdProvider as EtcdProvider
from .file import FileProvider as FileProvider
from .file import config_files as config_files
from .kubernetes import IngressEndpoint as IngressEndpoint
from .kubernetes import KubernetesIngressProvider as KubernetesIngressProvider
from .kubernetes import check_label_selector as check_label_selector
from .marathon import MarathonProvider as MarathonProvider
from .redis import RedisProvider as RedisProvider
from .static import StaticProvider as StaticProvider
from .zookeeper import ZooKeeperProvider as ZooKeeperProvider

__all__ = [
    "Backoff",
    "ConsulCatalogProvider",
    "ConsulKVProvider",
    "DockerProvider",
    "EtcdProvider",
    "FileProvider",
    "IngressEndpoint",
    "KubernetesIngressProvider",
    "Link",
    "MarathonProvider",
    "Provider",
    "RedisProvider",
    "Snapshot",
    "StaticProvider",
    "ZooKeeperProvider",
    "as_snapshot",
    "check_label_selector",
    "check_provider_name",
    "config_files",
    "json_lines",
    "read_json",
]
