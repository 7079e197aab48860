"""The rule language: parse Traefik rules (v1, v2, v3), match requests, print in any syntax.

`parse_rule` turns text into a `Rule` (an immutable tree of `Node` values); `Rule.matches`
tests a `routekit.Request`; `Rule.to_string` prints canonical text in any syntax that can
express the rule; `translate` rewrites v1/v2 rules as v3 plus middlewares.
"""

from __future__ import annotations

from . import _ast
from ._api import MAX_MATCHERS as MAX_MATCHERS
from ._api import MAX_RULE_LENGTH as MAX_RULE_LENGTH
from ._api import RULE_CACHE_SIZE as RULE_CACHE_SIZE
from ._api import clear_rule_cache as clear_rule_cache
from ._api import parse_rule as parse_rule
from ._api import parse_tcp_rule as parse_tcp_rule
from ._ast import (
    ALPN as ALPN,
)
from ._ast import (
    AddPrefix as AddPrefix,
)
from ._ast import (
    And as And,
)
from ._ast import (
    ClientIP as ClientIP,
)
from ._ast import (
    Header as Header,
)
from ._ast import (
    HeaderRegexp as HeaderRegexp,
)
from ._ast import (
    Host as Host,
)
from ._ast import (
    HostRegexp as HostRegexp,
)
from ._ast import (
    HostSNI as HostSNI,
)
from ._ast import (
    HostSNIRegexp as HostSNIRegexp,
)
from ._ast import (
    HostSNITemplate as HostSNITemplate,
)
from ._ast import (
    HostTemplate as HostTemplate,
)
from ._ast import (
    Method as Method,
)
from ._ast import (
    Node as Node,
)
from ._ast import (
    Not as Not,
)
from ._ast import (
    Or as Or,
)
from ._ast import (
    Path as Path,
)
from ._ast import (
    PathPrefix as PathPrefix,
)
from ._ast import (
    PathPrefixStrip as PathPrefixStrip,
)
from ._ast import (
    PathPrefixStripRegex as PathPrefixStripRegex,
)
from ._ast import (
    PathPrefixTemplate as PathPrefixTemplate,
)
from ._ast import (
    PathRegexp as PathRegexp,
)
from ._ast import (
    PathStrip as PathStrip,
)
from ._ast import (
    PathStripRegex as PathStripRegex,
)
from ._ast import (
    PathTemplate as PathTemplate,
)
from ._ast import (
    Query as Query,
)
from ._ast import (
    QueryRegexp as QueryRegexp,
)
from ._ast import (
    QueryTemplate as QueryTemplate,
)
from ._ast import (
    ReplacePath as ReplacePath,
)
from ._ast import (
    ReplacePathRegex as ReplacePathRegex,
)
from ._ast import (
    TCPConnection as TCPConnection,
)
from ._ast import (
    canonical_header_key as canonical_header_key,
)
from ._constraints import MARATHON_CONSTRAINT_PREFIX as MARATHON_CONSTRAINT_PREFIX
from ._constraints import Constraint as Constraint
from ._constraints import parse_constraint as parse_constraint
from ._printer import UnrepresentableRule as UnrepresentableRule
from ._reast import RegexError as RegexError
from ._regex import Regexp as Regexp
from ._regex import compile_regexp as compile_regexp
from ._rule import Rule as Rule
from ._translate import Translation as Translation
from ._translate import to_v3 as to_v3
from ._translate import translate as translate

__all__ = [
    "Constraint",
    "MARATHON_CONSTRAINT_PREFIX",
    "MAX_MATCHERS",
    "MAX_RULE_LENGTH",
    "RULE_CACHE_SIZE",
    "RegexError",
    "Regexp",
    "Rule",
    "Translation",
    "UnrepresentableRule",
    "clear_rule_cache",
    "compile_regexp",
    "parse_constraint",
    "parse_rule",
    "parse_tcp_rule",
    "to_v3",
    "translate",
]
# The node names, listed once in _ast.
__all__ += _ast.__all__
