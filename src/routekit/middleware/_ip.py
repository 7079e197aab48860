"""Who the client is: Traefik's IP strategies and source criteria, and the ipAllowList layer.

As ``master:pkg/ip/strategy.go``: with ``depth`` the client is the address that many places
from the right of ``X-Forwarded-For`` (none when the list is shorter); with ``excludedIPs`` it is
the rightmost address not excluded; otherwise the peer's address.  ``ipv6Subnet`` masks an IPv6
client to its network address.  The ``X-Forwarded-For`` read is the one the entry point kept
(its ``forwardedHeaders.trustedIPs`` decide whether a client's own list survives).
"""

from __future__ import annotations

import http
import ipaddress
from collections.abc import Callable, Sequence
from typing import Final, final

import attrs

from ..config import IPAllowList, IPStrategy, SourceCriterion, criterion_problem
from ..errors import ConfigError
from ..http import Response
from ._call import Call, Layer, Step, get_header, plain

__all__ = ["IPChecker", "client_ip", "source_of"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_XFF: Final = b"x-forwarded-for"


@final
class IPChecker:
    """Whether an address is in a set of CIDRs and IPs (Traefik's ``ip.Checker``)."""

    __slots__ = ("_networks",)

    def __init__(self, ranges: Sequence[str]) -> None:
        networks: list[_Network] = []
        for item in ranges:
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise ConfigError(f"not an IP or CIDR: {item!r}") from None
        self._networks = tuple(networks)

    def contains(self, address: str) -> bool:
        """Whether *address* (an IP, maybe with a zone or brackets) is in the set."""
        try:
            ip = ipaddress.ip_address(address.strip("[]").partition("%")[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self._networks)


def _subnet(address: str, bits: int | None) -> str:
    if bits is None:
        return address
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if not isinstance(ip, ipaddress.IPv6Address) or not 0 <= bits <= 128:
        return address
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False).network_address)


def client_ip(
    strategy: IPStrategy | None,
    peer: str | None,
    forwarded_for: bytes | None,
    *,
    excluded: IPChecker | None = None,
) -> str:
    """The client's address by *strategy* (``""``: none can be told).

    Args:
        strategy: the ipStrategy options (``None``: the peer's address).
        peer: the peer's address.
        forwarded_for: the request's ``X-Forwarded-For`` value.
        excluded: the checker of ``strategy.excluded_ips`` (built once by the caller).
    """
    if strategy is not None and strategy.depth > 0:
        hops = (forwarded_for or b"").decode("latin-1").split(",")
        if len(hops) < strategy.depth:
            return ""
        return _subnet(hops[len(hops) - strategy.depth].strip(), strategy.ipv6_subnet)
    if strategy is not None and strategy.excluded_ips:
        checker = excluded if excluded is not None else IPChecker(strategy.excluded_ips)
        for raw in reversed((forwarded_for or b"").decode("latin-1").split(",")):
            hop = raw.strip()
            if hop and not checker.contains(hop):
                return hop
        return ""
    return _subnet(peer or "", strategy.ipv6_subnet if strategy is not None else None)


#: Gives the source a request is counted under (rate limits, in-flight limits).
SourceOf = Callable[[Call], str]


def ip_of(strategy: IPStrategy | None) -> SourceOf:
    """The client address of a call by *strategy*, with its checker built once."""
    if strategy is None or (strategy.depth <= 0 and not strategy.excluded_ips):
        # The peer's address: X-Forwarded-For is not read at all.
        bits = strategy.ipv6_subnet if strategy is not None else None
        if bits is None:
            return lambda call: call.client_ip or ""
        return lambda call: _subnet(call.client_ip or "", bits)
    excluded = IPChecker(strategy.excluded_ips) if strategy.excluded_ips else None

    def source(call: Call) -> str:
        xff = get_header(call.headers, _XFF)
        return client_ip(strategy, call.client_ip, xff, excluded=excluded)

    return source


def source_of(criterion: SourceCriterion | None, *, default: str = "ip") -> SourceOf:
    """What groups requests by *criterion* (Traefik's ``GetSourceExtractor``).

    With no criterion the default applies: the client IP (rateLimit) or the host
    (inFlightReq, ``default="host"``).  Two criteria at once are a `ConfigError`.
    """
    problem = criterion_problem(criterion)
    if problem is not None:
        raise ConfigError(f"sourceCriterion: {problem}")
    if criterion is None or not (
        criterion.ip_strategy or criterion.request_header_name or criterion.request_host
    ):
        if default == "host":
            return lambda call: call.host
        return ip_of(None)
    if criterion.ip_strategy is not None:
        return ip_of(criterion.ip_strategy)
    if criterion.request_header_name:
        name = criterion.request_header_name.lower().encode("latin-1")
        return lambda call: (get_header(call.headers, name) or b"").decode("latin-1")
    return lambda call: call.host


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


@final
@attrs.frozen
class _AllowList:
    checker: IPChecker
    source: SourceOf
    reject: int


def build_ip_allow_list(model: IPAllowList) -> Layer:
    """The ipAllowList layer: a client outside ``sourceRange`` gets ``rejectStatusCode``."""
    if not model.source_range:
        raise ConfigError("ipAllowList: sourceRange is empty (it would reject every client)")
    allow = _AllowList(
        IPChecker(model.source_range), ip_of(model.ip_strategy), model.reject_status_code
    )
    reason = _reason(allow.reject)

    def before(call: Call) -> Response | None:
        address = allow.source(call)
        if not address or not allow.checker.contains(address):
            return plain(allow.reject, reason)
        return None

    return Step(before)
