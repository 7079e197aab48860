"""Provider codecs: Docker labels (v1 and v2/v3), Consul catalog tags (v1 and v2/v3), KV layouts,
Kubernetes Ingress objects, Marathon applications.

Used by the other rooms of ``routekit.config`` through these names; the public ones are
re-exported by ``routekit.config``.
"""

from __future__ import annotations

from ._consul import DEFAULT_STRICT_CHECKS as DEFAULT_STRICT_CHECKS
from ._consul import ConnectCertificates as ConnectCertificates
from ._consul import consul_catalog_to_config as consul_catalog_to_config
from ._consul_data import CatalogInstance as CatalogInstance
from ._consul_data import CatalogService as CatalogService
from ._consul_v1 import DEFAULT_FRONTEND_RULE as DEFAULT_FRONTEND_RULE
from ._consul_v1 import consul_catalog_v1_to_config as consul_catalog_v1_to_config
from ._docker_data import DockerContainer as DockerContainer
from ._docker_data import docker_container as docker_container
from ._gotemplate import normalize as normalize
from ._ingress import INGRESS_CLASS_ANNOTATION as INGRESS_CLASS_ANNOTATION
from ._ingress import TRAEFIK_INGRESS_CONTROLLER as TRAEFIK_INGRESS_CONTROLLER
from ._ingress import ClusterState as ClusterState
from ._ingress import IngressOptions as IngressOptions
from ._ingress import IngressResult as IngressResult
from ._ingress import ingress_to_config as ingress_to_config
from ._ingress import object_key as object_key
from ._kv import config_to_kv as config_to_kv
from ._kv import kv_to_config as kv_to_config
from ._labels import DEFAULT_RULE as DEFAULT_RULE
from ._labels import ContainerInfo as ContainerInfo
from ._labels import labels_to_config as labels_to_config
from ._labels import tags_to_labels as tags_to_labels
from ._labels_v1 import v1_frontend_rule as v1_frontend_rule
from ._labels_write import config_to_labels as config_to_labels
from ._marathon import marathon_to_config as marathon_to_config

__all__ = [
    "INGRESS_CLASS_ANNOTATION",
    "TRAEFIK_INGRESS_CONTROLLER",
    "CatalogInstance",
    "ClusterState",
    "CatalogService",
    "ConnectCertificates",
    "ContainerInfo",
    "DEFAULT_FRONTEND_RULE",
    "DEFAULT_RULE",
    "DEFAULT_STRICT_CHECKS",
    "DockerContainer",
    "IngressOptions",
    "IngressResult",
    "config_to_kv",
    "config_to_labels",
    "consul_catalog_to_config",
    "consul_catalog_v1_to_config",
    "docker_container",
    "ingress_to_config",
    "kv_to_config",
    "labels_to_config",
    "marathon_to_config",
    "normalize",
    "object_key",
    "tags_to_labels",
    "v1_frontend_rule",
]
