"""Cost of the evaluation engine: every method at every budget N = 1..K over R orders.

Run: ``.venv/bin/python apps/benchmarks/bench_eval.py [--problems P --samples K --orders R]``.
Without a size, three sizes run (each in its own process, so peak memory is its own), and the
cost per problem x sample x order shows how the time grows. The pool is simulated (labelled so):
per-problem difficulty from a Beta law, correct samples scoring higher, a few wrong answers.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
from optscale_apps.methods import catalogue, resolve
from optscale_pools import EvalPool, PoolView, evaluate

SIZES = ((100, 16, 10), (200, 32, 10), (400, 32, 20))
"""(problems, samples, orders) of the default run."""


def simulated_pool(n_problems: int, n_samples: int, seed: int = 0) -> EvalPool:
    """Build a SIMULATED pool: difficulty per problem, scores higher for correct samples."""
    rng = np.random.default_rng(seed)
    shape = (n_problems, n_samples)
    rate = rng.beta(2, 1.5, size=(n_problems, 1))
    correct = rng.random(shape) < rate
    wrong = rng.integers(1, 4, size=shape)
    scores = np.clip(np.where(correct, 0.75, 0.5) + 0.15 * rng.normal(size=shape), 0, 1)
    view = PoolView(
        scores=scores,
        last_scores=np.clip(scores + 0.05 * rng.normal(size=shape), 0, 1),
        answer_ids=np.where(correct, 0, wrong).astype(np.int64),
        tokens=rng.integers(200, 4000, size=shape),
        empty=np.zeros(shape, dtype=bool),
        prior_mu=np.full(n_problems, 0.65),
        prior_sigma=np.full(n_problems, 0.15),
    )
    return EvalPool("bench", view, correct, simulated=True)


def run_one(n_problems: int, n_samples: int, n_orders: int) -> dict[str, float]:
    """Evaluate every method at every budget; return seconds and peak RSS (MiB)."""
    pool = simulated_pool(n_problems, n_samples)
    methods, _ = resolve(None, catalogue(), has_priors=True)
    start = time.perf_counter()
    result = evaluate(pool, methods, orders=n_orders, seed=0, n_resamples=200)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "problems": n_problems,
        "samples": n_samples,
        "orders": n_orders,
        "points": len(result.curves),
        "seconds": seconds,
        "peak_rss_mib": peak,
    }


def main() -> None:
    """Run one size (when given) or the three default sizes, each in a fresh process."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--problems", type=int)
    parser.add_argument("--samples", type=int)
    parser.add_argument("--orders", type=int)
    args, _ = parser.parse_known_args()
    if args.problems and args.samples and args.orders:
        print(json.dumps(run_one(args.problems, args.samples, args.orders)))
        return
    print("engine bench (SIMULATED pool): every method, every N in 1..K, 200 bootstrap draws")
    for problems, samples, orders in SIZES:
        command = [sys.executable, __file__, "--problems", str(problems)]
        command += ["--samples", str(samples), "--orders", str(orders)]
        done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=3600)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        cells = problems * samples * orders
        print(
            f"P={problems:>5} K={samples:>4} R={orders:>4}: {row['seconds']:7.1f} s, "
            f"peak RSS {row['peak_rss_mib']:6.0f} MiB, "
            f"{1e6 * row['seconds'] / cells:6.2f} us per problem x sample x order"
        )


if __name__ == "__main__":
    main()
