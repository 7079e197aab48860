"""Hypothesis strategies `requests()` and `connections()`, and the pool they share with `rules()`.

Rules and requests draw hosts, path segments, methods, header and query names from the same
small pool, so that generated requests satisfy generated rules often enough for properties
about matching to be meaningful (not only "nothing matches").
"""

from __future__ import annotations

from typing import Final

from hypothesis import strategies as st

from ..request import Request
from ..rules import TCPConnection

__all__ = [
    "ALPN_PROTOCOLS",
    "CLIENT_IPS",
    "HEADER_NAMES",
    "HEADER_VALUES",
    "HOSTS",
    "METHODS",
    "NETWORKS",
    "PATH_SEGMENTS",
    "QUERY_KEYS",
    "QUERY_VALUES",
    "connections",
    "requests",
]

#: Hosts shared by rules and requests (sub-domains of example.com exercise `*.` wildcards).
HOSTS: Final = ("example.com", "api.example.com", "www.example.com", "localhost", "b.io")
#: Path segments; paths are built from one to three of them.
PATH_SEGMENTS: Final = ("api", "v1", "users", "42", "static", "css", "a b")
METHODS: Final = ("GET", "POST", "PUT", "DELETE")
HEADER_NAMES: Final = ("X-Api-Key", "Accept", "X-Env")
HEADER_VALUES: Final = ("1", "json", "prod", "text/html")
QUERY_KEYS: Final = ("q", "page", "debug")
QUERY_VALUES: Final = ("1", "true", "x y")
#: Peer addresses, some with a port as a server would report them.
CLIENT_IPS: Final = ("10.0.0.1", "10.1.2.3:5555", "192.168.1.10", "::1", "[2001:db8::5]:443")
#: ClientIP rule values (IPs and CIDRs) that cover some of `CLIENT_IPS`.
NETWORKS: Final = ("10.0.0.0/8", "192.168.1.10", "::1", "2001:db8::/32", "172.16.0.0/12")
ALPN_PROTOCOLS: Final = ("h2", "http/1.1")


def _path() -> st.SearchStrategy[str]:
    segments = st.lists(st.sampled_from(PATH_SEGMENTS), min_size=0, max_size=3)
    trailing = st.sampled_from(["", "/"])
    return st.builds(
        lambda parts, tail: ("/" + "/".join(parts) + (tail if parts else "")).replace(" ", "%20"),
        segments,
        trailing,
    )


def _host() -> st.SearchStrategy[str]:
    # The variants a client may send: other case, a port, a trailing dot, an unknown host.
    base = st.sampled_from(HOSTS)
    return st.one_of(
        base,
        base.map(str.upper),
        base.map(lambda h: h + ":8080"),
        base.map(lambda h: h + "."),
        base.map(lambda h: "x." + h),
        st.just(""),
    )


def _query() -> st.SearchStrategy[str]:
    pair = st.tuples(st.sampled_from(QUERY_KEYS), st.sampled_from(("", *QUERY_VALUES)))
    return st.lists(pair, max_size=3).map(
        lambda pairs: "&".join(f"{k}={v}".replace(" ", "+") if v else k for k, v in pairs)
    )


def _headers() -> st.SearchStrategy[list[tuple[str, str]]]:
    name = st.sampled_from(HEADER_NAMES).flatmap(
        lambda n: st.sampled_from((n, n.lower(), n.upper()))
    )
    return st.lists(st.tuples(name, st.sampled_from(HEADER_VALUES)), max_size=3)


def requests() -> st.SearchStrategy[Request]:
    """Generate `routekit.Request` values drawn from the pool the `rules()` strategy uses.

    Hosts come with ports, other letter cases and trailing dots; paths are one to three pooled
    segments (percent-encoded where needed); methods include a lower-case ``get``.
    """
    return st.builds(
        Request,
        method=st.sampled_from((*METHODS, "get")),
        host=_host(),
        path=_path(),
        query=_query(),
        headers=_headers(),
        client_ip=st.one_of(st.none(), st.sampled_from((*CLIENT_IPS, "not-an-ip"))),
        scheme=st.sampled_from(("http", "https")),
    )


def connections() -> st.SearchStrategy[TCPConnection]:
    """Generate `routekit.rules.TCPConnection` values drawn from the pool `rules("tcp")` uses.

    Server names come in other cases, under an unknown label, or empty (a connection without
    TLS or SNI); peer addresses may be missing; ALPN offers are any subset of the pool.
    """
    base = st.sampled_from(HOSTS)
    sni = st.one_of(base, base.map(str.upper), base.map(lambda h: "x." + h), st.just(""))
    return st.builds(
        TCPConnection,
        sni=sni,
        client_ip=st.one_of(st.none(), st.sampled_from(CLIENT_IPS)),
        alpn=st.lists(st.sampled_from(ALPN_PROTOCOLS), unique=True, max_size=2).map(tuple),
    )
