"""MkDocs hook: the site serves MathJax itself, so its formulas render without a network.

MathJax comes from the ``django-static-mathjax`` distribution (MathJax's own build inside a Python
package, locked in the docs dependency group). After every build this hook copies the one
component the site loads (TeX in, CommonHTML out) and its web fonts into ``site/assets/mathjax``,
the path ``mkdocs.yml`` names in ``extra_javascript``. Nothing of MathJax is committed.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import Any

TARGET = "assets/mathjax"
"""Folder of the built site that receives MathJax (relative to ``site_dir``)."""

COMPONENT = "tex-chtml.js"
"""MathJax's combined TeX-input, CommonHTML-output component."""

FONTS = "output/chtml/fonts/woff-v2"
"""Fonts that the component loads from beside itself."""


def mathjax_build() -> Path:
    """Return the folder of MathJax's ``es5`` build inside the installed package."""
    return Path(str(resources.files("mathjax"))) / "static" / "mathjax" / "es5"


def on_post_build(config: Any, **_: Any) -> None:
    """Copy the MathJax component and its fonts into the built site."""
    source = mathjax_build()
    target = Path(config["site_dir"]) / TARGET
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / COMPONENT, target / COMPONENT)
    shutil.copytree(source / FONTS, target / FONTS, dirs_exist_ok=True)
