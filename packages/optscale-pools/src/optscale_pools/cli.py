"""``optscale-pools``: fetch the paper's data, grade a pool, simulate a pool.

Subcommands:

* ``fetch [--only GLOB] [--cache-dir DIR] [--deadline S]``: download and verify the files of
  ``data/manifest.json``;
* ``grade POOL --prompts PROMPTS [--mode paper|fair] [--problem-deadline S] [--run-deadline S]``:
  grade a pool (cached) and print a summary;
* ``simulate --dataset DS [--seed S] [--out DIR]``: write a SIMULATED pool in the upstream format.

Bad input ends the command with exit status 1 and a one-line error on stderr, a usage error with
exit status 2; Ctrl-C with exit status 130, without a traceback.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from optscale_pools.download import ChecksumError
from optscale_pools.fetch import FILE_DEADLINE, cache_root, data_file, fetch
from optscale_pools.grading import PROBLEM_DEADLINE, RUN_DEADLINE, grade_pool
from optscale_pools.jsonl import read_pool_jsonl
from optscale_pools.pool import Pool, PoolFormatError
from optscale_pools.upstream import read_upstream_pool
from optscale_pools.view import make_view

DATASET_NAMES = ("aime24", "aime25", "amc23", "math500", "gsm8k")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``optscale-pools`` (documented in ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="optscale-pools",
        description="Completion pools for OptScale: fetch data, grade pools, simulate pools.",
    )
    version = importlib.metadata.version("optscale-pools")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version}")
    commands = parser.add_subparsers(dest="command", required=True)

    fetch_parser = commands.add_parser(
        "fetch",
        help="download the upstream files of data/manifest.json, checking every sha256",
        description=(
            "Download the upstream files listed in data/manifest.json into the cache "
            "($OPTSCALE_CACHE, else data/cache of the repository), verifying each sha256. "
            "Set OPTSCALE_DATA_MIRROR to a folder or URL to download from a mirror."
        ),
    )
    fetch_parser.add_argument("--only", metavar="GLOB", help="only paths matching this glob")
    fetch_parser.add_argument(
        "--cache-dir", dest="cache", metavar="DIR", type=Path, help="cache folder"
    )
    _add_seconds(fetch_parser, "--deadline", FILE_DEADLINE, "one file may take, retries included")
    fetch_parser.add_argument("--no-progress", action="store_true", help="no progress bars")

    grade_parser = commands.add_parser(
        "grade",
        help="grade a pool with math-verify (cached) and print a summary",
        description=(
            "Grade every sample of a pool (upstream JSON, or JSONL when the name ends in "
            ".jsonl) against the gold answers of PROMPTS, caching the result, and print: "
            "problems, samples per problem K, accuracy of the first sample, mean tokens per "
            "sample and the number of distinct answers per problem in the chosen mode."
        ),
    )
    grade_parser.add_argument("pool", type=Path, metavar="POOL", help="pool file")
    grade_parser.add_argument(
        "--prompts",
        type=Path,
        required=True,
        metavar="PATH",
        help="prompts file the pool must match",
    )
    grade_parser.add_argument(
        "--mode",
        choices=("paper", "fair"),
        default="paper",
        help="answer ids: raw strings (paper) or math-verify clusters (fair)",
    )
    grade_parser.add_argument(
        "--workers", type=_positive, default=None, metavar="N", help="grading processes"
    )
    grade_parser.add_argument(
        "--cache-dir",
        dest="cache",
        type=Path,
        default=None,
        metavar="DIR",
        help="grades cache folder",
    )
    _add_seconds(grade_parser, "--problem-deadline", PROBLEM_DEADLINE, "one problem may take")
    _add_seconds(grade_parser, "--run-deadline", RUN_DEADLINE, "the whole grading may take")
    grade_parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    simulate_parser = commands.add_parser(
        "simulate",
        help="write a SIMULATED pool calibrated on the published figures",
        description=(
            "Write a SIMULATED parallel pool (and a sequential one for MR-Thinking) for a "
            "dataset in the upstream format, deterministic by seed."
        ),
    )
    simulate_parser.add_argument("--dataset", choices=DATASET_NAMES, required=True)
    simulate_parser.add_argument("--seed", type=int, default=0, help="random seed")
    simulate_parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default <cache>/simulated/seed<SEED>)",
    )
    simulate_parser.add_argument(
        "--prompts",
        type=Path,
        default=None,
        help="prompts file (default: the dataset's upstream prompts, fetched if needed)",
    )
    return parser


def _add_seconds(parser: argparse.ArgumentParser, flag: str, default: float, what: str) -> None:
    """Add an option taking a positive number of seconds."""
    help_text = f"seconds {what} (default {default:g}); past it the work is cut short"
    parser.add_argument(flag, type=_seconds, default=default, metavar="S", help=help_text)


def _seconds(text: str) -> float:
    """Parse a positive, finite number of seconds (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        msg = f"expected a positive number of seconds, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _positive(text: str) -> int:
    """Parse a positive integer (argparse type)."""
    if not text.isdigit() or int(text) < 1:
        msg = f"expected a positive integer, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return int(text)


def read_pool(path: Path, prompts: Path) -> Pool:
    """Read an upstream JSON pool, or a JSONL one when the name ends in ``.jsonl``."""
    if path.suffix == ".jsonl":
        return read_pool_jsonl(path, prompts, keep_completions=False)
    return read_upstream_pool(path, prompts, keep_completions=False)


def _grade(args: argparse.Namespace) -> None:
    pool = read_pool(args.pool, args.prompts)
    grades = grade_pool(
        pool,
        cache=args.cache,
        workers=args.workers,
        problem_deadline=args.problem_deadline,
        run_deadline=args.run_deadline,
        progress=not args.no_progress,
    )
    view = make_view(pool, grades, mode=args.mode)
    distinct = [len(set(row[row >= 0].tolist())) for row in view.answer_ids]
    label = "SIMULATED pool" if pool.simulated else "pool"
    print(f"{label}: {pool.source}")
    print(f"problems: {pool.n_problems}")
    print(f"samples per problem K: {pool.n_samples}")
    print(f"first-sample accuracy: {float(np.mean(grades.correct[:, 0])):.4f}")
    print(f"mean tokens per sample: {float(np.mean(pool.tokens)):.1f}")
    print(f"mean distinct answers per problem ({args.mode}): {float(np.mean(distinct)):.2f}")
    if grades.failed:
        print(f"problems whose grading failed or timed out (counted wrong): {list(grades.failed)}")


def _simulate(args: argparse.Namespace) -> None:
    from optscale_pools.simulate import DATASETS, simulate_dataset

    prompts = args.prompts if args.prompts is not None else data_file(DATASETS[args.dataset][1])
    out = args.out if args.out is not None else cache_root() / "simulated" / f"seed{args.seed}"
    out.mkdir(parents=True, exist_ok=True)
    written = simulate_dataset(args.dataset, seed=args.seed, out_dir=out, prompts=prompts)
    for path in written:
        print(f"SIMULATED pool written: {path}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "fetch":
            paths = fetch(
                args.only, cache=args.cache, deadline=args.deadline, progress=not args.no_progress
            )
            where = args.cache if args.cache is not None else cache_root()
            print(f"{len(paths)} files verified under {where}")
        elif args.command == "grade":
            _grade(args)
        else:
            _simulate(args)
    except (PoolFormatError, ChecksumError, OSError, ValueError, KeyError) as error:
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"optscale-pools {args.command}: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"optscale-pools {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
