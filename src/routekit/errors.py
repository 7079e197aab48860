"""The exceptions routekit raises: one small family, each carrying the data a caller needs.

Every error a user can provoke with bad input (a rule, a configuration file, labels, a provider
response) is a :class:`RoutekitError`.  Errors caused by bad *values* also subclass
:class:`ValueError`, so code that already catches ``ValueError`` keeps working.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import attrs

__all__ = [
    "BadRequest",
    "ConfigError",
    "MalformedResponse",
    "NoServerAvailable",
    "Problem",
    "ProviderError",
    "RoutekitError",
    "RuleSyntaxError",
]


class RoutekitError(Exception):
    """Base class of every error routekit raises on purpose."""

    #: The HTTP status a server face should answer with when this error ends a request.
    status_hint: int = 500


class RuleSyntaxError(RoutekitError, ValueError):
    """A rule could not be parsed; the message shows the rule with a caret under the fault.

    Attributes:
        rule: the rule text as given.
        position: 0-based character offset of the fault in ``rule``.
        problem: what is wrong, in one sentence.
        hint: how to fix it, or ``None``.
        syntax: the rule syntax (``"v2"``, ``"v3"``) in which the fault would not be one, when
            that is the fix; each face says how to choose it (``syntax=`` in Python, the
            router's ``ruleSyntax`` in a configuration).
    """

    syntax: str | None = None

    def __init__(self, problem: str, rule: str, position: int, hint: str | None = None) -> None:
        self.problem = problem
        self.rule = rule
        self.position = max(0, min(position, len(rule)))
        self.hint = hint
        super().__init__(self.render())

    def __str__(self) -> str:
        return self.render()

    def render(self, *, hint: bool = True) -> str:
        """The message: problem, position, the rule with a caret and, with *hint*, the hint."""
        # Control characters would break the caret alignment (and the terminal), so the echoed
        # rule shows them escaped; the caret is placed under the escaped form.
        # A long rule is shown as a window around the fault.
        start = max(0, self.position - _CONTEXT)
        end = min(len(self.rule), self.position + _CONTEXT)
        head = "…" if start else ""
        shown_before = head + _printable(self.rule[start : self.position])
        shown = shown_before + _printable(self.rule[self.position : end])
        shown += "…" if end < len(self.rule) else ""
        lines = [
            f"{self.problem} (at position {self.position})",
            f"  {shown}",
            "  " + " " * len(shown_before) + "^",
        ]
        if hint and self.hint:
            choose = f' (parse_rule(..., syntax="{self.syntax}"))' if self.syntax else ""
            lines.append(f"hint: {self.hint}{choose}")
        return "\n".join(lines)

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rule_syntax_error,
            (self.problem, self.rule, self.position, self.hint, self.syntax),
        )


def _rule_syntax_error(
    problem: str, rule: str, position: int, hint: str | None, syntax: str | None
) -> RuleSyntaxError:
    error = RuleSyntaxError(problem, rule, position, hint)
    error.syntax = syntax
    return error


#: Characters of a rule shown on each side of a fault.
_CONTEXT = 60


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@attrs.frozen
class Problem:
    """One thing wrong with a configuration: what, where and how to fix it.

    Attributes:
        path: dotted path of the offending element, e.g. ``http.routers.api.service``.
        message: what is wrong.
        source: where it came from: ``file.toml:12:5``, a label key and container, a KV key.
        hint: how to fix it ("did you mean 'api'?"), or ``None``.
        severity: ``"error"`` (the element is left out) or ``"warning"`` (it still applies).
        offset: where inside the offending value the fault is (a rule's error position), or
            ``None``; a file reader uses it to point ``source`` at the fault itself.
    """

    path: str
    message: str
    source: str | None = None
    hint: str | None = None
    severity: Literal["error", "warning"] = "error"
    offset: int | None = attrs.field(default=None, eq=False, kw_only=True)

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        text = f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class ConfigError(RoutekitError, ValueError):
    """A configuration was rejected; :attr:`problems` lists every problem found, not only the first.

    Attributes:
        problems: each problem with its path, source and hint.
    """

    def __init__(self, problems: Iterable[Problem] | str, *, source: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [Problem(path="", message=problems, source=source)]
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self._render(self.problems))

    @staticmethod
    def _render(problems: Sequence[Problem]) -> str:
        if len(problems) == 1:
            return str(problems[0])
        body = "\n".join(f"  - {p}" for p in problems)
        return f"{len(problems)} problems in the configuration:\n{body}"

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.problems,))


class BadRequest(RoutekitError, ValueError):
    """A request (a URL, an ASGI scope, HTTP bytes from a client) cannot be represented."""

    status_hint = 400


class ProviderError(RoutekitError):
    """A provider could not read its source (unreachable endpoint, malformed response)."""

    status_hint = 502


class MalformedResponse(ProviderError, ValueError):
    """A provider's source answered with data of the wrong shape (the message names the field)."""


class NoServerAvailable(RoutekitError):
    """A balancer has no child that can take a request (none, all down, all weight 0)."""

    status_hint = 503

    def __init__(self, message: str = "no available server") -> None:
        super().__init__(message)
