"""Translate v1 and v2 rules into v3 rules plus middleware definitions.

The mapping is the one of Traefik's v1 → v2 migration guide (``v2.0:docs/content/migration/
v1-to-v2.md``) and v2 → v3 notes (``master:docs/content/migrate/v2-to-v3-details.md``):
``;`` becomes ``&&``; several values of one matcher become ``||``; ``Headers`` becomes ``Header``;
``{name:re}`` templates become anchored ``*Regexp`` matchers; the v1 modifiers become
``stripPrefix``, ``stripPrefixRegex``, ``addPrefix``, ``replacePathRegex`` and ``replacePath``
middlewares.  The translated rule matches exactly the requests the original matches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, final

import attrs

from . import _ast as ast
from ._api import Syntax, parse_rule
from ._printer import UnrepresentableRule
from ._regex import go_quote_meta, template_regexp
from ._rule import Rule

__all__ = ["Translation", "to_v3", "translate"]

Middleware = tuple[str, dict[str, object]]


@final
@attrs.frozen
class Translation:
    """A rule rewritten in v3, with what the rewrite cannot carry in the rule text itself.

    Attributes:
        rule: the v3 rule (``rule.to_string("v3")`` is its text).
        priority: the original rule's priority — its length in bytes — to set explicitly on the
            v3 router, because the v3 text has another length.
        middlewares: ``(name, definition)`` pairs for the v1 modifiers, in the order Traefik 1.7
            ran them, e.g. ``("strip-prefix-1", {"stripPrefix": {"prefixes": ["/api"]}})``.
        notes: what the translation approximated or could not keep, one sentence each.
    """

    rule: Rule
    priority: int
    middlewares: tuple[Middleware, ...] = ()
    notes: tuple[str, ...] = ()


def translate(rule: Rule | str, *, syntax: Syntax = "auto") -> Translation:
    """Translate a v1 or v2 rule (text or parsed `Rule`) into a v3 `Translation`.

    Text is parsed with `parse_rule` (``syntax`` as there: ``auto`` detects v1, ``v2`` must be
    asked for).  Raises `RuleSyntaxError` for bad text, `UnrepresentableRule` when a value has
    no v3 spelling (a lone surrogate, say).
    """
    parsed = parse_rule(rule, syntax=syntax) if isinstance(rule, str) else rule
    state = _State()
    try:
        expr = state.convert(parsed.expr)
        if expr is None:
            expr = _MATCH_ALL
            state.notes.append(
                "the rule has only modifiers, which match every request: "
                "Host(`*`) (Traefik ≥ 3.7) matches every request too"
            )
        translated = Rule.from_expr(expr)
        translated.to_string("v3")  # fail here, not later, when v3 cannot spell a value
    except UnrepresentableRule:
        raise
    except ValueError as exc:
        # A value the v3 matchers refuse (an invalid regexp built from a template, say).
        raise UnrepresentableRule(f"{parsed.source!r} cannot be written in v3: {exc}") from None
    return Translation(
        rule=translated,
        priority=parsed.priority,
        middlewares=state.middlewares(),
        notes=tuple(dict.fromkeys(state.notes)),
    )


def to_v3(text: str, *, syntax: Syntax = "auto") -> str:
    """The v3 text of a v1/v2 rule; refuses rules with v1 modifiers (use `translate` for those)."""
    result = translate(text, syntax=syntax)
    if result.middlewares:
        names = ", ".join(name for name, _ in result.middlewares)
        raise UnrepresentableRule(
            f"{text!r} rewrites the request ({names}): a v3 rule cannot; use "
            "routekit.rules.translate() to get the middlewares with the rule"
        )
    return result.rule.to_string("v3")


# Host(`*`) matches every request, the empty host included (Traefik ≥ 3.7; routekit everywhere).
_MATCH_ALL: Final = ast.Host("*")

# Traefik 1.7 server.go buildMatcherMiddlewares wraps the backend handler in this order, so the
# request meets them reversed: strip-by-regex first, then strip, add prefix, replace by regex,
# replace.  (The 1.7 docs list PathStrip… before PathStripRegex…; the code is what ran.)
_ORDER: Final = ("stripPrefixRegex", "stripPrefix", "addPrefix", "replacePathRegex", "replacePath")
_SOURCES: Final = {
    "stripPrefixRegex": "PathStripRegex/PathPrefixStripRegex",
    "stripPrefix": "PathStrip/PathPrefixStrip",
    "addPrefix": "AddPrefix",
    "replacePathRegex": "ReplacePathRegex",
    "replacePath": "ReplacePath",
}
_NAMES: Final = {
    "stripPrefixRegex": "strip-prefix-regex",
    "stripPrefix": "strip-prefix",
    "addPrefix": "add-prefix",
    "replacePathRegex": "replace-path-regex",
    "replacePath": "replace-path",
}


_TEMPLATE_NOTE: Final = (
    "{name:re} templates became anchored regexps: v3 does not capture their variables"
)


def _by_length(values: tuple[str, ...]) -> list[str]:
    # rules.go sorts strip candidates longest first (sort.Sort(bySize(paths))); two distinct
    # candidates of equal length cannot both be prefixes of one path, so ties do not matter.
    return sorted(values, key=len, reverse=True)


def _anchored(pattern: str, *, prefix: bool) -> str:
    return f"^{pattern}" if prefix else f"^{pattern}$"


def _path_matcher(value: str, *, prefix: bool, notes: list[str]) -> ast.Node:
    """The v3 matcher for a v1/v2 Path or PathPrefix value (template or literal)."""
    if "{" in value:
        notes.append(_TEMPLATE_NOTE)
        return ast.PathRegexp(_anchored(template_regexp(value), prefix=prefix))
    if not value.startswith("/"):
        # v3 requires a leading "/"; v1 accepted the value and it never matched a normal path.
        notes.append(f"{value!r} does not start with '/': kept as an equivalent PathRegexp")
        return ast.PathRegexp(_anchored(go_quote_meta(value), prefix=prefix))
    return ast.PathPrefix(value) if prefix else ast.Path(value)


@final
class _State:
    """What a translation collects while walking the tree: modifiers and notes."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self._modifiers: dict[str, dict[str, object]] = {}

    def modifier(self, kind: str, options: dict[str, object]) -> None:
        if kind in self._modifiers:
            # rules.go keeps each modifier in one ServerRoute field (PathStrip and
            # PathPrefixStrip share StripPrefixes, the two *StripRegex share
            # StripPrefixesRegex): the last one of a rule wins.
            self.notes.append(f"Traefik 1.7 keeps only the last {_SOURCES[kind]} of a rule")
        self._modifiers[kind] = {kind: options}

    def middlewares(self) -> tuple[Middleware, ...]:
        return tuple(
            (f"{_NAMES[kind]}-1", self._modifiers[kind])
            for kind in _ORDER
            if kind in self._modifiers
        )

    def convert(self, node: ast.Node) -> ast.Node | None:
        """The v3 equivalent of *node*; ``None`` stands for "matches every request"."""
        if isinstance(node, ast.And):
            kept = [c for c in map(self.convert, node.children) if c is not None]
            return ast.And.of(*kept) if kept else None
        if isinstance(node, ast.Or):
            converted = [self.convert(c) for c in node.children]
            if any(c is None for c in converted):
                return None
            return ast.Or.of(*(c for c in converted if c is not None))
        if isinstance(node, ast.Not):
            inner = self.convert(node.child)
            return ast.Not.of(_MATCH_ALL if inner is None else inner)
        convert = _LEAVES.get(type(node))
        return node if convert is None else convert(self, node)


def _host(state: _State, node: ast.Node) -> ast.Node:
    assert isinstance(node, ast.Host)
    if node.host.isascii():
        return node
    # v3 refuses non-ASCII Host values (punycode only); v1/v2 compared them as given.
    state.notes.append(f"the non-ASCII host {node.host!r} became an equivalent HostRegexp")
    if node.host.startswith("*."):
        return ast.HostRegexp(_ascii(f"^[^.]+{go_quote_meta(node.host[1:])}$"))
    return ast.HostRegexp(_ascii(f"^{go_quote_meta(node.host)}$"))


def _ascii(pattern: str) -> str:
    # v3 HostRegexp values must be ASCII text: a non-ASCII character is written as the RE2
    # escape \x{...}, which matches the same character (inside a class too).
    return "".join(c if c.isascii() else f"\\x{{{ord(c):x}}}" for c in pattern)


def _host_template(state: _State, node: ast.Node) -> ast.Node:
    assert isinstance(node, ast.HostTemplate)
    # gorilla host templates are anchored and case-insensitive (v2-to-v3 details §HostRegexp).
    state.notes.append(_TEMPLATE_NOTE)
    return ast.HostRegexp(_ascii(f"(?i)^{template_regexp(node.template, kind='host')}$"))


def _sni_template(state: _State, node: ast.Node) -> ast.Node:
    assert isinstance(node, ast.HostSNITemplate)
    state.notes.append(_TEMPLATE_NOTE)
    return ast.HostSNIRegexp(f"(?i)^{template_regexp(node.template, kind='host')}$")


def _query_template(state: _State, node: ast.Node) -> ast.Node:
    assert isinstance(node, ast.QueryTemplate)
    if not node.template:
        # gorilla: an empty value matches any value of a present key.
        return ast.QueryRegexp(node.key, ".*")
    state.notes.append(_TEMPLATE_NOTE)
    return ast.QueryRegexp(node.key, f"^{template_regexp(node.template, kind='query')}$")


def _path(state: _State, node: ast.Node) -> ast.Node:
    assert isinstance(node, (ast.Path, ast.PathTemplate))
    return _path_matcher(node.values()[0], prefix=False, notes=state.notes)


def _path_prefix(state: _State, node: ast.Node) -> ast.Node:
    assert isinstance(node, (ast.PathPrefix, ast.PathPrefixTemplate))
    return _path_matcher(node.values()[0], prefix=True, notes=state.notes)


def _strip(*, prefix: bool, regex: bool) -> Callable[[_State, ast.Node], ast.Node]:
    def convert(state: _State, node: ast.Node) -> ast.Node:
        values = node.values()
        matcher = ast.Or.of(*(_path_matcher(v, prefix=prefix, notes=state.notes) for v in values))
        if regex:
            # v1 strips by regex with gorilla's PathPrefix(template) for both strip-regex kinds.
            regexes = [_anchored(template_regexp(v), prefix=True) for v in _by_length(values)]
            state.modifier("stripPrefixRegex", {"regex": regexes})
        else:
            if any("{" in v for v in values):
                state.notes.append(
                    "stripPrefix removes literal prefixes: a template value is never stripped"
                )
            state.modifier("stripPrefix", {"prefixes": _by_length(values)})
        return matcher

    return convert


def _add_prefix(state: _State, node: ast.Node) -> None:
    assert isinstance(node, ast.AddPrefix)
    state.modifier("addPrefix", {"prefix": node.prefix})


def _replace_path(state: _State, node: ast.Node) -> None:
    assert isinstance(node, ast.ReplacePath)
    state.modifier("replacePath", {"path": node.path})


def _replace_path_regex(state: _State, node: ast.Node) -> None:
    assert isinstance(node, ast.ReplacePathRegex)
    state.modifier(
        "replacePathRegex",
        {"regex": node.pattern, "replacement": node.replacement},
    )


_LEAVES: Final[dict[type[ast.Node], Callable[[_State, ast.Node], ast.Node | None]]] = {
    ast.Host: _host,
    ast.HostTemplate: _host_template,
    ast.HostSNITemplate: _sni_template,
    ast.QueryTemplate: _query_template,
    ast.Path: _path,
    ast.PathTemplate: _path,
    ast.PathPrefix: _path_prefix,
    ast.PathPrefixTemplate: _path_prefix,
    ast.PathStrip: _strip(prefix=False, regex=False),
    ast.PathPrefixStrip: _strip(prefix=True, regex=False),
    ast.PathStripRegex: _strip(prefix=False, regex=True),
    ast.PathPrefixStripRegex: _strip(prefix=True, regex=True),
    ast.AddPrefix: _add_prefix,
    ast.ReplacePath: _replace_path,
    ast.ReplacePathRegex: _replace_path_regex,
}
