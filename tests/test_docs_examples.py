"""The Python examples of the guides for newcomers run as written.

Every ```` ```python ```` block of the pages in ``RUN_PAGES`` runs, in page order, in one
namespace per page (so a page may build on its earlier blocks), from a temporary working
directory. A block there that cannot run alone is preceded by an HTML comment starting with
``<!-- fragment``, which the rendered page does not show. Other pages hold fragments that need a
real pool, a model or a server; a page whose examples all run can join ``RUN_PAGES``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
RUN_PAGES = ("quickstart.md", "own-pool.md", "math.md")
BLOCK = re.compile(
    r"(?P<fragment><!-- fragment[^\n]*-->\n)?^```python\n(?P<code>.*?)^```$",
    re.DOTALL | re.MULTILINE,
)


def runnable_blocks(page: Path) -> list[str]:
    """The code of the page's Python blocks not marked as fragments, in page order."""
    matches = BLOCK.finditer(page.read_text(encoding="utf-8"))
    return [match["code"] for match in matches if not match["fragment"]]


@pytest.mark.parametrize("name", RUN_PAGES)
def test_page_examples_run(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = DOCS / name
    blocks = runnable_blocks(page)
    assert blocks, f"{name} has no runnable Python example"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs.{page.stem}"}
    for index, code in enumerate(blocks):
        exec(compile(code, f"{name} (block {index + 1})", "exec"), namespace)
