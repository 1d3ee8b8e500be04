"""The CLI on a SIMULATED AIME24 pool: labelled as such everywhere, and calibrated."""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from optscale_apps.datasets import DATASETS
from optscale_apps.published import load_published
from optscale_apps.reproduce import main

TOLERANCE = 1 / 30 + 1e-9
"""AIME24 has 30 problems: the calibration tolerance is one problem."""

CALIBRATED_NS = (16, 64)
"""Budgets of the paper's table at which the simulated pools are calibrated."""


@pytest.fixture(scope="module")
def simulated_run(
    mirror: Path, tmp_path_factory: pytest.TempPathFactory, shared_cache: Path
) -> tuple[Path, list[str]]:
    out = tmp_path_factory.mktemp("simulated")
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        status = main(
            [
                "--dataset", "aime24", "--mode", "paper", "--out", str(out),
                "--published-priors", "--cache-dir", str(shared_cache),
                "--pools-dir", str(out / "no-real-pools"),
            ]
        )  # fmt: skip
    lines = stdout.getvalue().splitlines()
    assert status == 0
    return out / "paper", lines


def test_first_line_and_every_caption_say_simulated(simulated_run: tuple[Path, list[str]]) -> None:
    folder, lines = simulated_run
    assert lines[0].startswith("SIMULATED pool at ")
    assert "no real pool at" in lines[0]
    assert (folder / "table.md").read_text().startswith("**SIMULATED pool: AIME24, paper mode")
    assert r"\caption{SIMULATED pool: AIME24, paper mode" in (folder / "table.tex").read_text()
    with (folder / "table.csv").open(newline="") as handle:
        assert {row["pool"] for row in csv.DictReader(handle)} == {"SIMULATED"}


@pytest.mark.parametrize("method", ["BoN", "SC"])
def test_bon_and_self_consistency_match_the_published_rows(
    simulated_run: tuple[Path, list[str]], locate: Callable[[str], Path], method: str
) -> None:
    """At the table's calibration budgets, paper-mode BoN and SC are within one problem.

    The simulation is calibrated at N = 1, 4, 16, 64 (optscale-pools); the table's N = 16 and 64
    are checked against ``results_table.csv`` (rounded to 0.05 points there).
    """
    folder, _ = simulated_run
    published = load_published(DATASETS["aime24"], locate)
    with (folder / "curves.csv").open(newline="") as handle:
        ours = {
            int(row["n"]): float(row["accuracy_pct"]) / 100
            for row in csv.DictReader(handle)
            if row["method"] == method
        }
    for n in CALIBRATED_NS:
        assert abs(ours[n] - published.table[(method, n)][0]) <= TOLERANCE + 0.0005, n
