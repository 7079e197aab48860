"""Field helpers shared by the model classes: file keys, durations, collection converters.

Every model field is an attrs field; its file key is the camelCase form of its name unless
``metadata["key"]`` says otherwise, and ``metadata["duration"]`` marks a duration in seconds.
The codecs read these two facts through `file_key` and `is_duration`, so the model is the single
description of the file format.
"""

from __future__ import annotations

from typing import Any, Final

import attrs

__all__ = ["DURATION", "KEY", "camel", "duration", "file_key", "is_duration", "key"]

KEY: Final = "routekit.key"
DURATION: Final = "routekit.duration"


def camel(name: str) -> str:
    """``pass_host_header`` → ``passHostHeader``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def file_key(field: attrs.Attribute[Any]) -> str:
    """The key under which ``field`` appears in files, labels and KV stores."""
    key = field.metadata.get(KEY)
    return key if isinstance(key, str) else camel(field.name)


def is_duration(field: attrs.Attribute[Any]) -> bool:
    """Whether ``field`` holds a duration in seconds (written as ``"10s"`` in files)."""
    return bool(field.metadata.get(DURATION))


def duration(default: float | None, *, key: str | None = None) -> Any:
    """A duration field in seconds."""
    meta: dict[str, object] = {DURATION: True}
    if key:
        meta[KEY] = key
    return attrs.field(default=default, metadata=meta)


def key(name: str, default: Any = attrs.NOTHING) -> Any:
    """A field whose file key is not the camelCase of its name (``forceSTSHeader``)."""
    return attrs.field(default=default, metadata={KEY: name})
