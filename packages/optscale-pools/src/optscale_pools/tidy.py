"""The tidy pool format: one row per sample, from CSV, JSONL or Parquet, ready for evaluation.

Columns (names exact; order free):

- ``problem_id`` (required): any string; problems keep their order of first appearance.
- ``sample_index`` (required): integer ``>= 0``, the sampling order within the problem; each
  problem's indices must be ``0..K_p - 1`` (any row order in the file).
- ``answer`` (required): the extracted final answer; empty (or null) for none.
- ``tokens`` (required): completion tokens, integer ``>= 0``.
- ``score`` (optional): the verifier score, a finite number. Without the column, score-based
  methods are skipped. ``last_score`` (optional) defaults to ``score``.
- ``correct`` (optional): ``true``/``false`` (or 1/0). Without it, answers are graded with
  math-verify against ``gold`` (a column, constant per problem) or a prompts file's golds.

Problems may have different ``K_p`` (see [`EvalPool`][optscale_pools.EvalPool]). Parquet
needs pyarrow, which is not a dependency: a clear error says how to install it.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from optscale_math import NO_ANSWER

from optscale_pools.evaluation import EvalPool
from optscale_pools.grading import grade_pool
from optscale_pools.pool import Pool, PoolFormatError
from optscale_pools.protocol import PoolView

REQUIRED = ("problem_id", "sample_index", "answer", "tokens")
"""Columns every tidy file has."""
OPTIONAL = ("score", "last_score", "correct", "gold")
"""Columns a tidy file may have."""
TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


@dataclass(frozen=True)
class TidySamples:
    """A tidy file parsed into padded ``[P, K]`` arrays (``K`` the largest ``K_p``).

    ``answers`` is ``None`` where there is no answer (and in padding); ``correct`` and
    ``golds`` are ``None`` when the file does not carry them; ``scores`` is ``None`` without a
    ``score`` column.
    """

    source: str
    problem_ids: list[str]
    n_samples: np.ndarray[Any, np.dtype[np.int64]]
    answers: list[list[str | None]]
    tokens: np.ndarray[Any, np.dtype[np.int64]]
    scores: np.ndarray[Any, np.dtype[np.float64]] | None
    last_scores: np.ndarray[Any, np.dtype[np.float64]] | None
    correct: np.ndarray[Any, np.dtype[np.bool_]] | None
    golds: list[str] | None


def read_tidy(path: str | Path) -> TidySamples:
    """Read a tidy file (``.csv``, ``.jsonl`` or ``.parquet``) and check every record.

    Raises
    ------
    PoolFormatError
        Naming the file, the record (0-based data row) and the field, on a missing column, a
        bad value, a repeated or missing sample index, a gold that varies within a problem, or
        an empty file.
    """
    source = str(path)
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        records: Iterator[tuple[int, Mapping[str, Any]]] = _csv_records(Path(path))
    elif suffix == ".jsonl":
        records = _jsonl_records(Path(path))
    elif suffix == ".parquet":
        records = _parquet_records(Path(path))
    else:
        raise PoolFormatError(source, None, None, f"unknown tidy format {suffix!r}")
    return _assemble(source, records)


def _csv_records(path: Path) -> Iterator[tuple[int, Mapping[str, Any]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        _check_columns(str(path), reader.fieldnames or [])
        yield from enumerate(reader)


def _jsonl_records(path: Path) -> Iterator[tuple[int, Mapping[str, Any]]]:
    with path.open(encoding="utf-8") as handle:
        for index, line in enumerate(handle):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise PoolFormatError(str(path), index, None, f"not JSON ({error.msg})") from None
            if not isinstance(record, dict):
                raise PoolFormatError(str(path), index, None, "expected a JSON object")
            if index == 0:
                _check_columns(str(path), list(record))
            yield index, record


def _parquet_records(path: Path) -> Iterator[tuple[int, Mapping[str, Any]]]:
    try:
        import pyarrow.parquet as pq  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        detail = "reading Parquet needs pyarrow (pip install pyarrow), or save as CSV or JSONL"
        raise PoolFormatError(str(path), None, None, detail) from None
    table = pq.read_table(path)
    _check_columns(str(path), list(table.column_names))
    yield from enumerate(table.to_pylist())


def _check_columns(source: str, columns: Sequence[str]) -> None:
    for name in REQUIRED:
        if name not in columns:
            raise PoolFormatError(source, None, name, "required column missing")


def _assemble(source: str, records: Iterator[tuple[int, Mapping[str, Any]]]) -> TidySamples:
    rows: dict[str, dict[int, tuple[int, Mapping[str, Any]]]] = {}
    has: dict[str, bool] = {}
    for index, record in records:
        if not has:
            has = {name: name in record for name in OPTIONAL}
        problem = _text(source, index, record, "problem_id", required=True)
        sample = _integer(source, index, record, "sample_index")
        if sample in rows.setdefault(str(problem), {}):
            raise PoolFormatError(source, index, "sample_index", f"{sample} repeated")
        rows[str(problem)][sample] = (index, record)
    if not rows:
        raise PoolFormatError(source, None, None, "empty pool: no samples")
    ids = list(rows)
    counts = np.array([len(rows[p]) for p in ids], dtype=np.int64)
    shape = (len(ids), int(counts.max()))
    answers: list[list[str | None]] = [[None] * shape[1] for _ in ids]
    tokens = np.zeros(shape, dtype=np.int64)
    scores = np.full(shape, np.nan) if has["score"] else None
    last = np.full(shape, np.nan) if has["score"] else None
    correct = np.zeros(shape, dtype=bool) if has["correct"] else None
    golds: list[str] | None = [] if has["gold"] else None
    for p, problem in enumerate(ids):
        samples = rows[problem]
        for j in range(len(samples)):
            if j not in samples:
                index = max(i for i, _ in samples.values())
                detail = f"problem {problem!r} has no sample {j} (indices must be 0..K-1)"
                raise PoolFormatError(source, index, "sample_index", detail)
            index, record = samples[j]
            answers[p][j] = _text(source, index, record, "answer") or None
            tokens[p, j] = _integer(source, index, record, "tokens")
            if scores is not None and last is not None:
                scores[p, j] = _number(source, index, record, "score")
                has_last = record.get("last_score") not in (None, "")
                field = "last_score" if has_last else "score"
                last[p, j] = _number(source, index, record, field)
            if correct is not None:
                correct[p, j] = _flag(source, index, record, "correct")
        if golds is not None:
            golds.append(_one_gold(source, samples.values(), problem))
    return TidySamples(source, ids, counts, answers, tokens, scores, last, correct, golds)


def _one_gold(
    source: str, samples: Iterator[tuple[int, Mapping[str, Any]]] | Any, problem: str
) -> str:
    seen: str | None = None
    for index, record in samples:
        gold = _text(source, index, record, "gold", required=True)
        if seen is not None and gold != seen:
            detail = f"gold {gold!r} differs from {seen!r} earlier in problem {problem!r}"
            raise PoolFormatError(source, index, "gold", detail)
        seen = gold
    return seen or ""


def _text(
    source: str, index: int, record: Mapping[str, Any], field: str, *, required: bool = False
) -> str:
    value = record.get(field)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        value = ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PoolFormatError(source, index, field, f"expected text, got {value!r}")
    text = str(value).strip()
    if required and not text:
        raise PoolFormatError(source, index, field, "empty value")
    return text


def _integer(source: str, index: int, record: Mapping[str, Any], field: str) -> int:
    value = record.get(field)
    try:
        number = int(value) if isinstance(value, int) else int(str(value).strip())
    except ValueError:
        number = -1
    if isinstance(value, bool) or number < 0:
        raise PoolFormatError(source, index, field, f"expected an integer >= 0, got {value!r}")
    return number


def _number(source: str, index: int, record: Mapping[str, Any], field: str) -> float:
    value = record.get(field)
    try:
        number = math.nan if isinstance(value, bool) or value is None else float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise PoolFormatError(source, index, field, f"expected a finite number, got {value!r}")
    return number


def _flag(source: str, index: int, record: Mapping[str, Any], field: str) -> bool:
    value = record.get(field)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE or text in FALSE:
        return text in TRUE
    raise PoolFormatError(source, index, field, f"expected true or false, got {value!r}")


def string_ids(answers: Sequence[Sequence[str | None]]) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Answer ids per row by exact string, in order of first appearance; ``NO_ANSWER`` for none."""
    ids = np.full((len(answers), len(answers[0])), NO_ANSWER, dtype=np.int64)
    for p, row in enumerate(answers):
        seen: dict[str, int] = {}
        for j, answer in enumerate(row):
            if answer is not None:
                ids[p, j] = seen.setdefault(answer, len(seen))
    return ids


def tidy_pool(
    samples: TidySamples,
    *,
    name: str,
    golds: Sequence[str] | None = None,
    grade_cache: str | Path | bool | None = None,
    progress: bool = False,
) -> EvalPool:
    """Turn parsed tidy samples into an [`EvalPool`][optscale_pools.EvalPool].

    With a ``correct`` column, answers are clustered by exact string and nothing is graded.
    Without one, the answers are graded with math-verify against the file's ``gold`` column,
    else ``golds`` (one per problem in order of first appearance, e.g. from a prompts file),
    and clustered by math-verify equivalence.

    Raises
    ------
    PoolFormatError
        When correctness can be neither read nor graded, or ``golds`` has the wrong length.
    """
    n_problems = len(samples.problem_ids)
    view_scores = samples.scores
    if view_scores is None:
        view_scores = np.full(samples.tokens.shape, np.nan)
    last = view_scores if samples.last_scores is None else samples.last_scores
    if samples.correct is not None:
        correct, swapped = samples.correct, samples.correct
        answer_ids = string_ids(samples.answers)
    else:
        gold_list = samples.golds if samples.golds is not None else golds
        if gold_list is None:
            detail = "no 'correct' column and no gold answers: add a 'gold' column or --prompts"
            raise PoolFormatError(samples.source, None, "correct", detail)
        if len(gold_list) != n_problems:
            detail = f"{len(gold_list)} gold answers for {n_problems} problems (check --prompts)"
            raise PoolFormatError(samples.source, None, "gold", detail)
        grades = grade_pool(
            _pool_for_grading(samples, list(gold_list)), cache=grade_cache, progress=progress
        )
        correct, swapped, answer_ids = grades.correct, grades.correct_swapped, grades.cluster_ids
    view = PoolView(
        scores=view_scores,
        last_scores=last,
        answer_ids=answer_ids,
        tokens=samples.tokens,
        empty=np.zeros(samples.tokens.shape, dtype=bool),
        prior_mu=np.full(n_problems, np.nan),
        prior_sigma=np.full(n_problems, np.nan),
    )
    ragged = bool((samples.n_samples < samples.tokens.shape[1]).any())
    return EvalPool(
        name=name,
        view=view,
        correct=np.asarray(correct, dtype=bool),
        correct_swapped=np.asarray(swapped, dtype=bool),
        problem_ids=tuple(samples.problem_ids),
        n_samples=samples.n_samples if ragged else None,
        has_scores=samples.scores is not None,
    )


def _pool_for_grading(samples: TidySamples, golds: list[str]) -> Pool:
    """Build a [`Pool`][optscale_pools.Pool] carrying only what grading reads (answers, golds)."""
    shape = samples.tokens.shape
    return Pool(
        problems=list(samples.problem_ids),
        golds=golds,
        ids=list(range(shape[0])),
        scores=np.zeros(shape),
        last_scores=np.zeros(shape),
        tokens=samples.tokens,
        preds=[list(row) for row in samples.answers],
        empty=np.zeros(shape, dtype=bool),
        source=samples.source,
    )
