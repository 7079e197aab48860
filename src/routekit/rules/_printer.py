"""Print a node tree as canonical v1, v2 or v3 rule text, or explain why it cannot be.

Canonical means: backtick literals (double quotes only when a value needs escapes), one space
around ``&&`` and ``||``, parentheses only where precedence needs them; in v2, consecutive
alternatives of one multi-valued matcher share a call (``Host(`a`, `b`)``); in v1, segments
joined by ``;`` and alternatives by ``,``.  Whatever is printed parses back to the same tree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from ..errors import RoutekitError
from . import _ast as ast
from ._golit import go_quote

__all__ = ["UnrepresentableRule", "to_string"]


class UnrepresentableRule(RoutekitError, ValueError):
    """A rule cannot be written in the requested syntax (``Not`` in v1, a template in v3…)."""


_TRANSLATE: Final = "use routekit.rules.translate to convert it"
# v1 is the oldest syntax: nothing converts a rule *to* it, so point to a syntax that can say it.
_NEWER: Final = "print it in v3 instead (rule.to_string('v3'))"


def _fix(syntax: str) -> str:
    """How to get past a rule that *syntax* cannot express."""
    return _NEWER if syntax == "v1" else _TRANSLATE


# v1's path modifiers: v2 and v3 express them as middlewares.
_MODIFIERS: Final = (
    ast.PathStrip,
    ast.PathPrefixStrip,
    ast.PathStripRegex,
    ast.PathPrefixStripRegex,
    ast.AddPrefix,
    ast.ReplacePath,
    ast.ReplacePathRegex,
)
# The HTTP matchers v1 and v2 share, under the same names.
_V1_V2_MATCHERS: Final[Mapping[type[ast.Node], str]] = {
    ast.Host: "Host",
    ast.HostTemplate: "HostRegexp",
    ast.Path: "Path",
    ast.PathTemplate: "Path",
    ast.PathPrefix: "PathPrefix",
    ast.PathPrefixTemplate: "PathPrefix",
    ast.Method: "Method",
    ast.Header: "Headers",
    ast.HeaderRegexp: "HeadersRegexp",
    ast.Query: "Query",
    ast.QueryTemplate: "Query",
}

# node type → its function name in each syntax (absent: not expressible there).
_NAMES: Final[Mapping[str, Mapping[type[ast.Node], str]]] = {
    "v3": {
        ast.Host: "Host",
        ast.HostRegexp: "HostRegexp",
        ast.Path: "Path",
        ast.PathPrefix: "PathPrefix",
        ast.PathRegexp: "PathRegexp",
        ast.Method: "Method",
        ast.Header: "Header",
        ast.HeaderRegexp: "HeaderRegexp",
        ast.Query: "Query",
        ast.QueryRegexp: "QueryRegexp",
        ast.ClientIP: "ClientIP",
        ast.HostSNI: "HostSNI",
        ast.HostSNIRegexp: "HostSNIRegexp",
        ast.ALPN: "ALPN",
    },
    "v2": {
        **_V1_V2_MATCHERS,
        ast.ClientIP: "ClientIP",
        ast.HostSNI: "HostSNI",
        ast.HostSNITemplate: "HostSNIRegexp",
        ast.ALPN: "ALPN",
    },
    "v1": {**_V1_V2_MATCHERS, **{node: node.__name__ for node in _MODIFIERS}},
}

# Matchers whose several values mean "or" (v2 calls and v1 segments).
_MULTI: Final = frozenset(
    {
        "Host",
        "HostRegexp",
        "Path",
        "PathPrefix",
        "Method",
        "ClientIP",
        "HostSNI",
        "HostSNIRegexp",
        "ALPN",
    }
)
_PATHS: Final = (ast.Path, ast.PathPrefix, ast.PathTemplate, ast.PathPrefixTemplate)
_TEMPLATES: Final = (
    ast.QueryTemplate,
    ast.HostTemplate,
    ast.PathTemplate,
    ast.PathPrefixTemplate,
    ast.HostSNITemplate,
)


def _why_not(node: ast.Node, syntax: str) -> str:
    name = type(node).__name__
    if isinstance(node, _TEMPLATES):
        return f"{node} is a {{name:re}} template, which {syntax} does not have; {_fix(syntax)}"
    if isinstance(node, _MODIFIERS):
        return f"{name} is a v1 modifier; {syntax} expresses it as a middleware: {_TRANSLATE}"
    if syntax == "v1" and isinstance(node, ast.ClientIP):
        return "v1 has no ClientIP matcher"
    return f"{name} cannot be written in {syntax} ({name} takes a plain regexp); {_fix(syntax)}"


def _leaf(node: ast.Node, syntax: str) -> tuple[str, tuple[str, ...]]:
    """The function name and argument values of a leaf in *syntax*, after checking them."""
    name = _NAMES[syntax].get(type(node))
    if name is None:
        raise UnrepresentableRule(_why_not(node, syntax))
    values = node.values()
    if isinstance(node, ast.Query | ast.QueryTemplate) and syntax != "v3":
        key = node.key
        value = node.template if isinstance(node, ast.QueryTemplate) else node.value
        if "=" in key or not key or "{" in key:
            raise UnrepresentableRule(f"{node}: {syntax} cannot write this query key")
        if isinstance(node, ast.Query) and (not value or "{" in value):
            # v1/v2 read an empty value as "any value" and "{" as a template (gorilla Queries).
            raise UnrepresentableRule(f"{node}: {syntax} Query cannot express this value")
        if syntax == "v1" and "=" in value:
            raise UnrepresentableRule(f"{node}: v1 splits Query values on every '='")
        values = (f"{key}={value}",)
    elif isinstance(node, ast.ReplacePathRegex):
        if " " in node.pattern or " " in node.replacement:
            raise UnrepresentableRule(f"{node}: v1 separates pattern and replacement by a space")
        values = (f"{node.pattern} {node.replacement}",)
    if not values or any(not v for v in values):
        raise UnrepresentableRule(f"{node}: empty values cannot be written")
    if isinstance(node, (ast.Host, ast.HostSNI, ast.HostRegexp, ast.HostTemplate)) and not all(
        v.isascii() for v in values
    ):
        raise UnrepresentableRule(f"{node}: non-ASCII hosts must be written in punycode")
    if syntax != "v1" and isinstance(node, _PATHS) and not values[0].startswith("/"):
        raise UnrepresentableRule(f"{node}: {syntax} paths must start with '/'")
    if isinstance(node, (ast.Path, ast.PathPrefix)) and syntax != "v3" and "{" in values[0]:
        raise UnrepresentableRule(f"{node}: '{{' starts a template in {syntax}; {_fix(syntax)}")
    if (
        syntax == "v1"
        and isinstance(node, ast.HostTemplate)
        and node.template != node.template.lower()
    ):
        # Traefik 1.7 rules.go hostRegexp lower-cases the whole template (CanonicalDomain),
        # its regexps included: `[A-Z]` or `\\PL` would read back as another template.
        raise UnrepresentableRule(f"{node}: v1 lower-cases HostRegexp templates, regexps included")
    if isinstance(node, ast.ALPN) and node.protocol == "acme-tls/1":
        raise UnrepresentableRule("ALPN(`acme-tls/1`) is reserved and cannot be written")
    return name, values


def _quote(value: str) -> str:
    try:
        return go_quote(value)
    except ValueError as exc:
        raise UnrepresentableRule(str(exc)) from None


def _call(name: str, values: tuple[str, ...]) -> str:
    return f"{name}({', '.join(_quote(v) for v in values)})"


def _expression(node: ast.Node, syntax: str) -> str:
    if isinstance(node, ast.And):
        parts = []
        for child in node.children:
            if isinstance(child, ast.Or):
                alternatives = _alternatives(child.children, syntax)
                text = " || ".join(alternatives)
                parts.append(f"({text})" if len(alternatives) > 1 else text)
            else:
                parts.append(_expression(child, syntax))
        return " && ".join(parts)
    if isinstance(node, ast.Or):
        return " || ".join(_alternatives(node.children, syntax))
    if isinstance(node, ast.Not):
        inner = _expression(node.child, syntax)
        return f"!({inner})" if isinstance(node.child, (ast.And, ast.Or)) else f"!{inner}"
    return _call(*_leaf(node, syntax))


def _alternatives(children: tuple[ast.Node, ...], syntax: str) -> list[str]:
    """The text of each alternative; in v2, runs of one multi-valued matcher share a call."""
    out: list[str] = []
    run_name: str | None = None
    run_values: list[str] = []
    for child in children:
        if syntax == "v2" and not isinstance(child, (ast.And, ast.Or, ast.Not)):
            name, values = _leaf(child, syntax)
            if name in _MULTI:
                if name != run_name:
                    if run_name is not None:
                        out.append(_call(run_name, tuple(run_values)))
                    run_name, run_values = name, []
                run_values.extend(values)
                continue
        if run_name is not None:
            out.append(_call(run_name, tuple(run_values)))
            run_name, run_values = None, []
        text = _expression(child, syntax)
        out.append(f"({text})" if isinstance(child, ast.Or) else text)
    if run_name is not None:
        out.append(_call(run_name, tuple(run_values)))
    return out


# -- v1 ------------------------------------------------------------------------------------------


def _v1_value(node: ast.Node, value: str) -> str:
    # v1 splits on ';' and ',' and drops empty ':'-fields, then trims: such values cannot survive.
    if (
        any(c in value for c in ";,")
        or value != value.strip()
        or "::" in value
        or value.startswith(":")
        or value.endswith(":")
    ):
        raise UnrepresentableRule(f"{node}: the value {value!r} cannot be written in v1")
    return value


def _v1_segment(node: ast.Node) -> str:
    leaves = node.children if isinstance(node, ast.Or) else (node,)
    parts: list[tuple[str, tuple[str, ...]]] = []
    for leaf in leaves:
        if isinstance(leaf, (ast.And, ast.Or, ast.Not)):
            what = "negation (!)" if isinstance(leaf, ast.Not) else "nested and/or"
            raise UnrepresentableRule(f"v1 has no {what}: {node}; {_NEWER}")
        name, values = _leaf(leaf, "v1")
        parts.append((name, tuple(_v1_value(leaf, v) for v in values)))
    names = {name for name, _ in parts}
    if len(parts) > 1 and (len(names) > 1 or not names <= _MULTI):
        raise UnrepresentableRule(
            f"v1 ',' only lists alternatives of one matcher; {node} cannot be written in v1"
        )
    return f"{parts[0][0]}:{','.join(v for _, values in parts for v in values)}"


def _v1(node: ast.Node) -> str:
    segments = node.children if isinstance(node, ast.And) else (node,)
    return ";".join(_v1_segment(s) for s in segments)


_PRINTERS: Final[Mapping[str, Callable[[ast.Node], str]]] = {
    "v1": _v1,
    "v2": lambda node: _expression(node, "v2"),
    "v3": lambda node: _expression(node, "v3"),
}


def to_string(node: ast.Node, syntax: str = "v3") -> str:
    """Canonical text of *node* in *syntax*; UnrepresentableRule when it has no such text."""
    printer = _PRINTERS.get(syntax)
    if printer is None:
        raise ValueError(f"syntax must be 'v1', 'v2' or 'v3', not {syntax!r}")
    return printer(node)
