"""The shipped AIME24 simulation lands within tolerance of the published curves (paper mode)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from optscale_pools.calibrate import (
    CHECK_N,
    accuracy_tolerance,
    bon_picks,
    curve,
    majority_picks,
    published,
)
from optscale_pools.simulate import gold_answer, simulate_dataset
from optscale_pools.upstream import read_upstream_pool

MIRROR = os.environ.get("OPTSCALE_DATA_MIRROR")
pytestmark = pytest.mark.skipif(
    MIRROR is None or not Path(MIRROR).is_dir(),
    reason="needs the upstream data mirror in $OPTSCALE_DATA_MIRROR (published curves, prompts)",
)


def raw_string_ids(preds: list[list[str | None]]) -> np.ndarray:
    """Paper-mode answer ids: one id per distinct raw string in a row, None included."""
    ids = np.zeros((len(preds), len(preds[0])), dtype=np.int64)
    for p, row in enumerate(preds):
        seen: dict[str | None, int] = {}
        for j, answer in enumerate(row):
            ids[p, j] = seen.setdefault(answer, len(seen))
    return ids


def test_simulated_aime24_matches_the_published_curves(tmp_path: Path) -> None:
    mirror = Path(str(MIRROR))
    prompts = mirror / "data/test_prompts/aime24.json"
    parallel, sequential = simulate_dataset("aime24", seed=0, out_dir=tmp_path, prompts=prompts)
    pool = read_upstream_pool(parallel, prompts)
    seq = read_upstream_pool(sequential, prompts)
    golds = [gold_answer(g) for g in pool.golds]
    correct = np.array([[a == g for a in row] for row, g in zip(pool.preds, golds, strict=True)])
    seq_correct = np.array([[a == g for a in row] for row, g in zip(seq.preds, golds, strict=True)])
    simulated = {
        "bon": curve(correct, bon_picks(pool.scores)),
        "maj": curve(correct, majority_picks(raw_string_ids(pool.preds))),
        "mr": seq_correct.mean(axis=0),
        "tokens": np.cumsum(pool.tokens, axis=1).mean(axis=0),
        "mr_tokens": np.cumsum(seq.tokens, axis=1).mean(axis=0),
    }
    target = published(mirror, "aime24")
    tolerance = accuracy_tolerance(pool.n_problems)
    for metric, values in simulated.items():
        for n in CHECK_N:
            gap = abs(values[n - 1] - target[metric][n - 1])
            limit = 0.05 * target[metric][n - 1] if metric.endswith("tokens") else tolerance
            assert gap <= limit + 1e-9, (metric, n, values[n - 1], target[metric][n - 1])
