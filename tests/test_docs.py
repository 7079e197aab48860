"""Every ```python block in README.md and docs/*.md runs, in order, one namespace per file.

A page's examples are part of the test suite so that the docs cannot drift from the code.  Blocks
fenced as ```pycon, ```text, ```toml, ```console etc. are prose and are not run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def _blocks(page: Path) -> list[tuple[int, str]]:
    text = page.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in _BLOCK.finditer(text)]


PAGES_WITH_CODE = [p for p in PAGES if _blocks(p)]


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for line, code in _blocks(page):
        compiled = compile(code, f"{page.relative_to(ROOT)}:{line}", "exec")
        exec(compiled, namespace)
