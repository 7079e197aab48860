"""Turn a v1 or v2 configuration — a TOML file, Docker labels or bare rules — into v3.

Used by ``routekit migrate``.  Every path goes through the same model: the input is decoded into
a `Configuration`, its v1/v2 rules are translated with `routekit.rules.translate` (priorities
kept explicitly, modifiers turned into middlewares), it is validated, and it is printed with
`dumps_dynamic` as TOML or with `config_to_labels` as v2/v3 labels.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

import attrs
import tomlkit

from .errors import Problem, RoutekitError

if TYPE_CHECKING:
    from .config import Configuration

__all__ = ["PLACEHOLDER_ADDRESS", "migrate_text"]

Kind = Literal["auto", "toml", "labels", "rules"]
Output = Literal["toml", "labels"]

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


#: The address given to the container of migrated labels: labels carry ports, not addresses.
PLACEHOLDER_ADDRESS = "127.0.0.1"


def migrate_text(
    text: str,
    *,
    kind: Kind = "auto",
    source: str = "<input>",
    name: str = "app",
    rule_syntax: Literal["v1", "v2"] | None = None,
    output: Output = "toml",
) -> tuple[str, tuple[Problem, ...]]:
    """Translate *text* into a v3 configuration; return it with every problem found.

    Args:
        text: a v1 or v2 dynamic TOML file, Docker labels (one ``key=value`` a line), or rules
            (one a line, ``#`` comments allowed).
        kind: what *text* holds; ``auto`` detects it.
        source: the name shown in problems.
        name: the container name for labels, and the service routers of bare rules point to.
        rule_syntax: the syntax of routers that do not set ``ruleSyntax`` (``"v2"`` for a file
            written for Traefik v2); ``None`` reads them as v3, as Traefik v3 does.
        output: ``toml`` for a dynamic TOML file, ``labels`` for v2/v3 labels, one
            ``key=value`` a line, as a compose file's ``labels:`` list holds them.

    Every v1/v2 rule is written in v3 (`routekit.config.upgrade_rules`) and the result is
    validated: an element that v3 would refuse is left out and reported, so what is printed
    passes ``routekit check``.
    """
    from .config import upgrade_rules, validate

    if kind == "auto":
        kind = detect_kind(text)
    placeholder = False
    if kind == "toml":
        config, problems = _from_toml(text, source)
    elif kind == "labels":
        config, problems = _from_labels(text, source, name)
        placeholder = True
    else:
        config, problems = _from_rules(text, source, name)
    if config is None:
        return "", problems
    config, translated = upgrade_rules(config, default_syntax=rule_syntax, source=source)
    checked = validate(config)
    found = (*problems, *translated, *(_located(p, source) for p in checked.problems))
    if output == "labels":
        return _labels_text(checked.config, placeholder), found
    return _toml_text(checked.config, kind, source, name, placeholder=placeholder), found


def _located(problem: Problem, source: str) -> Problem:
    return problem if problem.source else attrs.evolve(problem, source=source)


def _toml_text(
    config: Configuration, kind: str, source: str, name: str, *, placeholder: bool
) -> str:
    from .config import dumps_dynamic

    header = ""
    if kind == "rules":
        header = (
            f"# Migrated from {source}. Priorities are the v1 ones, kept explicitly.\n"
            f"# Point service {name!r} at your backends.\n"
        )
    elif placeholder:
        header = (
            f"# Migrated from the labels in {source}. Labels carry ports, not addresses:\n"
            f"# the server addresses below are the placeholder {PLACEHOLDER_ADDRESS}, where the\n"
            "# Docker provider uses each container's own address.  Set your backends' ones.\n"
        )
    return header + dumps_dynamic(config)


def _labels_text(config: Configuration, placeholder: bool) -> str:
    from .config import config_to_labels

    address = PLACEHOLDER_ADDRESS if placeholder else None
    labels = config_to_labels(config, container_address=address)
    return "".join(f"{key}={value}\n" for key, value in labels.items())


def _from_toml(text: str, source: str) -> tuple[Configuration | None, tuple[Problem, ...]]:
    from .config import StaticConfiguration, loads_dynamic, reads_any

    result = reads_any(text, source=source)
    if isinstance(result.config, StaticConfiguration):
        # A v1 static file may carry its frontends and backends inline: those are migrated.
        if result.config.dynamic is None:
            problem = Problem(
                path="",
                message="this is a static configuration: there are no routes to migrate",
                source=source,
            )
            return None, (*result.problems, problem)
        return result.config.dynamic, result.problems
    # Decoded but not yet validated: v2 rules are translated before validation reads them.
    config, problems = loads_dynamic(text, source=source)
    return config, tuple(problems)


def _from_labels(text: str, source: str, name: str) -> tuple[Configuration, tuple[Problem, ...]]:
    from .config import ContainerInfo, labels_to_config

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
    address = {"bridge": PLACEHOLDER_ADDRESS}
    container = ContainerInfo(name=name, labels=labels, addresses=address)
    config, label_problems = labels_to_config([container])
    return config, (*problems, *label_problems)


def _from_rules(
    text: str, source: str, service: str
) -> tuple[Configuration | None, tuple[Problem, ...]]:
    from .config import loads_dynamic
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
        return None, tuple(problems)
    # The service the routers point to is not part of a rule: ask the user to fill it in.
    data["http"]["services"] = {
        service: {"loadBalancer": {"servers": [{"url": "http://127.0.0.1:8080"}]}}
    }
    config, found = loads_dynamic(tomlkit.dumps(data), source=source)
    return config, (*problems, *found)
