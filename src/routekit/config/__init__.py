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

from ._address import parse_address as parse_address
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
from ._static_model import AccessLogConfig as AccessLogConfig
from ._static_model import APIConfig as APIConfig
from ._static_model import ClientTLS as ClientTLS
from ._static_model import ConsulCatalogProviderConfig as ConsulCatalogProviderConfig
from ._static_model import DockerProviderConfig as DockerProviderConfig
from ._static_model import EntryPoint as EntryPoint
from ._static_model import FileProviderConfig as FileProviderConfig
from ._static_model import IngressEndpointConfig as IngressEndpointConfig
from ._static_model import KubernetesProviderConfig as KubernetesProviderConfig
from ._static_model import KVProviderConfig as KVProviderConfig
from ._static_model import MarathonProviderConfig as MarathonProviderConfig
from ._static_model import MetricsConfig as MetricsConfig
from ._static_model import PingConfig as PingConfig
from ._static_model import ProvidersConfig as ProvidersConfig
from ._static_model import StaticConfiguration as StaticConfiguration
from .files import dumps_dynamic as dumps_dynamic
from .files import loads_dynamic as loads_dynamic
from .model import BCRYPT_PREFIXES as BCRYPT_PREFIXES
from .model import CRYPT_PREFIXES as CRYPT_PREFIXES
from .model import MAX_DURATION as MAX_DURATION
from .model import MAX_PRIORITY as MAX_PRIORITY
from .model import MAX_WEIGHT as MAX_WEIGHT
from .model import MIDDLEWARE_ALIASES as MIDDLEWARE_ALIASES
from .model import MIDDLEWARE_TYPES as MIDDLEWARE_TYPES
from .model import MIN_PRIORITY as MIN_PRIORITY
from .model import NAMED_SECTIONS as NAMED_SECTIONS
from .model import TCP_MIDDLEWARE_TYPES as TCP_MIDDLEWARE_TYPES
from .model import AddPrefix as AddPrefix
from .model import BasicAuth as BasicAuth
from .model import BreakerExpression as BreakerExpression
from .model import BreakerSyntaxError as BreakerSyntaxError
from .model import Buffering as Buffering
from .model import CertInfo as CertInfo
from .model import CertIssuerInfo as CertIssuerInfo
from .model import CertSubjectInfo as CertSubjectInfo
from .model import Chain as Chain
from .model import ChildHealthCheck as ChildHealthCheck
from .model import CircuitBreaker as CircuitBreaker
from .model import ClientCertificate as ClientCertificate
from .model import Compress as Compress
from .model import Configuration as Configuration
from .model import Conflict as Conflict
from .model import ContentType as ContentType
from .model import Cookie as Cookie
from .model import DigestAuth as DigestAuth
from .model import Domain as Domain
from .model import Errors as Errors
from .model import Failover as Failover
from .model import ForwardAuth as ForwardAuth
from .model import ForwardAuthTLS as ForwardAuthTLS
from .model import ForwardingTimeouts as ForwardingTimeouts
from .model import FrozenMap as FrozenMap
from .model import GrpcWeb as GrpcWeb
from .model import Headers as Headers
from .model import HealthCheck as HealthCheck
from .model import HTTPConfiguration as HTTPConfiguration
from .model import InFlightReq as InFlightReq
from .model import IPAllowList as IPAllowList
from .model import IPStrategy as IPStrategy
from .model import LoadBalancer as LoadBalancer
from .model import Measurements as Measurements
from .model import Middleware as Middleware
from .model import Mirror as Mirror
from .model import Mirroring as Mirroring
from .model import PassiveHealthCheck as PassiveHealthCheck
from .model import PassTLSClientCert as PassTLSClientCert
from .model import RateLimit as RateLimit
from .model import RedirectRegex as RedirectRegex
from .model import RedirectScheme as RedirectScheme
from .model import ReplacePath as ReplacePath
from .model import ReplacePathRegex as ReplacePathRegex
from .model import ResponseForwarding as ResponseForwarding
from .model import Retry as Retry
from .model import Router as Router
from .model import RouterTLS as RouterTLS
from .model import Server as Server
from .model import ServersTransport as ServersTransport
from .model import Service as Service
from .model import SourceCriterion as SourceCriterion
from .model import Sticky as Sticky
from .model import StripPrefix as StripPrefix
from .model import StripPrefixRegex as StripPrefixRegex
from .model import TCPConfiguration as TCPConfiguration
from .model import TCPInFlightConn as TCPInFlightConn
from .model import TCPIPAllowList as TCPIPAllowList
from .model import TCPLoadBalancer as TCPLoadBalancer
from .model import TCPMiddleware as TCPMiddleware
from .model import TCPRouter as TCPRouter
from .model import TCPRouterTLS as TCPRouterTLS
from .model import TCPServer as TCPServer
from .model import TCPService as TCPService
from .model import TCPWeighted as TCPWeighted
from .model import TLSCertificate as TLSCertificate
from .model import TLSClientAuth as TLSClientAuth
from .model import TLSConfiguration as TLSConfiguration
from .model import TLSDefaultCertificate as TLSDefaultCertificate
from .model import TLSOptions as TLSOptions
from .model import TLSStore as TLSStore
from .model import UDPConfiguration as UDPConfiguration
from .model import UDPLoadBalancer as UDPLoadBalancer
from .model import UDPRouter as UDPRouter
from .model import UDPServer as UDPServer
from .model import UDPService as UDPService
from .model import UDPWeighted as UDPWeighted
from .model import ValidationResult as ValidationResult
from .model import Weighted as Weighted
from .model import WeightedService as WeightedService
from .model import criterion_problem as criterion_problem
from .model import decode_configuration as decode_configuration
from .model import format_duration as format_duration
from .model import hash_problem as hash_problem
from .model import headers_defined as headers_defined
from .model import load_users as load_users
from .model import merge_configurations as merge_configurations
from .model import named_section as named_section
from .model import parse_breaker_expression as parse_breaker_expression
from .model import parse_duration as parse_duration
from .model import parse_retry_expression as parse_retry_expression
from .model import reference_hint as reference_hint
from .model import rule_error as rule_error
from .model import status_ranges as status_ranges
from .model import to_data as to_data
from .model import upgrade_rules as upgrade_rules
from .model import valid_field as valid_field
from .model import validate as validate
from .model import with_named_sections as with_named_sections
from .providers import DEFAULT_FRONTEND_RULE as DEFAULT_FRONTEND_RULE
from .providers import DEFAULT_RULE as DEFAULT_RULE
from .providers import DEFAULT_STRICT_CHECKS as DEFAULT_STRICT_CHECKS
from .providers import INGRESS_CLASS_ANNOTATION as INGRESS_CLASS_ANNOTATION
from .providers import TRAEFIK_INGRESS_CONTROLLER as TRAEFIK_INGRESS_CONTROLLER
from .providers import CatalogInstance as CatalogInstance
from .providers import CatalogService as CatalogService
from .providers import ClusterState as ClusterState
from .providers import ConnectCertificates as ConnectCertificates
from .providers import ContainerInfo as ContainerInfo
from .providers import DockerContainer as DockerContainer
from .providers import IngressOptions as IngressOptions
from .providers import IngressResult as IngressResult
from .providers import config_to_kv as config_to_kv
from .providers import config_to_labels as config_to_labels
from .providers import consul_catalog_to_config as consul_catalog_to_config
from .providers import consul_catalog_v1_to_config as consul_catalog_v1_to_config
from .providers import docker_container as docker_container
from .providers import ingress_to_config as ingress_to_config
from .providers import kv_to_config as kv_to_config
from .providers import labels_to_config as labels_to_config
from .providers import marathon_to_config as marathon_to_config
from .providers import normalize as normalize
from .providers import object_key as object_key
from .providers import tags_to_labels as tags_to_labels
from .providers import v1_frontend_rule as v1_frontend_rule

__all__ = [
    "AccessLogConfig",
    "BreakerExpression",
    "BreakerSyntaxError",
    "Measurements",
    "parse_breaker_expression",
    "parse_retry_expression",
    "BCRYPT_PREFIXES",
    "CRYPT_PREFIXES",
    "criterion_problem",
    "hash_problem",
    "headers_defined",
    "load_users",
    "status_ranges",
    "valid_field",
    "DEFAULT_STRICT_CHECKS",
    "INGRESS_CLASS_ANNOTATION",
    "TRAEFIK_INGRESS_CONTROLLER",
    "ClusterState",
    "IngressOptions",
    "IngressResult",
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
    "ClientTLS",
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
    "MarathonProviderConfig",
    "MetricsConfig",
    "PingConfig",
    "IngressEndpointConfig",
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
    "DockerContainer",
    "config_to_kv",
    "config_to_labels",
    "consul_catalog_v1_to_config",
    "kv_to_config",
    "docker_container",
    "ingress_to_config",
    "labels_to_config",
    "marathon_to_config",
    "merge_configurations",
    "named_section",
    "parse_address",
    "normalize",
    "object_key",
    "tags_to_labels",
    "v1_frontend_rule",
]
