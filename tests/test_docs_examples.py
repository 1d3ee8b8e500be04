"""The Python examples of the documentation run as written.

Every ```` ```python ```` block of a page under ``docs/`` runs, in page order, in one namespace per
page (so a page may build on its earlier blocks), from a temporary working directory. A block
that cannot run alone (it needs a real pool, a model, or names from prose) is preceded by an HTML
comment starting with ``<!-- fragment``, which the rendered page does not show.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(
    r"(?P<fragment><!-- fragment[^\n]*-->\n)?^```python\n(?P<code>.*?)^```$",
    re.DOTALL | re.MULTILINE,
)


def runnable_blocks(page: Path) -> list[str]:
    """The code of the page's Python blocks not marked as fragments, in page order."""
    matches = BLOCK.finditer(page.read_text(encoding="utf-8"))
    return [match["code"] for match in matches if not match["fragment"]]


PAGES = [page for page in sorted(DOCS.rglob("*.md")) if runnable_blocks(page)]


def test_the_guides_for_newcomers_are_run() -> None:
    names = {page.name for page in PAGES}
    assert {"quickstart.md", "own-data.md", "math.md"} <= names, (
        f"pages with runnable examples: {sorted(names)}"
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(DOCS)))
def test_page_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs.{page.stem}"}
    for index, code in enumerate(runnable_blocks(page)):
        exec(compile(code, f"{page.relative_to(DOCS)} (block {index + 1})", "exec"), namespace)
