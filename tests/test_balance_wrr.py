"""WeightedRoundRobin and RoundRobin: order, proportions, smoothness, changes at run time."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from routekit import ConfigError, NoServerAvailable
from routekit.balance import RoundRobin, Server, WeightedRoundRobin

weights = st.lists(st.integers(min_value=0, max_value=8), min_size=1, max_size=8).filter(
    lambda ws: sum(ws) > 0
)


def names(n: int) -> list[str]:
    return [f"http://s{i}" for i in range(n)]


def run(lb: WeightedRoundRobin | RoundRobin, n: int) -> list[str]:
    return [lb.pick().url.removeprefix("http://") for _ in range(n)]


def test_three_to_one_and_repr() -> None:
    lb = WeightedRoundRobin([("http://s0", 3), ("http://s1", 1)], name="api")
    assert run(lb, 8) == ["s0", "s0", "s0", "s1"] * 2
    assert repr(lb) == "<WeightedRoundRobin 'api' [http://s0=3, http://s1=1 | next: http://s0]>"


def test_five_one_one_spreads_the_light_children() -> None:
    lb = WeightedRoundRobin([("a", 5), ("b", 1), ("c", 1)])
    order = "".join(lb.pick().url for _ in range(7))
    assert sorted(order) == sorted("aaaaabc")
    assert "aaaaa" not in order + order  # never a run of five, even across windows
    assert order == "aaabaac"


def test_equal_weights_are_round_robin_in_insertion_order() -> None:
    lb = WeightedRoundRobin(names(4))
    assert run(lb, 8) == ["s0", "s1", "s2", "s3"] * 2


@settings(max_examples=300, deadline=None)
@given(weights, st.integers(min_value=1, max_value=3), st.integers(min_value=0, max_value=40))
def test_exact_proportions_over_any_full_window(ws: list[int], k: int, offset: int) -> None:
    lb = WeightedRoundRobin(list(zip(names(len(ws)), ws, strict=True)))
    total = sum(ws)
    run(lb, offset)  # the window may start anywhere
    window = run(lb, k * total)
    for i, w in enumerate(ws):
        assert window.count(f"s{i}") == k * w


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=8))
def test_smooth_every_prefix_within_one_of_its_share(ws: list[int]) -> None:
    lb = WeightedRoundRobin(list(zip(names(len(ws)), [w / 4 for w in ws], strict=True)))
    total = sum(w / 4 for w in ws)
    counts = [0] * len(ws)
    for n in range(1, 2 * sum(ws) + 1):
        counts[int(lb.pick().url.removeprefix("http://s"))] += 1
        for i, w in enumerate(ws):
            assert abs(counts[i] - n * (w / 4) / total) <= 1


@settings(max_examples=200, deadline=None)
@given(weights, st.sampled_from([2, 3, 4, 5, 10, 100]), st.integers(min_value=0, max_value=40))
@example([1, 1, 8], 3, 5)  # 1/3 : 1/3 : 8/3 in plain floats breaks a tie the wrong way
def test_decimal_weights_are_exact_like_integers(ws: list[int], den: int, offset: int) -> None:
    floats = WeightedRoundRobin(list(zip(names(len(ws)), [w / den for w in ws], strict=True)))
    ints = WeightedRoundRobin(list(zip(names(len(ws)), ws, strict=True)))
    assert run(floats, offset) == run(ints, offset)  # 1.4 : 0.2 picks exactly as 7 : 1
    window = run(floats, sum(ws))  # den · Σweights picks: each child gets den · weight
    for i, w in enumerate(ws):
        assert window.count(f"s{i}") == w


def test_a_fractional_newcomer_causes_no_burst() -> None:
    lb = WeightedRoundRobin([("a", 1), ("b", 1)])
    run(lb, 101)
    lb.add("c", 0.5)  # the balancer switches to halves inside; a and b keep their turns
    after = "".join(lb.pick().url for _ in range(25))
    assert (after.count("a"), after.count("b"), after.count("c")) == (10, 10, 5)
    assert after.replace("c", "") == "ba" * 10 and "cc" not in after
    lb.remove("c")  # and back to whole numbers
    assert "".join(lb.pick().url for _ in range(4)) in ("abab", "baba")


def test_other_floats_stay_smooth() -> None:
    ws = [math.pi, math.e, 0.1 + 1e-9]
    lb = WeightedRoundRobin(list(zip(names(3), ws, strict=True)))
    counts = [0, 0, 0]
    for n in range(1, 500):
        counts[int(lb.pick().url.removeprefix("http://s"))] += 1
        assert all(abs(c - n * w / sum(ws)) <= 1 for c, w in zip(counts, ws, strict=True))


@settings(max_examples=200, deadline=None)
@given(weights, st.data())
def test_weight_zero_and_down_children_are_never_picked(ws: list[int], data: st.DataObject) -> None:
    lb = WeightedRoundRobin(list(zip(names(len(ws)), ws, strict=True)))
    down = data.draw(st.sets(st.integers(0, len(ws) - 1)))
    for i in down:
        lb.mark_down(f"http://s{i}")
    allowed = {f"s{i}" for i, w in enumerate(ws) if w and i not in down}
    if not allowed:
        with pytest.raises(NoServerAvailable):
            lb.pick()
        return
    picked = run(lb, 2 * sum(ws))
    assert set(picked) == allowed
    # The others keep their exact proportions.
    live_total = sum(ws[int(s[1:])] for s in allowed)
    for s in allowed:
        assert picked[:live_total].count(s) == ws[int(s[1:])]


def test_down_child_is_skipped_without_disturbing_the_others() -> None:
    lb = WeightedRoundRobin([("a", 3), ("b", 2), ("c", 1)])
    lb.mark_down("b")
    without_b = WeightedRoundRobin([("a", 3), ("c", 1)])
    assert [lb.pick() for _ in range(8)] == [without_b.pick() for _ in range(8)]
    lb.mark_up("b")
    after = "".join(lb.pick().url for _ in range(12))
    assert (after.count("a"), after.count("b"), after.count("c")) == (6, 4, 2)


def test_adding_a_child_causes_no_burst_and_keeps_the_others_order() -> None:
    lb = WeightedRoundRobin([("a", 1), ("b", 1)])
    run(lb, 101)
    lb.add("c")
    after = "".join(lb.pick().url for _ in range(30))
    assert "cc" not in after
    assert (after.count("a"), after.count("b"), after.count("c")) == (10, 10, 10)
    assert after.replace("c", "") == "ba" * 10  # a and b keep alternating from where they were


def test_reweighting_restarts_only_that_child() -> None:
    lb = WeightedRoundRobin([("a", 1), ("b", 1), ("c", 1)])
    run(lb, 4)
    lb.set_weight("c", 3)
    after = "".join(lb.pick().url for _ in range(50))
    assert "cccc" not in after
    assert abs(after.count("c") - 30) <= 1
    lb.set_weight("c", 0)
    assert "c" not in "".join(lb.pick().url for _ in range(10))


def test_all_weights_zero_or_no_children_raise_with_a_clear_message() -> None:
    with pytest.raises(NoServerAvailable, match=r"has 2 children \(2 weight 0\)"):
        WeightedRoundRobin([("a", 0), ("b", 0)], name="x").pick()
    with pytest.raises(NoServerAvailable, match="no children") as info:
        WeightedRoundRobin().pick()
    assert info.value.status_hint == 503


@pytest.mark.parametrize("weight", [-1, float("nan"), float("inf"), "3", True])
def test_bad_weights_are_rejected(weight: object) -> None:
    with pytest.raises(ConfigError, match="weight"):
        WeightedRoundRobin([("http://a", weight)])  # type: ignore[list-item]


def test_bad_children_are_rejected() -> None:
    with pytest.raises(ConfigError, match="duplicate child 'http://a'"):
        WeightedRoundRobin(["http://a", Server("http://a")])
    with pytest.raises(ConfigError, match="non-empty string"):
        WeightedRoundRobin([""])
    with pytest.raises(ConfigError, match="must be a Server"):
        WeightedRoundRobin([42])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="no child 'http://zz'"):
        WeightedRoundRobin(["http://a"]).mark_down("http://zz")
    lb = WeightedRoundRobin(name="loop")
    with pytest.raises(ConfigError, match="cycle"):
        lb.add(lb)
    parent = WeightedRoundRobin([lb])
    with pytest.raises(ConfigError, match="cycle"):
        lb.add(parent)


@settings(max_examples=200, deadline=None)
@given(weights, st.integers(min_value=0, max_value=60))
def test_rebuild_with_the_same_servers_continues_the_sequence(ws: list[int], done: int) -> None:
    children = list(zip(names(len(ws)), ws, strict=True))
    old, twin = WeightedRoundRobin(children), WeightedRoundRobin(children)
    run(old, done)
    run(twin, done)
    new = WeightedRoundRobin.rebuild(old, children)
    assert run(new, 3 * sum(ws)) == run(twin, 3 * sum(ws))


@settings(max_examples=150, deadline=None)
@given(weights, st.integers(min_value=0, max_value=60), st.data())
def test_rebuild_with_another_server_list_is_the_same_as_changing_in_place(
    ws: list[int], done: int, data: st.DataObject
) -> None:
    # A reload that drops some servers and adds others continues exactly as if the running
    # balancer had been edited: those that stayed keep their positions and their health.
    children = list(zip(names(len(ws)), ws, strict=True))
    old, twin = WeightedRoundRobin(children), WeightedRoundRobin(children)
    down = data.draw(st.sets(st.sampled_from(names(len(ws)))), label="down")
    for url in down:
        old.mark_down(url)
        twin.mark_down(url)
    if any(url not in down and w for url, w in children):
        assert run(old, done) == run(twin, done)
    kept = data.draw(st.lists(st.sampled_from(children), unique=True), label="kept")
    kept.sort(key=children.index)  # a reload lists the servers in their configured order
    added = [(f"http://new{i}", w) for i, w in enumerate(data.draw(weights, label="added"))]
    for url, w in children:
        if (url, w) not in kept:
            twin.remove(url)
    for url, w in added:
        twin.add(url, w)
    new = WeightedRoundRobin.rebuild(old, kept + added)
    assert all(not new.is_up(url) for url, _ in kept if url in down)
    total = sum(w for _, w in kept + added)  # > 0: the newcomers have weight and are up
    assert run(new, 2 * total) == run(twin, 2 * total)


def test_rebuild_keeps_health_and_adds_newcomers_without_burst() -> None:
    old = WeightedRoundRobin(["a", "b", "c"], name="svc")
    run(old, 2)
    old.mark_down("b")
    new = WeightedRoundRobin.rebuild(old, ["a", "b", "d"])
    assert new.name == "svc"
    assert not new.is_up("b")
    picks = "".join(new.pick().url for _ in range(10))
    assert set(picks) == {"a", "d"} and "dd" not in picks


def test_round_robin_skips_down_children_and_keeps_turns() -> None:
    lb = RoundRobin(["a", "b", "c"], name="rr")
    assert "".join(lb.pick().url for _ in range(4)) == "abca"
    lb.mark_down("b")
    assert "".join(lb.pick().url for _ in range(4)) == "caca"
    lb.mark_up("b")
    lb.remove("a")
    assert "".join(lb.pick().url for _ in range(4)) == "cbcb"  # c's turn survived both changes
    assert repr(lb) == "<RoundRobin 'rr' [b, c | next: c]>"
    with pytest.raises(ConfigError, match="weights 0 or 1 only"):
        lb.add("d", 2)


def test_round_robin_rebuild_keeps_the_turn() -> None:
    old = RoundRobin(["a", "b", "c"])
    run(old, 2)
    new = RoundRobin.rebuild(old, ["a", "b", "c", "d"])
    assert "".join(new.pick().url for _ in range(4)) == "cdab"


def test_repr_of_a_large_balancer_counts_states() -> None:
    lb = WeightedRoundRobin(names(10), name="big")
    lb.mark_down("http://s0")
    lb.drain("http://s1")  # nothing in flight: removed
    assert repr(lb) == "<WeightedRoundRobin 'big' [8 up, 1 down | next: http://s2]>"
    assert len(lb) == 9 and "http://s1" not in lb


def test_round_robin_newcomers_join_in_insertion_order_without_taking_a_turn() -> None:
    lb = RoundRobin(["a", "b"])
    assert run(lb, 2) == ["a", "b"]
    lb.add("c")  # the turn had gone past the end: it starts again from the first child
    assert run(lb, 4) == ["a", "b", "c", "a"]
    lb.add("d")
    lb.mark_down("a")
    lb.mark_up("a")  # back in its place, before the others in insertion order
    assert run(lb, 5) == ["b", "c", "d", "a", "b"]
