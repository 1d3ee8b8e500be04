"""Vectorised baselines against per-problem loop oracles on a 1319 x 64 pool, N = 1..64.

Prints one speed ratio per method (loop time / vectorised time, measured in this process).
The loop implementations are the test oracles (``tests/baselines_oracles.py``).
Run: ``python packages/optscale-baselines/benchmarks/bench_baselines.py [--problems P]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import baselines_oracles as oracle
from optscale_baselines import (
    AdaptiveSC,
    BestOfN,
    DifficultyAdaptiveSC,
    EarlyStoppingSC,
    MRThinking,
    SelfConsistency,
    WeightedSelfConsistency,
)

K = 64


def timed(work: Callable[[], object]) -> float:
    """Wall-clock seconds of one call of ``work``."""
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def loops(view: oracle.View, ns: range) -> dict[str, Callable[[], object]]:
    """Per-problem loop versions of every method, over all N."""
    problems = range(view.answer_ids.shape[0])
    rows = [oracle.answers(view, p) for p in problems]
    scores = [list(view.scores[p]) for p in problems]
    empty = [list(view.empty[p]) for p in problems]
    return {
        "bon": lambda: [oracle.bon_paper(scores[p], empty[p], n) for n in ns for p in problems],
        "sc": lambda: [oracle.majority(rows[p][:n], False) for n in ns for p in problems],
        "wsc-sum": lambda: [
            oracle.wsc(rows[p], scores[p], n, "sum", False) for n in ns for p in problems
        ],
        "esc": lambda: [oracle.esc(rows[p], 5, n, False) for n in ns for p in problems],
        "asc": lambda: [oracle.asc(rows[p], 0.95, n, False) for n in ns for p in problems],
        "dsc": lambda: [oracle.dsc_paper(view, n, random.Random(42), 4) for n in ns],
        "mr-thinking": lambda: [rows[p][n - 1] for n in ns for p in problems],
    }


def vectorised(view: oracle.View, ns: range) -> dict[str, Callable[[], object]]:
    """Run the package's policies over all N."""
    return {
        "bon": lambda: [BestOfN(n).run(view) for n in ns],
        "sc": lambda: [SelfConsistency(n).run(view) for n in ns],
        "wsc-sum": lambda: [WeightedSelfConsistency(n).run(view) for n in ns],
        "esc": lambda: [EarlyStoppingSC(5, n).run(view) for n in ns],
        "asc": lambda: [AdaptiveSC(0.95, n).run(view) for n in ns],
        "dsc": lambda: [DifficultyAdaptiveSC(n).run(view) for n in ns],
        "mr-thinking": lambda: [MRThinking(n).run(view) for n in ns],
    }


def main() -> None:
    """Time every method both ways and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=1319, help="pool rows (default 1319)")
    args = parser.parse_args()
    view = oracle.random_view(np.random.default_rng(0), args.problems, K)
    ns = range(1, K + 1)
    fast = vectorised(view, ns)
    slow = loops(view, ns)
    print(f"pool {args.problems} x {K}, N = 1..{K}; ratio = loop time / vectorised time")
    for name, run in fast.items():
        t_fast = timed(run)
        t_slow = timed(slow[name])
        print(f"{name}: {t_slow / t_fast:.1f}x  (loop {t_slow:.2f} s, vectorised {t_fast:.3f} s)")


if __name__ == "__main__":
    main()
