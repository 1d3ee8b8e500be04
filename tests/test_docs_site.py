"""The built documentation site stands alone: every link resolves, nothing loads from a network,
formulas are typeset, and no Sphinx role or raw TeX shows.

The site is the one the docs session built (``OPTSCALE_SITE_DIR``), or one built here with
``mkdocs build --strict``. Links and text are checked on every page by parsing the HTML files; a
few representative pages are also rendered in headless Chromium with every host unreachable, and
their rendered DOM is checked (MathJax runs in the browser, so only a browser shows whether the
formulas were typeset). Without a Chromium binary those render tests skip, saying so.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
RENDERED_PAGES = ("index.html", "math/index.html", "api/math/index.html")
"""Pages rendered in the browser: the home page, the page richest in formulas, an API page."""
SPHINX_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|data|exc|obj|const):`?")
RAW_TEX = ("\\(", "\\)", "\\[", "\\]", "$$")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
RENDER_TIMEOUT_S = 120
"""Guard against a hung browser only; a render takes a few seconds."""


class _Page(HTMLParser):
    """Collects a page's ids, its outgoing links and its visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.text: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        for name in ("href", "src"):
            if values.get(name) is not None:
                self.links.append(str(values[name]))
        if tag in ("script", "style", "template"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.text.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = os.environ.get("OPTSCALE_SITE_DIR")
    if built:
        return Path(built)
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (the docs dependency group)")
    out = tmp_path_factory.mktemp("site")
    command = [
        sys.executable,
        "-m",
        "mkdocs",
        "build",
        "--strict",
        "--quiet",
        "--site-dir",
        str(out),
    ]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=600)
    return out


@pytest.fixture(scope="module")
def pages(site: Path) -> dict[Path, _Page]:
    parsed = {path: _parse(path.read_text(encoding="utf-8")) for path in site.rglob("*.html")}
    assert len(parsed) > 10, f"{site} holds only {len(parsed)} pages: not a built site"
    return parsed


def _target(site: Path, page: Path, link: str) -> tuple[Path, str] | None:
    """The file and fragment an internal link points to; None for external links."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or link.startswith(("mailto:", "data:")):
        return None
    path = unquote(parts.path)
    target = (
        page
        if not path
        else (site / path.lstrip("/") if path.startswith("/") else page.parent / path)
    )
    target = target.resolve()
    if target.is_dir():
        target = target / "index.html"
    return target, unquote(parts.fragment)


def test_every_internal_link_resolves(site: Path, pages: dict[Path, _Page]) -> None:
    resolved = {path.resolve(): parsed for path, parsed in pages.items()}
    broken = []
    for page, parsed in pages.items():
        for link in parsed.links:
            found = _target(site, page, link)
            if found is None:
                continue
            target, fragment = found
            if not target.exists():
                broken.append(f"{page.relative_to(site)}: {link} (no {target.name})")
            elif fragment and target in resolved and fragment not in resolved[target].ids:
                broken.append(f"{page.relative_to(site)}: {link} (no id {fragment!r})")
    assert not broken, f"{len(broken)} broken links, first ones: {broken[:10]}"


def test_nothing_loads_from_a_network(site: Path, pages: dict[Path, _Page]) -> None:
    pattern = re.compile(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)=["']?(?:https?:)?//""")
    remote = [
        f"{page.relative_to(site)}: {match.group(0)}"
        for page in pages
        for match in pattern.finditer(page.read_text(encoding="utf-8"))
    ]
    assert not remote, f"pages load from the network: {remote[:5]}"


def test_no_sphinx_role_shows(site: Path, pages: dict[Path, _Page]) -> None:
    shown = [
        f"{page.relative_to(site)}: {match.group(0)}"
        for page, parsed in pages.items()
        for match in SPHINX_ROLE.finditer("".join(parsed.text))
    ]
    assert not shown, f"{len(shown)} Sphinx roles shown as text, first ones: {shown[:10]}"


def _chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(f"no Chromium binary on PATH (looked for {', '.join(CHROMIUM_NAMES)})")


def _render(page: Path, profile: Path) -> str:
    """The DOM of ``page`` after Chromium ran its scripts, with every host unreachable."""
    command = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=15000",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=RENDER_TIMEOUT_S)
    assert done.returncode == 0, f"chromium failed on {page}: {done.stderr[-2000:]}"
    return done.stdout


@pytest.mark.parametrize("name", RENDERED_PAGES)
def test_rendered_page_shows_no_raw_tex_or_roles(site: Path, name: str, tmp_path: Path) -> None:
    dom = _render(site / name, tmp_path / "profile")
    text = "".join(_parse(dom).text)
    assert len(text) > 200, f"{name} rendered to almost nothing: {text!r}"
    raw = [token for token in RAW_TEX if token in text]
    assert not raw, f"{name} shows raw TeX delimiters {raw}"
    roles = SPHINX_ROLE.findall(text)
    assert not roles, f"{name} shows Sphinx roles {roles[:5]}"
    if name == "math/index.html":
        assert dom.count("<mjx-container") > 20, "MathJax did not typeset math/index.html"
