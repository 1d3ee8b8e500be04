"""``optscale-eval``: evaluate every method on any pool at any budget, and write the report.

Exit status: 0 on success, 1 on bad input data, 2 on a usage error; errors are one line on
stderr and nothing is written.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from optscale_pools import EvalPool

PROG = "optscale-eval"


class UsageError(Exception):
    """A command-line mistake (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """Print one line and exit 2 (argparse prints the usage too; one line is clearer)."""
        print(f"{PROG}: error: {message} (see {PROG} --help)", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line interface of ``optscale-eval``."""
    parser = _Parser(
        prog=PROG,
        description=(
            "Evaluate test-time scaling methods on a pool of samples: every method at every "
            "budget N, hyperparameters cross-fitted, with bootstrap intervals, oracle bounds, "
            "per-problem N and plots. POOL: tidy CSV/JSONL/Parquet (one row per sample), "
            "search-and-learn JSONL, or an upstream JSON/JSONL pool (with --prompts)."
        ),
    )
    parser.add_argument("pool", metavar="POOL", type=Path, help="the pool file")
    parser.add_argument("--out", required=True, type=Path, help="output folder (replaced whole)")
    parser.add_argument("--prompts", type=Path, help="prompts file (problem text and gold)")
    parser.add_argument("--name", help="name in every caption (default: POOL's file stem)")
    parser.add_argument(
        "--methods", nargs="+", help="methods to run (default all): BoN SC WSC ESC ASC DSC ..."
    )
    parser.add_argument(
        "--budgets", nargs="+", help="budgets N, e.g. '1-8 16 32' (default every N in 1..K)"
    )
    parser.add_argument("--orders", type=int, default=100, help="random sample orders R")
    parser.add_argument("--seed", type=int, default=0, help="seed of orders, halves, bootstrap")
    parser.add_argument(
        "--selection",
        choices=("crossfit", "test-set"),
        default="crossfit",
        help="hyperparameter choice: cross-fitted (default) or on the test set (optimistic)",
    )
    parser.add_argument("--cache-dir", type=Path, help="grades cache (default: pools' cache)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {version('optscale-apps')}"
    )
    return parser


def parse_budgets(values: Sequence[str] | None) -> list[int] | None:
    """Budgets from ``'8'``, ``'1-8'`` and comma lists; ``None`` when not given.

    Raises
    ------
    UsageError
        On text that is not a budget or a range ``a-b`` with ``a <= b``.
    """
    if values is None:
        return None
    budgets: list[int] = []
    for token in (part for value in values for part in value.split(",") if part):
        low, _, high = token.partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            raise UsageError(f"--budgets: {token!r} is not a budget or a range like 1-8") from None
        if first > last:
            raise UsageError(f"--budgets: empty range {token!r}")
        budgets += range(first, last + 1)
    return budgets


def _method_names(values: Sequence[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [part for value in values for part in value.split(",") if part]


def _unit_scores(pool: EvalPool) -> bool:
    """Say whether every real (not padded) score lies in [0, 1]."""
    scores = pool.view.scores[pool.sample_mask]
    return bool(((scores >= 0) & (scores <= 1)).all())


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``optscale-eval``; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    from optscale_pools import cache_root, check_budgets, evaluate
    from threadpoolctl import threadpool_limits

    from optscale_apps.eval_load import load_eval_pool
    from optscale_apps.eval_output import write_outputs
    from optscale_apps.methods import catalogue, resolve

    if args.orders < 1:
        raise UsageError(f"--orders must be at least 1, got {args.orders}")
    budgets = parse_budgets(args.budgets)
    specs = catalogue()
    try:
        resolve(_method_names(args.methods), specs, has_priors=True)
    except ValueError as error:
        raise UsageError(f"--methods: {error}") from None
    start = time.perf_counter()
    name = args.name or args.pool.stem
    cache = args.cache_dir if args.cache_dir is not None else Path(cache_root())
    pool = load_eval_pool(
        args.pool, prompts=args.prompts, name=name, cache_dir=cache, progress=not args.no_progress
    )
    try:
        chosen = check_budgets(budgets, pool.max_k)
    except ValueError as error:
        raise UsageError(f"--budgets: {error}") from None
    has_priors = bool(pool.view.prior_mu.size) and bool(
        (pool.view.prior_mu == pool.view.prior_mu).all()
    )
    methods, notices = resolve(_method_names(args.methods), specs, has_priors=has_priors)
    if pool.has_scores and not _unit_scores(pool):
        notices += [f"{m.name}: skipped, its score model needs scores in [0, 1]" for m in methods
                    if m.name.startswith("OptScale")]  # fmt: skip
        methods = [m for m in methods if not m.name.startswith("OptScale")]
    kind = "SIMULATED" if pool.simulated else "REAL"
    print(f"{kind} pool {name}: {pool.n_problems} problems, up to K = {pool.max_k} samples")
    with threadpool_limits(limits=1):
        evaluation = evaluate(
            pool,
            methods,
            budgets=chosen,
            orders=args.orders,
            seed=args.seed,
            selection=args.selection,
            progress=not args.no_progress,
        )
    notices = [*notices, *evaluation.notices]
    for line in notices:
        print(f"notice: {line}", file=sys.stderr)
    headline = write_outputs(evaluation, args.out, notices)
    print(f"wrote {args.out}/ in {time.perf_counter() - start:.1f} s")
    print("\n".join(headline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
