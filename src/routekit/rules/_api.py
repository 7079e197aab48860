"""`parse_rule` and `parse_tcp_rule`: text in, `Rule` out, `RuleSyntaxError` on any fault."""

from __future__ import annotations

import functools
from typing import Final, Literal

from ..errors import RuleSyntaxError
from . import _ast as ast
from ._parser import parse_expression
from ._rule import Rule
from ._v1 import looks_like_v1, parse_v1

__all__ = [
    "MAX_MATCHERS",
    "MAX_RULE_LENGTH",
    "RULE_CACHE_SIZE",
    "clear_rule_cache",
    "parse_rule",
    "parse_tcp_rule",
]

#: The longest rule accepted, in characters.  Traefik sets no limit; a rule this long is a
#: generated mistake, and refusing it keeps parsing and matching bounded.
MAX_RULE_LENGTH: Final = 65_536
#: Most matchers one rule may hold (after ``!`` is pushed to the leaves); more belong in
#: several routers, which the route table indexes.
MAX_MATCHERS: Final = 1_000

Syntax = Literal["auto", "v1", "v2", "v3"]
_SYNTAXES: Final = ("auto", "v1", "v2", "v3")


def _check(text: object, syntax: str, allowed: tuple[str, ...]) -> None:
    if not isinstance(text, str):
        raise TypeError(f"a rule is a str, not {type(text).__name__}")
    if len(text) > MAX_RULE_LENGTH:
        raise RuleSyntaxError(
            f"rule is {len(text)} characters long, more than {MAX_RULE_LENGTH}",
            text,
            MAX_RULE_LENGTH,
            "split it over several routers",
        )
    if syntax not in allowed:
        raise ValueError(f"syntax must be one of {', '.join(allowed)}; got {syntax!r}")


def parse_rule(text: str, *, syntax: Syntax = "auto") -> Rule:
    """Parse an HTTP router rule.

    Args:
        text: the rule, e.g. ``Host(`a.com`) && PathPrefix(`/api`)`` or ``Host:a.com;Path:/``.
        syntax: ``"v3"`` (Traefik's default), ``"v2"`` (Traefik's ``ruleSyntax: v2``), ``"v1"``
            (the ``Name:value;...`` form of Traefik 1.x) or ``"auto"``: v1 when the text starts
            with a v1 function name and ``:``, v3 otherwise.  v2 is used only when asked for.

    Raises:
        RuleSyntaxError: the rule is malformed; the message points at the fault.
    """
    _check(text, syntax, _SYNTAXES)
    if syntax == "auto":
        syntax = "v1" if looks_like_v1(text) else "v3"
    return _parse(text, syntax, "http")


def parse_tcp_rule(text: str, *, syntax: Literal["auto", "v2", "v3"] = "auto") -> Rule:
    """Parse a TCP router rule (``HostSNI``, ``HostSNIRegexp``, ``ClientIP``, ``ALPN``).

    ``"auto"`` means v3.  The rule's ``matches`` takes a `TCPConnection`.

    Raises:
        RuleSyntaxError: the rule is malformed; the message points at the fault.
    """
    _check(text, syntax, ("auto", "v2", "v3"))
    if syntax == "auto":
        syntax = "v3"
    return _parse(text, syntax, "tcp")


#: Rules parsed lately.  A `Rule` is immutable, and a provider's re-list or a file's reload
#: gives mostly the rules it gave before (and validation parses what the build parses again),
#: so a bounded cache takes the parser off every rebuild but the first.  Errors are not cached.
RULE_CACHE_SIZE: Final = 16_384


@functools.lru_cache(maxsize=RULE_CACHE_SIZE)
def _parse(text: str, syntax: str, protocol: Literal["http", "tcp"]) -> Rule:
    if syntax == "v1":
        return Rule(_bounded(parse_v1(text), text), text, "v1")
    node = parse_expression(text, protocol=protocol, syntax=syntax)
    return Rule(_bounded(node, text), text, syntax)


def _bounded(node: ast.Node, text: str) -> ast.Node:
    count, stack = 0, [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.And | ast.Or):
            stack.extend(item.children)
        else:
            count += 1
    if count > MAX_MATCHERS:
        raise RuleSyntaxError(
            f"rule has {count} matchers, more than {MAX_MATCHERS}",
            text,
            0,
            "split it over several routers",
        )
    return node


def clear_rule_cache() -> None:
    """Forget the rules parsed so far (for benchmarks that measure a cold parse)."""
    _parse.cache_clear()
