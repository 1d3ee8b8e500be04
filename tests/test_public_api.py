"""Every package's public API: each exported name imports, is documented, and is defined once.

Runs in the lint session, whose environment holds every package (torch excepted: importing a
package must not import torch).
"""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

PACKAGES = [
    "optscale_math",
    "optscale_pools",
    "optscale_baselines",
    "optscale_predictor",
    "optscale_gen",
    "optscale_apps",
]


@pytest.mark.parametrize("package", PACKAGES)
def test_package_has_docstring_and_all(package: str) -> None:
    module = importlib.import_module(package)
    assert inspect.getdoc(module), f"{package} has no module docstring"
    assert isinstance(module.__all__, list), f"{package}.__all__ must be a list"
    assert len(set(module.__all__)) == len(module.__all__), f"{package}.__all__ repeats a name"


@pytest.mark.parametrize("package", PACKAGES)
def test_exported_names_exist_and_are_documented(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"{package}.{name} has no docstring"
            assert obj.__module__.startswith(package), (
                f"{package}.{name} is defined in {obj.__module__}: re-export only own names"
            )


def test_each_name_is_defined_in_one_package() -> None:
    owners: dict[int, str] = {}
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                key = id(obj)
                assert key not in owners, f"{name} is exported by {owners[key]} and {package}"
                owners[key] = package


@pytest.mark.parametrize("package", PACKAGES)
def test_importing_does_not_import_torch(package: str) -> None:
    probe = f"import sys, {package}; sys.exit('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], check=False)
    assert result.returncode == 0, f"importing {package} imports torch (keep it lazy)"
