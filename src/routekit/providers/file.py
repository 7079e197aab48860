"""`FileProvider`: one dynamic configuration file, or a directory of ``*.toml`` files, polled.

Traefik's file provider (``pkg/provider/file/file.go``) reads one file or every file of a directory
(recursively) and, with ``watch = true``, reloads on fsnotify events.  routekit polls instead — a
``stat`` per file every ``poll_interval`` seconds, comparing ``mtime_ns``, size and inode — which
needs no dependency, works on every file system (NFS, bind mounts, Kubernetes ConfigMaps that swap
a symlink) and costs nothing measurable between changes.

Each file is read on its own, so one broken file does not stop the others: a file that is not
valid TOML (or not UTF-8, or unreadable) is reported with ``file:line:column`` and the last good
version *of that file* keeps serving.  A changed file is read once it has stayed unchanged for one
poll interval, so a file caught half-written by an editor (truncated, then written) is not served.
Deleting a file removes what it defined.  The files of a directory are merged like the sources of
any provider (`routekit.config` merge): identical definitions fold, conflicting ones are reported.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Final, final

import anyio
import anyio.to_thread
import attrs

from ..config import Configuration, loads_dynamic, merge_configurations
from ..errors import ConfigError, Problem
from ._base import Snapshot, check_provider_name

__all__ = ["FileProvider", "config_files"]

_SUFFIX: Final = ".toml"
_SYNTAX_ERROR: Final = "not valid TOML"

#: What identifies one version of a file: (mtime_ns, size, inode).
_Stamp = tuple[int, int, int]


@attrs.frozen
class _File:
    """What is known about one file: the version read, its last good configuration, problems."""

    stamp: _Stamp
    good: Configuration | None
    problems: tuple[Problem, ...]


def _stamp(path: Path) -> _Stamp | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _decode_problem(data: bytes, exc: UnicodeDecodeError, where: str) -> Problem:
    line = data.count(b"\n", 0, exc.start) + 1
    column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
    return Problem("", f"not UTF-8 text: {exc.reason}", f"{where}:{line}:{column}")


@final
class FileProvider:
    """Serve a dynamic configuration file, or every ``*.toml`` file under a directory.

    Args:
        path: a file (any name; Traefik v2/v3 or v1 TOML) or a directory, read recursively for
            ``*.toml`` files; names starting with ``.`` (editor lock and swap files) are skipped.
            Several files or directories may be given; they are merged like one directory.
        watch: follow changes; with ``False``, ``watch()`` yields one snapshot and ends.
        poll_interval: seconds between two looks at the files (a ``stat`` each).
        name: the provider name (elements become ``name@file``).

    Raises:
        ConfigError: *poll_interval* is not a positive number, or *name* is not a provider name.
    """

    __slots__ = (
        "_current",
        "_files",
        "_lock",
        "_merged",
        "_paths",
        "_pending",
        "_poll_interval",
        "_root_problems",
        "_watch",
        "name",
    )

    def __init__(
        self,
        path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        *,
        watch: bool = True,
        poll_interval: float = 0.25,
        name: str = "file",
    ) -> None:
        if (
            isinstance(poll_interval, bool)
            or not isinstance(poll_interval, int | float)
            or not (math.isfinite(poll_interval) and poll_interval > 0)
        ):
            raise ConfigError(f"poll_interval must be a number > 0, got {poll_interval!r}")
        self.name = check_provider_name(name)
        if isinstance(path, str | os.PathLike):
            path = [path]
        self._paths = tuple(Path(p) for p in path)
        if not self._paths:
            raise ConfigError("FileProvider needs at least one file or directory")
        self._watch = bool(watch)
        self._poll_interval = float(poll_interval)
        self._files: dict[Path, _File] = {}
        # Stamps seen changed at the previous poll: read once they are seen again unchanged.
        self._pending: dict[Path, _Stamp] = {}
        self._root_problems: tuple[Problem, ...] = ()
        self._merged: Configuration | None = None
        self._current = Snapshot()
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        """The (first) file or directory served."""
        return self._paths[0]

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file or directory served."""
        return self._paths

    @property
    def current(self) -> Snapshot:
        """The snapshot served now (empty before the first read)."""
        return self._current

    async def snapshot(self) -> Snapshot:
        """Read every file now and return the snapshot they make."""
        await anyio.to_thread.run_sync(self._scan, False)
        return self._current

    async def watch(self) -> AsyncIterator[Snapshot]:
        """Yield the current snapshot, then a new one after each change of the files."""
        await anyio.to_thread.run_sync(self._scan, False)
        yield self._current
        if not self._watch:
            return
        while True:
            # Sleeping between polls (never spinning) is what keeps an idle provider at ~0 CPU.
            await anyio.sleep(self._poll_interval)
            if await anyio.to_thread.run_sync(self._scan, True):
                yield self._current

    # -- reading (runs in a worker thread: parsing a large file must not stall the event loop) --

    def _scan(self, settle: bool) -> bool:
        """Look at every file, read those that changed; return whether the snapshot changed."""
        with self._lock:
            paths, root_problems = self._list()
            changed = root_problems != self._root_problems
            self._root_problems = root_problems
            seen: set[Path] = set()
            for path in paths:
                stamp = _stamp(path)
                if stamp is None:
                    continue  # deleted between the listing and the stat
                seen.add(path)
                known = self._files.get(path)
                if known is not None and known.stamp == stamp:
                    self._pending.pop(path, None)
                    continue
                if settle and self._pending.get(path) != stamp:
                    self._pending[path] = stamp
                    continue
                loaded = self._load(path, stamp, known)
                if loaded is None:
                    continue  # written while being read: try again at the next poll
                self._pending.pop(path, None)
                self._files[path] = loaded
                changed = True
            for path in [p for p in self._files if p not in seen]:
                del self._files[path]
                changed = True
            for path in [p for p in self._pending if p not in seen]:
                del self._pending[path]
            if changed or self._merged is None:
                self._current = self._combine()
            return changed

    def _list(self) -> tuple[list[Path], tuple[Problem, ...]]:
        return config_files(self._paths)

    def _load(self, path: Path, stamp: _Stamp, known: _File | None) -> _File | None:
        where = str(path)
        last_good = known.good if known is not None else None
        try:
            data = path.read_bytes()
        except OSError as exc:
            return self._broken(stamp, last_good, Problem("", f"cannot read: {exc}", where))
        if _stamp(path) != stamp:
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return self._broken(stamp, last_good, _decode_problem(data, exc, where))
        config, problems = loads_dynamic(text, source=where)
        syntax = [p for p in problems if not p.path and p.message.startswith(_SYNTAX_ERROR)]
        if syntax:
            return self._broken(stamp, last_good, *problems)
        return _File(stamp, config, tuple(problems))

    @staticmethod
    def _broken(stamp: _Stamp, last_good: Configuration | None, *problems: Problem) -> _File:
        if last_good is not None:
            note = Problem(
                "",
                "the file could not be used; its last good version keeps serving",
                problems[0].source,
                severity="warning",
            )
            problems = (*problems, note)
        return _File(stamp, last_good, problems)

    def _combine(self) -> Snapshot:
        parts: list[tuple[str, Configuration]] = []
        problems = list(self._root_problems)
        for path, f in sorted(self._files.items()):
            if f.good is not None:
                parts.append((str(path), f.good))
            problems.extend(f.problems)
        if len(parts) == 1:
            config = parts[0][1]
        else:
            config, merge_problems = merge_configurations(parts, previous=self._merged)
            problems.extend(merge_problems)
        self._merged = config
        return Snapshot(config, tuple(problems))

    def __repr__(self) -> str:
        mode = f"every {self._poll_interval:g}s" if self._watch else "once"
        paths = ", ".join(map(str, self._paths))
        return f"<FileProvider {self.name!r} {paths!r} ({mode}, {len(self._files)} files)>"


def config_files(paths: Iterable[str | Path]) -> tuple[list[Path], tuple[Problem, ...]]:
    """The files a file provider serves for *paths*, in order, and a problem per missing path.

    A directory stands for every ``.toml`` file under it, sub-directories included, in name
    order; names starting with ``.`` (editors' temporary files, ``.git``) are skipped.
    """
    found: list[Path] = []
    problems: list[Problem] = []
    for root in map(Path, paths):
        if root.is_dir():
            for directory, subdirs, names in os.walk(root):
                subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
                found.extend(
                    Path(directory, n)
                    for n in sorted(names)
                    if n.endswith(_SUFFIX) and not n.startswith(".")
                )
        elif root.is_file():
            found.append(root)
        else:
            # Traefik refuses to start without its file; a watcher keeps going and reports
            # it, so that creating the file later (or restoring a deleted one) is picked up.
            problems.append(Problem("", "no such file or directory", str(root)))
    return list(dict.fromkeys(found)), tuple(problems)
