"""`Rule`: a parsed rule — its node tree, the text it came from, and what routing asks of it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, final

import attrs

from . import _ast as ast
from ._printer import UnrepresentableRule, to_string

if TYPE_CHECKING:
    from ..request import Request
    from ._tcp import TCPConnection

__all__ = ["Rule"]

# Traefik v1 applies modifiers after matching, whatever their place in the rule.  The order is
# the one v1.7's server.go wireFrontendBackend builds (handlers wrap inward, so the request meets
# them in this order): regexp strips, strips, AddPrefix, ReplacePathRegex, ReplacePath — which
# also runs ReplacePath last, the fix of traefik#1569.  Each group is one ServerRoute field in
# rules.go, so within a group the last modifier of the rule wins.
_REWRITE_ORDER: Final[dict[type[ast.Node], int]] = {
    ast.PathStripRegex: 0,
    ast.PathPrefixStripRegex: 0,
    ast.PathStrip: 1,
    ast.PathPrefixStrip: 1,
    ast.AddPrefix: 2,
    ast.ReplacePathRegex: 3,
    ast.ReplacePath: 4,
}


def _effective_rewrites(expr: ast.Node) -> tuple[ast.Node, ...]:
    last: dict[int, ast.Node] = {}
    for node in _walk(expr):
        group = _REWRITE_ORDER.get(type(node))
        if group is not None:
            last[group] = node
    return tuple(last[g] for g in sorted(last))


def _walk(node: ast.Node) -> list[ast.Node]:
    """Every node of the tree, parents first, left to right."""
    out = [node]
    if isinstance(node, (ast.And, ast.Or)):
        for child in node.children:
            out.extend(_walk(child))
    elif isinstance(node, ast.Not):
        out.extend(_walk(node.child))
    return out


# Traefik's TCP GetRulePriority (master:pkg/muxer/tcp/mux.go): a rule that is exactly the
# catch-all HostSNI(`*`), however spelt or spaced, gets -1 so that it is tried last.  The check
# reads the parsed tree, which ignores a negation as Traefik's does.
_CATCH_ALL_SNI: Final = ast.HostSNI("*")


def _default_priority(expr: ast.Node, source: str) -> int:
    if expr == _CATCH_ALL_SNI or (isinstance(expr, ast.Not) and expr.child == _CATCH_ALL_SNI):
        return -1
    return len(source.encode("utf-8", "surrogatepass"))


def _default_source(rule: Rule) -> str:
    return str(rule.expr)


@final
@attrs.frozen
class Rule:
    """A parsed rule; equality compares the tree only, so printed-and-reparsed rules are equal.

    Attributes:
        expr: the normalised node tree.
        source: the text it was parsed from (the v3-style text when built from nodes).
        syntax: the syntax it was parsed as: ``"v1"``, ``"v2"`` or ``"v3"``.
    """

    expr: ast.Node
    source: str = attrs.field(default=attrs.Factory(_default_source, takes_self=True), eq=False)
    syntax: str = attrs.field(default="v3", eq=False)
    _rewrites: tuple[ast.Node, ...] = attrs.field(init=False, eq=False, repr=False)
    _priority: int = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_rewrites", _effective_rewrites(self.expr))
        object.__setattr__(self, "_priority", _default_priority(self.expr, self.source))

    @classmethod
    def from_expr(cls, node: ast.Node) -> Rule:
        """A rule for a node tree; its source is the tree's v3-style text."""
        return cls(node)

    def matches(self, request: Request | TCPConnection) -> bool:
        """Whether *request* satisfies the rule."""
        return self.expr.matches(request)

    def params(self, request: Request | TCPConnection) -> dict[str, str] | None:
        """``None`` when the rule does not match; else the ``{name:re}`` template variables.

        Only templates of v1/v2 rules bind variables, so this is usually ``{}``.  Nodes under
        a negation bind nothing.
        """
        if not self.expr.matches(request):
            return None
        bound: dict[str, str] = {}
        self._collect(self.expr, request, bound)
        return bound

    def _collect(
        self, node: ast.Node, request: Request | TCPConnection, bound: dict[str, str]
    ) -> None:
        if isinstance(node, ast.And):
            for child in node.children:
                self._collect(child, request, bound)
        elif isinstance(node, ast.Or):
            # The first alternative that matches is the one that bound the variables.
            for child in node.children:
                if child.matches(request):
                    self._collect(child, request, bound)
                    break
        elif not isinstance(node, ast.Not):
            bound.update(node.variables(request))

    @property
    def priority(self) -> int:
        """Traefik's default priority: the length of the rule text in bytes.

        The TCP catch-all ``HostSNI(`*`)`` alone gets -1, as in Traefik, so that it comes last.
        """
        return self._priority

    @property
    def rewrites(self) -> tuple[ast.Node, ...]:
        """The v1 modifiers in effect, in the order Traefik 1.7 applies them after a match.

        Regexp strips, strips, ``AddPrefix``, ``ReplacePathRegex``, ``ReplacePath``; within each
        group (the two strips, the two regexp strips) only the rule's last modifier counts.
        """
        return self._rewrites

    def domains(self) -> tuple[str, ...]:
        """The domains the rule routes: its ``Host`` and ``HostSNI`` values, in rule order.

        These pick the TLS certificates a router needs, as Traefik's ``ParseDomains`` (HTTP)
        and ``ParseHostSNI`` (TCP) do (``pkg/muxer/http/mux.go``, ``pkg/muxer/tcp/mux.go``):
        lower case, wildcards such as ``*.a.com`` kept.  Unlike Traefik, values under ``!``
        (a host the rule refuses) and the catch-all ``*`` (no certificate names it) are left
        out, and each domain is given once.
        """
        found: dict[str, None] = {}
        stack = [self.expr]
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.And, ast.Or)):
                stack.extend(reversed(node.children))
            elif isinstance(node, (ast.Host, ast.HostSNI)) and node.host != "*":
                found[node.host] = None
        return tuple(found)

    def explain(self, request: Request | TCPConnection) -> tuple[ast.Node, ...]:
        """The leaf matchers (or negated leaves) that made the rule fail; ``()`` on a match."""
        return _failing(self.expr, request)

    def to_string(self, syntax: str = "v3") -> str:
        """Canonical text in ``"v1"``, ``"v2"`` or ``"v3"``.

        Raises:
            UnrepresentableRule: the rule has no text in that syntax (``Not`` in v1, a
                template in v3…); ``routekit.rules.translate`` converts such rules.
        """
        return to_string(self.expr, syntax)

    def __str__(self) -> str:
        """The v3 text, or the rule's own syntax where v3 cannot say it; parses back.

        A v1 modifier or a v1/v2 ``{name:re}`` template has no v3 text (``translate`` turns them
        into middlewares and regexps), so such a rule prints in the syntax it was parsed from,
        and ``parse_rule(str(rule), syntax=rule.syntax)`` gives it back.
        """
        for syntax in ("v3", self.syntax):
            try:
                return to_string(self.expr, syntax)
            except UnrepresentableRule:
                pass
        return str(self.expr)  # a tree built by hand that no syntax can write: the debug form


def _failing(node: ast.Node, request: Request | TCPConnection) -> tuple[ast.Node, ...]:
    if node.matches(request):
        return ()
    if isinstance(node, (ast.And, ast.Or)):
        return tuple(leaf for child in node.children for leaf in _failing(child, request))
    return (node,)
