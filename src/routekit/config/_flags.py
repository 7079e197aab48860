"""Traefik's command-line flags as static configuration, over the file's (flags win).

Traefik reads ``--entryPoints.web.address=:80``, ``--providers.file.directory=/etc/x``,
``--api.insecure``, ``--log.level=DEBUG``, ``--accessLog`` and v1's ``--logLevel=DEBUG``,
``--web``, ``--docker``… as the same tree its file has (``traefik/paerser``'s flag parser): each
dotted key is a path of tables, case-insensitive, ``--key`` alone means ``true``, and a flag
overrides the same key of the file.  `flag_tree` turns them into that tree; `read_static(path,
flags=…)` merges it over the file's and reads the result as a static file, so that a flag gets
the same checks (and the same did-you-mean) as the key in a file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from ..errors import Problem
from ._static import STATIC_KEYS
from .model import did_you_mean

__all__ = ["flag_tree", "merge_tree"]

_TOP: Final = (
    "entryPoints", "providers", "api", "log", "accessLog", "metrics", "ping", "core",
    "global", "serversTransport", "tracing", "logLevel", "defaultEntryPoints", "web",
    "docker", "file", "consulCatalog", "consul", "etcd", "redis", "zookeeper", "kubernetes",
    "marathon", "providersThrottleDuration",
)  # fmt: skip


# Flags that name a section: alone (``--api``, ``--accessLog``, ``--providers.docker``) they
# turn it on with its defaults, as paerser sets the section's pointer.
_SECTIONS: Final = frozenset(
    name.lower()
    for name in ("api", "accessLog", "metrics", "prometheus", "ping", "tracing", "log", "web",
                 "docker", "file", "consulCatalog", "consul", "etcd", "redis", "zookeeper",
                 "kubernetes", "kubernetesIngress", "kubernetesCRD", "marathon")
)  # fmt: skip


def flag_tree(flags: Sequence[str]) -> tuple[dict[str, Any], list[Problem]]:
    """The tree of *flags* (``--a.b=c`` → ``{"a": {"b": "c"}}``), and the flags refused."""
    tree: dict[str, Any] = {}
    problems: list[Problem] = []
    for flag in flags:
        if not flag.startswith("--") or len(flag) < 3:
            problems.append(Problem("", f"not a flag: {flag!r}", source="command line"))
            continue
        key, equals, value = flag[2:].partition("=")
        parts = key.split(".")
        if any(not p for p in parts):
            problems.append(Problem("", f"bad flag name {flag!r}", source="command line"))
            continue
        if parts[0].lower() not in STATIC_KEYS:
            hint = did_you_mean(parts[0], _TOP)
            if hint is not None:
                hint = hint.replace("did you mean '", "did you mean '--")
            problems.append(Problem("", f"unknown flag --{key}", "command line", hint))
            continue
        node = tree
        for part in parts[:-1]:
            here = _key_in(node, part)
            child = node.get(here)
            if not isinstance(child, dict):
                child = node[here] = {}
            node = child
        if equals:
            node[_key_in(node, parts[-1])] = value
        elif parts[-1].lower() in _SECTIONS:
            node.setdefault(_key_in(node, parts[-1]), {})
        else:
            node[_key_in(node, parts[-1])] = "true"
    return tree, problems


def _key_in(node: Mapping[str, Any], key: str) -> str:
    """The key of *node* that *key* names (case-insensitive, as paerser), or *key*."""
    for existing in node:
        if existing.lower() == key.lower():
            return existing
    return key


def merge_tree(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """*base* with *over* merged into it, table by table (keys matched case-insensitively)."""
    out = dict(base)
    for key, value in over.items():
        here = _key_in(out, key)
        if isinstance(value, dict) and isinstance(out.get(here), dict):
            out[here] = merge_tree(out[here], value)
        else:
            out[here] = value
    return out
