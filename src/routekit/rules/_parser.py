"""Recursive-descent parser for v2/v3 rules, producing normalised node trees.

Grammar (Go expression precedence, as ``vulcand/predicate`` sees it)::

    expr    := and ("||" and)*
    and     := unary ("&&" unary)*
    unary   := "!" unary | "(" expr ")" | call
    call    := NAME "(" STRING ("," STRING)* [","] ")"

Go accepts a trailing comma in a call, so ``Host(`a`,)`` is valid, as it is in Traefik.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Final

from ..errors import RuleSyntaxError
from . import _ast as ast
from ._constraints import CONSTRAINT_TABLES
from ._golit import go_quote
from ._lexer import Token, tokenize
from ._matchers import TABLES, Args, Spec, spellings

__all__ = ["MAX_DEPTH", "parse_expression"]

#: Deepest nesting of parentheses and ``!`` accepted; deeper rules are refused, not crashed on.
MAX_DEPTH: Final = 100

_TOKEN_NAMES: Final = {
    "end": "end of rule",
    "string": "string",
    "name": "name",
}

# Matchers that exist in the other syntax, for hints: (hint, the syntax that has the name).
_OTHER_SYNTAX_HINTS: Final = {
    ("v3", "Headers"): ("v3 has Header(`name`, `value`); Headers is v2 syntax", "v2"),
    ("v3", "HeadersRegexp"): (
        "v3 has HeaderRegexp(`name`, `re`); HeadersRegexp is v2 syntax",
        "v2",
    ),
    ("v3", "HostHeader"): ("v3 has Host(`domain`); HostHeader is v2 syntax", "v2"),
    ("v2", "Header"): ("v2 has Headers(`name`, `value`); Header is v3 syntax", "v3"),
    ("v2", "HeaderRegexp"): ("v2 has HeadersRegexp(`name`, `re`); HeaderRegexp is v3 syntax", "v3"),
    ("v2", "PathRegexp"): ("v2 has no PathRegexp: use a Path(`/p/{id:[0-9]+}`) template", "v3"),
    ("v2", "QueryRegexp"): ("v2 has no QueryRegexp; it is v3 syntax", "v3"),
}


_A: Final = {"http": "an HTTP", "tcp": "a TCP"}

# How a single-valued matcher's value is called in the arity hint.
_VALUE_WORDS: Final = {
    "Host": "domain",
    "HostSNI": "domain",
    "Method": "method",
    "Path": "path",
    "PathPrefix": "prefix",
    "ClientIP": "IP or CIDR",
    "HostRegexp": "regexp",
    "PathRegexp": "regexp",
    "HostSNIRegexp": "regexp",
    "ALPN": "protocol",
}


def _lookup(table: Mapping[str, Spec]) -> dict[str, tuple[str, Spec]]:
    return {spelled: (name, spec) for name, spec in table.items() for spelled in spellings(name)}


_LOOKUPS: Final = {key: _lookup(table) for key, table in TABLES.items()}
# Constraint functions are registered under their exact names only (vulcand/predicate).
_LOOKUPS.update(
    {
        (kind, "constraints"): {n: (n, s) for n, s in t.items()}
        for kind, t in CONSTRAINT_TABLES.items()
    }
)
_ALL_TABLES: Final = {
    **TABLES,
    **{(kind, "constraints"): table for kind, table in CONSTRAINT_TABLES.items()},
}


def parse_expression(rule: str, *, protocol: str = "http", syntax: str = "v3") -> ast.Node:
    """Parse a v2/v3 rule (HTTP or TCP) into a normalised tree; RuleSyntaxError on any fault."""
    if not rule.strip():
        raise RuleSyntaxError("empty rule", rule, 0, "write a matcher such as Host(`example.com`)")
    parser = _Parser(rule, tokenize(rule), protocol, syntax)
    node = parser.expr(0)
    token = parser.peek()
    if token.kind != "end":
        hint = None
        if token.kind in ("name", "(", "!"):
            hint = "join matchers with && or ||"
        raise RuleSyntaxError(f"unexpected {_describe(token)}", rule, token.position, hint)
    return node


def _describe(token: Token) -> str:
    if token.kind == "name":
        return f"name {token.text!r}"
    if token.kind == "char":
        return f"character {token.text!r}"
    return _TOKEN_NAMES.get(token.kind, repr(token.text))


class _Parser:
    __slots__ = ("index", "lookup", "protocol", "rule", "syntax", "tokens")

    def __init__(self, rule: str, tokens: list[Token], protocol: str, syntax: str) -> None:
        self.rule = rule
        self.tokens = tokens
        self.index = 0
        self.protocol = protocol
        self.syntax = syntax
        self.lookup = _LOOKUPS[(protocol, syntax)]

    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def fail(self, token: Token, problem: str, hint: str | None = None) -> RuleSyntaxError:
        return RuleSyntaxError(problem, self.rule, token.position, hint)

    def expr(self, depth: int) -> ast.Node:
        nodes = [self.conjunction(depth)]
        while self.peek().kind == "||":
            self.take()
            nodes.append(self.conjunction(depth))
        return ast.Or.of(*nodes)

    def conjunction(self, depth: int) -> ast.Node:
        nodes = [self.unary(depth)]
        while self.peek().kind == "&&":
            self.take()
            nodes.append(self.unary(depth))
        return ast.And.of(*nodes)

    def unary(self, depth: int) -> ast.Node:
        token = self.take()
        if depth >= MAX_DEPTH:
            raise self.fail(
                token, f"rule nests too deeply (more than {MAX_DEPTH} levels)", "simplify the rule"
            )
        if token.kind == "!":
            return ast.Not.of(self.unary(depth + 1))
        if token.kind == "(":
            node = self.expr(depth + 1)
            close = self.take()
            if close.kind != ")":
                raise self.fail(
                    close, f"expected ')' but found {_describe(close)}", "close the parenthesis"
                )
            return node
        if token.kind == "name":
            return self.call(token)
        if self.syntax == "constraints":
            names = " or ".join(f"{n}(…)" for n in _ALL_TABLES[(self.protocol, self.syntax)])
            raise self.fail(
                token,
                f"expected a function but found {_describe(token)}",
                f"a constraint is made of {names} joined by && and ||",
            )
        raise self.fail(
            token,
            f"expected a matcher but found {_describe(token)}",
            "a rule is made of matchers such as Host(`example.com`) joined by && and ||",
        )

    def call(self, name: Token) -> ast.Node:
        entry = self.lookup.get(name.text)
        if entry is None:
            raise self._unknown(name)
        canonical, spec = entry
        opening = self.take()
        if opening.kind != "(":
            hint = f"write {canonical}(`value`)"
            v1 = opening.text == ":"
            if v1:
                hint = "this looks like a v1 rule (Name:value)"
            error = self.fail(
                opening, f"expected '(' after {name.text} but found {_describe(opening)}", hint
            )
            error.syntax = "v1" if v1 else None
            raise error
        args: list[Token] = []
        while True:
            token = self.take()
            if token.kind == ")":
                break
            if token.kind != "string":
                raise self._bad_argument(token, canonical)
            args.append(token)
            sep = self.take()
            if sep.kind == ")":
                break
            if sep.kind != ",":
                raise self.fail(sep, f"expected ',' or ')' but found {_describe(sep)}")
        if not args:
            raise self.fail(name, f"{name.text} has no value", f"write {canonical}(`value`)")
        for token in args:
            if not token.text and not spec.empty:
                raise self.fail(token, f"empty value in {name.text}", "values may not be empty")
        self._check_arity(name, canonical, spec, args)
        return spec.build(Args(self.rule, name, args, self.syntax))

    def _check_arity(self, name: Token, canonical: str, spec: Spec, args: list[Token]) -> None:
        count = len(args)
        if spec.arity is not None and count not in spec.arity:
            # Traefik's message, word for word (pkg/rules/parser.go, checkArity).
            expected = " ".join(str(a) for a in spec.arity)
            problem = f"unexpected number of parameters; got {count}, expected one of [{expected}]"
            hint, syntax = None, None
            if spec.arity == (1,) and count > 1:
                alternatives = " || ".join(f"{canonical}({go_quote(t.text)})" for t in args[:2])
                what = _VALUE_WORDS.get(canonical, "value")
                hint = f"{canonical} takes one {what} in {self.syntax}: use {alternatives}"
                if self.syntax != "v2":
                    hint, syntax = hint + ", or the v2 syntax", "v2"
            at = args[spec.arity[-1]] if count > spec.arity[-1] else name
            error = self.fail(at, problem, hint)
            error.syntax = syntax
            raise error
        if spec.pairs and count % 2:
            raise self.fail(
                args[-1],
                f"{name.text} takes name/value pairs; got {count} values",
                f"write {canonical}(`name`, `value`)",
            )

    def _bad_argument(self, token: Token, canonical: str) -> RuleSyntaxError:
        if token.kind in ("name", "char"):
            # A bare word (Host(example.com)) — Traefik rejects it; show the quoted form.
            end = token.end
            while self.tokens[self.index].kind not in (")", ",", "end", "&&", "||", "string"):
                end = self.take().end
            word = self.rule[token.position : end]
            return self.fail(
                token,
                f"values must be quoted strings, not {word!r}",
                f"write {canonical}(`{word}`)",
            )
        return self.fail(
            token,
            f"expected a string value but found {_describe(token)}",
            'quote values with backticks (`value`) or double quotes ("value")',
        )

    def _unknown(self, name: Token) -> RuleSyntaxError:
        table = _ALL_TABLES[(self.protocol, self.syntax)]
        if self.syntax == "constraints":
            close = difflib.get_close_matches(name.text, list(table), n=1, cutoff=0.6)
            listed = f"did you mean {close[0]}?" if close else "functions: " + ", ".join(table)
            return self.fail(name, f"unknown function {name.text!r}", listed)
        other = "tcp" if self.protocol == "http" else "http"
        by_lower = {n.lower(): n for n in table}
        hint, syntax = _OTHER_SYNTAX_HINTS.get((self.syntax, name.text), (None, None))
        if name.text.lower() in by_lower:
            real = by_lower[name.text.lower()]
            forms = ", ".join(spellings(real))
            hint = f"matcher names are accepted only as {forms}"
        elif hint is None and name.text in TABLES[(other, self.syntax)]:
            # HostSNI in an HTTP router (or Path in a TCP one): say so, not "did you mean Host?".
            where = "a TCP router (tcp.routers)" if other == "tcp" else "an HTTP router"
            return self.fail(
                name,
                f"{name.text} is {_A[other]} matcher, not {_A[self.protocol]} one",
                f"use it in {where}; {self.protocol.upper()} matchers: " + ", ".join(table),
            )
        elif hint is None:
            close = difflib.get_close_matches(name.text, list(table), n=1, cutoff=0.6)
            if close:
                hint = f"did you mean {close[0]}?"
            else:
                hint = f"{self.syntax} {self.protocol.upper()} matchers: " + ", ".join(table)
        if syntax is not None:
            error = self.fail(name, f"unknown matcher {name.text!r}", hint)
            error.syntax = syntax
            return error
        return self.fail(name, f"unknown matcher {name.text!r}", hint)
