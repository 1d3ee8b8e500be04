"""Replay one policy over a 1319 x 64 pool in 100 random orders: stacked vs a per-order loop.

Run: ``.venv/bin/python packages/optscale-pools/benchmarks/bench_replay.py``. The policy is a
row-independent best-of-prefix (pays for a score-dependent prefix, picks its best score), so the
harness may stack the 100 orders into one 131900-row view and call it once. The reference is the
same replay with ``stack_orders=False`` (one policy call per order), in the same process.
"""

from __future__ import annotations

import time

import numpy as np
from optscale_pools.protocol import Decisions, PoolView
from optscale_pools.replay import replay

N_PROBLEMS, N_SAMPLES, N_ORDERS = 1319, 64, 100


class PrefixBest:
    """Best score within a prefix whose length depends on the first score."""

    name = "prefix-best"
    rows_independent = True
    verify_order = "gold_pred"

    @classmethod
    def grid(cls) -> list[dict[str, object]]:
        """No hyperparameters."""
        return [{}]

    def run(self, view: PoolView) -> Decisions:
        """Decide each row on its own."""
        k = view.n_samples
        n_used = 1 + (view.scores[:, 0] * k).astype(np.int64) % k
        masked = np.where(np.arange(k) < n_used[:, None], view.scores, -np.inf)
        return Decisions(n_used=n_used, pick=masked.argmax(axis=1))


def main() -> None:
    """Time both ways and print the seconds and the speed ratio."""
    rng = np.random.default_rng(0)
    shape = (N_PROBLEMS, N_SAMPLES)
    view = PoolView(
        scores=rng.random(shape),
        last_scores=rng.random(shape),
        answer_ids=rng.integers(-1, 5, shape),
        tokens=rng.integers(100, 10000, shape),
        empty=np.zeros(shape, dtype=bool),
        prior_mu=np.full(N_PROBLEMS, np.nan),
        prior_sigma=np.full(N_PROBLEMS, np.nan),
    )
    correct = rng.random(shape) < 0.7
    timings = {}
    for stack in (False, True):
        start = time.perf_counter()
        result = replay(PrefixBest(), view, correct, orders=N_ORDERS, stack_orders=stack)
        timings[stack] = time.perf_counter() - start
        label = "stacked" if stack else "per-order loop"
        print(
            f"replay {N_PROBLEMS}x{N_SAMPLES}, {N_ORDERS} orders, {label}: "
            f"{timings[stack]:.2f} s (accuracy {result.accuracy:.4f})"
        )
    print(f"ratio replay stacked vs per-order loop: {timings[False] / timings[True]:.2f}x")


if __name__ == "__main__":
    main()
