r"""Grading a pool with math-verify, in worker processes, cached on disk.

Per problem, every distinct extracted answer is parsed once and verified against the gold in both
argument orders (math-verify is not symmetric and upstream's bon.py swaps them), and distinct
answers are clustered by math-verify equivalence (fair mode's answer ids). Paper mode's answer ids
are the raw strings. Results are stored as ``.npz`` + a JSON sidecar under ``<cache>/grades/``,
keyed by the pool file's sha256, the graded content (golds and answers) and
[`GRADER_VERSION`][optscale_pools.GRADER_VERSION], so a second run grades nothing. The sidecar holds
the sha256 of the arrays: a cache entry that does not verify (truncated, edited, unreadable) is
graded again, with a one-line notice.

Grading is bounded in time: each math-verify call by ``CALL_TIMEOUT``, each problem by
``PROBLEM_DEADLINE`` (its worker is killed), the whole run by ``RUN_DEADLINE`` (every
problem not graded by then is given up). A problem cut short counts as wrong, is listed in
``Grades.failed`` and named in a notice on stderr. Grades that any limit cut short (a call, a
problem or the run) are not cached: those limits are wall-clock time, so on a loaded machine
they can cut work that would finish on an idle one, and a cache would keep that outcome for good.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from optscale_pools.fetch import cache_root
from optscale_pools.gradecache import ARRAYS, load_entry, save_entry
from optscale_pools.pool import Pool
from optscale_pools.protocol import NO_ANSWER
from optscale_pools.workers import TaskRun, run_tasks

GRADER_VERSION = "2"
"""Bumped whenever grading changes its results or its cache format; part of the cache key."""

CALL_TIMEOUT = 5
"""Seconds one math-verify ``parse`` or ``verify`` call may take (math-verify's own timeout)."""

PROBLEM_DEADLINE = 120.0
"""Seconds the grading of one problem may take in all before its worker is killed.

A problem with ``u`` distinct answers makes up to ``2 + 3u + u**2`` math-verify calls, so the
deadline is ``min(PROBLEM_DEADLINE, CALL_TIMEOUT * (2 + 3u + u**2))``; an easy problem takes
well under a second."""

RUN_DEADLINE = 3600.0
"""Seconds one grading run may take in all; problems not graded by then count as wrong."""


@dataclass(frozen=True)
class Grades:
    """Per-sample grading of a pool; every array has shape ``[P, K]``.

    Attributes
    ----------
    correct
        ``verify(gold, pred)``: the sample's answer is right (False without an answer).
    correct_swapped
        ``verify(pred, gold)``, the argument order of upstream's bon.py.
    raw_ids
        Paper-mode answer ids: equal ids for equal raw answer strings, numbered by first
        appearance in the row; ``NO_ANSWER`` (-1) where no answer was extracted.
    cluster_ids
        Fair-mode answer ids: clusters of math-verify-equivalent answers, numbered by first
        appearance in the row; ``NO_ANSWER`` where no answer was extracted. The answers verified
        equal to the gold form one cluster; each other answer joins the first cluster of wrong
        answers whose representative it is equivalent to in either argument order, else starts
        a new one.
    failed
        Problems whose grading crashed, ran past the problem deadline or was not done within
        the run deadline; their answers count as wrong and each distinct answer is its own
        cluster.
    """

    correct: npt.NDArray[np.bool_]
    correct_swapped: npt.NDArray[np.bool_]
    raw_ids: npt.NDArray[np.int64]
    cluster_ids: npt.NDArray[np.int64]
    failed: tuple[int, ...] = ()


class _TimeoutCount(logging.Handler):
    """Counts math-verify's "Timeout during ..." warnings (and keeps them off stderr)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith("Timeout during"):
            self.count += 1


def grade_answers(
    gold: str, answers: list[str], timeout: int
) -> tuple[list[bool], list[bool], list[int], int]:
    r"""Grade the distinct answers of one problem (runs in a worker process).

    Both sides are wrapped in ``\boxed{}`` unless already boxed and parsed once each; a parse
    or verify call that raises or times out counts as "not verified".

    Returns
    -------
    tuple
        ``verify(gold, answer)``, ``verify(answer, gold)`` and the cluster index of each answer,
        in the order given, and the number of math-verify calls that timed out.
    """
    logger = logging.getLogger("math_verify")
    counter = _TimeoutCount()
    logger.addHandler(counter)
    propagate, logger.propagate = logger.propagate, False
    try:
        return (*_grade(gold, answers, timeout), counter.count)
    finally:
        logger.removeHandler(counter)
        logger.propagate = propagate


def _grade(gold: str, answers: list[str], timeout: int) -> tuple[list[bool], list[bool], list[int]]:
    """Grade and cluster (see [`grade_answers`][optscale_pools.grading.grade_answers])."""
    from math_verify import parse, verify  # type: ignore[import-untyped]

    def parsed(text: str) -> Any:
        boxed = text if "\\boxed" in text else f"\\boxed{{{text}}}"
        try:
            return parse(boxed, parsing_timeout=timeout)
        except Exception:
            return None

    def verified(left: Any, right: Any) -> bool:
        if left is None or right is None:
            return False
        try:
            return bool(verify(left, right, timeout_seconds=timeout))
        except Exception:
            return False

    gold_parsed = parsed(gold)
    candidates = [parsed(answer) for answer in answers]
    correct = [verified(gold_parsed, c) for c in candidates]
    swapped = [verified(c, gold_parsed) for c in candidates]
    # Answers verified equal to the gold form one cluster (most samples of a pool are right,
    # so this saves most pairwise calls); the others are clustered greedily among themselves.
    labels: list[int] = []
    representatives: list[Any] = []
    for candidate, right in zip(candidates, correct, strict=True):
        if right:
            labels.append(-1)
            continue
        for index, representative in enumerate(representatives):
            if verified(representative, candidate) or verified(candidate, representative):
                labels.append(index)
                break
        else:
            representatives.append(candidate)
            labels.append(len(representatives) - 1)
    renumber: dict[int, int] = {}
    clusters = [renumber.setdefault(label, len(renumber)) for label in labels]
    return correct, swapped, clusters


def raw_answer_ids(preds: list[list[str | None]]) -> npt.NDArray[np.int64]:
    """Paper-mode ids: per row, equal raw strings share an id (first appearance order)."""
    ids = np.full((len(preds), len(preds[0])), NO_ANSWER, dtype=np.int64)
    for row, answers in enumerate(preds):
        seen: dict[str, int] = {}
        for col, answer in enumerate(answers):
            if answer is not None:
                ids[row, col] = seen.setdefault(answer, len(seen))
    return ids


def grades_key(
    pool: Pool, timeout: int = CALL_TIMEOUT, problem_deadline: float = PROBLEM_DEADLINE
) -> str:
    """Cache key: sha256 of the pool file, the graded content, the limits and the versions."""
    digest = hashlib.sha256()
    header = {
        "pool_sha256": pool.sha256,
        "grader": GRADER_VERSION,
        "math_verify": importlib.metadata.version("math-verify"),
        "timeout": timeout,
        "problem_deadline": problem_deadline,
    }
    digest.update(json.dumps(header, sort_keys=True).encode())
    digest.update(json.dumps([pool.golds, pool.preds]).encode())
    return digest.hexdigest()


def grade_pool(
    pool: Pool,
    *,
    cache: str | Path | bool | None = None,
    workers: int | None = None,
    timeout: int = CALL_TIMEOUT,
    problem_deadline: float = PROBLEM_DEADLINE,
    run_deadline: float = RUN_DEADLINE,
    progress: bool = True,
) -> Grades:
    """Grade every sample of ``pool`` (or load the cached grades).

    Parameters
    ----------
    pool
        The pool; its extracted answers and golds are graded.
    cache
        Cache folder (default ``<cache_root()>/grades``); ``False`` disables caching.
    workers
        Worker processes (default: the number of CPUs).
    timeout
        Per-call math-verify timeout in seconds (a call past it counts as "not equal").
    problem_deadline
        Seconds one problem's grading may take (see ``PROBLEM_DEADLINE``); a problem past
        it is killed, counted wrong and listed in ``Grades.failed``.
    run_deadline
        Seconds the whole run may take; problems not graded by then are counted wrong, listed
        in ``Grades.failed``. Grades cut short by any of these limits are not cached.
    progress
        Show a progress bar.

    Returns
    -------
    Grades
    """
    _check_limits(timeout, problem_deadline, run_deadline)
    folder = _grades_folder(cache)
    key = grades_key(pool, timeout, problem_deadline)
    if folder is not None:
        entry = load_entry(folder, key, pool.scores.shape)
        if entry is not None:
            values, failed_rows = entry
            return Grades(
                correct=values["correct"].astype(np.bool_),
                correct_swapped=values["correct_swapped"].astype(np.bool_),
                raw_ids=values["raw_ids"].astype(np.int64),
                cluster_ids=values["cluster_ids"].astype(np.int64),
                failed=failed_rows,
            )
    shape = pool.scores.shape
    raw_ids = raw_answer_ids(pool.preds)
    uniques = [list(dict.fromkeys(a for a in row if a is not None)) for row in pool.preds]
    tasks = [(pool.golds[row], uniques[row], timeout) for row in range(shape[0])]
    deadlines = [min(problem_deadline, timeout * (2 + 3 * len(u) + len(u) ** 2)) for u in uniques]
    run = run_tasks(
        grade_answers,
        tasks,
        workers=workers or os.cpu_count() or 1,
        deadlines=deadlines,
        run_deadline=run_deadline,
        description="grade",
        progress=progress,
    )
    correct = np.zeros(shape, dtype=np.bool_)
    swapped = np.zeros(shape, dtype=np.bool_)
    cluster_ids = np.full(shape, NO_ANSWER, dtype=np.int64)
    failed = []
    timeouts = 0
    for row, result in enumerate(run.results):
        present = raw_ids[row] >= 0
        if result is None:
            failed.append(row)
            cluster_ids[row, present] = raw_ids[row, present]
            continue
        timeouts += result[3]
        flags, flags_swapped, clusters = (np.asarray(r) for r in result[:3])
        if len(uniques[row]):
            correct[row, present] = flags[raw_ids[row, present]]
            swapped[row, present] = flags_swapped[raw_ids[row, present]]
            cluster_ids[row, present] = clusters[raw_ids[row, present]]
    grades = Grades(correct, swapped, raw_ids, cluster_ids, tuple(failed))
    limits = (timeout, problem_deadline, run_deadline)
    _notify(pool, run, len(failed), timeouts, limits, caching=folder is not None)
    if folder is not None and not (timeouts or run.timed_out or run.expired):
        about = {
            "grader": GRADER_VERSION,
            "source": pool.source,
            "pool_sha256": pool.sha256,
            "shape": list(shape),
        }
        arrays = {name: getattr(grades, name) for name in ARRAYS}
        save_entry(folder, key, arrays, grades.failed, about)
    return grades


def _check_limits(timeout: int, problem_deadline: float, run_deadline: float) -> None:
    """Refuse limits that are not positive numbers (NaN, 0, negative)."""
    for name, value in (
        ("timeout", timeout),
        ("problem_deadline", problem_deadline),
        ("run_deadline", run_deadline),
    ):
        if not (isinstance(value, int | float) and value > 0):  # NaN is not > 0
            msg = f"{name} must be a positive number of seconds, got {value!r}"
            raise ValueError(msg)


def _notify(
    pool: Pool,
    run: TaskRun,
    failed: int,
    timeouts: int,
    limits: tuple[float, float, float],
    *,
    caching: bool,
) -> None:
    """Say on stderr, in one line, what was cut short and counted wrong or not equal.

    With ``caching``, say too that grades cut short by a time limit are not cached.
    """
    call, problem, whole = limits
    parts = []
    if timeouts:
        calls = f"{timeouts} math-verify call{'' if timeouts == 1 else 's'}"
        parts.append(f"{calls} past the {call:g} s call timeout (counted not equal)")
    if run.timed_out:
        parts.append(f"{_problems(len(run.timed_out))} past the {problem:g} s problem deadline")
    if run.expired:
        parts.append(
            f"{_problems(len(run.expired))} not graded within the {whole:g} s run deadline"
        )
    crashed = failed - len(run.timed_out) - len(run.expired)
    if crashed:
        parts.append(f"{_problems(crashed)} whose grader crashed")
    if parts:
        note = f"grading {pool.source or '<memory>'}: " + "; ".join(parts)
        if failed:
            note += "; the samples of problems cut short count as wrong"
        if caching and (timeouts or run.timed_out or run.expired):
            note += "; these grades are not cached (a later run grades again)"
        print(note, file=sys.stderr)


def _problems(count: int) -> str:
    return f"{count} problem{'' if count == 1 else 's'}"


def _grades_folder(cache: str | Path | bool | None) -> Path | None:
    """Where grades are cached: None when disabled, the default folder for None or True."""
    if cache is False:
        return None
    if cache is None or cache is True:
        return cache_root() / "grades"
    return Path(cache)
