"""routekit.config: the dynamic configuration model, its validation and its codecs.

The model (`Configuration` and the classes it is made of) uses Traefik v2/v3 vocabulary; the codecs
read Traefik's files (TOML v1 and v2/v3), labels/tags and KV layouts into it, and validation reports
every problem with its path and source.

Some model classes share their name with a runtime class elsewhere in routekit: the model's
`Headers`, `Server`, `Sticky`, `Failover`, `Mirror` (what a file says) against
`routekit.Headers` (a request's headers) and the balancers `routekit.balance.Server`, `Sticky`,
`Failover`, `Mirror`; the middlewares `AddPrefix`, `ReplacePath`, `ReplacePathRegex` against the
v1 rule modifiers of `routekit.rules`; `HealthCheck` against hypothesis's.  Refer to them through
the module (``from routekit import config`` … ``config.Headers``): they are left out of
``from routekit.config import *``, so that it never shadows the other meaning.
"""

from __future__ import annotations

from ._consul import DEFAULT_STRICT_CHECKS as DEFAULT_STRICT_CHECKS
from ._consul import ConnectCertificates as ConnectCertificates
from ._consul import consul_catalog_to_config as consul_catalog_to_config
from ._consul_data import CatalogInstance as CatalogInstance
from ._consul_data import CatalogService as CatalogService
from ._consul_v1 import DEFAULT_FRONTEND_RULE as DEFAULT_FRONTEND_RULE
from ._consul_v1 import consul_catalog_v1_to_config as consul_catalog_v1_to_config
from ._decode import decode_configuration as decode_configuration
from ._decode import to_data as to_data
from ._durations import MAX_DURATION as MAX_DURATION
from ._durations import format_duration as format_duration
from ._durations import parse_duration as parse_duration
from ._frozen import FrozenMap as FrozenMap
from ._gotemplate import normalize as normalize
from ._kv import config_to_kv as config_to_kv
from ._kv import kv_to_config as kv_to_config
from ._labels import DEFAULT_RULE as DEFAULT_RULE
from ._labels import ContainerInfo as ContainerInfo
from ._labels import labels_to_config as labels_to_config
from ._labels import tags_to_labels as tags_to_labels
from ._labels_write import config_to_labels as config_to_labels
from ._load import ConfigResult as ConfigResult
from ._load import LoadResult as LoadResult
from ._load import StaticResult as StaticResult
from ._load import load_config as load_config
from ._load import load_static as load_static
from ._load import loads_config as loads_config
from ._load import loads_static as loads_static
from ._load import read_any as read_any
from ._load import read_config as read_config
from ._load import read_static as read_static
from ._load import read_text_file as read_text_file
from ._load import reads_any as reads_any
from ._load import reads_config as reads_config
from ._load import reads_static as reads_static
from ._merge import Conflict as Conflict
from ._merge import merge_configurations as merge_configurations
from ._middlewares import MIDDLEWARE_ALIASES as MIDDLEWARE_ALIASES
from ._middlewares import MIDDLEWARE_TYPES as MIDDLEWARE_TYPES
from ._middlewares import TCP_MIDDLEWARE_TYPES as TCP_MIDDLEWARE_TYPES
from ._middlewares import AddPrefix as AddPrefix
from ._middlewares import BasicAuth as BasicAuth
from ._middlewares import Buffering as Buffering
from ._middlewares import CertInfo as CertInfo
from ._middlewares import CertIssuerInfo as CertIssuerInfo
from ._middlewares import CertSubjectInfo as CertSubjectInfo
from ._middlewares import Chain as Chain
from ._middlewares import CircuitBreaker as CircuitBreaker
from ._middlewares import Compress as Compress
from ._middlewares import ContentType as ContentType
from ._middlewares import DigestAuth as DigestAuth
from ._middlewares import Errors as Errors
from ._middlewares import ForwardAuth as ForwardAuth
from ._middlewares import ForwardAuthTLS as ForwardAuthTLS
from ._middlewares import GrpcWeb as GrpcWeb
from ._middlewares import Headers as Headers
from ._middlewares import InFlightReq as InFlightReq
from ._middlewares import IPAllowList as IPAllowList
from ._middlewares import IPStrategy as IPStrategy
from ._middlewares import Middleware as Middleware
from ._middlewares import PassTLSClientCert as PassTLSClientCert
from ._middlewares import RateLimit as RateLimit
from ._middlewares import RedirectRegex as RedirectRegex
from ._middlewares import RedirectScheme as RedirectScheme
from ._middlewares import ReplacePath as ReplacePath
from ._middlewares import ReplacePathRegex as ReplacePathRegex
from ._middlewares import Retry as Retry
from ._middlewares import SourceCriterion as SourceCriterion
from ._middlewares import StripPrefix as StripPrefix
from ._middlewares import StripPrefixRegex as StripPrefixRegex
from ._middlewares import TCPInFlightConn as TCPInFlightConn
from ._middlewares import TCPIPAllowList as TCPIPAllowList
from ._middlewares import TCPMiddleware as TCPMiddleware
from ._model import MAX_PRIORITY as MAX_PRIORITY
from ._model import MAX_WEIGHT as MAX_WEIGHT
from ._model import MIN_PRIORITY as MIN_PRIORITY
from ._model import ChildHealthCheck as ChildHealthCheck
from ._model import ClientCertificate as ClientCertificate
from ._model import Configuration as Configuration
from ._model import Cookie as Cookie
from ._model import Domain as Domain
from ._model import Failover as Failover
from ._model import ForwardingTimeouts as ForwardingTimeouts
from ._model import HealthCheck as HealthCheck
from ._model import HTTPConfiguration as HTTPConfiguration
from ._model import LoadBalancer as LoadBalancer
from ._model import Mirror as Mirror
from ._model import Mirroring as Mirroring
from ._model import PassiveHealthCheck as PassiveHealthCheck
from ._model import ResponseForwarding as ResponseForwarding
from ._model import Router as Router
from ._model import RouterTLS as RouterTLS
from ._model import Server as Server
from ._model import ServersTransport as ServersTransport
from ._model import Service as Service
from ._model import Sticky as Sticky
from ._model import TCPConfiguration as TCPConfiguration
from ._model import TCPLoadBalancer as TCPLoadBalancer
from ._model import TCPRouter as TCPRouter
from ._model import TCPRouterTLS as TCPRouterTLS
from ._model import TCPServer as TCPServer
from ._model import TCPService as TCPService
from ._model import TCPWeighted as TCPWeighted
from ._model import TLSCertificate as TLSCertificate
from ._model import TLSClientAuth as TLSClientAuth
from ._model import TLSConfiguration as TLSConfiguration
from ._model import TLSDefaultCertificate as TLSDefaultCertificate
from ._model import TLSOptions as TLSOptions
from ._model import TLSStore as TLSStore
from ._model import UDPConfiguration as UDPConfiguration
from ._model import UDPLoadBalancer as UDPLoadBalancer
from ._model import UDPRouter as UDPRouter
from ._model import UDPServer as UDPServer
from ._model import UDPService as UDPService
from ._model import UDPWeighted as UDPWeighted
from ._model import Weighted as Weighted
from ._model import WeightedService as WeightedService
from ._sections import NAMED_SECTIONS as NAMED_SECTIONS
from ._sections import named_section as named_section
from ._sections import with_named_sections as with_named_sections
from ._static_model import APIConfig as APIConfig
from ._static_model import ConsulCatalogProviderConfig as ConsulCatalogProviderConfig
from ._static_model import DockerProviderConfig as DockerProviderConfig
from ._static_model import EntryPoint as EntryPoint
from ._static_model import FileProviderConfig as FileProviderConfig
from ._static_model import KubernetesProviderConfig as KubernetesProviderConfig
from ._static_model import KVProviderConfig as KVProviderConfig
from ._static_model import ProvidersConfig as ProvidersConfig
from ._static_model import StaticConfiguration as StaticConfiguration
from ._toml import dumps_dynamic as dumps_dynamic
from ._toml import loads_dynamic as loads_dynamic
from ._upgrade import upgrade_rules as upgrade_rules
from ._validate import ValidationResult as ValidationResult
from ._validate import reference_hint as reference_hint
from ._validate import rule_error as rule_error
from ._validate import validate as validate

__all__ = [
    "DEFAULT_STRICT_CHECKS",
    "ConnectCertificates",
    "consul_catalog_to_config",
    "ClientCertificate",
    "MAX_PRIORITY",
    "MAX_WEIGHT",
    "MIDDLEWARE_ALIASES",
    "MIDDLEWARE_TYPES",
    "TCP_MIDDLEWARE_TYPES",
    "TCPIPAllowList",
    "TCPInFlightConn",
    "TCPMiddleware",
    "MIN_PRIORITY",
    "NAMED_SECTIONS",
    "APIConfig",
    "BasicAuth",
    "CertInfo",
    "CertIssuerInfo",
    "CertSubjectInfo",
    "ContentType",
    "DigestAuth",
    "ForwardAuth",
    "ForwardAuthTLS",
    "GrpcWeb",
    "Buffering",
    "Chain",
    "ChildHealthCheck",
    "CircuitBreaker",
    "Compress",
    "Configuration",
    "ConsulCatalogProviderConfig",
    "Cookie",
    "DockerProviderConfig",
    "Domain",
    "EntryPoint",
    "Errors",
    "FileProviderConfig",
    "ForwardingTimeouts",
    "FrozenMap",
    "HTTPConfiguration",
    "IPAllowList",
    "IPStrategy",
    "InFlightReq",
    "KVProviderConfig",
    "KubernetesProviderConfig",
    "LoadBalancer",
    "LoadResult",
    "Middleware",
    "Mirroring",
    "PassTLSClientCert",
    "PassiveHealthCheck",
    "ProvidersConfig",
    "RateLimit",
    "RedirectRegex",
    "RedirectScheme",
    "ResponseForwarding",
    "Retry",
    "Router",
    "RouterTLS",
    "ServersTransport",
    "Service",
    "SourceCriterion",
    "StaticConfiguration",
    "StripPrefix",
    "StripPrefixRegex",
    "TCPConfiguration",
    "UDPConfiguration",
    "UDPLoadBalancer",
    "UDPRouter",
    "UDPServer",
    "UDPService",
    "UDPWeighted",
    "TCPLoadBalancer",
    "TCPRouter",
    "TCPRouterTLS",
    "TCPServer",
    "TCPService",
    "TCPWeighted",
    "TLSCertificate",
    "TLSClientAuth",
    "TLSConfiguration",
    "TLSDefaultCertificate",
    "TLSOptions",
    "TLSStore",
    "ValidationResult",
    "Weighted",
    "WeightedService",
    "decode_configuration",
    "dumps_dynamic",
    "MAX_DURATION",
    "format_duration",
    "load_config",
    "reads_static",
    "reads_config",
    "read_static",
    "reads_any",
    "read_any",
    "loads_config",
    "StaticResult",
    "ConfigResult",
    "load_static",
    "loads_dynamic",
    "loads_static",
    "parse_duration",
    "read_config",
    "read_text_file",
    "to_data",
    "upgrade_rules",
    "validate",
    # shared with the runtime, which reports build problems as validation does
    "reference_hint",
    "rule_error",
    "with_named_sections",
    # labels/tags, KV and the within-provider merge
    "DEFAULT_FRONTEND_RULE",
    "DEFAULT_RULE",
    "CatalogInstance",
    "CatalogService",
    "Conflict",
    "ContainerInfo",
    "config_to_kv",
    "config_to_labels",
    "consul_catalog_v1_to_config",
    "kv_to_config",
    "labels_to_config",
    "merge_configurations",
    "named_section",
    "normalize",
    "tags_to_labels",
]
