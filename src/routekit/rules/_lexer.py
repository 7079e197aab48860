"""Tokenizer for v2/v3 rules: the subset of Go expression syntax that Traefik's parser accepts.

Traefik parses rules with ``vulcand/predicate``, which runs ``go/parser.ParseExpr``; so the
tokens are Go's: identifiers, string literals (backticks or double quotes), ``(``, ``)``,
``,``, ``&&``, ``||`` and ``!``.  Whitespace is Go's (space, tab, newline, carriage return).
"""

from __future__ import annotations

from typing import Final, final

import attrs

from ..errors import RuleSyntaxError
from ._golit import LiteralError, unquote_interpreted, unquote_raw

__all__ = ["Token", "tokenize"]

_SPACE: Final = frozenset(" \t\n\r")
_IDENT_START: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENT: Final = _IDENT_START | frozenset("0123456789")
_PUNCT: Final = frozenset("(),")


@final
@attrs.frozen
class Token:
    """One token: its kind, its text (decoded value for strings) and where it is.

    ``offsets`` maps each character of a string value to its position in the rule text.
    """

    kind: str  # "name", "string", "(", ")", ",", "&&", "||", "!", "char" (any other), "end"
    text: str
    position: int
    end: int
    offsets: tuple[int, ...] = ()


def tokenize(rule: str) -> list[Token]:
    """Split *rule* into tokens; malformed literals raise RuleSyntaxError, stray characters
    become ``char`` tokens for the parser to report in context."""
    tokens: list[Token] = []
    i, n = 0, len(rule)
    while i < n:
        char = rule[i]
        if char in _SPACE:
            i += 1
        elif char in _PUNCT:
            tokens.append(Token(char, char, i, i + 1))
            i += 1
        elif char in "&|":
            if rule[i : i + 2] != char * 2:
                hint = f"the operators are && (and) and || (or), not {char}"
                raise RuleSyntaxError(f"unexpected {char!r}", rule, i, hint)
            tokens.append(Token(char * 2, char * 2, i, i + 2))
            i += 2
        elif char == "!":
            if rule[i : i + 2] == "!=":
                hint = "negate a matcher with !Name(...)"
                raise RuleSyntaxError("unexpected '!='", rule, i, hint)
            tokens.append(Token("!", "!", i, i + 1))
            i += 1
        elif char in _IDENT_START:
            start = i
            while i < n and rule[i] in _IDENT:
                i += 1
            tokens.append(Token("name", rule[start:i], start, i))
        elif char in '`"':
            tokens.append(_string(rule, i))
            i = tokens[-1].end
        elif char == "'":
            raise RuleSyntaxError(
                "single-quoted strings are not allowed",
                rule,
                i,
                'quote values with backticks (`value`) or double quotes ("value")',
            )
        else:
            # Left for the parser, which knows what it expected here (e.g. a bare word).
            tokens.append(Token("char", char, i, i + 1))
            i += 1
    tokens.append(Token("end", "", n, n))
    return tokens


def _string(rule: str, start: int) -> Token:
    quote = rule[start]
    if quote == "`":
        close = rule.find("`", start + 1)
    else:
        close = start + 1
        while close < len(rule) and rule[close] not in '"\n':
            close += 2 if rule[close] == "\\" else 1
        if close >= len(rule) or rule[close] != '"':
            close = -1
    if close < 0:
        raise RuleSyntaxError(
            "string literal not terminated", rule, start, f"close the value with {quote}"
        )
    body = rule[start + 1 : close]
    try:
        value, offsets = unquote_raw(body) if quote == "`" else unquote_interpreted(body)
    except LiteralError as exc:
        raise RuleSyntaxError(exc.message, rule, start + exc.offset) from None
    return Token("string", value, start, close + 1, tuple(start + 1 + off for off in offsets))
