"""Adaptive mode end to end: optscale-math's Allocator stops each problem, through the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from optscale_gen.cli import main


def allocator_counts(scores: list[list[float]], **settings: Any) -> list[int]:
    """Oracle: feed each problem's scores to a fresh Allocator; count where it first says stop."""
    from optscale_math import Allocator

    counts = []
    for row in scores:
        allocator = Allocator(**settings)
        for n, score in enumerate(row, start=1):
            allocator.observe(score)
            if allocator.decision().stop:
                counts.append(n)
                break
        else:
            counts.append(len(row))
    return counts


@pytest.mark.parametrize("max_wave", [None, "1"])
def test_each_problem_stops_where_its_allocator_says(
    generate_args: Callable[..., list[str]], tmp_path: Path, max_wave: str | None
) -> None:
    out = tmp_path / "pool.json"
    options = ["--adaptive", "--n", "6", "--peek", "2", "--target", "0.99"]
    options += ["--percentile", "0.05", "--seed", "1"]
    options += [] if max_wave is None else ["--max-wave", max_wave]
    assert main(generate_args(tmp_path, *options)) == 0
    items = json.loads(out.read_text())
    scores = [item["score"]["scores"][0] for item in items]
    counts = [item["n"] for item in items]
    assert counts == [len(row) for row in scores]
    expected = allocator_counts(scores, target=0.99, percentile=0.05, peek=2, max_n=6)
    assert counts == expected
    assert min(counts) < 6  # some problem stopped early...
    assert max(counts) > 2  # ...and some went on after the peek


def test_priors_must_cover_every_problem(
    generate_args: Callable[..., list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    priors = tmp_path / "priors.json"
    priors.write_text(json.dumps([[0.5, 0.2]]))
    args = generate_args(tmp_path / "live", "--adaptive", "--priors", str(priors))
    assert main(args) == 1
    assert "expected a JSON list of 4 [mu, sigma]" in capsys.readouterr().err
