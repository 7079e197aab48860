"""routekit.middleware: Traefik's HTTP middlewares acting on live requests, for every face.

A configured middleware (a model object of `routekit.config`) is built once into a `Layer`
(`build_layer`), when the configuration loads (`shared_layer`, called by the runtime's build);
a middleware that only acts before and after the rest of the path is a `Step`, and `compose`
runs neighbouring steps in one coroutine frame.  `Chains` composes each router's layers around
the rest of the path once and hands the proxy (or the ASGI face) one `Next` per router.  Per
request only a `Call` — the request as the middlewares change it — is new.  The decisions are
pure functions that tests and hypothesis call directly: `strip_prefix`, `replace_path_regex`,
`scheme_request_url`, `cors_origin`, `client_ip`, `TokenBucket`, `check_secret`…
"""

from __future__ import annotations

from ._auth import Digest as Digest
from ._auth import Users as Users
from ._auth import basic_credentials as basic_credentials
from ._auth import check_secret as check_secret
from ._auth import digest_fields as digest_fields
from ._breaker import Breaker as Breaker
from ._breaker import BreakerState as BreakerState
from ._breaker import Window as Window
from ._buffering import sniff_content_type as sniff_content_type
from ._build import SUPPORTED as SUPPORTED
from ._build import Chains as Chains
from ._build import Context as Context
from ._build import build_layer as build_layer
from ._build import compose as compose
from ._build import needs_face as needs_face
from ._build import shared_layer as shared_layer
from ._build import supported as supported
from ._call import Call as Call
from ._call import Fields as Fields
from ._call import Fused as Fused
from ._call import Layer as Layer
from ._call import Next as Next
from ._call import Step as Step
from ._call import add_header as add_header
from ._call import after_body as after_body
from ._call import fuse as fuse
from ._call import get_header as get_header
from ._call import plain as plain
from ._call import remove_header as remove_header
from ._call import set_header as set_header
from ._call import split_target as split_target
from ._call import with_fields as with_fields
from ._client_cert import certificate_info as certificate_info
from ._client_cert import certificate_pem as certificate_pem
from ._compress import available_encodings as available_encodings
from ._compress import negotiate as negotiate
from ._errors import error_page_target as error_page_target
from ._grpc_web import TRAILER_FLAG as TRAILER_FLAG
from ._grpc_web import decode_frames as decode_frames
from ._grpc_web import decode_text as decode_text
from ._grpc_web import encode_frame as encode_frame
from ._grpc_web import grpc_content_type as grpc_content_type
from ._grpc_web import parse_header_list as parse_header_list
from ._grpc_web import parse_trailer_block as parse_trailer_block
from ._grpc_web import trailer_block as trailer_block
from ._grpc_web import trailer_frame as trailer_frame
from ._headers import CORS as CORS
from ._headers import cors_origin as cors_origin
from ._headers import preflight_headers as preflight_headers
from ._ip import IPChecker as IPChecker
from ._ip import client_ip as client_ip
from ._ip import source_of as source_of
from ._limits import MAX_SOURCES as MAX_SOURCES
from ._limits import RateLimiter as RateLimiter
from ._limits import TokenBucket as TokenBucket
from ._limits import go_duration as go_duration
from ._paths import PathRefused as PathRefused
from ._paths import add_prefix as add_prefix
from ._paths import clean_path as clean_path
from ._paths import decode_path as decode_path
from ._paths import replace_path as replace_path
from ._paths import replace_path_regex as replace_path_regex
from ._paths import strip_prefix as strip_prefix
from ._paths import strip_prefix_regex as strip_prefix_regex
from ._redirect import redirect_status as redirect_status
from ._redirect import request_url as request_url
from ._redirect import scheme_location as scheme_location
from ._redirect import scheme_request_url as scheme_request_url
from ._retry import backoff_delays as backoff_delays

__all__ = [
    "CORS",
    "MAX_SOURCES",
    "SUPPORTED",
    "Breaker",
    "BreakerState",
    "Call",
    "Fields",
    "Fused",
    "Chains",
    "Context",
    "Digest",
    "IPChecker",
    "Layer",
    "Next",
    "PathRefused",
    "RateLimiter",
    "Step",
    "TokenBucket",
    "Users",
    "Window",
    "add_header",
    "add_prefix",
    "after_body",
    "backoff_delays",
    "available_encodings",
    "basic_credentials",
    "build_layer",
    "certificate_info",
    "certificate_pem",
    "check_secret",
    "clean_path",
    "client_ip",
    "compose",
    "cors_origin",
    "decode_path",
    "digest_fields",
    "error_page_target",
    "fuse",
    "get_header",
    "go_duration",
    "needs_face",
    "negotiate",
    "plain",
    "preflight_headers",
    "redirect_status",
    "remove_header",
    "replace_path",
    "replace_path_regex",
    "request_url",
    "scheme_location",
    "scheme_request_url",
    "set_header",
    "shared_layer",
    "sniff_content_type",
    "source_of",
    "split_target",
    "with_fields",
    "strip_prefix",
    "strip_prefix_regex",
    "supported",
    "TRAILER_FLAG",
    "decode_frames",
    "decode_text",
    "encode_frame",
    "grpc_content_type",
    "parse_header_list",
    "parse_trailer_block",
    "trailer_block",
    "trailer_frame",
]
