"""Read any supported pool for ``optscale-eval`` and check it is worth evaluating.

Formats, by extension and content: tidy ``.csv``/``.parquet``; ``.jsonl`` holding tidy rows,
search-and-learn lines (``completions`` and ``scores`` per problem) or the pool writer's
lines; ``.json`` in upstream format (with ``--prompts``). Upstream formats are graded with
math-verify (cached) and viewed as in fair mode (answers clustered by equivalence).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from optscale_pools import (
    EvalPool,
    PoolFormatError,
    grade_pool,
    read_pool_jsonl,
    read_prompts,
    read_search_and_learn,
    read_tidy,
    read_upstream_pool,
    tidy_pool,
)


class InputError(ValueError):
    """Bad input data (exit status 1): the message names file, record and field."""


def _first_record(path: Path) -> dict[str, object]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise InputError(f"{path}: record 0: not JSON ({error.msg})") from None
                return record if isinstance(record, dict) else {}
    raise InputError(f"{path}: empty pool: no records")


def _prompts_or_error(path: Path, prompts: Path | None) -> Path:
    if prompts is None:
        raise InputError(
            f"{path}: this pool format holds no gold answers: pass the prompts file with --prompts"
        )
    return prompts


def load_eval_pool(
    path: Path, *, prompts: Path | None, name: str, cache_dir: Path, progress: bool
) -> EvalPool:
    """Read ``path`` in whichever supported format it is, graded, as an evaluation pool.

    Raises
    ------
    InputError
        On unreadable or malformed input, a pool that does not match ``prompts`` (the message
        suggests ``--prompts``), an empty pool, or a pool of one sample per problem.
    """
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    grades_cache = cache_dir / "grades"
    try:
        if suffix in (".csv", ".parquet") or (
            suffix == ".jsonl" and "problem_id" in _first_record(path)
        ):
            golds = None if prompts is None else read_prompts(prompts).golds
            pool = tidy_pool(
                read_tidy(path), name=name, golds=golds, grade_cache=grades_cache, progress=progress
            )
        elif suffix in (".jsonl", ".json"):
            if suffix == ".jsonl" and "completions" in _first_record(path):
                upstream = read_search_and_learn(path, keep_completions=False)
            elif suffix == ".jsonl":
                upstream = read_pool_jsonl(
                    path, read_prompts(_prompts_or_error(path, prompts)), keep_completions=False
                )
            else:
                upstream = read_upstream_pool(
                    path, read_prompts(_prompts_or_error(path, prompts)), keep_completions=False
                )
            grades = grade_pool(upstream, cache=grades_cache, progress=progress)
            pool = EvalPool.from_pool(upstream, grades, name=name)
        else:
            raise InputError(f"{path}: unknown pool format {suffix!r} (csv, jsonl, parquet, json)")
    except PoolFormatError as error:
        message = str(error)
        if prompts is not None and ("prompt" in message or "problem" in message):
            message += f" (is {prompts} the prompts file of this pool? check --prompts)"
        raise InputError(message) from None
    check_worth_evaluating(pool, path)
    return pool


def check_worth_evaluating(pool: EvalPool, path: Path) -> None:
    """Refuse a pool of one sample per problem, or with scores that cannot rank samples.

    Raises
    ------
    InputError
        When every problem has one sample (nothing to scale), or every score is equal.
    """
    if pool.max_k < 2:
        raise InputError(
            f"{path}: field 'sample_index': every problem has K = 1 sample; "
            "test-time scaling needs at least 2"
        )
    if pool.has_scores:
        scores = pool.view.scores[pool.sample_mask]
        if scores.size and np.all(scores == scores[0]):
            raise InputError(
                f"{path}: field 'score': all {scores.size} scores equal {scores[0]!r}: they "
                "cannot rank samples (drop the column to evaluate vote-based methods only)"
            )
