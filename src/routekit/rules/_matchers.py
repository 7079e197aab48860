"""The matcher tables of v2 and v3 (HTTP and TCP): arity and how each call becomes nodes.

One table per syntax, as Traefik keeps ``httpFuncs`` (``master:pkg/muxer/http/matcher.go``) and
``httpFuncsV2`` (``matcher_v2.go``); arity errors and value checks come from the table.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Final, NoReturn, final

import attrs

from ..errors import RuleSyntaxError
from . import _ast as ast
from ._http import path_node
from ._lexer import Token
from ._v1 import query_node

__all__ = ["TABLES", "Args", "Spec", "spellings"]


@final
class Args:
    """The string arguments of one matcher call, with their places in the rule text."""

    __slots__ = ("name", "rule", "syntax", "tokens", "values")

    def __init__(self, rule: str, name: Token, tokens: Sequence[Token], syntax: str) -> None:
        self.rule = rule
        self.name = name
        self.tokens = tokens
        self.values = [t.text for t in tokens]
        self.syntax = syntax

    def fail(self, index: int, problem: str, hint: str | None = None, at: int = 0) -> NoReturn:
        """Raise a RuleSyntaxError about argument *index* (character *at* inside its value)."""
        token = self.tokens[index]
        offsets = token.offsets
        position = offsets[at] if 0 <= at < len(offsets) else token.position
        raise RuleSyntaxError(problem, self.rule, position, hint)

    def build(
        self, index: int, factory: Callable[..., ast.Node], *values: str, shift: int = 0
    ) -> ast.Node:
        """Construct a node; a bad value (regexp, template, IP) becomes a RuleSyntaxError.

        ``shift`` is where the faulty part starts inside argument *index* (``key=`` before a
        v2 query template), added to the position the error reports.
        """
        try:
            return factory(*values)
        except (ValueError, re.error, RecursionError, OverflowError, MemoryError) as exc:
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            at = getattr(exc, "position", 0)
            self.fail(
                index,
                f"invalid value for {self.name.text}: {message}",
                at=shift + (at if isinstance(at, int) else 0),
            )


Builder = Callable[[Args], ast.Node]


@final
@attrs.frozen
class Spec:
    """How a matcher is called: allowed argument counts (None = one or more) and its builder."""

    arity: tuple[int, ...] | None
    build: Builder
    pairs: bool = False
    #: Whether a value may be empty (constraints' ``Label(`a`, ``)``; never a matcher's).
    empty: bool = False


def spellings(name: str) -> tuple[str, ...]:
    """The four spellings Traefik registers for a matcher (``NewParser`` in ``parser.go``)."""
    return (name, name.lower(), name.upper(), _title(name))


def _title(name: str) -> str:
    return name[:1].upper() + name[1:].lower()


# -- value checks --------------------------------------------------------------------------------


def _host_value(args: Args, index: int) -> str:
    value = args.values[index]
    if not value.isascii():
        try:
            puny = value.encode("idna").decode("ascii")
        except UnicodeError:
            hint = "write internationalised domains in punycode (xn--...)"
        else:
            hint = f"write it in punycode: {puny}"
        first = next(i for i, c in enumerate(value) if not c.isascii())
        args.fail(index, f"non-ASCII characters are not allowed in {args.name.text}", hint, first)
    return value


#: Traefik v3's HostSNI value check (``hostOrIP`` in master:pkg/muxer/tcp/matcher.go): word
#: characters, dots, dashes and colons, after an optional leading ``*.``.
_SNI_VALUE: Final = re.compile(r"(?:\*\.)?[0-9A-Za-z_.:-]+", re.ASCII)


def _wildcard_check(args: Args, index: int, value: str) -> None:
    """Refuse a ``*`` anywhere but alone or as the whole first label.

    Traefik compares ``*.x`` patterns by replacing the host's first label with ``*``
    (``DomainMatchHostExpression`` in master:pkg/muxer/muxer.go), so ``*.*.a.com`` or
    ``a.*.com`` are accepted there and never match: routekit says so instead.
    """
    if value == "*":
        return
    star = value.find("*", 2 if value.startswith("*.") else 0)
    if star >= 0:
        args.fail(
            index,
            f"{args.name.text} allows a wildcard only as the whole first label or alone",
            "write `*.a.com` for one label under a.com, or `*` for every name",
            star,
        )


def _host_name(kind: Callable[[str], ast.Node], *, sni: bool = False) -> One:
    """As `_host_like`, for exact names with an optional wildcard (``Host``, ``HostSNI``)."""

    def one(args: Args, i: int) -> ast.Node:
        value = _host_value(args, i)
        _wildcard_check(args, i, value)
        if sni and value != "*" and not _SNI_VALUE.fullmatch(value):
            bad = next((j for j, c in enumerate(value) if not (c.isalnum() or c in "_.:-*")), 0)
            args.fail(
                i,
                f"{value!r} is not a valid server name for {args.name.text}",
                "a server name is made of letters, digits, '_', '.', '-' and ':'",
                bad,
            )
        return args.build(i, kind, value)

    return one


def _path_value(args: Args, index: int) -> str:
    value = args.values[index]
    if not value.startswith("/"):
        args.fail(
            index,
            f"{args.name.text} value must start with '/'",
            f"write {args.name.text}(`/{value}`)",
        )
    return value


# -- one argument: (args, index) -> node ---------------------------------------------------------

#: Builds the node of argument *index* of a call.
One = Callable[[Args, int], ast.Node]


def _value(kind: Callable[[str], ast.Node]) -> One:
    """The node ``kind(value)``; a value *kind* refuses (a regexp, an IP) is reported in place."""

    def one(args: Args, i: int) -> ast.Node:
        return args.build(i, kind, args.values[i])

    return one


def _host_like(kind: Callable[[str], ast.Node]) -> One:
    """As `_value`, for host values, which must be ASCII first.

    Traefik refuses non-ASCII values in Host and HostRegexp, v2 and v3 alike (host, hostRegexp,
    hostRegexpV2 in master:pkg/muxer/http): hosts are matched in punycode.
    """

    def one(args: Args, i: int) -> ast.Node:
        return args.build(i, kind, _host_value(args, i))

    return one


def _path(args: Args, i: int) -> ast.Node:
    return ast.Path(_path_value(args, i))


def _path_prefix(args: Args, i: int) -> ast.Node:
    return ast.PathPrefix(_path_value(args, i))


def _v2_path(args: Args, i: int) -> ast.Node:
    # v2 values with "{" are gorilla templates.
    return args.build(i, path_node, _path_value(args, i))


def _v2_path_prefix(args: Args, i: int) -> ast.Node:
    return args.build(i, functools.partial(path_node, prefix=True), _path_value(args, i))


def _method(args: Args, i: int) -> ast.Node:
    return ast.Method(args.values[i])


def _alpn(args: Args, i: int) -> ast.Node:
    if args.values[i] == "acme-tls/1":
        # Traefik reserves it for the TLS-ALPN-01 challenge (master:pkg/muxer/tcp/matcher.go).
        args.fail(i, "ALPN value acme-tls/1 is reserved for the ACME TLS-ALPN-01 challenge")
    return ast.ALPN(args.values[i])


def _single(one: One) -> Builder:
    """The builder of a one-value (v3) matcher."""
    return lambda args: one(args, 0)


def _many(one: One) -> Builder:
    """The builder of a v2 matcher whose several values are alternatives."""
    return lambda args: ast.Or.of(*(one(args, i) for i in range(len(args.values))))


# -- whole calls ---------------------------------------------------------------------------------


def _header(args: Args) -> ast.Node:
    return ast.Header(*args.values)


def _header_regexp(args: Args) -> ast.Node:
    return args.build(1, ast.HeaderRegexp, *args.values)


def _query(args: Args) -> ast.Node:
    return ast.Query(*args.values)


def _query_regexp(args: Args) -> ast.Node:
    if len(args.values) == 1:
        return ast.Query(args.values[0])  # QueryRegexp(`k`) behaves as Query(`k`)
    return args.build(1, ast.QueryRegexp, *args.values)


def _v2_pairs(kind: Callable[..., ast.Node]) -> Builder:
    def build(args: Args) -> ast.Node:
        values = args.values
        # gorilla/mux keeps the pairs in a map (mapFromPairsToString): a repeated name keeps
        # its last value, as in v1.
        last = {values[i]: i for i in range(0, len(values), 2)}
        return ast.And.of(
            *(args.build(i + 1, kind, values[i], values[i + 1]) for i in sorted(last.values()))
        )

    return build


def _v2_query(args: Args) -> ast.Node:
    # matcher_v2.go queryV2: each value is split on its first "=" and handed to gorilla's
    # Queries, so the value is a template ("{id:[0-9]+}") and an empty one matches any value.
    nodes = []
    for i, value in enumerate(args.values):
        key, sep, val = value.partition("=")
        if not sep:
            args.fail(i, "v2 Query values are key=value", f"write Query(`{value}=...`)")
        if not key:
            args.fail(i, "empty query parameter name")
        if "{" in key:
            args.fail(
                i,
                "a template in a Query key is not supported",
                "templates are allowed in the value: Query(`id={id:[0-9]+}`)",
            )
        nodes.append(args.build(i, query_node, key, val, shift=len(key) + 1))
    return ast.And.of(*nodes)


def _v2_host_sni(args: Args) -> ast.Node:
    # Traefik v2 (hostSNIV2, master:pkg/muxer/tcp/matcher_v2.go): `*` as the first value
    # matches every connection, TLS or not; a later `*` matches every connection that sent a
    # server name (the matcher returns false on an empty one before looking at the values).
    one = _host_name(ast.HostSNI, sni=True)
    nodes = [one(args, i) for i in range(len(args.values))]
    if nodes[0] != _ANY_SNI:
        nodes = [_ANY_NAMED_SNI if n == _ANY_SNI else n for n in nodes]
    return ast.Or.of(*nodes)


_ANY_SNI: Final = ast.HostSNI("*")
#: Any connection that sent a server name, in v2 terms (an anchored template).
_ANY_NAMED_SNI: Final = ast.HostSNITemplate("{sni:.+}")


# -- the tables ----------------------------------------------------------------------------------

_V3_HTTP: Final[Mapping[str, Spec]] = {
    "Host": Spec((1,), _single(_host_name(ast.Host))),
    "HostRegexp": Spec((1,), _single(_host_like(ast.HostRegexp))),
    "Method": Spec((1,), _single(_method)),
    "Path": Spec((1,), _single(_path)),
    "PathPrefix": Spec((1,), _single(_path_prefix)),
    "PathRegexp": Spec((1,), _single(_value(ast.PathRegexp))),
    "Header": Spec((2,), _header),
    "HeaderRegexp": Spec((2,), _header_regexp),
    "Query": Spec((1, 2), _query),
    "QueryRegexp": Spec((1, 2), _query_regexp),
    "ClientIP": Spec((1,), _single(_value(ast.ClientIP))),
}

_V2_HTTP: Final[Mapping[str, Spec]] = {
    "Host": Spec(None, _many(_host_name(ast.Host))),
    "HostHeader": Spec(None, _many(_host_name(ast.Host))),
    "HostRegexp": Spec(None, _many(_host_like(ast.HostTemplate))),
    "Path": Spec(None, _many(_v2_path)),
    "PathPrefix": Spec(None, _many(_v2_path_prefix)),
    "Method": Spec(None, _many(_method)),
    "Headers": Spec(None, _v2_pairs(ast.Header), pairs=True),
    "HeadersRegexp": Spec(None, _v2_pairs(ast.HeaderRegexp), pairs=True),
    "Query": Spec(None, _v2_query),
    "ClientIP": Spec(None, _many(_value(ast.ClientIP))),
}

_V3_TCP: Final[Mapping[str, Spec]] = {
    "HostSNI": Spec((1,), _single(_host_name(ast.HostSNI, sni=True))),
    "HostSNIRegexp": Spec((1,), _single(_host_like(ast.HostSNIRegexp))),
    "ClientIP": Spec((1,), _single(_value(ast.ClientIP))),
    "ALPN": Spec((1,), _single(_alpn)),
}

_V2_TCP: Final[Mapping[str, Spec]] = {
    "HostSNI": Spec(None, _v2_host_sni),
    "HostSNIRegexp": Spec(None, _many(_host_like(ast.HostSNITemplate))),
    "ClientIP": Spec(None, _many(_value(ast.ClientIP))),
    "ALPN": Spec(None, _many(_alpn)),
}

#: (protocol, syntax) → canonical matcher name → Spec.
TABLES: Final[Mapping[tuple[str, str], Mapping[str, Spec]]] = {
    ("http", "v3"): _V3_HTTP,
    ("http", "v2"): _V2_HTTP,
    ("tcp", "v3"): _V3_TCP,
    ("tcp", "v2"): _V2_TCP,
}
