"""Every package carries the repository's license, word for word, into its wheel and sdist."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = [*sorted(path.parent for path in ROOT.glob("packages/*/pyproject.toml")), ROOT / "apps"]


@pytest.mark.parametrize("member", MEMBERS, ids=lambda path: path.name)
def test_each_package_ships_the_repository_license(member: Path) -> None:
    project = tomllib.loads((member / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert (member / "LICENSE").read_bytes() == (ROOT / "LICENSE").read_bytes(), (
        f"{member.name}/LICENSE differs from the repository's LICENSE: copy it again"
    )
