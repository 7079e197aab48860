"""`MarathonProvider` against the Marathon stand-in (tests/_marathon.py): applications and
tasks come, change and go, as the event bus says; Marathon goes away and comes back."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import anyio
import pytest

from _following import following, rules, servers
from _marathon import Marathon, marathon
from _marathon_objects import app, task
from routekit.config import loads_static
from routekit.errors import ConfigError, ProviderError
from routekit.providers import Backoff, MarathonProvider

pytestmark = pytest.mark.anyio
RULE = "Host(`{{ normalize .Name }}.marathon.localhost`)"


@pytest.fixture
def master() -> Iterator[Marathon]:
    with marathon() as started:
        yield started


def fast() -> Backoff:
    return Backoff(initial=0.05, cap=0.3, jitter=0)


def provider(master: Marathon, **options: object) -> MarathonProvider:
    return MarathonProvider(master.endpoint, default_rule=RULE, retry=fast(), **options)  # type: ignore[arg-type]


async def test_initial_state_then_apps_and_tasks_added_changed_and_removed(
    master: Marathon,
) -> None:
    master.put_app(app("/web", [task("web.1", [31000], host="10.0.0.1")]))
    snapshot = await provider(master).snapshot()
    assert rules(snapshot) == {"web": "Host(`web.marathon.localhost`)"}
    assert servers(snapshot) == {"web": ["http://10.0.0.1:31000"]}
    async with following(provider(master)) as seen:
        await seen.until(lambda s: "web" in rules(s))
        # A task more (scaled up), then one killed.
        master.set_task("/web", task("web.2", [31001], host="10.0.0.2"))
        await seen.until(lambda s: len(servers(s).get("web", [])) == 2)
        master.set_task("/web", task("web.1", [31000], host="10.0.0.1", state="TASK_KILLED"))
        await seen.until(lambda s: servers(s).get("web") == ["http://10.0.0.2:31001"])
        # A new application, with its own rule.
        labels = {"traefik.http.routers.api.rule": "PathPrefix(`/api`)"}
        master.put_app(app("/shop/api", [task("api.1", [32000], host="10.0.1.1")], labels=labels))
        await seen.until(lambda s: rules(s).get("api") == "PathPrefix(`/api`)")
        # An application destroyed.
        master.remove_app("/web")
        snap = await seen.until(lambda s: "web" not in rules(s))
        assert set(servers(snap)) == {"shop-api"} and snap.problems == ()
    events = [r for r in master.requests if r.startswith("/v2/events")]
    assert events and "event_type=status_update_event" in events[0]
    assert all("embed=apps.tasks" in r for r in master.requests if r.startswith("/v2/apps"))


async def test_events_that_change_nothing_yield_nothing(master: Marathon) -> None:
    master.put_app(app("/web", [task("web.1")]))
    async with following(provider(master)) as seen:
        await seen.until(lambda s: "web" in rules(s))
        count = len(seen.seen)
        master.emit("framework_message_event", {"message": "hello"})  # not subscribed
        master.emit("deployment_info", {"plan": {}})  # subscribed, but nothing moved
        await anyio.sleep(0.4)
        assert len(seen.seen) == count


async def test_health_results_through_events(master: Marathon) -> None:
    tasks = [task("web.1", host="h1", alive=True), task("web.2", host="h2", alive=True)]
    checked = app("/web", tasks, healthChecks=[{"protocol": "HTTP", "path": "/health"}])
    master.put_app(checked)
    async with following(provider(master)) as seen:
        await seen.until(lambda s: len(servers(s).get("web", [])) == 2)
        master.set_task(
            "/web", task("web.2", host="h2", alive=False), "health_status_changed_event"
        )
        await seen.until(lambda s: servers(s).get("web") == ["http://h1:80"])


async def test_the_last_configuration_serves_while_marathon_is_away(
    master: Marathon, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="routekit")
    master.put_app(app("/web", [task("web.1")]))
    async with following(provider(master)) as seen:
        await seen.until(lambda s: "web" in rules(s))
        master.stop()
        stale = await seen.until(lambda s: bool(s.problems))
        assert "web" in rules(stale)
        await anyio.sleep(0.5)
        master.put_app(app("/new", [task("new.1")]))
        master.start(master.port)
        back = await seen.until(lambda s: "new" in rules(s))
        assert back.problems == ()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert any("reachable again" in r.getMessage() for r in caplog.records)


async def test_several_masters_the_next_one_is_used() -> None:
    with marathon() as second:
        second.put_app(app("/web", [task("web.1")]))
        dead = "http://127.0.0.1:9"  # nothing listens on the discard port
        moving = MarathonProvider(f"{dead},{second.endpoint}", default_rule=RULE, retry=fast())
        async with following(moving) as seen:
            await seen.until(lambda s: "web" in rules(s))
        assert moving.endpoint == second.endpoint


async def test_basic_auth_and_refusals_are_named() -> None:
    with marathon(user="ops", password="s3cret") as guarded:
        guarded.put_app(app("/web", [task("web.1")]))
        with pytest.raises(ProviderError, match=r"401 .*check the basic auth user and password"):
            await MarathonProvider(guarded.endpoint, basic_auth=("ops", "wrong")).snapshot()
        ok = MarathonProvider(guarded.endpoint, basic_auth=("ops", "s3cret"), default_rule=RULE)
        assert "web" in rules(await ok.snapshot())


async def test_a_malformed_answer_is_an_error_naming_marathon(master: Marathon) -> None:
    master.put_app(app("/web", [task("web.1")]))
    master._apps["/web"]["labels"] = {"traefik.http.routers.web.rule": 7}
    snapshot = await provider(master).snapshot()
    assert rules(snapshot) == {}
    assert "Marathon application '/web'" in str(snapshot.problems[0])


async def test_watch_false_reads_once(master: Marathon) -> None:
    master.put_app(app("/web", [task("web.1")]))
    got = [s async for s in provider(master, watch=False).watch()]
    assert len(got) == 1 and "web" in rules(got[0])
    assert not any(r.startswith("/v2/events") for r in master.requests)


def test_options_from_static_files() -> None:
    static = loads_static(
        "[providers.marathon]\n"
        'endpoint = "http://m1:8080,http://m2:8080"\nexposedByDefault = false\n'
        'constraints = "Label(`env`, `prod`)"\nforceTaskHostname = true\n'
        '[providers.marathon.basic]\nhttpBasicAuthUser = "ops"\nhttpBasicPassword = "pw"\n'
    )
    config = static.providers.marathon
    assert config is not None and config.basic_user == "ops"
    made = MarathonProvider.from_config(config)
    assert made.endpoints == ("http://m1:8080", "http://m2:8080")
    v1 = loads_static('[marathon]\nendpoint = "http://m:8080"\ndomain = "marathon.local"\n')
    assert v1.providers.marathon is not None and v1.providers.marathon.domain == "marathon.local"
    with pytest.raises(ConfigError, match="marathon: endpoint must be http"):
        MarathonProvider("m1:8080")
    with pytest.raises(ConfigError, match="constraints"):
        MarathonProvider("http://m:8080", constraints="Label(`a`")
