"""Every ```python block in README.md and docs/ runs, in order, one namespace per file.

A page's examples are part of the test suite so that the docs cannot drift from the code.  Blocks
fenced as ```pycon, ```text, ```console etc. are prose and are not run.  A ```toml block is
checked instead: a dynamic configuration (only ``http``, ``tcp``, ``udp`` and ``tls`` tables)
must load with no error, a static one (entry points, providers…) too; a schematic block, with
``<placeholders>`` or ``…`` in it, must be what fails to parse as TOML, nothing else.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from routekit.config import reads_config, reads_static

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
_FENCE = r"^```{}[ \t]*\n(.*?)^```[ \t]*$"
_BLOCK = re.compile(_FENCE.format("python"), re.MULTILINE | re.DOTALL)
_TOML = re.compile(_FENCE.format("toml"), re.MULTILINE | re.DOTALL)
#: The top-level tables of a dynamic configuration; any other makes a block static.
DYNAMIC = frozenset({"http", "tcp", "udp", "tls"})


def _blocks(page: Path, fence: re.Pattern[str] = _BLOCK) -> list[tuple[int, str]]:
    text = page.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in fence.finditer(text)]


PAGES_WITH_CODE = [p for p in PAGES if _blocks(p)]
PAGES_WITH_TOML = [p for p in PAGES if _blocks(p, _TOML)]


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for line, code in _blocks(page):
        compiled = compile(code, f"{page.relative_to(ROOT)}:{line}", "exec")
        exec(compiled, namespace)


@pytest.mark.parametrize("page", PAGES_WITH_TOML, ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_configurations_load(page: Path) -> None:
    for line, text in _blocks(page, _TOML):
        where = f"{page.relative_to(ROOT)}:{line}"
        try:
            tables = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            assert "<" in text or "…" in text, f"{where}: not TOML and not schematic: {exc}"
            continue
        if tables.keys() <= DYNAMIC:
            problems = reads_config(text, source=where).problems
        else:
            problems = reads_static(text, source=where).problems
        errors = [str(p) for p in problems if p.severity == "error"]
        assert not errors, f"{where}: " + "\n".join(errors)
