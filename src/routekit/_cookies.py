"""What a cookie attribute may hold: shared by the sticky balancer and configuration checks.

Each check returns what is wrong with a value, or ``None``: the balancer raises it about its
``StickyCookie`` fields, validation reports it about the ``sticky.cookie`` keys of a file.
"""

from __future__ import annotations

from typing import Final

__all__ = ["SAME_SITE", "domain_problem", "max_age_problem", "path_problem", "same_site_problem"]

#: ``sameSite`` values, lower case → the attribute as written (RFC 6265bis, "SameSite").
SAME_SITE: Final = {"none": "None", "lax": "Lax", "strict": "Strict"}


def same_site_problem(value: object) -> str | None:
    """Why *value* is not a ``SameSite`` value, or ``None``."""
    if value is not None and (not isinstance(value, str) or value.lower() not in SAME_SITE):
        return f"must be none, lax or strict, got {value!r}"
    return None


def path_problem(value: object) -> str | None:
    """Why *value* cannot be a ``Path`` attribute, or ``None``."""
    if not isinstance(value, str) or any(c in value for c in ";\r\n"):
        return f"must not contain ';' or line breaks, got {value!r}"
    return None


def domain_problem(value: object) -> str | None:
    """Why *value* cannot be a ``Domain`` attribute, or ``None``."""
    # Go's net/http drops a Domain it cannot write safely; a configuration error is clearer, and
    # a ';' or a line break would otherwise smuggle attributes or headers into the response.
    if value is not None and (
        not isinstance(value, str)
        or any(c in value for c in ';,"')
        or not value.isprintable()
        or any(c.isspace() for c in value)
    ):
        return f"must be a host name without spaces or ';', got {value!r}"
    return None


def max_age_problem(value: object) -> str | None:
    """Why *value* is not a ``Max-Age`` in seconds, or ``None``."""
    if isinstance(value, bool) or not isinstance(value, int):
        return f"must be a whole number of seconds, got {value!r}"
    return None
