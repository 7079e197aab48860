"""The circuit breaker's expression language, parsed into a predicate over measurements.

Traefik's circuitBreaker ``expression`` (``vulcand/oxy`` ``cbreaker/predicates.go``): the
functions ``NetworkErrorRatio()``, ``ResponseCodeRatio(from, to, dividedByFrom, dividedByTo)``
and ``LatencyAtQuantileMS(quantile)``, each compared with a number by ``>``, ``>=``, ``<``,
``<=``, ``==`` or ``!=``, combined with ``&&`` and ``||`` (``&&`` binds tighter) and
parentheses.  A mistake is a `BreakerSyntaxError` that says where, with a caret, as rule
errors do.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Final, Protocol, final

import attrs

from ...errors import ConfigError

__all__ = ["BreakerExpression", "BreakerSyntaxError", "Measurements", "parse_breaker_expression"]


class Measurements(Protocol):
    """What an expression reads: the circuit's measurements over its window."""

    def network_error_ratio(self) -> float:
        """Network errors (answers 502 and 504) per request."""
        ...

    def response_code_ratio(self, low: int, high: int, div_low: int, div_high: int) -> float:
        """Answers with a code in [low, high) per answer with a code in [div_low, div_high)."""
        ...

    def latency_at_quantile_ms(self, quantile: float) -> float:
        """The latency, in milliseconds, below which *quantile* percent of the answers came."""
        ...


class BreakerSyntaxError(ConfigError):
    """An expression that cannot be parsed; the message shows where, with a caret."""

    def __init__(self, expression: str, position: int, problem: str) -> None:
        self.expression = expression
        self.position = position
        self.problem = problem
        caret = " " * position + "^"
        super().__init__(f"{problem} at character {position + 1}:\n  {expression}\n  {caret}")


_TOKEN: Final = re.compile(
    r"\s*(?:(?P<number>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z]+)|(?P<op>&&|\|\||[<>=!]=|[<>])"
    r"|(?P<punct>[(),]))"
)
_COMPARE: Final[dict[str, Callable[[float, float], bool]]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_ARITY: Final = {"NetworkErrorRatio": 0, "ResponseCodeRatio": 4, "LatencyAtQuantileMS": 1}

Predicate = Callable[[Measurements], bool]


@final
@attrs.frozen(eq=False)
class BreakerExpression:
    """A parsed expression: ``expression.holds(measurements)``."""

    text: str
    holds: Predicate


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda m: a(m) or b(m)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda m: a(m) and b(m)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                start = pos + len(text[pos:]) - len(text[pos:].lstrip())
                raise BreakerSyntaxError(text, start, f"unexpected {text[start]!r}")
            kind = m.lastgroup
            assert kind is not None
            self.tokens.append((kind, m.group(kind), m.start(kind)))
            pos = m.end()
        self.index = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def fail(self, problem: str) -> BreakerSyntaxError:
        token = self.peek()
        return BreakerSyntaxError(self.text, token[2] if token else len(self.text), problem)

    def take(self, value: str) -> None:
        token = self.peek()
        if token is None or token[1] != value:
            raise self.fail(f"expected {value!r}")
        self.index += 1

    def expression(self) -> Predicate:
        left = self.conjunction()
        while (token := self.peek()) is not None and token[1] == "||":
            self.index += 1
            right = self.conjunction()
            left = _either(left, right)
        return left

    def conjunction(self) -> Predicate:
        left = self.comparison()
        while (token := self.peek()) is not None and token[1] == "&&":
            self.index += 1
            right = self.comparison()
            left = _both(left, right)
        return left

    def comparison(self) -> Predicate:
        token = self.peek()
        if token is not None and token[1] == "(":
            self.index += 1
            inner = self.expression()
            self.take(")")
            return inner
        if token is None or token[0] != "name":
            raise self.fail(
                "expected NetworkErrorRatio(), ResponseCodeRatio(…) or LatencyAtQuantileMS(…)"
            )
        name = token[1]
        if name not in _ARITY:
            known = ", ".join(_ARITY)
            raise self.fail(f"unknown function {name!r} (known: {known})")
        self.index += 1
        self.take("(")
        args: list[float] = []
        while (arg := self.peek()) is not None and arg[0] == "number":
            args.append(float(arg[1]))
            self.index += 1
            if (comma := self.peek()) is not None and comma[1] == ",":
                self.index += 1
        if len(args) != _ARITY[name]:
            raise self.fail(f"{name} takes {_ARITY[name]} argument(s), not {len(args)}")
        self.take(")")
        op = self.peek()
        if op is None or op[1] not in _COMPARE:
            raise self.fail(f"expected a comparison (>, <, >=, <=, ==, !=) after {name}(…)")
        self.index += 1
        number = self.peek()
        if number is None or number[0] != "number":
            raise self.fail("expected a number")
        self.index += 1
        compare, value = _COMPARE[op[1]], float(number[1])
        if name == "NetworkErrorRatio":
            return lambda m: compare(m.network_error_ratio(), value)
        if name == "LatencyAtQuantileMS":
            quantile = args[0]
            return lambda m: compare(m.latency_at_quantile_ms(quantile), value)
        a, b, c, d = (int(x) for x in args)
        return lambda m: compare(m.response_code_ratio(a, b, c, d), value)


def parse_breaker_expression(text: str) -> BreakerExpression:
    """Parse a circuitBreaker ``expression``.

    Raises:
        BreakerSyntaxError: the expression is empty or malformed; the message says where.
    """
    parser = _Parser(text)
    if not parser.tokens:
        raise BreakerSyntaxError(text, 0, "empty expression")
    predicate = parser.expression()
    if parser.peek() is not None:
        raise parser.fail("expected && or || here")
    return BreakerExpression(text, predicate)
