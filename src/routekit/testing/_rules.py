"""Hypothesis strategy `rules()`: valid rules, printable in the syntax asked for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from hypothesis import strategies as st

from .. import rules as ast
from ..rules import Rule
from ._requests import (
    ALPN_PROTOCOLS,
    HEADER_NAMES,
    HEADER_VALUES,
    HOSTS,
    METHODS,
    NETWORKS,
    PATH_SEGMENTS,
    QUERY_KEYS,
    QUERY_VALUES,
)

__all__ = ["rules"]

Nodes = st.SearchStrategy[ast.Node]

# RE2 patterns that are valid everywhere and hit the pooled hosts and paths.
_HOST_PATTERNS: Final = (r"^[a-z]+\.example\.com$", "example", r"\.io$", r"^(api|www)\.")
_PATH_PATTERNS: Final = (r"^/api/", r"/users/[0-9]+$", "css", r"^/(v1|api)(/|$)")
_VALUE_PATTERNS: Final = ("^json$", "[0-9]", "prod|dev", "x")
# gorilla templates (lower case: v1 lower-cases host templates; no ',' or ';' for v1).
_HOST_TEMPLATES: Final = (
    "{sub:[a-z]+}.example.com",
    "api.{domain}.com",
    "{host:[a-z.]+}",
    "localhost",
)
_PATH_TEMPLATES: Final = ("/users/{id:[0-9]+}", "/static/{file}", "/api/{v:v[0-9]}/users")
# v1/v2 Query values with gorilla meaning: "" = any value of a present key, else a template.
_QUERY_TEMPLATES: Final = ("", "{n:[0-9]+}", "{any}", "x{y:[a-z]}")

# Free text for values that any quoting must survive (backticks, quotes, escapes, Unicode).
# (The utf-8 codec leaves out lone surrogates, which no Go literal can carry.)
_TEXT: Final = st.text(st.characters(codec="utf-8"), min_size=1)
# Text safe in a v1 value: no separators, no spaces, no ':' runs.
_V1_TEXT: Final = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/"),
    min_size=1,
    max_size=12,
)


def _pooled_path() -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(PATH_SEGMENTS), max_size=3).map(lambda p: "/" + "/".join(p))


def _path(*, braces: bool) -> st.SearchStrategy[str]:
    text = st.one_of(_pooled_path(), _TEXT.map(lambda t: "/" + t))
    return text if braces else text.filter(lambda p: "{" not in p)


def _host() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HOSTS), st.sampled_from(("*", "*.example.com")), st.sampled_from(HOSTS)
    )


def _header_name() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(HEADER_NAMES), _TEXT)


def _v3_leaves() -> Nodes:
    return st.one_of(
        st.builds(ast.Host, _host()),
        st.builds(ast.HostRegexp, st.sampled_from(_HOST_PATTERNS)),
        st.builds(ast.Path, _path(braces=True)),
        st.builds(ast.PathPrefix, _path(braces=True)),
        st.builds(ast.PathRegexp, st.sampled_from(_PATH_PATTERNS)),
        st.builds(ast.Method, st.sampled_from(METHODS)),
        st.builds(ast.Header, _header_name(), st.one_of(st.sampled_from(HEADER_VALUES), _TEXT)),
        st.builds(ast.HeaderRegexp, _header_name(), st.sampled_from(_VALUE_PATTERNS)),
        st.builds(ast.Query, st.one_of(st.sampled_from(QUERY_KEYS), _TEXT)),
        st.builds(
            ast.Query,
            st.one_of(st.sampled_from(QUERY_KEYS), _TEXT),
            st.one_of(st.sampled_from(QUERY_VALUES), _TEXT),
        ),
        st.builds(ast.QueryRegexp, st.sampled_from(QUERY_KEYS), st.sampled_from(_VALUE_PATTERNS)),
        st.builds(ast.ClientIP, st.sampled_from(NETWORKS)),
    )


def _v2_leaves() -> Nodes:
    # "=" ends a v2 query key and "{" would start a template, which keys may not have.
    query_key = st.one_of(
        st.sampled_from(QUERY_KEYS), _TEXT.filter(lambda k: "=" not in k and "{" not in k)
    )
    return st.one_of(
        st.builds(ast.Host, _host()),
        st.builds(ast.HostTemplate, st.sampled_from(_HOST_TEMPLATES)),
        st.builds(ast.Path, _path(braces=False)),
        st.builds(ast.PathTemplate, st.sampled_from(_PATH_TEMPLATES)),
        st.builds(ast.PathPrefix, _path(braces=False)),
        st.builds(ast.PathPrefixTemplate, st.sampled_from(_PATH_TEMPLATES)),
        st.builds(ast.Method, st.sampled_from(METHODS)),
        st.builds(ast.Header, _header_name(), st.one_of(st.sampled_from(HEADER_VALUES), _TEXT)),
        st.builds(ast.HeaderRegexp, _header_name(), st.sampled_from(_VALUE_PATTERNS)),
        st.builds(ast.Query, query_key, st.sampled_from(QUERY_VALUES)),
        st.builds(
            ast.QueryTemplate, st.sampled_from(QUERY_KEYS), st.sampled_from(_QUERY_TEMPLATES)
        ),
        st.builds(ast.ClientIP, st.sampled_from(NETWORKS)),
    )


def _tcp_leaves() -> Nodes:
    return st.one_of(
        st.builds(ast.HostSNI, _host()),
        st.builds(ast.HostSNIRegexp, st.sampled_from(_HOST_PATTERNS)),
        st.builds(ast.ClientIP, st.sampled_from(NETWORKS)),
        st.builds(ast.ALPN, st.sampled_from(ALPN_PROTOCOLS)),
    )


def _expressions(leaves: Nodes) -> Nodes:
    """And/Or/Not trees over *leaves*, normalised as the parser normalises them."""

    def extend(children: Nodes) -> Nodes:
        group = st.lists(children, min_size=2, max_size=3)
        return st.one_of(
            group.map(lambda xs: ast.And.of(*xs)),
            group.map(lambda xs: ast.Or.of(*xs)),
            children.map(ast.Not.of),
        )

    return st.recursive(st.one_of(leaves, leaves.map(ast.Not.of)), extend, max_leaves=6)


# -- v1 ------------------------------------------------------------------------------------------

_V1_MULTI: Final[tuple[tuple[Callable[[str], ast.Node], st.SearchStrategy[str]], ...]] = (
    (ast.Host, st.sampled_from(HOSTS)),
    (ast.HostTemplate, st.sampled_from(_HOST_TEMPLATES)),
    (ast.Path, _pooled_path()),
    (ast.PathTemplate, st.sampled_from(_PATH_TEMPLATES)),
    (ast.PathPrefix, _pooled_path()),
    (ast.PathPrefixTemplate, st.sampled_from(_PATH_TEMPLATES)),
    (ast.Method, st.sampled_from(METHODS)),
)


def _v1_alternatives(make: Callable[[str], ast.Node], values: st.SearchStrategy[str]) -> Nodes:
    return st.lists(values, min_size=1, max_size=3).map(lambda vs: ast.Or.of(*map(make, vs)))


def _v1_segments() -> Nodes:
    strip_values = st.lists(_pooled_path().filter(lambda p: p != "/"), min_size=1, max_size=2)
    return st.one_of(
        *(_v1_alternatives(make, values) for make, values in _V1_MULTI),
        st.builds(ast.Header, st.sampled_from(HEADER_NAMES), _V1_TEXT),
        st.builds(
            ast.HeaderRegexp, st.sampled_from(HEADER_NAMES), st.sampled_from(_VALUE_PATTERNS)
        ),
        st.builds(ast.Query, st.sampled_from(QUERY_KEYS), _V1_TEXT),
        st.builds(
            ast.QueryTemplate, st.sampled_from(QUERY_KEYS), st.sampled_from(_QUERY_TEMPLATES)
        ),
        st.builds(ast.PathStrip, strip_values),
        st.builds(ast.PathPrefixStrip, strip_values),
        st.builds(ast.PathStripRegex, st.lists(st.sampled_from(_PATH_TEMPLATES), min_size=1)),
        st.builds(ast.PathPrefixStripRegex, st.lists(st.sampled_from(_PATH_TEMPLATES), min_size=1)),
        st.builds(ast.AddPrefix, _pooled_path()),
        st.builds(ast.ReplacePath, _pooled_path()),
        st.builds(ast.ReplacePathRegex, st.sampled_from(_PATH_PATTERNS), st.just("/$1")),
    )


def _v1_rules() -> Nodes:
    return st.lists(_v1_segments(), min_size=1, max_size=4).map(lambda xs: ast.And.of(*xs))


_TREES: Final[dict[str, Callable[[], Nodes]]] = {
    "v3": lambda: _expressions(_v3_leaves()),
    "v2": lambda: _expressions(_v2_leaves()),
    "v1": _v1_rules,
    "tcp": lambda: _expressions(_tcp_leaves()),
}


def rules(syntax: str = "v3") -> st.SearchStrategy[Rule]:
    """Generate `routekit.rules.Rule` values that are valid and printable in *syntax*.

    *syntax* is ``"v3"``, ``"v2"``, ``"v1"`` or ``"tcp"`` (v3 TCP rules: `HostSNI`,
    `HostSNIRegexp`, `ClientIP`, `ALPN`).  Each rule's ``source`` is its canonical text in that
    syntax, so ``parse_rule(rule.source, syntax=...) == rule``.  Values come from the pool
    `requests()` draws from, plus free text (quotes, backticks, Unicode) where the syntax
    allows any value.
    """
    build = _TREES.get(syntax)
    if build is None:
        raise ValueError(f"syntax must be 'v3', 'v2', 'v1' or 'tcp', not {syntax!r}")
    printed = "v3" if syntax == "tcp" else syntax
    return build().map(lambda node: Rule(node, Rule(node).to_string(printed), printed))
