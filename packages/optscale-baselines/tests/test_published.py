"""Structural checks against upstream's published DSC results (needs the data mirror)."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from baselines_oracles import make_view
from optscale_baselines import DifficultyAdaptiveSC

DATASETS = ["AIME24", "AIME25", "AMC23", "MATH500", "GSM8K"]


def mirror() -> Path:
    root = os.environ.get("OPTSCALE_DATA_MIRROR")
    if not root:
        pytest.skip("OPTSCALE_DATA_MIRROR is not set: no upstream files to compare with")
    return Path(root)


@pytest.mark.parametrize("dataset", DATASETS)
def test_cap_five_and_below_match_published_partition(dataset):
    # With a cap of 5 upstream's judge calls every problem easy, so the search walks right to
    # the end: its easy-midpoint count depends only on the number of problems. Below 5 nothing
    # is easy and there is no overhead. Both hold whatever the pool holds.
    root = mirror()
    sweep = json.loads((root / "SC" / f"{dataset}_dsc_results.json").read_text())
    votes = json.loads((root / "SC" / f"{dataset}_maj_vote_results.json").read_text())
    by_cap = {row["max_sample_size"]: row for row in sweep["dsc_max_sample_size_sweep"]}
    problems = round(by_cap[5]["correct"] / by_cap[5]["accuracy"])
    unit = 3 * votes[3]["average_token_count"]  # 3 x 4 x mean of the first 4 token counts
    published_midpoints = by_cap[5]["binary_search_overhead"] / unit
    rng = np.random.default_rng(0)
    view = make_view(rng.integers(0, 3, (problems, 64)), rng.random((problems, 64)))
    d = DifficultyAdaptiveSC(5).run(view)
    assert d.easy.mean() == by_cap[5]["easy_rate"] == 1.0
    assert d.easy_midpoints == pytest.approx(published_midpoints, abs=1e-9)
    for cap in (1, 2, 3, 4):
        d = DifficultyAdaptiveSC(cap).run(view)
        assert d.easy.mean() == by_cap[cap]["easy_rate"] == 0.0
        assert d.extra_tokens == by_cap[cap]["binary_search_overhead"] == 0.0
