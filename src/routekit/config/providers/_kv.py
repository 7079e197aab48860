"""KV store layouts (etcd, Consul KV, Redis, ZooKeeper) ↔ `Configuration`.

v2/v3 (``master:…/routing-configuration/other-providers/kv.md``): keys mirror the file structure
below a root key (default ``traefik``): ``traefik/http/routers/<r>/rule``,
``traefik/http/routers/<r>/entrypoints/0``,
``traefik/http/services/<s>/loadbalancer/servers/0/url``…  Field names match case-insensitively
and lists are ``0``, ``1``… children (a comma-separated value is accepted too).

v1 (``v1.7:docs/user-guide/kv-config.md``): ``/traefik/backends/<b>/servers/<s>/url``,
``/traefik/frontends/<f>/routes/<r>/rule``…; when ``/traefik/alias`` is set, its value is the
prefix the configuration is read from (an atomic switch between two trees).  The tables are
handed to the v1 file decoder, so v1 KV, labels and files translate alike.

The layout is detected from the keys: ``<root>/frontends/…`` or ``<root>/backends/…`` is v1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ...errors import Problem
from ..files import decode_v1
from ..model import (
    Configuration,
    Node,
    decode_configuration,
    element_name_problem,
    flatten_data,
    is_index,
    is_text,
    shown_text,
    to_data,
)

__all__ = ["config_to_kv", "kv_to_config"]

_V1_SECTIONS: Final = frozenset({"frontends", "backends"})
# v1 KV spellings that differ from the v1 file keys (v1.7 provider/kv/keynames.go).
_V1_RENAMES: Final = {"ratesets": "rateSet"}


def _split(key: str) -> list[str]:
    return key.strip("/").split("/")


def _under(pairs: Mapping[str, str], root: str) -> dict[tuple[str, ...], tuple[str, str]]:
    """Path below *root* → (value, key as stored), for every key under *root*."""
    head = tuple(_split(root)) if root.strip("/") else ()
    out: dict[tuple[str, ...], tuple[str, str]] = {}
    for key, value in pairs.items():
        parts = tuple(_split(key))
        if len(parts) > len(head) and parts[: len(head)] == head:
            out[parts[len(head) :]] = (value, key)
    return out


def kv_to_config(
    pairs: Mapping[str, str], *, root: str = "traefik"
) -> tuple[Configuration, tuple[Problem, ...]]:
    """Decode the KV *pairs* below *root* (v1 or v2 layout, detected) into a configuration.

    Keys outside *root* are not read.  Every key that fits no field is reported with the key as
    its source; a faulty router, service… is left out and the rest still applies.
    """
    bad = [k for k, v in pairs.items() if not (is_text(k) and is_text(v))]
    if bad:
        clean = {k: v for k, v in pairs.items() if k not in bad}
        config, found = kv_to_config(clean, root=root)
        invalid = tuple(
            Problem(shown_text(k), "not valid Unicode text (a lone surrogate)", shown_text(k))
            for k in bad
        )
        return config, (*invalid, *found)
    below = _under(pairs, root)
    if any(path[0].lower() == "alias" and len(path) == 1 for path in below) or any(
        path[0].lower() in _V1_SECTIONS for path in below
    ):
        return _v1(pairs, below, root)
    problems: list[Problem] = []
    tree = Node(root)
    for path, (value, key) in sorted(below.items()):
        if "" in path:
            problems.append(
                Problem("/".join(path), "malformed key (an empty element)", key, severity="error")
            )
            continue
        bad_name = element_name_problem(path)
        if bad_name is not None:
            problems.append(Problem(".".join(path[:3]), bad_name, key))
            continue
        tree.insert(list(path), value, key)
    config, _ = decode_configuration(tree, problems=problems)
    return config, tuple(problems)


def _v1(
    pairs: Mapping[str, str], below: dict[tuple[str, ...], tuple[str, str]], root: str
) -> tuple[Configuration, tuple[Problem, ...]]:
    alias = next((v for p, v in below.items() if len(p) == 1 and p[0].lower() == "alias"), None)
    if alias is not None and alias[0].strip("/"):
        # v1.7 kv: the alias value replaces the prefix the configuration is read from.
        below = _under(pairs, alias[0])
    data: dict[str, Any] = {}
    where: dict[tuple[str, ...], str] = {}
    for path, (value, key) in sorted(below.items()):
        if path[0].lower() not in _V1_SECTIONS or "" in path:
            continue
        table = data
        for written in path[:-1]:
            child = table.setdefault(_V1_RENAMES.get(written.lower(), written), {})
            if not isinstance(child, dict):
                break
            table = child
        else:
            table[path[-1]] = value
            for end in range(1, len(path) + 1):
                where.setdefault(path[:end], key)

    def locate(path: tuple[str, ...]) -> str:
        for end in range(len(path), 0, -1):
            found = where.get(path[:end])
            if found is not None:
                return found
        return root

    config, problems = decode_v1(_lists(data), locate)
    return config, tuple(problems)


def _lists(value: Any) -> Any:
    """Turn tables whose keys are all indices (``0``, ``1``…) into lists, recursively."""
    if not isinstance(value, dict):
        return value
    if value and all(is_index(k) for k in value):
        return [_lists(value[k]) for k in sorted(value, key=int)]
    return {k: _lists(v) for k, v in value.items()}


def config_to_kv(config: Configuration, *, root: str = "traefik") -> dict[str, str]:
    """Write *config* in the v2 KV layout below *root*; `kv_to_config` reads it back equal.

    Fields at their default are left out; an element with only defaults (``tls`` on a router)
    is written as ``<key> = true``.

    Raises:
        ConfigError: a name or map key is empty or holds ``/``, which a KV key cannot say.
    """
    out: dict[str, str] = {}
    flatten_data(
        to_data(config),
        root.strip("/"),
        out,
        separator="/",
        index=lambda key, i: f"{key}/{i}",
        what="a KV key",
    )
    return out
