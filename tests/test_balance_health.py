"""Health (marks, passive checks, propagation), leases, draining and reload carry-over."""

from __future__ import annotations

import pytest

from routekit import ConfigError, NoServerAvailable
from routekit.balance import (
    Failover,
    LeastRequests,
    Mirror,
    PassiveHealth,
    RoundRobin,
    Sticky,
    WeightedRoundRobin,
)
from routekit.testing import FakeClock


def test_fake_clock() -> None:
    clock = FakeClock(5.0)
    assert clock() == 5.0
    assert clock.advance(2.5) == 7.5 and clock.now == 7.5
    assert repr(clock) == "<FakeClock now=7.5>"
    with pytest.raises(ValueError, match="finite number >= 0"):
        clock.advance(-1)


def test_all_down_raises_and_mark_up_restores() -> None:
    lb = WeightedRoundRobin(["http://a", "http://b"], name="svc")
    lb.mark_down("http://a")
    lb.mark_down("http://b")
    assert not lb.up
    with pytest.raises(NoServerAvailable, match=r"'svc' has 2 children \(2 down\)"):
        lb.pick()
    lb.mark_up("http://b")
    assert lb.pick().url == "http://b"


def test_status_propagates_to_parents_only_on_flips() -> None:
    inner = WeightedRoundRobin(["a1", "a2"], name="a")
    other = WeightedRoundRobin(["b1"], name="b")
    top = WeightedRoundRobin([(inner, 9), (other, 1)], name="top")
    heard: list[bool] = []
    top.add_status_listener(heard.append)
    inner_heard: list[bool] = []
    inner.add_status_listener(inner_heard.append)
    inner.mark_down("a1")
    assert inner_heard == []  # still one member up: no flip
    inner.mark_down("a2")
    assert inner_heard == [False]
    assert top.statistics().child("a").state == "down"
    assert {top.pick().url for _ in range(5)} == {"b1"}
    other.mark_down("b1")
    assert heard == [False]
    with pytest.raises(NoServerAvailable):
        top.pick()
    inner.mark_up("a2")
    assert heard == [False, True]
    assert top.pick().url == "a2"


def test_passive_health_takes_a_server_out_for_a_cooldown() -> None:
    clock = FakeClock()
    lb = WeightedRoundRobin(
        ["a", "b"], clock=clock, passive=PassiveHealth(max_failures=2, window=10, cooldown=30)
    )
    lb.report("a", ok=False)
    clock.advance(11)  # the first failure falls out of the window
    lb.report("a", ok=False)
    assert lb.is_up("a")
    lb.report("a", ok=False)
    assert not lb.is_up("a")
    assert lb.statistics().child("a").state == "cooling"
    assert {lb.pick().url for _ in range(4)} == {"b"}
    clock.advance(29.9)
    assert not lb.is_up("a")
    clock.advance(0.1)
    assert "a" in {lb.pick().url for _ in range(4)}


def test_passive_success_clears_failures_unless_windowed() -> None:
    clock = FakeClock()
    consecutive = WeightedRoundRobin(["a"], clock=clock, passive=PassiveHealth(max_failures=2))
    windowed = WeightedRoundRobin(
        ["a"], clock=clock, passive=PassiveHealth(max_failures=2, consecutive=False)
    )
    for lb in (consecutive, windowed):
        lb.report("a", ok=False)
        lb.report("a", ok=True)
        lb.report("a", ok=False)
    assert consecutive.up
    assert not windowed.up


def test_cooldown_below_a_parent_ends_by_itself() -> None:
    clock = FakeClock()
    inner = WeightedRoundRobin(["a1"], name="a", clock=clock, passive=PassiveHealth(window=5))
    top = Failover(inner, "http://backup", clock=clock)
    lease = top.acquire()
    assert lease.server.url == "a1"
    lease.release(ok=False)
    assert top.pick().url == "http://backup"
    clock.advance(5)
    assert top.pick().url == "a1"


def test_cooldown_deep_in_a_tree_revives_every_level_above() -> None:
    # root -> Sticky -> mid -> Mirror -> leaf: the root learns on its own when the leaf is back.
    clock = FakeClock()
    leaf = WeightedRoundRobin(["http://a"], name="leaf", clock=clock, passive=PassiveHealth())
    mid = WeightedRoundRobin([Mirror(leaf, name="copy")], name="mid", clock=clock)
    root = WeightedRoundRobin([Sticky(mid)], name="root", clock=clock)
    root.acquire().release(ok=False)
    assert not root.up
    assert repr(root) == "<WeightedRoundRobin 'root' [mid=1 down | next: none]>"
    clock.advance(10)
    assert root.up  # without anyone touching the leaf first
    assert root.pick().url == "http://a"


def test_leases_count_in_flight_at_every_level() -> None:
    inner = LeastRequests(["a1", "a2"], name="a")
    top = WeightedRoundRobin([inner], name="top")
    first, second = top.acquire(), top.acquire()
    assert {first.server.url, second.server.url} == {"a1", "a2"}
    assert top.statistics().child("a").inflight == 2
    assert inner.statistics().child("a1").inflight == 1
    with top.acquire() as third:
        assert inner.statistics().child(third.server.url).inflight == 2
    first.release()
    first.release()  # idempotent
    assert first.released
    assert top.statistics().child("a").inflight == 1
    assert inner.acquire().server.url == first.server.url  # least requests


def test_lease_release_reports_to_passive_health() -> None:
    lb = RoundRobin(["a", "b"], passive=PassiveHealth(), clock=FakeClock())
    lease = lb.acquire()
    lease.release(ok=False)
    assert not lb.is_up(lease.server)


def test_drain_stops_new_picks_and_removes_after_last_release() -> None:
    lb = WeightedRoundRobin(["a", "b"], name="svc")
    lease = lb.acquire()
    assert lease.server.url == "a"
    lb.drain("a")
    assert lb.statistics().child("a").state == "draining"
    assert repr(lb) == "<WeightedRoundRobin 'svc' [a=1 draining, b=1 | next: b]>"
    assert {lb.pick().url for _ in range(3)} == {"b"}
    lease.release()
    assert "a" not in lb and len(lb) == 1
    lb.drain("b")  # nothing in flight: removed at once
    assert lb.children == ()


def test_rebuild_carries_in_flight_and_leases_release_on_the_new_balancer() -> None:
    clock = FakeClock()
    old = LeastRequests(["a", "b"], name="svc", clock=clock, passive=PassiveHealth())
    lease = old.acquire()
    new = LeastRequests.rebuild(old, ["a", "b", "c"])
    assert new.statistics().child(lease.server.url).inflight == 1
    lease.release(ok=False)
    stats = new.statistics().child(lease.server.url)
    assert (stats.inflight, stats.state) == (0, "cooling")


def test_rebuild_rejects_another_kind() -> None:
    with pytest.raises(ConfigError, match="needs an old WeightedRoundRobin"):
        WeightedRoundRobin.rebuild(RoundRobin(["a"]), ["a"])  # type: ignore[arg-type]


def test_rebuild_moves_listeners_to_the_new_parent() -> None:
    inner = WeightedRoundRobin(["a1"], name="a")
    old = WeightedRoundRobin([inner, "b"], name="top")
    new = WeightedRoundRobin.rebuild(old, [inner, "b"])
    inner.mark_down("a1")
    assert new.statistics().child("a").state == "down"
    assert old.statistics().child("a").state == "up"  # the retired tree no longer listens


def test_bad_passive_settings_are_rejected() -> None:
    with pytest.raises(ConfigError, match="max_failures"):
        PassiveHealth(max_failures=0)
    with pytest.raises(ConfigError, match="window"):
        PassiveHealth(window=0)
