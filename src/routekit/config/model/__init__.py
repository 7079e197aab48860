"""The configuration model, its validation, and the text tree every codec decodes through.

Used by the other rooms of ``routekit.config`` through these names; the public ones are
re-exported by ``routekit.config``.
"""

from __future__ import annotations

from ._breaker import BreakerExpression as BreakerExpression
from ._breaker import BreakerSyntaxError as BreakerSyntaxError
from ._breaker import Measurements as Measurements
from ._breaker import parse_breaker_expression as parse_breaker_expression
from ._breaker import parse_retry_expression as parse_retry_expression
from ._decode import decode_configuration as decode_configuration
from ._decode import flatten_data as flatten_data
from ._decode import to_data as to_data
from ._decoder import INVALID as INVALID
from ._decoder import Decoder as Decoder
from ._durations import MAX_DURATION as MAX_DURATION
from ._durations import format_duration as format_duration
from ._durations import parse_duration as parse_duration
from ._frozen import FrozenMap as FrozenMap
from ._frozen import frozen_map as frozen_map
from ._frozen import frozen_tuple as frozen_tuple
from ._hints import closest as closest
from ._hints import did_you_mean as did_you_mean
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
from ._middlewares import middleware_from_definition as middleware_from_definition
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
from ._numbers import is_index as is_index
from ._numbers import parse_int as parse_int
from ._options import BCRYPT_PREFIXES as BCRYPT_PREFIXES
from ._options import CRYPT_PREFIXES as CRYPT_PREFIXES
from ._options import criterion_problem as criterion_problem
from ._options import hash_problem as hash_problem
from ._options import headers_defined as headers_defined
from ._options import load_users as load_users
from ._options import status_ranges as status_ranges
from ._options import valid_field as valid_field
from ._sections import NAMED_SECTIONS as NAMED_SECTIONS
from ._sections import named_section as named_section
from ._sections import with_named_sections as with_named_sections
from ._tree import Node as Node
from ._tree import element_name_problem as element_name_problem
from ._tree import is_text as is_text
from ._tree import shown_text as shown_text
from ._tree import split_label_key as split_label_key
from ._upgrade import upgrade_rules as upgrade_rules
from ._validate import ValidationResult as ValidationResult
from ._validate import reference_hint as reference_hint
from ._validate import rule_error as rule_error
from ._validate import validate as validate

__all__ = [
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
    "AddPrefix",
    "BasicAuth",
    "Buffering",
    "CertInfo",
    "CertIssuerInfo",
    "CertSubjectInfo",
    "Chain",
    "ChildHealthCheck",
    "CircuitBreaker",
    "ClientCertificate",
    "Compress",
    "Configuration",
    "Conflict",
    "ContentType",
    "Cookie",
    "Decoder",
    "DigestAuth",
    "Domain",
    "Errors",
    "Failover",
    "ForwardAuth",
    "ForwardAuthTLS",
    "ForwardingTimeouts",
    "FrozenMap",
    "GrpcWeb",
    "HTTPConfiguration",
    "Headers",
    "HealthCheck",
    "INVALID",
    "IPAllowList",
    "IPStrategy",
    "InFlightReq",
    "LoadBalancer",
    "MAX_DURATION",
    "MAX_PRIORITY",
    "MAX_WEIGHT",
    "MIDDLEWARE_ALIASES",
    "MIDDLEWARE_TYPES",
    "MIN_PRIORITY",
    "Middleware",
    "Mirror",
    "Mirroring",
    "NAMED_SECTIONS",
    "Node",
    "PassTLSClientCert",
    "PassiveHealthCheck",
    "RateLimit",
    "RedirectRegex",
    "RedirectScheme",
    "ReplacePath",
    "ReplacePathRegex",
    "ResponseForwarding",
    "Retry",
    "Router",
    "RouterTLS",
    "Server",
    "ServersTransport",
    "Service",
    "SourceCriterion",
    "Sticky",
    "StripPrefix",
    "StripPrefixRegex",
    "TCPConfiguration",
    "TCPIPAllowList",
    "TCPInFlightConn",
    "TCPLoadBalancer",
    "TCPMiddleware",
    "TCPRouter",
    "TCPRouterTLS",
    "TCPServer",
    "TCPService",
    "TCPWeighted",
    "TCP_MIDDLEWARE_TYPES",
    "TLSCertificate",
    "TLSClientAuth",
    "TLSConfiguration",
    "TLSDefaultCertificate",
    "TLSOptions",
    "TLSStore",
    "UDPConfiguration",
    "UDPLoadBalancer",
    "UDPRouter",
    "UDPServer",
    "UDPService",
    "UDPWeighted",
    "ValidationResult",
    "Weighted",
    "WeightedService",
    "closest",
    "decode_configuration",
    "did_you_mean",
    "element_name_problem",
    "flatten_data",
    "format_duration",
    "frozen_map",
    "frozen_tuple",
    "is_index",
    "is_text",
    "merge_configurations",
    "middleware_from_definition",
    "named_section",
    "parse_duration",
    "parse_int",
    "reference_hint",
    "rule_error",
    "shown_text",
    "split_label_key",
    "to_data",
    "upgrade_rules",
    "validate",
    "with_named_sections",
]
