"""The small subset of Go's ``text/template`` that Traefik users write in default rules.

Traefik renders ``defaultRule`` (Docker, Consul catalog) and v1's ``frontEndRule`` with Go
templates plus sprig.  Real configurations use a handful of forms only, and this module
implements exactly those, failing with a clear :class:`~routekit.errors.ConfigError` on anything
else instead of rendering something surprising:

- ``{{ .Name }}``, ``{{ .Labels.x }}`` — fields of the data (a mapping), dotted for nesting;
- ``{{ index .Labels "com.example.x" }}`` — map lookup by a string key;
- ``{{ normalize .Name }}``, ``{{ lower .Name }}``, ``{{ upper .Name }}``, ``{{ trim .Name }}``,
  ``{{ replace "a" "b" .Name }}`` (sprig's argument order), ``{{ printf "%s-x" .Name }}``;
- pipelines ``{{ .Name | normalize | lower }}``, parentheses, ``"strings"`` and `` `raw` ``
  literals, and the ``{{-``/``-}}`` whitespace trim markers.

Extra functions (v1 Consul's ``getTag``, ``hasTag`` and ``getAttribute``, see ``_consul_v1``) are
passed by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Final, NoReturn, final

import attrs

from ...errors import ConfigError
from ..model import parse_int

__all__ = ["MAX_NESTING", "MAX_OUTPUT", "Template", "TemplateFunc", "compile_template", "normalize"]

#: Most characters a template renders: a rule or a name, never a document.  A template that
#: prints its whole data (``{{.}}``) with large tags would otherwise make megabytes of rule.
MAX_OUTPUT: Final = 16_384
#: Deepest nesting of parenthesised pipelines in one action.
MAX_NESTING: Final = 32

TemplateFunc = Callable[..., object]


def normalize(name: str) -> str:
    """Traefik's ``provider.Normalize``: every run of non-letters/non-digits becomes one ``-``.

    Leading and trailing runs are dropped (Go's ``strings.FieldsFunc``), so ``/my_app.1`` is
    ``my-app-1``.
    """
    out: list[str] = []
    field: list[str] = []
    for c in name:
        # Go's unicode.IsLetter || unicode.IsNumber: Python's isalpha/isnumeric cover L* and N*.
        if c.isalpha() or c.isnumeric():
            field.append(c)
        elif field:
            out.append("".join(field))
            field = []
    if field:
        out.append("".join(field))
    return "-".join(out)


def _index(container: object, *keys: object) -> object:
    for key in keys:
        if isinstance(container, Mapping):
            # Go's index on a map yields the zero value for a missing key.
            container = container.get(key, "")
        else:
            raise _ExecError(f"index of a non-map value {container!r}")
    return container


def _printf(fmt: object, *args: object) -> str:
    # Only %s and %v occur in practice; both print the value.  Extra verbs print "%!v(MISSING)".
    pieces = re.split(r"(%[sv%])", str(fmt))
    out: list[str] = []
    rest = list(args)
    for piece in pieces:
        if piece == "%%":
            out.append("%")
        elif piece in ("%s", "%v"):
            out.append(_text(rest.pop(0)) if rest else "%!v(MISSING)")
        else:
            out.append(piece)
    return "".join(out)


def _replace(old: object, new: object, text: object) -> str:
    return str(text).replace(str(old), str(new))


_BUILTINS: Final[Mapping[str, TemplateFunc]] = {
    "normalize": lambda s: normalize(_text(s)),
    "index": _index,
    "lower": lambda s: _text(s).lower(),
    "upper": lambda s: _text(s).upper(),
    "trim": lambda s: _text(s).strip(),
    "replace": _replace,
    "printf": _printf,
    "print": lambda *a: "".join(_text(x) for x in a),
}


def _text(value: object, budget: int = 0) -> str:
    """*value* as Go's text/template prints it; ``_ExecError`` past *budget* characters."""
    budget = budget or MAX_OUTPUT
    out: list[str] = []
    # An explicit stack, not recursion: data nested deep must not raise RecursionError.
    stack: list[object] = [value]
    used = 0
    while stack:
        item = stack.pop()
        if isinstance(item, _Raw):
            piece = item.text
        elif item is None:
            piece = "<no value>"
        elif isinstance(item, bool):
            piece = "true" if item else "false"
        elif isinstance(item, (list, tuple)):
            # Go prints a slice as "[a b c]" (v1 Consul's .Attributes is a []string).
            parts: list[object] = [_Raw("[")]
            for i, v in enumerate(item):
                parts.extend((_Raw(" "), v) if i else (v,))
            stack.extend(reversed([*parts, _Raw("]")]))
            continue
        elif isinstance(item, Mapping):
            # ... and a map as "map[k1:v1 k2:v2]", keys sorted.
            parts = [_Raw("map[")]
            for i, k in enumerate(sorted(item, key=str)):
                parts.extend((_Raw(" ") if i else _Raw(""), _Raw(f"{k}:"), item[k]))
            stack.extend(reversed([*parts, _Raw("]")]))
            continue
        else:
            piece = str(item)
        used += len(piece)
        if used > budget:
            raise _ExecError(f"output longer than {budget} characters")
        out.append(piece)
    return "".join(out)


@attrs.frozen
class _Raw:
    text: str


def _shown(source: str) -> str:
    # Errors quote the template, but not a huge one whole.
    return repr(source) if len(source) <= 200 else f"{source[:200]!r}…({len(source)} characters)"


class _ExecError(Exception):
    pass


# -- parsing ------------------------------------------------------------------------------------

_TOKEN: Final = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*")
      | (?P<raw>`[^`]*`)
      | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)
      | (?P<num>-?[0-9]+)
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>[|()])
    )""",
    re.VERBOSE,
)


@attrs.frozen
class _Lit:
    value: object


@attrs.frozen
class _Field:
    path: tuple[str, ...]  # ``.Labels.x`` → ("Labels", "x"); ``.`` → ()


@attrs.frozen
class _Call:
    name: str
    args: tuple[_Expr, ...]


@attrs.frozen
class _Pipe:
    commands: tuple[_Expr, ...]  # every command after the first is a `_Call`


_Expr = _Lit | _Field | _Call | _Pipe


@final
@attrs.frozen
class Template:
    """A compiled template; :meth:`render` fills it from a mapping of fields."""

    source: str
    _parts: tuple[str | _Expr, ...] = attrs.field(repr=False)
    _funcs: Mapping[str, TemplateFunc] = attrs.field(repr=False)

    def render(self, data: Mapping[str, object]) -> str:
        """Render with *data* (``.Name`` is ``data["Name"]``); raise ``ConfigError`` on a fault."""
        out: list[str] = []
        left = MAX_OUTPUT
        try:
            for part in self._parts:
                text = part if isinstance(part, str) else _text(self._eval(part, data), left)
                left -= len(text)
                if left < 0:
                    raise _ExecError(f"output longer than {MAX_OUTPUT} characters")
                out.append(text)
        except _ExecError as exc:
            raise ConfigError(f"template {_shown(self.source)}: {exc}") from None
        return "".join(out)

    def _eval(self, expr: _Expr, data: Mapping[str, object]) -> object:
        if isinstance(expr, _Lit):
            return expr.value
        if isinstance(expr, _Field):
            value: object = data
            path = expr.path
            for i, name in enumerate(path):
                if not isinstance(value, Mapping) or name not in value:
                    where = "." + ".".join(path[: i + 1])
                    known = (
                        ", ".join("." + k for k in sorted(value))
                        if isinstance(value, Mapping)
                        else "none"
                    )
                    raise _ExecError(f"no field {where} (fields: {known})")
                value = value[name]
            return value
        if isinstance(expr, _Pipe):
            first, *rest = expr.commands
            result = self._eval(first, data)
            for cmd in rest:
                assert isinstance(cmd, _Call)  # the parser lets only calls follow '|'
                # Go passes the previous result as the *last* argument of the next command.
                result = self._call(cmd.name, (*cmd.args, _Lit(result)), data)
            return result
        return self._call(expr.name, expr.args, data)

    def _call(self, name: str, args: Sequence[_Expr], data: Mapping[str, object]) -> object:
        values = [self._eval(a, data) for a in args]
        try:
            return self._funcs[name](*values)
        except TypeError as exc:
            raise _ExecError(f"wrong arguments for {name}: {exc}") from None


def compile_template(text: str, *, funcs: Mapping[str, TemplateFunc] | None = None) -> Template:
    """Parse *text* once; raise ``ConfigError`` naming the unsupported construct."""
    table = {**_BUILTINS, **(funcs or {})}
    parts: list[str | _Expr] = []
    pos = 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            parts.append(text[pos:])
            break
        end = text.find("}}", start + 2)
        if end < 0:
            raise ConfigError(f"template {_shown(text)}: unclosed action at position {start}")
        literal = text[pos:start]
        inner = text[start + 2 : end]
        if inner.startswith("-") and inner[1:2].isspace():
            literal = literal.rstrip()
            inner = inner[1:]
        trim_after = inner.endswith("-") and inner[-2:-1].isspace()
        if trim_after:
            inner = inner[:-1]
        parts.append(literal)
        parts.append(_Parser(text, inner, table).parse())
        pos = end + 2
        if trim_after:
            while pos < len(text) and text[pos].isspace():
                pos += 1
    return Template(text, tuple(p for p in parts if p != ""), table)


class _Parser:
    def __init__(self, source: str, action: str, funcs: Mapping[str, TemplateFunc]) -> None:
        self.depth = 0
        self.source = source
        self.funcs = funcs
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(action):
            m = _TOKEN.match(action, pos)
            if m is None or m.end() == pos:
                if action[pos:].strip() == "":
                    break
                self._fail(f"unexpected {action[pos:].strip()[:10]!r}")
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0

    def _fail(self, message: str) -> NoReturn:
        raise ConfigError(
            f"template {_shown(self.source)}: {message}; supported: fields (.Name), string "
            f"literals, pipelines and the functions {', '.join(sorted(self.funcs))}"
        )

    def parse(self) -> _Expr:
        if not self.tokens:
            self._fail("empty action")
        expr = self._pipeline()
        if self.i < len(self.tokens):
            self._fail(f"unexpected {self.tokens[self.i][1]!r}")
        return expr

    def _pipeline(self) -> _Expr:
        cmds = [self._command()]
        while self.i < len(self.tokens) and self.tokens[self.i] == ("op", "|"):
            self.i += 1
            cmd = self._command()
            if not isinstance(cmd, _Call):
                self._fail("only a function can follow '|'")
            cmds.append(cmd)
        return cmds[0] if len(cmds) == 1 else _Pipe(tuple(cmds))

    def _command(self) -> _Expr:
        if self.i >= len(self.tokens):
            self._fail("missing value")
        kind, value = self.tokens[self.i]
        if kind == "ident":
            if value not in self.funcs:
                self._fail(f"unsupported function or keyword {value!r}")
            self.i += 1
            args: list[_Expr] = []
            while self.i < len(self.tokens) and self.tokens[self.i] not in (
                ("op", "|"),
                ("op", ")"),
            ):
                args.append(self._operand())
            return _Call(value, tuple(args))
        return self._operand()

    def _operand(self) -> _Expr:
        kind, value = self.tokens[self.i]
        self.i += 1
        if kind == "str":
            return _Lit(_unquote(value))
        if kind == "raw":
            return _Lit(value[1:-1])
        if kind == "num":
            try:
                return _Lit(parse_int(value))
            except ValueError as exc:
                self._fail(str(exc))
        if kind == "field":
            return _Field(tuple(p for p in value.split(".") if p))
        if (kind, value) == ("op", "("):
            self.depth += 1
            if self.depth > MAX_NESTING:
                self._fail(f"parentheses nest more than {MAX_NESTING} levels deep")
            inner = self._pipeline()
            if self.i >= len(self.tokens) or self.tokens[self.i] != ("op", ")"):
                self._fail("unclosed '('")
            self.i += 1
            self.depth -= 1
            return inner
        if kind == "ident":
            # A function used as an argument without parentheses: Go would call it with no args.
            self.i -= 1
            self._fail(f"function {value!r} as an argument needs parentheses")
        self._fail(f"unexpected {value!r}")


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), body)
