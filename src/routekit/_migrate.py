"""Turn a v1 configuration — a TOML file, a set of Docker labels or bare rules — into v3 TOML.

Used by ``routekit migrate``.  Every path goes through the same model: the input is decoded into
a `Configuration` (v1 rules are translated with `routekit.rules.translate`, their priority kept
explicitly and their modifiers turned into middlewares) and printed with `dumps_dynamic`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import tomlkit

from .errors import Problem, RoutekitError

__all__ = ["migrate_text"]

Kind = Literal["auto", "toml", "labels", "rules"]

# `traefik.x=y`, `- "traefik.x=y"` (compose list), `--label traefik.x=y`, `traefik.x: y` (map)
_LABEL_LINE = re.compile(
    r"""^\s*(?:-\s*)?(?:--label[ =]\s*)?["']?"""
    r"""(?P<key>[A-Za-z0-9_.\-\[\]]+)\s*[=:]\s*(?P<value>.*?)["']?\s*$"""
)


def detect_kind(text: str) -> Literal["toml", "labels", "rules"]:
    """Guess what *text* holds: TOML tables, ``traefik.*`` labels, or one rule per line."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if any(ln.lstrip().startswith("[") for ln in lines):
        return "toml"
    if lines and all(_is_label_line(ln) for ln in lines):
        return "labels"
    return "rules"


def _is_label_line(line: str) -> bool:
    m = _LABEL_LINE.match(line)
    return m is not None and m.group("key").startswith(("traefik.", "com.docker.compose."))


def migrate_text(
    text: str, *, kind: Kind = "auto", source: str = "<input>", name: str = "app"
) -> tuple[str, tuple[Problem, ...]]:
    """Translate *text* into v3 dynamic TOML; return it with every problem found.

    Args:
        text: a v1 dynamic TOML file, Docker labels (one ``key=value`` a line), or rules (one a
            line, ``#`` comments allowed).
        kind: what *text* holds; ``auto`` detects it.
        source: the name shown in problems.
        name: the container name for labels, and the service routers of bare rules point to.
    """
    if kind == "auto":
        kind = detect_kind(text)
    if kind == "toml":
        return _from_toml(text, source)
    if kind == "labels":
        return _from_labels(text, source, name)
    return _from_rules(text, source, name)


def _from_toml(text: str, source: str) -> tuple[str, tuple[Problem, ...]]:
    from .config import StaticConfiguration, dumps_dynamic, reads_any

    result = reads_any(text, source=source)
    config = result.config
    if isinstance(config, StaticConfiguration):
        # A v1 static file may carry its frontends and backends inline: those are migrated.
        if config.dynamic is None:
            problem = Problem(
                path="",
                message="this is a static configuration: there are no routes to migrate",
                source=source,
            )
            return "", (*result.problems, problem)
        config = config.dynamic
    return dumps_dynamic(config), result.problems


def _from_labels(text: str, source: str, name: str) -> tuple[str, tuple[Problem, ...]]:
    from .config import ContainerInfo, dumps_dynamic, labels_to_config

    labels: dict[str, str] = {}
    problems: list[Problem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LABEL_LINE.match(line)
        if m is None:
            problems.append(
                Problem(
                    path="", message=f"not a label: {line.strip()!r}", source=f"{source}:{number}"
                )
            )
            continue
        labels[m.group("key")] = m.group("value")
    container = ContainerInfo(name=name, labels=labels, addresses={"bridge": "127.0.0.1"})
    config, label_problems = labels_to_config([container])
    return dumps_dynamic(config), (*problems, *label_problems)


def _from_rules(text: str, source: str, service: str) -> tuple[str, tuple[Problem, ...]]:
    from .config import dumps_dynamic, reads_config
    from .rules import translate

    routers: dict[str, Any] = {}
    middlewares: dict[str, Any] = {}
    problems: list[Problem] = []
    number = 0
    for line_no, line in enumerate(text.splitlines(), start=1):
        rule = line.strip()
        if not rule or rule.startswith("#"):
            continue
        number += 1
        router = f"rule-{number}"
        try:
            result = translate(rule)
        except RoutekitError as exc:
            problems.append(
                Problem(
                    path=f"http.routers.{router}", message=str(exc), source=f"{source}:{line_no}"
                )
            )
            continue
        names = []
        for mw_name, definition in result.middlewares:
            qualified = f"{router}-{mw_name}"
            middlewares[qualified] = definition
            names.append(qualified)
        entry: dict[str, Any] = {
            "rule": result.rule.to_string("v3"),
            "service": service,
            "priority": result.priority,
        }
        if names:
            entry["middlewares"] = names
        routers[router] = entry
        problems.extend(
            Problem(
                path=f"http.routers.{router}",
                message=note,
                source=f"{source}:{line_no}",
                severity="warning",
            )
            for note in result.notes
        )
    data: dict[str, Any] = {"http": {"routers": routers}}
    if middlewares:
        data["http"]["middlewares"] = middlewares
    if not routers:
        return "", tuple(problems)
    # The service the routers point to is not part of a rule: ask the user to fill it in.
    data["http"]["services"] = {
        service: {"loadBalancer": {"servers": [{"url": "http://127.0.0.1:8080"}]}}
    }
    loaded = reads_config(tomlkit.dumps(data), source=source)
    header = (
        f"# Migrated from {source}. Priorities are the v1 ones, kept explicitly.\n"
        f"# Point service {service!r} at your backends.\n"
    )
    return header + dumps_dynamic(loaded.config), (*problems, *loaded.problems)
