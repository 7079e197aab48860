"""Request survives pickling/copying, and bad input only ever raises RoutekitError."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routekit import Request
from routekit.errors import RoutekitError

_REQ = Request(
    "POST",
    "Example.com:8080",
    "/a%20b",
    query="x=1",
    headers={"cookie": "a=b"},
    client_ip="1.2.3.4",
)


@pytest.mark.parametrize(
    "clone", [lambda r: pickle.loads(pickle.dumps(r)), copy.copy, copy.deepcopy]
)
def test_request_round_trips(clone: object) -> None:
    _ = _REQ.query, _REQ.cookies  # filled caches must not break the copy
    other = clone(_REQ)  # type: ignore[operator]
    assert other == _REQ and other.path == "/a b" and other.cookies == {"a": "b"}
    with pytest.raises(AttributeError):
        other.path = "/x"


def test_bad_inputs_raise_routekit_errors() -> None:
    with pytest.raises(RoutekitError, match="absolute URL"):
        Request.from_url("")
    with pytest.raises(RoutekitError, match="method"):
        Request.from_h11(SimpleNamespace(method=b"G\xffT", target=b"/", headers=[]))
    with pytest.raises(RoutekitError, match="surrogate"):
        Request.from_asgi({"type": "http", "path": "/\ud800"})
    assert Request.from_asgi({"type": "http", "path": "/\udcda"}).raw_path == "/%DA"


_text = st.text(st.characters(codec=None, exclude_categories=()))


@given(_text, _text, _text, _text, _text)
def test_arbitrary_text_only_raises_routekit_errors(
    url: str, method: str, host: str, path: str, header: str
) -> None:
    builders: tuple[Callable[[], Request], ...] = (
        lambda: Request.from_url(url, method=method),
        lambda: Request(method, host, path, headers=[(header, header)]),
        lambda: Request.from_asgi({"type": "http", "method": method, "path": path}),
    )
    for build in builders:
        try:
            req = build()
        except RoutekitError:
            continue
        _ = req.path, req.query, req.cookies, hash(req), repr(req)


@given(st.binary(), st.binary(), st.lists(st.tuples(st.binary(), st.binary()), max_size=3))
def test_arbitrary_bytes_only_raise_routekit_errors(
    method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    event = SimpleNamespace(method=method, target=target, headers=headers)
    try:
        req = Request.from_h11(event)
    except RoutekitError:
        return
    _ = req.path, req.query, req.cookies, hash(req), repr(req)
