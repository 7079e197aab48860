"""`parse_rule` and `parse_tcp_rule`: text in, `Rule` out, `RuleSyntaxError` on any fault."""

from __future__ import annotations

from typing import Final, Literal

from ._parser import parse_expression
from ._rule import Rule
from ._v1 import looks_like_v1, parse_v1

__all__ = ["parse_rule", "parse_tcp_rule"]

Syntax = Literal["auto", "v1", "v2", "v3"]
_SYNTAXES: Final = ("auto", "v1", "v2", "v3")


def _check(text: object, syntax: str, allowed: tuple[str, ...]) -> None:
    if not isinstance(text, str):
        raise TypeError(f"a rule is a str, not {type(text).__name__}")
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
    if syntax == "v1":
        return Rule(parse_v1(text), text, "v1")
    return Rule(parse_expression(text, protocol="http", syntax=syntax), text, syntax)


def parse_tcp_rule(text: str, *, syntax: Literal["auto", "v2", "v3"] = "auto") -> Rule:
    """Parse a TCP router rule (``HostSNI``, ``HostSNIRegexp``, ``ClientIP``, ``ALPN``).

    ``"auto"`` means v3.  The rule's ``matches`` takes a `TCPConnection`.

    Raises:
        RuleSyntaxError: the rule is malformed; the message points at the fault.
    """
    _check(text, syntax, ("auto", "v2", "v3"))
    if syntax == "auto":
        syntax = "v3"
    return Rule(parse_expression(text, protocol="tcp", syntax=syntax), text, syntax)
