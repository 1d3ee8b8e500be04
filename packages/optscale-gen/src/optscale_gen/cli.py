"""``optscale-gen``: make upstream-format pools from a prompts file, resumably.

``generate`` samples completions, counts their tokens and scores them with a PRM, optionally in
adaptive waves where optscale-math's Allocator stops each problem; ``score`` re-scores an existing
pool. Both write ``OUT/pool.json``, journal every finished chunk under a run directory (default
``OUT/run``) and resume from it when restarted with the same settings.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from optscale_gen import __version__
from optscale_gen._backend import GenerationBackend, SamplingConfig
from optscale_gen._journal import Journal, JournalError
from optscale_gen._output import pool_items, write_pool
from optscale_gen._prm import PrmScorer
from optscale_gen._runner import AllocatorLike, RunPlan, generate_samples, score_samples
from optscale_gen._serve_cli import add_serve_parser

POOL_FILE = "pool.json"
"""Name of the pool ``generate`` and ``score`` write into their ``--out`` folder."""
RUN_DIR = "run"
"""Name of the default journal directory inside the ``--out`` folder."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (1 with a one-line error on bad input)."""
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (ImportError, OSError, ValueError) as error:
        print(f"optscale-gen: error: {error}", file=sys.stderr)
        return 1
    except RecursionError:  # a reader of another package met JSON nested absurdly deep
        print("optscale-gen: error: an input file is nested too deeply to read", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (``--help`` documents every option)."""
    parser = argparse.ArgumentParser(prog="optscale-gen", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser(
        "generate",
        help="sample, count and PRM-score completions into an upstream-format pool",
        description="Sample completions for every problem of a prompts file, count their tokens "
        "with the generator's tokenizer, score them with a PRM, and write an upstream pool.",
    )
    _common(generate)
    generate.add_argument("--model", required=True, help="generator model directory or name")
    generate.add_argument("--n", type=int, default=64, help="samples per problem (adaptive: cap)")
    generate.add_argument(
        "--sequential", action="store_true", help="MR-Thinking rounds (sample j sees j-1's answer)"
    )
    generate.add_argument("--seed", type=int, default=0, help="run seed (per-sample seeds)")
    generate.add_argument(
        "--backend", choices=["vllm", "transformers"], default="vllm", help="generation engine"
    )
    generate.add_argument("--device", default="cpu", help="torch device (transformers backend)")
    sampling = generate.add_argument_group("sampling (defaults: upstream)")
    sampling.add_argument("--temperature", type=float, default=0.7)
    sampling.add_argument("--top-p", type=float, default=0.95)
    sampling.add_argument("--max-new-tokens", type=int, default=10000)
    engine = generate.add_argument_group("vLLM engine (passed through to vllm.LLM)")
    engine.add_argument("--tensor-parallel-size", type=int, default=1)
    engine.add_argument("--pipeline-parallel-size", type=int, default=1)
    engine.add_argument(
        "--distributed-executor-backend",
        choices=["mp", "ray"],
        default=None,
        help="ray for several nodes (start the Ray cluster first)",
    )
    engine.add_argument("--gpu-memory-utilization", type=float, default=0.9)
    engine.add_argument("--max-model-len", type=int, default=10000)
    shards = generate.add_argument_group("data parallel: one process per shard, same --run-dir")
    shards.add_argument("--num-shards", type=int, default=1)
    shards.add_argument(
        "--shard-index",
        type=int,
        default=None,
        help="handle problems i with i %% num-shards == index; writes the journal only",
    )
    adaptive = generate.add_argument_group("adaptive sampling (optscale-math Allocator)")
    adaptive.add_argument("--adaptive", action="store_true", help="stop each problem early")
    adaptive.add_argument("--peek", type=int, default=3, help="samples before the first fit")
    adaptive.add_argument(
        "--target", type=float, default=0.9, help="score the best sample should reach (0..1)"
    )
    adaptive.add_argument("--percentile", type=float, default=0.05)
    adaptive.add_argument("--max-wave", type=int, default=None, help="new samples per wave, cap")
    adaptive.add_argument("--priors", type=Path, default=None, help="JSON [[mu, sigma], ...]")
    generate.set_defaults(func=_generate)

    score = commands.add_parser(
        "score",
        help="(re-)score an existing upstream pool with a PRM",
        description="Score every completion of an upstream pool with a PRM; token counts are kept.",
    )
    score.add_argument("pool", type=Path, metavar="POOL", help="upstream pool to score")
    _common(score)
    score.set_defaults(func=_score)
    add_serve_parser(commands)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prompts", type=Path, required=True, help="prompts file (JSON list)")
    parser.add_argument("--prm", required=True, help="PRM model directory or name")
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help=f"output folder (gets {POOL_FILE}, and the journal in {RUN_DIR}/)",
    )
    parser.add_argument(
        "--run-dir", type=Path, default=None, help=f"journal directory (default: OUT/{RUN_DIR})"
    )
    parser.add_argument("--chunk-size", type=int, default=64, help="samples per journal write")
    parser.add_argument("--prm-batch-size", type=int, default=8)
    parser.add_argument("--prm-device", default="cpu")
    parser.add_argument("--dtype", default="auto", help="weights dtype, e.g. bfloat16")
    parser.add_argument(
        "--trust-remote-code", action="store_true", help="needed by Qwen2.5-Math-PRM checkpoints"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


class _Lazy:
    """Build a model on first use: a resumed run that finds every sample journaled loads none."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._value: Any = None

    def get(self) -> Any:
        if self._value is None:
            self._value = self._factory()
        return self._value


class _LazyBackend(_Lazy):
    def generate(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[str]:
        backend: GenerationBackend = self.get()
        return backend.generate(prompts, seeds)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        backend: GenerationBackend = self.get()
        return backend.count_tokens(texts)


class _LazyScorer(_Lazy):
    def score(
        self, problems: Sequence[str], completions: Sequence[str]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        scorer: PrmScorer = self.get()
        return scorer.score(problems, completions)


def _generate(args: argparse.Namespace) -> None:
    from optscale_pools import read_prompts

    prompts = read_prompts(args.prompts)
    sampling = SamplingConfig(args.temperature, args.top_p, args.max_new_tokens)
    plan = RunPlan(args.n, args.sequential, args.seed, args.chunk_size, args.max_wave)
    if args.num_shards < 1 or (
        args.shard_index is not None and not 0 <= args.shard_index < args.num_shards
    ):
        raise ValueError(f"--shard-index must be in [0, {args.num_shards}) and --num-shards >= 1")
    settings: dict[str, Any] = {
        "command": "generate",
        "prompts_sha256": _sha256(args.prompts),
        "model": args.model,
        "prm": args.prm,
        "n": args.n,
        "sequential": args.sequential,
        "seed": args.seed,
        "sampling": [sampling.temperature, sampling.top_p, sampling.max_new_tokens],
        "adaptive": None,
    }
    allocator = None
    if args.adaptive:
        allocator = _allocators(args, len(prompts.problems))
        settings["adaptive"] = {
            "peek": args.peek,
            "target": args.target,
            "percentile": args.percentile,
            "max_wave": args.max_wave,
            "priors_sha256": None if args.priors is None else _sha256(args.priors),
        }
    sharded = args.shard_index is not None
    writer = f"samples-shard{args.shard_index}of{args.num_shards}.jsonl" if sharded else None
    journal = _journal(args, settings, writer)
    backend = _LazyBackend(lambda: _make_backend(args, sampling))
    indices = None
    if sharded:
        indices = range(args.shard_index, len(prompts.problems), args.num_shards)
    with _progress(args.no_progress, "samples") as update:
        records = generate_samples(
            prompts.problems,
            backend,
            _LazyScorer(lambda: _make_scorer(args)),
            journal,
            plan,
            allocator=allocator,
            indices=indices,
            progress=update,
        )
    if sharded:
        print(f"shard {args.shard_index}/{args.num_shards} done; journal in {journal.directory}")
        return
    written = write_pool(args.out / POOL_FILE, pool_items(prompts.problems, records))
    counts = [len(records[i]) for i in range(len(prompts.problems))]
    print(f"wrote {written}: {len(counts)} problems, {sum(counts)} samples")


def _score(args: argparse.Namespace) -> None:
    from optscale_pools import read_prompts, read_upstream_pool

    prompts = read_prompts(args.prompts)
    pool = read_upstream_pool(args.pool, prompts)
    if pool.completions is None:
        raise ValueError(f"{args.pool}: the pool holds no completion texts to score")
    settings = {
        "command": "score",
        "prompts_sha256": _sha256(args.prompts),
        "pool_sha256": pool.sha256,
        "prm": args.prm,
    }
    journal = _journal(args, settings, None)
    with _progress(args.no_progress, "scored") as update:
        records = score_samples(
            pool.problems,
            pool.completions,
            pool.tokens.tolist(),
            _LazyScorer(lambda: _make_scorer(args)),
            journal,
            chunk_size=args.chunk_size,
            progress=update,
        )
    written = write_pool(args.out / POOL_FILE, pool_items(pool.problems, records))
    print(f"wrote {written}: {pool.n_problems} problems, {pool.scores.size} samples")


def _journal(args: argparse.Namespace, settings: dict[str, Any], writer: str | None) -> Journal:
    if args.out.exists() and not args.out.is_dir():
        raise ValueError(f"{args.out}: --out names a folder (the pool goes to OUT/{POOL_FILE})")
    run_dir = args.run_dir or args.out / RUN_DIR
    journal = Journal(run_dir) if writer is None else Journal(run_dir, writer)
    try:
        journal.check_settings(settings)
    except JournalError as error:
        raise ValueError(str(error)) from error
    return journal


def _make_backend(args: argparse.Namespace, sampling: SamplingConfig) -> GenerationBackend:
    if args.backend == "transformers":
        from optscale_gen._backend import TransformersBackend

        return TransformersBackend.from_pretrained(
            args.model, sampling, device=args.device, dtype=args.dtype
        )
    from optscale_gen._vllm import VLLMBackend

    return VLLMBackend(
        args.model,
        sampling,
        tensor_parallel_size=args.tensor_parallel_size,
        pipeline_parallel_size=args.pipeline_parallel_size,
        distributed_executor_backend=args.distributed_executor_backend,
        gpu_memory_utilization=args.gpu_memory_utilization,
        max_model_len=args.max_model_len,
        dtype=args.dtype,
        engine_kwargs={"trust_remote_code": args.trust_remote_code},
    )


def _make_scorer(args: argparse.Namespace) -> PrmScorer:
    return PrmScorer.from_pretrained(
        args.prm,
        batch_size=args.prm_batch_size,
        device=args.prm_device,
        dtype=args.dtype,
        trust_remote_code=args.trust_remote_code,
    )


def _allocators(args: argparse.Namespace, n_problems: int) -> Callable[[int], AllocatorLike]:
    from optscale_math import Allocator

    priors = None if args.priors is None else _read_priors(args.priors, n_problems)

    def make(index: int | None) -> AllocatorLike:
        prior = priors[index] if priors is not None and index is not None else (None, None)
        allocator: AllocatorLike = Allocator(
            target=args.target,
            percentile=args.percentile,
            peek=args.peek,
            max_n=args.n,
            prior_mu=prior[0],
            prior_sigma=prior[1],
        )
        return allocator

    # Build each once now: a bad option or prior fails before the run directory is written.
    for index in [None, *range(n_problems if priors is not None else 0)]:
        try:
            make(index)
        except ValueError as error:
            where = "adaptive options" if index is None else f"{args.priors}: record {index}"
            raise ValueError(f"{where}: {error}") from None
    return make


def _read_priors(path: Path, n_problems: int) -> list[list[float]]:
    """Read ``[[mu, sigma], ...]``, one pair of finite numbers per problem."""
    try:
        priors = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: invalid JSON ({error})") from None
    except RecursionError:
        raise ValueError(f"{path}: invalid JSON (nested too deeply)") from None
    if not isinstance(priors, list) or len(priors) != n_problems:
        raise ValueError(f"{path}: expected a JSON list of {n_problems} [mu, sigma]")
    for index, pair in enumerate(priors):
        numbers = isinstance(pair, list) and len(pair) == 2
        if not numbers or any(isinstance(v, bool) or not isinstance(v, int | float) for v in pair):
            raise ValueError(f"{path}: record {index}: expected [mu, sigma] numbers, got {pair!r}")
    return priors


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextmanager
def _progress(disable: bool, unit: str) -> Iterator[Callable[[int, int], None]]:
    """Show a tqdm bar whose total grows as waves are planned; yield the runner's callback."""
    from tqdm import tqdm

    with tqdm(unit=unit, disable=disable, dynamic_ncols=True) as bar:

        def update(finished: int, planned: int) -> None:
            bar.total = planned
            bar.update(finished)

        yield update


if __name__ == "__main__":
    raise SystemExit(main())
