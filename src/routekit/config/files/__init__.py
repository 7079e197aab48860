"""File formats: Traefik's TOML, v2/v3 and v1 (``[frontends]``/``[backends]``), with positions.

Used by the other rooms of ``routekit.config`` through these names; the public ones are
re-exported by ``routekit.config``.
"""

from __future__ import annotations

from ._toml import Locator as Locator
from ._toml import dumps_dynamic as dumps_dynamic
from ._toml import loads_dynamic as loads_dynamic
from ._toml import loads_dynamic_data as loads_dynamic_data
from ._toml import parse_toml as parse_toml
from ._toml_v1 import decode_v1 as decode_v1
from ._v1_reader import Bad as Bad
from ._v1_reader import V1Reader as V1Reader
from ._v1_reader import or_default as or_default

__all__ = [
    "Bad",
    "Locator",
    "V1Reader",
    "decode_v1",
    "dumps_dynamic",
    "loads_dynamic",
    "loads_dynamic_data",
    "or_default",
    "parse_toml",
]
