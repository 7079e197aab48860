"""routekit: Traefik-style routing as a Python library."""

from __future__ import annotations

from .errors import (
    ConfigError as ConfigError,
)
from .errors import (
    NoServerAvailable as NoServerAvailable,
)
from .errors import (
    Problem as Problem,
)
from .errors import (
    ProviderError as ProviderError,
)
from .errors import (
    RoutekitError as RoutekitError,
)
from .errors import (
    RuleSyntaxError as RuleSyntaxError,
)
from .request import Headers as Headers
from .request import Request as Request

__version__ = "0.1.0"
