"""Random, PowerOfTwoChoices, LeastRequests, ConsistentHash, Failover and Mirror."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routekit import ConfigError, NoServerAvailable, Request
from routekit.balance import (
    ConsistentHash,
    CookieKey,
    Failover,
    HeaderKey,
    LeastRequests,
    Mirror,
    PowerOfTwoChoices,
    Random,
    Server,
    WeightedRoundRobin,
)

KEYS = [f"10.{i // 256}.{i % 256}.7" for i in range(2000)]


def test_random_is_seedable_and_follows_weights() -> None:
    def draws(seed: int) -> list[str]:
        lb = Random([("a", 3), ("b", 1), ("c", 0)], rng=random.Random(seed))
        return [lb.pick().url for _ in range(4000)]

    assert draws(7) == draws(7)
    counts = Counter(draws(7))
    assert "c" not in counts
    assert 2800 < counts["a"] < 3200
    assert repr(Random(["a"], name="r")) == "<Random 'r' [a=1 | next: random]>"


def test_power_of_two_choices_prefers_the_less_loaded() -> None:
    lb = PowerOfTwoChoices(["a", "b"], rng=random.Random(1))
    held = [lb.acquire() for _ in range(10)]
    counts = Counter(lease.server.url for lease in held)
    assert counts == {"a": 5, "b": 5}  # two children: always the emptier one
    lb.mark_down("b")
    assert lb.acquire().server.url == "a"


def test_power_of_two_choices_with_a_dominant_weight_still_compares_two() -> None:
    lb = PowerOfTwoChoices([("a", 1e6), ("b", 1)], rng=random.Random(3))
    held = [lb.acquire() for _ in range(3)]
    assert "b" in {lease.server.url for lease in held}


def test_least_requests_balances_in_flight_and_breaks_ties_in_turn() -> None:
    lb = LeastRequests(["a", "b", "c"], name="lr")
    assert [lb.pick().url for _ in range(4)] == ["a", "b", "c", "a"]
    held = [lb.acquire() for _ in range(6)]
    assert Counter(lease.server.url for lease in held) == {"a": 2, "b": 2, "c": 2}
    for lease in held:
        if lease.server.url == "b":
            lease.release()
    assert lb.acquire().server.url == "b"
    assert repr(lb).endswith("| next: b]>")


def test_weighted_least_requests() -> None:
    lb = LeastRequests([("big", 3), ("small", 1)])
    held = [lb.acquire() for _ in range(8)]
    assert Counter(lease.server.url for lease in held) == {"big": 6, "small": 2}


@pytest.mark.parametrize("algorithm", ["ring", "rendezvous"])
def test_consistent_hash_keys_from_the_request(algorithm: str) -> None:
    servers = [f"http://s{i}" for i in range(5)]
    by_ip = ConsistentHash(servers, algorithm=algorithm)  # type: ignore[arg-type]
    req = Request(client_ip="192.0.2.1")
    assert len({by_ip.pick(req) for _ in range(20)}) == 1
    assert by_ip.pick(req) == by_ip.child_for("192.0.2.1")
    by_header = ConsistentHash(servers, key=HeaderKey("X-User"), algorithm=algorithm)  # type: ignore[arg-type]
    assert by_header.pick(Request(headers={"x-user": "ann"})) == by_header.child_for("ann")
    by_cookie = ConsistentHash(servers, key=CookieKey("sid"), algorithm=algorithm)  # type: ignore[arg-type]
    assert by_cookie.pick(Request(headers={"cookie": "sid=42"})) == by_cookie.child_for("42")
    seeded = ConsistentHash(servers, algorithm=algorithm, rng=random.Random(0))  # type: ignore[arg-type]
    assert {seeded.pick().url for _ in range(200)} == set(servers)  # no key: spread by weight


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(min_value=3, max_value=16),
    data=st.data(),
    algorithm=st.sampled_from(["ring", "rendezvous"]),
)
def test_consistent_hash_moves_only_the_keys_of_a_leaving_child(
    n: int, data: st.DataObject, algorithm: str
) -> None:
    servers = [f"http://10.1.0.{i}:80" for i in range(n)]
    leaving = servers[data.draw(st.integers(0, n - 1))]
    lb = ConsistentHash(servers, algorithm=algorithm)  # type: ignore[arg-type]
    before = {k: lb.child_for(k) for k in KEYS}
    lb.remove(leaving)
    after = {k: lb.child_for(k) for k in KEYS}
    moved = [k for k in KEYS if before[k] != after[k]]
    assert all(before[k] == Server(leaving) for k in moved)  # survivors keep all their keys
    assert len(moved) / len(KEYS) < 2.2 / n  # about 1/n of the keys move
    lb.add(leaving)
    assert {k: lb.child_for(k) for k in KEYS} == before  # and come back when it returns


@pytest.mark.parametrize("algorithm", ["ring", "rendezvous"])
def test_consistent_hash_skips_down_children_and_honours_weights(algorithm: str) -> None:
    lb = ConsistentHash([("http://a", 3), ("http://b", 1)], algorithm=algorithm)  # type: ignore[arg-type]
    share = Counter(lb.child_for(k).url for k in KEYS)  # type: ignore[union-attr]
    assert 0.65 < share["http://a"] / len(KEYS) < 0.85
    lb.mark_down("http://a")
    assert {lb.child_for(k) for k in KEYS[:50]} == {Server("http://b")}
    lb.mark_down("http://b")
    with pytest.raises(NoServerAvailable):
        lb.child_for("x")


def test_consistent_hash_rejects_bad_settings() -> None:
    with pytest.raises(ConfigError, match="algorithm"):
        ConsistentHash(["a"], algorithm="modulo")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="vnodes"):
        ConsistentHash(["a"], vnodes=0)


def test_failover_uses_the_fallback_only_while_main_is_down() -> None:
    main = WeightedRoundRobin(["http://m1", "http://m2"], name="main")
    backup = WeightedRoundRobin(["http://f1"], name="backup")
    lb = Failover(main, backup, name="fo")
    assert {lb.pick().url for _ in range(4)} == {"http://m1", "http://m2"}
    main.mark_down("http://m1")
    main.mark_down("http://m2")
    assert lb.pick().url == "http://f1"
    assert repr(lb) == "<Failover 'fo' [main down, backup | next: backup]>"
    backup.mark_down("http://f1")
    assert not lb.up
    with pytest.raises(NoServerAvailable, match="'fo' has 2 children"):
        lb.pick()
    main.mark_up("http://m2")
    assert lb.pick().url == "http://m2"


def test_failover_rebuild() -> None:
    old = Failover("http://a", "http://b")
    old.mark_down("http://a")
    new = Failover.rebuild(old, ["http://a", "http://b", "http://c"])
    assert new.pick().url == "http://b"
    assert len(new) == 3
    with pytest.raises(ConfigError, match="main and a fallback"):
        Failover.rebuild(new, ["http://a"])


def test_mirror_copies_an_exact_percentage() -> None:
    main = WeightedRoundRobin(["http://main"], name="main")
    shadow = WeightedRoundRobin(["http://shadow"], name="shadow")
    lb = Mirror(main, [(shadow, 10), ("http://audit", 50)], name="m")
    leases = [lb.acquire() for _ in range(100)]
    assert {lease.server.url for lease in leases} == {"http://main"}
    copies = Counter(mirror.server.url for lease in leases for mirror in lease.mirrors)
    assert copies == {"http://shadow": 10, "http://audit": 50}
    assert shadow.statistics().child("http://shadow").inflight == 10
    assert lb.statistics().child("shadow").picks == 10
    assert repr(lb) == "<Mirror 'm' [main: main | mirrors: shadow=10%, http://audit=50%]>"
    assert lb.pick().url == "http://main"


def test_mirror_health_is_the_main_services_and_dead_mirrors_are_skipped() -> None:
    main = WeightedRoundRobin(["http://main"], name="main")
    shadow = WeightedRoundRobin(["http://shadow"], name="shadow")
    lb = Mirror(main, [(shadow, 100)])
    parent = WeightedRoundRobin([lb, "http://other"])
    shadow.mark_down("http://shadow")
    assert lb.acquire().mirrors == ()
    main.mark_down("http://main")
    assert not lb.up
    assert repr(lb) == f"<Mirror {lb.name!r} [main: main down | mirrors: shadow=100% down]>"
    assert {parent.pick().url for _ in range(3)} == {"http://other"}
    with pytest.raises(ConfigError, match="between 0 and 100"):
        Mirror(main, [(shadow, 101)])


@pytest.mark.parametrize("algorithm", ["ring", "rendezvous"])
def test_consistent_hash_follows_changes_made_between_keyless_picks(algorithm: str) -> None:
    lb = ConsistentHash(
        ["http://a", "http://b", "http://c"],
        algorithm=algorithm,  # type: ignore[arg-type]
        rng=random.Random(0),
    )
    owner = lb.child_for("k")
    lb.mark_down(owner)
    lb.pick()  # a keyless pick samples the new active set first…
    moved = lb.child_for("k")  # …and the keyed lookup still sees the change
    assert moved != owner
    lb.mark_up(owner)
    lb.pick()
    assert lb.child_for("k") == owner
