r"""Grading speed: worker processes vs one process, and the cached second run vs the first.

A synthetic pool of realistic boxed answers (integers, fractions, radicals, equivalent spellings
such as ``0.5`` / ``\\frac{1}{2}``, wrong answers and samples cut without an answer) is graded
three times in this process: with one worker process (the reference), with ``--workers`` worker
processes (cold cache), and again from the cache. Prints one ratio per line.

The default grades 100 x 64 samples, so that the three runs fit in a few minutes on two shared
cores (the ratios barely depend on the count); ``--problems 500`` grades the issue's 500 x 64 pool.

Run: ``.venv/bin/python packages/optscale-pools/benchmarks/bench_grading.py [--problems 500]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from optscale_pools import Pool, grade_pool


def synthetic_pool(n_problems: int, n_samples: int, seed: int = 0) -> Pool:
    """Build a pool of boxed answers shaped like a MATH500 run (mostly right, some equivalents)."""
    rng = np.random.default_rng(seed)
    golds, preds = [], []
    for row in range(n_problems):
        a, b = int(rng.integers(2, 50)), int(rng.integers(2, 9))
        kind = row % 4
        gold, spellings = [
            (str(a), [str(a), f"{a}.0", f"{a}"]),
            (
                f"\\frac{{{a}}}{{{b}}}",
                [f"\\frac{{{a}}}{{{b}}}", f"{a}/{b}", f"\\dfrac{{{a}}}{{{b}}}"],
            ),
            (
                f"{b}\\sqrt{{{a}}}",
                [f"{b}\\sqrt{{{a}}}", f"{b} \\sqrt{{{a}}}", f"\\sqrt{{{a * b * b}}}"],
            ),
            (f"({a}, {b})", [f"({a}, {b})", f"({a},{b})", f"\\left({a}, {b}\\right)"]),
        ][kind]
        wrong = [str(a + d) for d in range(1, 6)] + [f"\\frac{{{b}}}{{{a}}}", "x^2"]
        row_preds: list[str | None] = []
        for _ in range(n_samples):
            draw = rng.random()
            if draw < 0.65:
                row_preds.append(spellings[int(rng.integers(len(spellings)))])
            elif draw < 0.9:
                row_preds.append(wrong[int(rng.integers(len(wrong)))])
            else:
                row_preds.append(None)
        golds.append(gold)
        preds.append(row_preds)
    shape = (n_problems, n_samples)
    return Pool(
        problems=[f"problem {i}" for i in range(n_problems)],
        golds=golds,
        ids=list(range(1, n_problems + 1)),
        scores=rng.random(shape),
        last_scores=rng.random(shape),
        tokens=rng.integers(100, 10_000, shape),
        preds=preds,
        empty=np.zeros(shape, dtype=np.bool_),
        sha256=f"synthetic-{n_problems}x{n_samples}-{seed}",
    )


def timed(pool: Pool, cache: Path, workers: int) -> float:
    """Seconds to grade ``pool`` with ``workers`` processes and cache folder ``cache``."""
    start = time.perf_counter()
    grade_pool(pool, cache=cache, workers=workers, progress=False)
    return time.perf_counter() - start


def main() -> None:
    """Run the benchmark and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=100, help="problems P (default 100)")
    parser.add_argument("--samples", type=int, default=64, help="samples per problem K")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="processes")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} CPUs (a busy machine hides the speed-up)")
    pool = synthetic_pool(args.problems, args.samples)
    n = pool.n_problems * pool.n_samples
    with tempfile.TemporaryDirectory() as folder:
        single = timed(pool, Path(folder) / "single", workers=1)
        multi = timed(pool, Path(folder) / "multi", workers=args.workers)
        cached = timed(pool, Path(folder) / "multi", workers=args.workers)
    print(
        f"pool {pool.n_problems} x {pool.n_samples}: {n / single:.0f} samples/s in 1 process, "
        f"{n / multi:.0f} samples/s in {args.workers}"
    )
    print(
        f"first grading, {args.workers} processes vs 1 process (samples/s ratio): "
        f"{single / multi:.2f}x"
    )
    print(f"cached second run vs first run ({args.workers} processes): {multi / cached:.0f}x")


if __name__ == "__main__":
    main()
