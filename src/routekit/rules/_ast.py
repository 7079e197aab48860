"""The rule AST: immutable nodes that match a `Request` (or a `TCPConnection`).

Every node is a frozen, slotted attrs value with ``matches(request) -> bool``.  Everything a
match needs (lower-cased values, compiled regexps, parsed networks) is computed once at
construction and kept in ``eq=False`` fields, so ``matches`` does no parsing and little
allocation.  Equality and hashing look at the user-visible fields only.

Trees built by the parser are normalised: ``And``/``Or`` flattened and never single-child, and
``Not`` only wraps a leaf (De Morgan, as Traefik's ``invert()`` in ``pkg/rules/parser.go``).
`And.of`, `Or.of` and `Not.of` build normalised trees from any nodes.
"""

from __future__ import annotations

from ._http import (
    ClientIP,
    Header,
    HeaderRegexp,
    Host,
    HostRegexp,
    HostTemplate,
    Method,
    Path,
    PathPrefix,
    PathPrefixTemplate,
    PathRegexp,
    PathTemplate,
    Query,
    QueryRegexp,
    QueryTemplate,
    canonical_header_key,
)
from ._logic import And, Not, Or
from ._modifiers import (
    AddPrefix,
    PathPrefixStrip,
    PathPrefixStripRegex,
    PathStrip,
    PathStripRegex,
    ReplacePath,
    ReplacePathRegex,
)
from ._node import Node
from ._tcp import ALPN, HostSNI, HostSNIRegexp, HostSNITemplate, TCPConnection

__all__ = [
    "ALPN",
    "AddPrefix",
    "And",
    "ClientIP",
    "Header",
    "HeaderRegexp",
    "Host",
    "HostRegexp",
    "HostSNI",
    "HostSNIRegexp",
    "HostSNITemplate",
    "HostTemplate",
    "Method",
    "Node",
    "Not",
    "Or",
    "Path",
    "PathPrefix",
    "PathPrefixStrip",
    "PathPrefixStripRegex",
    "PathPrefixTemplate",
    "PathRegexp",
    "PathStrip",
    "PathStripRegex",
    "PathTemplate",
    "Query",
    "QueryRegexp",
    "QueryTemplate",
    "ReplacePath",
    "ReplacePathRegex",
    "TCPConnection",
    "canonical_header_key",
]
