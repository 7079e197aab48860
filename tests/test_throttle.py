"""The per-provider throttle: first change at once, then at most one per period, latest wins."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routekit.runtime._throttle import Throttle


def test_leading_edge_then_latest_wins() -> None:
    t: Throttle[str] = Throttle(2.0)
    assert t.offer("a", now=10.0) == "a"  # the first change applies at once
    assert t.deadline is None
    assert t.offer("b", now=10.5) is None
    assert t.offer("c", now=11.0) is None  # replaces "b": only the latest state matters
    assert t.deadline == 12.0
    assert t.due(now=11.9) is None
    assert t.due(now=12.0) == "c"
    assert t.due(now=12.1) is None and t.deadline is None
    # Released at 12.0, so the next pause lasts until 14.0.
    assert t.offer("d", now=13.0) is None
    assert t.due(now=14.0) == "d"
    assert t.offer("e", now=20.0) == "e"


def test_zero_duration_releases_everything() -> None:
    t: Throttle[int] = Throttle(0)
    assert [t.offer(i, now=1.0) for i in range(3)] == [0, 1, 2]


@pytest.mark.parametrize("bad", [-1.0, float("nan")])
def test_bad_duration(bad: float) -> None:
    with pytest.raises(ValueError, match="throttle duration"):
        Throttle(bad)


def test_repr_shows_state() -> None:
    t: Throttle[str] = Throttle(2.0)
    assert repr(t) == "<Throttle 2.0s idle>"
    t.offer("a", 0.0)
    t.offer("b", 1.0)
    assert repr(t) == "<Throttle 2.0s pending until 2.000>"


@given(
    st.floats(0.1, 5.0),
    st.lists(st.floats(0.0, 0.9), min_size=1, max_size=40),
)
def test_releases_are_spaced_and_the_last_offer_is_always_delivered(
    duration: float, gaps: list[float]
) -> None:
    t: Throttle[int] = Throttle(duration)
    now = 0.0
    released: list[tuple[float, int]] = []
    for i, gap in enumerate(gaps):
        now += gap
        due = t.due(now)
        if due is not None:
            released.append((now, due))
        got = t.offer(i, now)
        if got is not None:
            released.append((now, got))
    deadline = t.deadline
    if deadline is not None:
        last = t.due(deadline)
        assert last is not None
        released.append((deadline, last))
    times = [when for when, _ in released]
    assert all(b - a >= duration - 1e-9 for a, b in itertools.pairwise(times))
    assert released[-1][1] == len(gaps) - 1  # nothing newer is ever lost
    values = [v for _, v in released]
    assert values == sorted(values)  # never an older state after a newer one
