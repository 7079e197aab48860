"""Checks of middleware options that need more than their types, shared by the validator (a
problem at load time) and the middlewares (which build on the same answers).

``usersFile`` is read here: a basicAuth whose file is missing or malformed is a configuration
problem, reported when the configuration loads, not a failure at the first request.
"""

from __future__ import annotations

import re
from typing import Final

from ...errors import ConfigError
from ._middlewares import Headers, SourceCriterion

__all__ = [
    "BCRYPT_PREFIXES",
    "CRYPT_PREFIXES",
    "criterion_problem",
    "hash_problem",
    "headers_defined",
    "load_users",
    "status_ranges",
    "valid_field",
]

#: The bcrypt hash prefixes htpasswd writes (``htpasswd -B``) and Go's bcrypt reads.
BCRYPT_PREFIXES: Final = ("$2y$", "$2a$", "$2b$", "$2x$")
#: The crypt(3) families Traefik's basic auth reads: MD5 (``$apr1$``, ``$1$``), SHA-crypt.
CRYPT_PREFIXES: Final = ("$apr1$", "$1$", "$5$", "$6$")


def load_users(users: tuple[str, ...], users_file: str, *, fields: int = 2) -> dict[str, str]:
    """Name → secret from *users_file* then *users* (``name:hash``; digest: ``name:realm:ha1``,
    keyed ``name:realm``); a later entry for a name wins, as in Traefik's map.

    Raises:
        ConfigError: the file cannot be read, a line is not ``name:…``, or there is no user.
    """
    lines: list[str] = []
    if users_file:
        try:
            with open(users_file, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"usersFile {users_file!r}: {exc}") from None
        # Traefik trims each line and skips blank ones and # comments.
        stripped = (line.strip() for line in text.split("\n"))
        lines = [line for line in stripped if line and not line.startswith("#")]
    out: dict[str, str] = {}
    for line in [*lines, *users]:
        parts = line.split(":", fields - 1)
        if len(parts) != fields or not all(parts[:-1]):
            shape = "name:hash" if fields == 2 else "name:realm:hash"
            raise ConfigError(f"user {line.split(':', 1)[0]!r}: expected {shape}")
        out[":".join(parts[:-1])] = parts[-1]
    if not out:
        raise ConfigError(f"no users found{f' in {users_file}' if users_file else ''}")
    return out


def hash_problem(secret: str) -> str | None:
    """Why *secret* is not a hash basicAuth can check, or ``None``."""
    if secret.startswith((*BCRYPT_PREFIXES, *CRYPT_PREFIXES, "{SHA}")):
        return None
    return "not a hash basicAuth reads (htpasswd -B for bcrypt, -m for MD5, -s for SHA-1)"


def criterion_problem(criterion: SourceCriterion | None) -> str | None:
    """Why a ``sourceCriterion`` is contradictory (two criteria at once), or ``None``."""
    if criterion is None:
        return None
    given = [
        name
        for name, on in (
            ("ipStrategy", criterion.ip_strategy is not None),
            ("requestHeaderName", bool(criterion.request_header_name)),
            ("requestHost", criterion.request_host),
        )
        if on
    ]
    if len(given) > 1:
        return f"{' and '.join(given)} are mutually exclusive"
    return None


def status_ranges(values: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """Traefik's HTTP code ranges (``"500-599"``, ``"404"``) as inclusive ``(low, high)`` pairs.

    Raises:
        ConfigError: a value is not a status or a range of them.
    """
    out: list[tuple[int, int]] = []
    for value in values:
        low, dash, high = value.strip().partition("-")
        try:
            pair = (int(low), int(high) if dash else int(low))
        except ValueError:
            raise ConfigError(f"bad status {value!r} (e.g. 500-599 or 404)") from None
        if not (100 <= pair[0] <= pair[1] <= 599) or not low.strip().isdigit():
            raise ConfigError(f"bad status {value!r} (e.g. 500-599 or 404)")
        out.append(pair)
    return tuple(out)


# RFC 9110 §5.1 field names (tokens) and §5.5 field values (no CR, LF or NUL; trimmed).
_FIELD_NAME: Final = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE: Final = re.compile(rb"(?:[^\x00\r\n\t ](?:[^\x00\r\n]*[^\x00\r\n\t ])?)?")


def valid_field(name: bytes, value: bytes) -> bool:
    """Whether *name* and *value* make a header field that may be sent as it is."""
    return _FIELD_NAME.fullmatch(name) is not None and _FIELD_VALUE.fullmatch(value) is not None


def headers_defined(model: Headers) -> bool:
    """Whether a headers middleware sets anything (Traefik refuses one that does not)."""
    return model != Headers()
