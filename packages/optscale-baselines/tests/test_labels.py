"""First-seen labels: the index of the first sample of the row carrying the same answer."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from optscale_baselines._votes import NOT_VOTING, first_seen_labels


def loop_labels(ids: np.ndarray, mode: str) -> np.ndarray:
    out = np.empty_like(ids)
    for p, row in enumerate(ids.tolist()):
        for j, answer in enumerate(row):
            out[p, j] = NOT_VOTING if mode == "fair" and answer == -1 else row.index(answer)
    return out


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 5),
    st.integers(1, 10),
    st.sampled_from([2, 10, 10**6]),  # small ids take the one-pass path, large ones the sort
    st.sampled_from(["paper", "fair"]),
    st.integers(0, 2**32 - 1),
)
def test_labels_match_a_loop(problems: int, k: int, spread: int, mode: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids = rng.integers(-1, spread, size=(problems, k))
    np.testing.assert_array_equal(first_seen_labels(ids, mode), loop_labels(ids, mode))
