"""The expression languages of circuitBreaker and buffering, parsed into predicates.

Traefik's circuitBreaker ``expression`` (``vulcand/oxy`` ``cbreaker/predicates.go``): the
functions ``NetworkErrorRatio()``, ``ResponseCodeRatio(from, to, dividedByFrom, dividedByTo)``
and ``LatencyAtQuantileMS(quantile)``, each compared with a number by ``>``, ``>=``, ``<``,
``<=``, ``==`` or ``!=``, combined with ``&&`` and ``||`` (``&&`` binds tighter) and
parentheses.  buffering's ``retryExpression`` is the same language over ``IsNetworkError()``
(a condition of its own), ``Attempts()`` and ``ResponseCode()``.  A mistake is a
`BreakerSyntaxError` that says where, with a caret, as rule errors do.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any, Final, Protocol, final

import attrs

from ...errors import ConfigError

__all__ = [
    "BreakerExpression",
    "BreakerSyntaxError",
    "Measurements",
    "parse_breaker_expression",
    "parse_retry_expression",
]


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
Predicate = Callable[[Any], bool]


@final
@attrs.frozen
class _Function:
    """A function of an expression language: how many arguments, whether it is a condition
    of its own (``IsNetworkError()``) or a number to compare, and how it reads the subject."""

    arity: int
    condition: bool
    read: Callable[[Any, tuple[float, ...]], float | bool]


_BREAKER: Final = {
    "NetworkErrorRatio": _Function(0, False, lambda m, _: m.network_error_ratio()),
    "ResponseCodeRatio": _Function(
        4, False, lambda m, a: m.response_code_ratio(*(int(x) for x in a))
    ),
    "LatencyAtQuantileMS": _Function(1, False, lambda m, a: m.latency_at_quantile_ms(a[0])),
}
# oxy's buffer retry predicates (``buffer/retry.go``): the attempt in hand, its outcome.
_RETRY: Final = {
    "IsNetworkError": _Function(0, True, lambda r, _: r.is_network_error()),
    "Attempts": _Function(0, False, lambda r, _: r.attempts()),
    "ResponseCode": _Function(0, False, lambda r, _: r.response_code()),
}


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
    def __init__(self, text: str, functions: dict[str, _Function]) -> None:
        self.text = text
        self.functions = functions
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
        known = ", ".join(f"{name}()" for name in self.functions)
        if token is None or token[0] != "name":
            raise self.fail(f"expected one of {known}")
        name = token[1]
        function = self.functions.get(name)
        if function is None:
            raise self.fail(f"unknown function {name!r} (known: {known})")
        self.index += 1
        self.take("(")
        args: list[float] = []
        while (arg := self.peek()) is not None and arg[0] == "number":
            args.append(float(arg[1]))
            self.index += 1
            if (comma := self.peek()) is not None and comma[1] == ",":
                self.index += 1
        if len(args) != function.arity:
            raise self.fail(f"{name} takes {function.arity} argument(s), not {len(args)}")
        self.take(")")
        read, given = function.read, tuple(args)
        if function.condition:
            return lambda m: bool(read(m, given))
        op = self.peek()
        if op is None or op[1] not in _COMPARE:
            raise self.fail(f"expected a comparison (>, <, >=, <=, ==, !=) after {name}(…)")
        self.index += 1
        number = self.peek()
        if number is None or number[0] != "number":
            raise self.fail("expected a number")
        self.index += 1
        compare, value = _COMPARE[op[1]], float(number[1])
        return lambda m: compare(float(read(m, given)), value)


def _parse(text: str, functions: dict[str, _Function]) -> BreakerExpression:
    parser = _Parser(text, functions)
    if not parser.tokens:
        raise BreakerSyntaxError(text, 0, "empty expression")
    predicate = parser.expression()
    if parser.peek() is not None:
        raise parser.fail("expected && or || here")
    return BreakerExpression(text, predicate)


def parse_breaker_expression(text: str) -> BreakerExpression:
    """Parse a circuitBreaker ``expression`` (its subject: `Measurements`).

    Raises:
        BreakerSyntaxError: the expression is empty or malformed; the message says where.
    """
    return _parse(text, _BREAKER)


def parse_retry_expression(text: str) -> BreakerExpression:
    """Parse a buffering ``retryExpression``: ``IsNetworkError()``, ``Attempts()`` and
    ``ResponseCode()`` of the attempt in hand (``IsNetworkError() && Attempts() < 2``).

    Raises:
        BreakerSyntaxError: the expression is empty or malformed; the message says where.
    """
    return _parse(text, _RETRY)
