"""Shared fixtures: the upstream data mirror (tests needing it skip without it).

The slow loop oracles of upstream's rules kept beside the baselines and math tests
(``baselines_oracles``, ``upstream_as_written``) are made importable here.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

for _package in ("optscale-baselines", "optscale-math"):
    sys.path.insert(0, str(Path(__file__).parents[2] / "packages" / _package / "tests"))


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The upstream data mirror named by ``OPTSCALE_DATA_MIRROR``; skip when it is not set."""
    value = os.environ.get("OPTSCALE_DATA_MIRROR")
    if not value or not Path(value).is_dir():
        pytest.skip("OPTSCALE_DATA_MIRROR does not name a local mirror of the upstream files")
    return Path(value)


@pytest.fixture
def locate(mirror: Path) -> Callable[[str], Path]:
    """Locate upstream files directly in the mirror."""
    return lambda relpath: mirror / relpath


def write_pool(
    tmp_path: Path, *, n_problems: int = 5, n_samples: int = 64, seed: int = 0
) -> tuple[Path, Path, Path, Path]:
    """Write a small hand-made pool in upstream format: (parallel, sequential, prompts, priors).

    Problem p has gold answer ``p + 1``; each sample is correct with a per-problem rate, carries
    a higher PRM score when correct, and some samples have no boxed answer (cut completions).
    """
    rng = np.random.default_rng(seed)
    prompts = [{"problem": f"What is {p} + 1?", "answer": str(p + 1)} for p in range(n_problems)]
    prompts_path = tmp_path / "prompts.json"
    prompts_path.write_text(json.dumps(prompts))
    items = []
    for p, prompt in enumerate(prompts):
        rate = (p + 1) / (n_problems + 1)
        right = rng.uniform(size=n_samples) < rate
        cut = rng.uniform(size=n_samples) < 0.1
        answers = [
            None if c else (prompt["answer"] if r else str(100 + int(rng.integers(2))))
            for r, c in zip(right, cut, strict=True)
        ]
        completions = [
            "Step one.\n\nNo answer." if a is None else f"Step one.\n\nSo \\boxed{{{a}}}."
            for a in answers
        ]
        scores = np.clip(np.where(right, 0.85, 0.55) + 0.1 * rng.normal(size=n_samples), 0, 1)
        items.append(
            {
                "id": p + 1,
                "output": completions[0],
                "n": n_samples,
                "score": {
                    "problem": [prompt["problem"]],
                    "completions": [completions],
                    "scores": [scores.tolist()],
                    "last_scores": [np.clip(scores + 0.05, 0, 1).tolist()],
                    "pred": ["" if a is None else a for a in answers],
                    "completion_tokens": [rng.integers(100, 1000, n_samples).tolist()],
                },
            }
        )
    paths = [tmp_path / "pool_par.json", tmp_path / "pool_seq.json"]
    for path in paths:  # the same samples serve as the sequential pool (graded once)
        path.write_text(json.dumps(items))
    priors_path = tmp_path / "priors.json"
    priors_path.write_text(json.dumps([[0.7, 0.15]] * n_problems))
    return paths[0], paths[1], prompts_path, priors_path


@pytest.fixture(scope="session")
def hand_pool(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, Path]:
    """A small hand-made pool (parallel, sequential, prompts, priors), shared by the session."""
    return write_pool(tmp_path_factory.mktemp("hand_pool"))


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data cache for the session, so each pool is graded once."""
    return tmp_path_factory.mktemp("cache")
