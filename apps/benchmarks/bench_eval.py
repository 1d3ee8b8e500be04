"""Cost of the evaluation engine: every method at every budget N = 1..K over R orders.

Run: ``.venv/bin/python apps/benchmarks/bench_eval.py`` (``--skip-target`` leaves out the big
run; ``--problems P --samples K --orders R [--methods ...]`` runs one size and prints JSON).
The pool is simulated (labelled so): per-problem difficulty from a Beta law, correct samples
scoring higher, a few wrong answers. Every size runs in its own process, with one BLAS thread, so
peak memory and time are its own. Reported:

1. the speed ratio of the one-run path (methods whose policies declare ``PrefixPolicy``) against
   replaying them budget by budget, in the same process;
2. the cost of every method at three sizes, per problem x sample x order, and what that growth
   predicts at the target size;
3. the target run: 10,000 problems x 256 samples, every N in 1..256, 100 orders, with the
   methods that reach it; the others are listed with their predicted time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
from optscale_apps.methods import catalogue, resolve
from optscale_math import Decisions, Policy, PrefixPolicy, VerifyOrder, ViewLike
from optscale_pools import EvalPool, Method, PoolView, evaluate

SIZES = ((50, 8, 5), (100, 8, 10), (100, 16, 10))
"""(problems, samples, orders) of the growth runs (every method): P x R grows 4x, then K 2x.

Small on purpose: the sequential OptScale rules and the batch budget re-fit a score law per
wave and setting, and cost minutes already at the largest of these."""
TARGET = (10_000, 256, 100)
"""(problems, samples, orders) of the target run."""
SCALING = ("BoN", "SC", "ESC")
"""Methods run at the target size: their policies declare ``PrefixPolicy`` (Threshold does too,
but its 36 settings cost 36 runs; it is extrapolated like the methods replayed per budget)."""
RATIO_METHODS = ("BoN", "SC", "ESC", "Threshold")
"""Methods of the ratio run: every method on the one-run path."""
RATIO_SIZE = (300, 64, 10)
"""Size of the ratio run (one-run path against a replay per budget)."""
N_RESAMPLES = 200
"""Bootstrap draws per interval in every run (the default 2000 costs ten times more)."""


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


class _Budgetwise:
    """A policy with only the ``Policy`` members: the engine replays it budget by budget."""

    def __init__(self, inner: Policy) -> None:
        self.inner = inner
        self.name = inner.name
        self.rows_independent = inner.rows_independent
        self.verify_order: VerifyOrder = inner.verify_order

    def run(self, view: ViewLike) -> Decisions:
        """Decide as the wrapped policy."""
        return self.inner.run(view)

    @classmethod
    def grid(cls) -> list[dict[str, object]]:
        """No settings of its own (the method carries the grid)."""
        return [{}]


def _timed(pool: EvalPool, methods: list[Method], orders: int) -> float:
    start = time.perf_counter()
    evaluate(pool, methods, orders=orders, seed=0, n_resamples=N_RESAMPLES)
    return time.perf_counter() - start


def run_ratio() -> dict[str, float]:
    """Seconds of the one-run path and of a replay per budget, same methods and pool."""
    problems, samples, orders = RATIO_SIZE
    pool = simulated_pool(problems, samples)
    methods, _ = resolve(list(RATIO_METHODS), catalogue(), has_priors=True)
    wrapped = [replace(m, make=lambda n, s, make=m.make: _Budgetwise(make(n, s))) for m in methods]
    return {"one_run": _timed(pool, methods, orders), "per_budget": _timed(pool, wrapped, orders)}


def run_one(n_problems: int, n_samples: int, n_orders: int, names: list[str] | None) -> dict:
    """Evaluate each method at every budget (oracles timed apart); seconds and peak RSS."""
    pool = simulated_pool(n_problems, n_samples)
    methods, _ = resolve(names, catalogue(), has_priors=True)
    oracles = _timed(pool, [], n_orders)
    seconds = {m.name: max(0.0, _timed(pool, [m], n_orders) - oracles) for m in methods}
    one_run = [m.name for m in methods if isinstance(m.make(n_samples, m.grid[0]), PrefixPolicy)]
    return {
        "one_run": one_run,
        "problems": n_problems,
        "samples": n_samples,
        "orders": n_orders,
        "oracles": oracles,
        "methods": seconds,
        "seconds": oracles + sum(seconds.values()),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_whole(n_problems: int, n_samples: int, n_orders: int, names: list[str]) -> dict:
    """One evaluation of ``names`` with the oracles, as a user runs it; seconds and peak RSS."""
    pool = simulated_pool(n_problems, n_samples)
    methods, _ = resolve(names, catalogue(), has_priors=True)
    seconds = _timed(pool, methods, n_orders)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mib": usage.ru_maxrss / 1024,
    }


def _child(*args: str) -> dict:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, __file__, *args]
    done = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=7200, env=env
    )
    result: dict = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Run the ratio, the three growth sizes and the target, each in a fresh process."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--problems", type=int)
    parser.add_argument("--samples", type=int)
    parser.add_argument("--orders", type=int)
    parser.add_argument("--methods", nargs="+")
    parser.add_argument("--ratio", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--whole", action="store_true", help="one evaluation, not per method")
    parser.add_argument("--skip-target", action="store_true")
    args, _ = parser.parse_known_args()
    if args.ratio:
        print(json.dumps(run_ratio()))
        return
    if args.problems and args.samples and args.orders and args.whole:
        names = list(args.methods or SCALING)
        print(json.dumps(run_whole(args.problems, args.samples, args.orders, names)))
        return
    if args.problems and args.samples and args.orders:
        print(json.dumps(run_one(args.problems, args.samples, args.orders, args.methods)))
        return
    print(f"engine bench (SIMULATED pool): every N in 1..K, {N_RESAMPLES} bootstrap draws")
    ratio = _child("--ratio")
    p, k, r = RATIO_SIZE
    print(
        f"ratio one run vs replay per budget ({', '.join(RATIO_METHODS)}; P={p} K={k} R={r}): "
        f"{ratio['per_budget'] / ratio['one_run']:.1f}x "
        f"({ratio['one_run']:.1f} s vs {ratio['per_budget']:.1f} s)"
    )
    rows = []
    for problems, samples, orders in SIZES:
        row = _child(
            "--problems", str(problems), "--samples", str(samples), "--orders", str(orders)
        )
        cells = problems * samples * orders
        rows.append(row)
        print(
            f"P={problems:>5} K={samples:>4} R={orders:>4}: {row['seconds']:7.1f} s, "
            f"peak RSS {row['peak_rss_mib']:6.0f} MiB, "
            f"{1e6 * row['seconds'] / cells:6.2f} us per problem x sample x order"
        )
    _growth(rows)
    if args.skip_target:
        return
    problems, samples, orders = TARGET
    sizes = ("--problems", str(problems), "--samples", str(samples), "--orders", str(orders))
    row = _child(*sizes, "--whole", "--methods", *SCALING)
    left_out = [name for name in rows[-1]["methods"] if name not in SCALING]
    print(
        f"TARGET P={problems} K={samples} R={orders}, every N in 1..{samples}, one evaluation: "
        f"{row['seconds']:.0f} s wall, {row['cpu_seconds']:.0f} s CPU (the process's own, "
        f"whatever else runs on the machine), peak RSS {row['peak_rss_mib']:.0f} MiB; "
        f"methods at full size: {', '.join(SCALING)} and the oracles; "
        f"not run at full size (see the extrapolation above): {', '.join(left_out)}"
    )


def _growth(rows: list[dict]) -> None:
    """Per method: seconds at each size, and a linear extrapolation to the target.

    A method on the one-run path costs about ``P R K`` (one run, then every budget read off);
    one replayed budget by budget about ``P R K^2`` (a run of up to ``K`` samples per budget).
    """
    last = rows[-1]
    problems, samples, orders = TARGET
    cells = (problems * samples * orders) / (last["problems"] * last["samples"] * last["orders"])
    print(
        "per method, seconds at each size, extrapolated to the target "
        "(P R K on the one-run path, P R K^2 per budget):"
    )
    for name, seconds in last["methods"].items():
        scale = cells * (1 if name in last["one_run"] else samples / last["samples"])
        steps = " -> ".join(f"{row['methods'][name]:.2f}" for row in rows)
        path = "one run" if name in last["one_run"] else "per budget"
        print(f"  {name:<18} {steps} s ({path}), target ~{seconds * scale / 60:,.0f} min")


if __name__ == "__main__":
    main()
