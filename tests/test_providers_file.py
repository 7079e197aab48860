"""FileProvider and StaticProvider: real files in tmp_path, real anyio tasks on asyncio and trio."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from routekit import ConfigError
from routekit.config import Configuration, Conflict, HTTPConfiguration, Router
from routekit.providers import FileProvider, Provider, Snapshot, StaticProvider

pytestmark = pytest.mark.anyio


def router_file(*names: str, service: str = "svc") -> str:
    parts = [
        f'[http.routers.{n}]\nrule = "Host(`{n}.example.com`)"\nservice = "{service}"\n'
        for n in names
    ]
    parts.append(
        f'[http.services.{service}.loadBalancer]\nservers = [{{url = "http://10.0.0.1"}}]\n'
    )
    return "\n".join(parts)


def write(path: Path, text: str) -> None:
    # A new mtime even on file systems with coarse timestamps: the size or inode changes too.
    path.write_text(text, encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


async def next_snapshot(stream: AsyncIterator[Snapshot], within: float = 2.0) -> Snapshot:
    with anyio.fail_after(within):
        return await stream.__anext__()


async def test_single_file_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "dynamic.toml"
    write(path, router_file("api"))
    provider = FileProvider(path)
    assert isinstance(provider, Provider)
    snap = await provider.snapshot()
    assert list(snap.config.http.routers) == ["api"]
    assert snap.problems == ()
    assert snap.config.source_of("http.routers.api.rule") == f"{path}:2:1"


async def test_edit_is_seen_and_deleting_removes_routes(tmp_path: Path) -> None:
    write(tmp_path / "a.toml", router_file("a"))
    write(tmp_path / "b.toml", router_file("b", service="other"))
    provider = FileProvider(tmp_path, poll_interval=0.02)
    stream = provider.watch()
    first = await next_snapshot(stream)
    assert sorted(first.config.http.routers) == ["a", "b"]
    write(tmp_path / "a.toml", router_file("a", "a2"))
    second = await next_snapshot(stream)
    assert sorted(second.config.http.routers) == ["a", "a2", "b"]
    (tmp_path / "b.toml").unlink()
    third = await next_snapshot(stream)
    assert sorted(third.config.http.routers) == ["a", "a2"]
    assert "other" not in third.config.http.services
    await stream.aclose()  # type: ignore[attr-defined]


async def test_broken_file_keeps_its_last_good_version(tmp_path: Path) -> None:
    write(tmp_path / "a.toml", router_file("a"))
    write(tmp_path / "b.toml", router_file("b", service="other"))
    provider = FileProvider(tmp_path, poll_interval=0.02)
    stream = provider.watch()
    await next_snapshot(stream)
    write(tmp_path / "a.toml", router_file("a") + '\n[http.routers.half\nrule = "Ho')
    broken = await next_snapshot(stream)
    assert sorted(broken.config.http.routers) == ["a", "b"]
    error = broken.errors[0]
    assert error.source == f"{tmp_path / 'a.toml'}:8:19"
    assert error.message.startswith("not valid TOML")
    assert "last good version keeps serving" in broken.problems[1].message
    # The other files still update while a.toml is broken.
    write(tmp_path / "b.toml", router_file("b", "b2", service="other"))
    later = await next_snapshot(stream)
    assert sorted(later.config.http.routers) == ["a", "b", "b2"]
    assert later.errors == broken.errors
    write(tmp_path / "a.toml", router_file("a3"))
    fixed = await next_snapshot(stream)
    assert sorted(fixed.config.http.routers) == ["a3", "b", "b2"]
    assert fixed.problems == ()
    await stream.aclose()  # type: ignore[attr-defined]


async def test_a_file_caught_half_written_is_not_served(tmp_path: Path) -> None:
    path = tmp_path / "dyn.toml"
    write(path, router_file("a"))
    provider = FileProvider(path, poll_interval=0.5)
    stream = provider.watch()
    await next_snapshot(stream)
    full = router_file("a", "b", "c")
    # An editor writing in two steps: the first half is valid TOML on its own (a router whose
    # service is not written yet).  Seen by at most one poll, it is never read.
    write(path, full[: full.index("[http.routers.c]")])
    await anyio.sleep(0.05)
    write(path, full)
    snap = await next_snapshot(stream, within=3.0)
    assert sorted(snap.config.http.routers) == ["a", "b", "c"]
    assert snap.problems == ()
    await stream.aclose()  # type: ignore[attr-defined]


async def test_directory_is_read_recursively_skipping_hidden_and_other_files(
    tmp_path: Path,
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".git").mkdir()
    write(tmp_path / "sub" / "deep.toml", router_file("deep"))
    write(tmp_path / ".git" / "x.toml", router_file("hidden1"))
    write(tmp_path / ".#lock.toml", router_file("hidden2"))
    write(tmp_path / "notes.txt", "not toml at all [")
    snap = await FileProvider(tmp_path).snapshot()
    assert list(snap.config.http.routers) == ["deep"]
    assert snap.problems == ()


async def test_conflicting_definitions_across_files_are_reported(tmp_path: Path) -> None:
    write(tmp_path / "a.toml", router_file("same"))
    write(tmp_path / "b.toml", router_file("same").replace("same.example", "other.example"))
    snap = await FileProvider(tmp_path).snapshot()
    assert "same" not in snap.config.http.routers
    conflict = next(p for p in snap.errors if p.path == "http.routers.same")
    assert "defined multiple times" in conflict.message


async def test_a_conflicting_new_file_does_not_take_a_serving_route_down(tmp_path: Path) -> None:
    write(tmp_path / "a.toml", router_file("same"))
    provider = FileProvider(tmp_path, poll_interval=0.02)
    stream = provider.watch()
    first = await next_snapshot(stream)
    serving = first.config.http.routers["same"]
    write(tmp_path / "b.toml", router_file("same").replace("same.example", "other.example"))
    second = await next_snapshot(stream)
    assert second.config.http.routers["same"] == serving
    (conflict,) = second.errors
    assert isinstance(conflict, Conflict) and conflict.kept_previous
    assert conflict.origins == (str(tmp_path / "a.toml"), str(tmp_path / "b.toml"))
    assert conflict.hint == "the previous definition keeps serving"
    (tmp_path / "b.toml").unlink()
    third = await next_snapshot(stream)
    assert third.config.http.routers["same"] == serving and third.problems == ()
    await stream.aclose()  # type: ignore[attr-defined]


async def test_v1_file_and_not_utf8_file(tmp_path: Path) -> None:
    write(
        tmp_path / "v1.toml",
        '[frontends.f]\nbackend = "b"\n[frontends.f.routes.r]\nrule = "Host:old.example.com"\n'
        '[backends.b.servers.s]\nurl = "http://10.0.0.9:80"\n',
    )
    (tmp_path / "bad.toml").write_bytes(b'[http.routers.x]\nrule = "\xff"\n')
    snap = await FileProvider(tmp_path).snapshot()
    assert len(snap.config.http.routers) == 1
    assert [p.source for p in snap.errors] == [f"{tmp_path / 'bad.toml'}:2:9"]
    assert snap.errors[0].message.startswith("not UTF-8")


async def test_missing_file_is_reported_then_picked_up(tmp_path: Path) -> None:
    path = tmp_path / "later.toml"
    provider = FileProvider(path, poll_interval=0.02)
    stream = provider.watch()
    first = await next_snapshot(stream)
    assert first.config == Configuration()
    assert first.errors[0].message == "no such file or directory"
    write(path, router_file("late"))
    second = await next_snapshot(stream)
    if not second.config.http.routers:
        # The file's appearance clears the problem first; its content follows once settled.
        assert second.problems == ()
        second = await next_snapshot(stream)
    assert list(second.config.http.routers) == ["late"] and second.problems == ()
    await stream.aclose()  # type: ignore[attr-defined]


async def test_watch_false_yields_once(tmp_path: Path) -> None:
    write(tmp_path / "a.toml", router_file("a"))
    snaps = [s async for s in FileProvider(tmp_path / "a.toml", watch=False).watch()]
    assert len(snaps) == 1 and list(snaps[0].config.http.routers) == ["a"]


def test_bad_arguments_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="poll_interval"):
        FileProvider(tmp_path, poll_interval=0)
    with pytest.raises(ConfigError, match="provider name"):
        FileProvider(tmp_path, name="a@b")
    with pytest.raises(ConfigError, match="Configuration"):
        StaticProvider("nope")  # type: ignore[arg-type]


async def test_static_provider_follows_updates() -> None:
    one = Configuration(http=HTTPConfiguration(routers={"a": Router(rule="Path(`/a`)")}))
    two = Configuration(http=HTTPConfiguration(routers={"b": Router(rule="Path(`/b`)")}))
    provider = StaticProvider(one, name="mine")
    assert (await provider.snapshot()).config == one
    stream = provider.watch()
    assert (await next_snapshot(stream)).config == one
    provider.update(two)
    provider.update(one)
    provider.update(two)
    # Only the latest of several updates is seen.
    assert (await next_snapshot(stream)).config == two
    assert repr(provider) == "<StaticProvider 'mine': 1 routers, 0 services>"
    await stream.aclose()  # type: ignore[attr-defined]
