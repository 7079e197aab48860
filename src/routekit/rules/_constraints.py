"""Provider constraints: which containers (by label) or catalog services (by tag) are served.

Traefik's ``constraints`` option (``master:pkg/provider/constraints/constraints_{labels,tags}.go``)
is an expression in the rule grammar — ``&&``, ``||``, ``!``, parentheses, Go string literals —
over ``Label(`name`, `value`)`` and ``LabelRegex(`name`, `re`)`` for Docker, Swarm, ECS and
Nomad, and ``Tag(`value`)`` and ``TagRegex(`re`)`` for Consul catalog.  The functions are
registered under their exact names only (``vulcand/predicate``), a label's value may be empty
(it then matches a container without the label), and a regexp is searched, not anchored
(Go's ``regexp.MatchString``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, Literal, final

import attrs

from ..errors import RuleSyntaxError
from . import _ast as ast
from ._matchers import Args, Spec
from ._node import Node, _Pattern

__all__ = ["CONSTRAINT_TABLES", "Constraint", "parse_constraint"]

ConstraintKind = Literal["labels", "tags"]


@final
@attrs.frozen
class Label(Node):
    """The container has label ``name`` equal to ``value`` (an empty value: no such label)."""

    name: str
    value: str

    def matches(self, request: Mapping[str, str]) -> bool:
        """Compare with ``labels[name]`` (a missing label reads as ``""``)."""
        return request.get(self.name, "") == self.value

    def values(self) -> tuple[str, ...]:
        """``(name, value)``."""
        return (self.name, self.value)


@final
@attrs.frozen
class LabelRegex(_Pattern):
    """The value of label ``name`` (``""`` when missing) contains a match of ``pattern``."""

    name: str = attrs.field(kw_only=True)

    def matches(self, request: Mapping[str, str]) -> bool:
        """Search ``labels[name]``."""
        return self._re.search(request.get(self.name, ""))

    def values(self) -> tuple[str, ...]:
        """``(name, pattern)``."""
        return (self.name, self.pattern)


@final
@attrs.frozen
class Tag(Node):
    """One of the service's tags is exactly ``value``."""

    value: str

    def matches(self, request: Sequence[str]) -> bool:
        """Look ``value`` up in the tags."""
        return self.value in request

    def values(self) -> tuple[str, ...]:
        """``(value,)``."""
        return (self.value,)


@final
@attrs.frozen
class TagRegex(_Pattern):
    """One of the service's tags contains a match of ``pattern``."""

    def matches(self, request: Sequence[str]) -> bool:
        """Search each tag."""
        return any(self._re.search(tag) for tag in request)


#: The key prefix under which a Marathon provider puts an application's constraints among its
#: labels, as Traefik does (``constraints.MarathonConstraintPrefix``), for `MarathonConstraint`.
MARATHON_CONSTRAINT_PREFIX: Final = "Traefik-Marathon-505F9E15-BDC7-45E7-828D-C06C7BAB8091"


@final
@attrs.frozen
class MarathonConstraint(Node):
    """One of the Marathon application's constraints is ``value`` (``field:operator:value``)."""

    value: str

    def matches(self, request: Mapping[str, str]) -> bool:
        """Look for ``value`` among the constraint labels."""
        return any(
            v == self.value for k, v in request.items() if k.startswith(MARATHON_CONSTRAINT_PREFIX)
        )

    def values(self) -> tuple[str, ...]:
        """``(value,)``."""
        return (self.value,)


def _marathon(args: Args) -> ast.Node:
    return MarathonConstraint(args.values[0])


def _label(args: Args) -> ast.Node:
    return Label(*args.values)


def _label_regex(args: Args) -> ast.Node:
    return args.build(1, lambda name, p: LabelRegex(p, name=name), *args.values)


def _tag(args: Args) -> ast.Node:
    return Tag(args.values[0])


def _tag_regex(args: Args) -> ast.Node:
    return args.build(0, TagRegex, args.values[0])


#: kind → function name → Spec; the parser reads these tables as it reads the matchers'.
CONSTRAINT_TABLES: Final[Mapping[str, Mapping[str, Spec]]] = {
    "labels": {
        "Label": Spec((2,), _label, empty=True),
        "LabelRegex": Spec((2,), _label_regex, empty=True),
        "MarathonConstraint": Spec((1,), _marathon, empty=True),
    },
    "tags": {
        "Tag": Spec((1,), _tag, empty=True),
        "TagRegex": Spec((1,), _tag_regex, empty=True),
    },
}


@final
@attrs.frozen
class Constraint:
    """A parsed constraint expression; `matches` says whether a container passes it.

    Attributes:
        expr: the node tree.
        source: the text it was parsed from.
        kind: ``"labels"`` (its subject is a label mapping) or ``"tags"`` (a tag sequence).
    """

    expr: ast.Node
    source: str
    kind: ConstraintKind

    def matches(self, subject: Mapping[str, str] | Sequence[str]) -> bool:
        """Whether the labels (kind ``labels``) or tags (kind ``tags``) pass the constraint."""
        return self.expr.matches(subject)


def parse_constraint(text: str, *, kind: ConstraintKind) -> Constraint | None:
    """Parse a provider's ``constraints`` expression; ``None`` for an empty one (keep all).

    Raises:
        RuleSyntaxError: the expression does not parse, with the position and a hint.
    """
    from ._parser import parse_expression

    if not text.strip():
        return None
    if kind not in CONSTRAINT_TABLES:
        raise RuleSyntaxError(f"unknown constraint kind {kind!r}", text, 0, "use labels or tags")
    return Constraint(parse_expression(text, protocol=kind, syntax="constraints"), text, kind)
