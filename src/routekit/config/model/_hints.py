"""The "did you mean" hint every unknown key, section and reference gets."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["REMOVED_OPTIONS", "closest", "did_you_mean"]

#: Options Traefik v2 deprecated and v3 removed (lower-cased name → what to use instead), from
#: Traefik's v2 → v3 migration guide (doc.traefik.io/traefik/migration/v2-to-v3/).
REMOVED_OPTIONS: dict[str, str] = {
    "sslredirect": 'removed in Traefik v3: use a redirectScheme middleware (scheme = "https")',
    "ssltemporaryredirect": (
        "removed in Traefik v3: use a redirectScheme middleware (permanent = false)"
    ),
    "sslhost": "removed in Traefik v3: use a redirectRegex middleware to redirect to the host",
    "sslforcehost": "removed in Traefik v3: use a redirectRegex middleware to redirect to the host",
    "featurepolicy": "removed in Traefik v3: use permissionsPolicy",
}


def closest(name: str, options: Iterable[str]) -> str | None:
    """The option closest to *name* ignoring case, as written, or ``None`` if none is close."""
    lowered: dict[str, str] = {}
    for option in options:
        lowered.setdefault(option.lower(), option)
    found = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[found[0]] if found else None


def did_you_mean(name: str, options: Iterable[str]) -> str | None:
    """``did you mean 'entryPoints'?`` for the option closest to *name*, or ``None``."""
    found = closest(name, options)
    return None if found is None else f"did you mean {found!r}?"
