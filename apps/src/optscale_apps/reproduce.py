"""``optscale-reproduce``: the paper's table, curves and plots for one dataset, in one mode.

The first line of output says whether the pool is REAL (and where it is) or SIMULATED.
Outputs go to ``OUT/paper/`` or ``OUT/fair/`` so the two modes never overwrite each other.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from threadpoolctl import threadpool_limits

from optscale_apps import __version__
from optscale_apps.datasets import DATASETS, POOL_FILE_PATTERN


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line interface of ``optscale-reproduce``."""
    parser = argparse.ArgumentParser(
        prog="optscale-reproduce",
        description=(
            "Reproduce the OptScale paper on one dataset. Uses the real pool when given or found "
            f"under --pools-dir ({POOL_FILE_PATTERN.format(kind='par', key='<dataset>')} and "
            f"{POOL_FILE_PATTERN.format(kind='seq', key='<dataset>')}, from the paper's Google "
            "Drive folder), otherwise a SIMULATED pool. Writes OUT/<mode>/table.{csv,md,tex}, "
            "plots and, in paper mode, curves.csv and optscale_cells.csv."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--dataset", required=True, choices=sorted(DATASETS), help="dataset")
    parser.add_argument(
        "--mode",
        required=True,
        choices=("paper", "fair"),
        help="paper: upstream's rules and numerics; fair: random orders and cross-fitting",
    )
    parser.add_argument("--out", required=True, type=Path, help="output folder (e.g. results/DS)")
    parser.add_argument("--pool", type=Path, help="parallel pool in upstream format")
    parser.add_argument("--seq-pool", type=Path, help="sequential pool (MR-Thinking)")
    parser.add_argument("--prompts", type=Path, help="prompts file (default: upstream's)")
    priors = parser.add_mutually_exclusive_group()
    priors.add_argument("--priors", type=Path, help="OptScale^t priors: JSON list of [mu, sigma]")
    priors.add_argument(
        "--published-priors",
        action="store_true",
        help="use the paper's published priors (BoN_OptScale/<DS>_train_mu_sigma.json)",
    )
    parser.add_argument(
        "--pools-dir",
        type=Path,
        default=Path("data/pools"),
        help="where real pools are looked for (default: data/pools)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        help=(
            "simulated pools, grades, predictor features and priors (default: the data cache "
            "of optscale-pools: $OPTSCALE_CACHE or the repository's data/cache)"
        ),
    )
    parser.add_argument(
        "--orders", type=int, default=100, help="fair mode: random sample orders R (default 100)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of simulation and orders")
    return parser


def _default_cache() -> Path:
    from optscale_pools import cache_root

    return Path(cache_root())


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``optscale-reproduce``; return the exit status (non-zero with a one-line error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.orders < 1:
        parser.error("--orders must be at least 1")
    from optscale_apps.run import RunConfig, run

    config = RunConfig(
        spec=DATASETS[args.dataset],
        mode=args.mode,
        out_dir=args.out / args.mode,
        pool=args.pool,
        seq_pool=args.seq_pool,
        prompts=args.prompts,
        priors=args.priors,
        published_priors=args.published_priors,
        pools_dir=args.pools_dir,
        cache_dir=args.cache_dir if args.cache_dir is not None else _default_cache(),
        orders=args.orders,
        seed=args.seed,
    )
    start = time.perf_counter()
    try:
        # Every array here is small: one BLAS thread per process avoids oversubscription, which
        # slows scipy's per-problem L-BFGS-B fits several-fold on a busy machine.
        with threadpool_limits(limits=1):
            written = run(config)
    except (ValueError, OSError, KeyError) as error:
        print(f"optscale-reproduce: error: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    _print_headline(written)
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0


def _print_headline(written: Sequence[Path]) -> None:
    """Print the run's main table (its Markdown form), so the numbers show without opening files."""
    for path in written:
        if path.name == "table.md":
            print()
            print(path.read_text(encoding="utf-8"))
            return


if __name__ == "__main__":
    sys.exit(main())
