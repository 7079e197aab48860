"""Rewrite the v1/v2 rules of a configuration as v3 rules: what ``routekit migrate`` does to them.

Traefik v3 reads a router's rule with its ``ruleSyntax`` (or the static
``core.defaultRuleSyntax``); the migration guide
(``master:docs/content/migration/v2-to-v3.md``, "Rules") asks for v3 rules, which read some v2
rules differently — ``HostRegexp(`{sub:[a-z]+}.a.com`)`` is a template in v2 and a plain regexp
in v3.  `upgrade_rules` translates each such rule with `routekit.rules.translate`, so that the
v3 rule matches exactly the requests the old one matched, and keeps the router's place in the
order by an explicit priority (the default priority is the rule's length, and the text changed).
"""

from __future__ import annotations

from typing import Literal, TypeVar

import attrs

from ...errors import Problem, RoutekitError, RuleSyntaxError
from ...rules import Rule, parse_rule, parse_tcp_rule, translate
from ._frozen import frozen_map
from ._middlewares import Middleware, middleware_from_definition
from ._model import Configuration, Router, TCPRouter

__all__ = ["upgrade_rules"]

OldSyntax = Literal["v1", "v2"]


def upgrade_rules(
    config: Configuration, *, default_syntax: OldSyntax | None = None, source: str | None = None
) -> tuple[Configuration, tuple[Problem, ...]]:
    """*config* with every v1/v2 router rule written in v3, and what could not be translated.

    Args:
        config: the configuration; routers whose ``rule_syntax`` is ``"v1"`` or ``"v2"`` are
            translated.
        default_syntax: the syntax of routers without ``rule_syntax`` (Traefik's
            ``core.defaultRuleSyntax``, ``"v2"`` for a file written for Traefik v2); ``None``
            reads them as v3, as Traefik v3 does, and leaves them alone.
        source: where the configuration came from, for problems whose element has no
            recorded source (`Configuration.sources`).

    A translated router loses its ``rule_syntax``, keeps its priority explicitly when the new
    text has another length, and gets the v1 modifiers (``PathPrefixStrip``…) as middlewares
    named after it, before its own.  A rule that cannot be translated stays as it was, with its
    syntax, and is reported; the translation's notes are warnings.
    """
    problems: list[Problem] = []
    middlewares: dict[str, Middleware] = dict(config.http.middlewares)
    routers: dict[str, Router] = {}
    for name, router in config.http.routers.items():
        path = f"http.routers.{name}"
        where = config.source_of(path) or source
        upgraded, modifiers = _upgrade(router, path, default_syntax, where, problems, tcp=False)
        names: list[str] = []
        for definition in modifiers:
            middleware = middleware_from_definition(definition)
            mname = _free(f"{name}-{type(middleware).type_key.lower()}", middlewares)
            middlewares[mname] = middleware
            names.append(mname)
        if names:
            upgraded = attrs.evolve(upgraded, middlewares=(*names, *upgraded.middlewares))
        routers[name] = upgraded
    tcp_routers: dict[str, TCPRouter] = {}
    for name, tcp_router in config.tcp.routers.items():
        path = f"tcp.routers.{name}"
        where = config.source_of(path) or source
        tcp_routers[name], _ = _upgrade(tcp_router, path, default_syntax, where, problems, tcp=True)
    http = attrs.evolve(
        config.http, routers=frozen_map(routers), middlewares=frozen_map(middlewares)
    )
    tcp = attrs.evolve(config.tcp, routers=frozen_map(tcp_routers))
    return attrs.evolve(config, http=http, tcp=tcp), tuple(problems)


_R = TypeVar("_R", Router, TCPRouter)


def _upgrade(
    router: _R,
    path: str,
    default_syntax: OldSyntax | None,
    source: str | None,
    problems: list[Problem],
    *,
    tcp: bool,
) -> tuple[_R, tuple[dict[str, object], ...]]:
    """*router* with its rule in v3 and the modifiers to add, or kept (with its syntax made
    explicit) when it cannot be translated; a v3 router is returned as it is."""
    syntax = _old_syntax(router.rule_syntax, default_syntax)
    if syntax is None:
        return router, ()
    upgraded = _translate(router, syntax, path, source, problems, tcp=tcp)
    if upgraded is None:
        return attrs.evolve(router, rule_syntax=router.rule_syntax or syntax), ()
    text, priority, modifiers = upgraded
    return attrs.evolve(router, rule=text, rule_syntax=None, priority=priority), modifiers


def _old_syntax(given: str | None, default: OldSyntax | None) -> OldSyntax | None:
    syntax = given or default
    return syntax if syntax in ("v1", "v2") else None  # type: ignore[return-value]


def _translate(
    router: Router | TCPRouter,
    syntax: OldSyntax,
    path: str,
    source: str | None,
    problems: list[Problem],
    *,
    tcp: bool,
) -> tuple[str, int, tuple[dict[str, object], ...]] | None:
    """The v3 text, priority and modifier definitions of *router*'s rule; None if it has none."""
    try:
        rule: Rule
        if tcp:
            if syntax == "v1":
                raise RoutekitError("v1 has no TCP routers, so no v1 TCP rule")
            rule = parse_tcp_rule(router.rule, syntax=syntax)
        else:
            rule = parse_rule(router.rule, syntax=syntax)
        result = translate(rule)
        text = result.rule.to_string("v3")
    except RuleSyntaxError:
        return None  # validation reports the rule, which keeps its syntax
    except RoutekitError as exc:
        problems.append(
            Problem(
                f"{path}.rule",
                f"cannot be translated from {syntax} to v3: {exc}",
                source,
                hint=f"rewrite it in v3 by hand, or keep ruleSyntax = {syntax!r}",
            )
        )
        return None
    problems.extend(
        Problem(f"{path}.rule", note, source, severity="warning") for note in result.notes
    )
    priority = router.priority
    if priority == 0 and Rule(result.rule.expr, text).priority != result.priority:
        priority = result.priority  # the old default, the old text's length: keep the order
    return text, priority, tuple(definition for _, definition in result.middlewares)


def _free(name: str, taken: dict[str, Middleware]) -> str:
    candidate, i = name, 2
    while candidate in taken:
        candidate, i = f"{name}-{i}", i + 1
    return candidate
