"""Slow, obvious per-problem loop implementations of every baseline rule (test and bench oracles).

They follow the upstream scripts' structure (Counter/dict votes over Python lists, ``None`` for
no answer, Python ``random``), one problem at a time, and share nothing with the vectorised
package code. ``benchmarks/bench_baselines.py`` imports this module too.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import comb

import numpy as np
import numpy.typing as npt

Answer = Hashable | None


@dataclass(frozen=True)
class View:
    """A minimal pool view (the attributes the baselines read)."""

    scores: npt.NDArray[np.float64]
    last_scores: npt.NDArray[np.float64]
    answer_ids: npt.NDArray[np.int64]
    tokens: npt.NDArray[np.int64]
    empty: npt.NDArray[np.bool_]
    prior_mu: npt.NDArray[np.float64]
    prior_sigma: npt.NDArray[np.float64]


def make_view(answer_ids, scores=None, *, tokens=None, empty=None, last_scores=None, prior_mu=None):
    """Build a :class:`View` from nested lists, filling unspecified fields with defaults."""
    ids = np.asarray(answer_ids, dtype=np.int64)
    shape = ids.shape
    sc = np.full(shape, 0.5) if scores is None else np.asarray(scores, dtype=np.float64)
    return View(
        scores=sc,
        last_scores=sc.copy() if last_scores is None else np.asarray(last_scores, dtype=float),
        answer_ids=ids,
        tokens=np.full(shape, 10) if tokens is None else np.asarray(tokens, dtype=np.int64),
        empty=np.zeros(shape, bool) if empty is None else np.asarray(empty, dtype=bool),
        prior_mu=np.full(shape[0], np.nan) if prior_mu is None else np.asarray(prior_mu, float),
        prior_sigma=np.full(shape[0], np.nan),
    )


def random_view(rng: np.random.Generator, problems: int, k: int) -> View:
    """A random pool rich in ties: few distinct answers, no-answers, empties, repeated scores."""
    distinct = rng.integers(1, 6, size=(problems, 1))
    ids = rng.integers(0, 1000, size=(problems, k)) % distinct
    agree = rng.random((problems, 1)) < 0.3
    ids = np.where(agree & (rng.random((problems, k)) < 0.9), 0, ids)
    ids = np.where(rng.random((problems, k)) < 0.15, -1, ids)
    ids = ids * 7 + 3 * (ids >= 0)  # ids need not be small or dense
    scores = np.round(rng.random((problems, k)), 1)
    empty = (ids == -1) & (rng.random((problems, k)) < 0.5)
    return View(
        scores=scores,
        last_scores=np.round(rng.random((problems, k)), 1),
        answer_ids=ids.astype(np.int64),
        tokens=rng.integers(50, 5000, size=(problems, k)),
        empty=empty,
        prior_mu=rng.random(problems),
        prior_sigma=np.full(problems, 0.1),
    )


def answers(view: View, p: int) -> list[Answer]:
    """Row ``p``'s answers as upstream holds them: ``None`` for no answer."""
    return [None if a == -1 else int(a) for a in view.answer_ids[p]]


def answer_of(view: View, p: int, pick: int) -> Answer:
    """The answer a vectorised pick commits to (``None`` for -1 or a sample without answer)."""
    return None if pick == -1 else answers(view, p)[pick]


def majority(items: Sequence[Answer], fair: bool) -> Answer:
    """First-seen majority (upstream's dict + max); fair: ``None`` never votes."""
    counts: dict[Answer, int] = {}
    for item in items:
        if fair and item is None:
            continue
        counts[item] = counts.get(item, 0) + 1
    if not counts:
        return None
    return max(counts, key=lambda key: counts[key])


def bon_paper(scores: Sequence[float], empty: Sequence[bool], n: int) -> int:
    """bon.py's loop: argmax, re-score empty completions 0, stop at a zero maximum."""
    s = list(scores[:n])
    best = s.index(max(s))
    while empty[best]:
        s[best] = 0
        if max(s) == 0:
            break
        best = s.index(max(s))
    return best


def bon_fair(scores: Sequence[float], empty: Sequence[bool], n: int) -> int:
    """Argmax over non-empty samples, -1 if all are empty."""
    best, best_score = -1, -np.inf
    for j in range(n):
        if not empty[j] and scores[j] > best_score:
            best, best_score = j, scores[j]
    return best


def wsc(items: Sequence[Answer], scores: Sequence[float], n: int, agg: str, fair: bool) -> Answer:
    """Weighted vote: sum or max of scores per answer, first-seen on ties."""
    weight: dict[Answer, float] = {}
    for item, score in zip(items[:n], scores[:n], strict=True):
        if fair and item is None:
            continue
        if agg == "sum":
            weight[item] = weight.get(item, 0.0) + score
        else:
            weight[item] = max(weight.get(item, -np.inf), score)
    if not weight:
        return None
    return max(weight, key=lambda key: weight[key])


def esc(items: Sequence[Answer], window: int, max_n: int, fair: bool) -> tuple[int, Answer]:
    """esc_and_asc.py's ESC on one problem: ``(samples used, answer)``."""
    used = list(items[:max_n])
    if len(used) < window:
        return len(used), majority(used, fair)
    start = 0
    while start + window <= len(used):
        block = used[start : start + window]
        if len(set(block)) == 1 and not (fair and block[0] is None):
            return start + window, majority(used[: start + window], fair)
        start += window
    return len(used), majority(used, fair)


def beta_tail(a: int, b: int) -> Fraction:
    """Exact ``P(X > 1/2)`` for ``X ~ Beta(a + 1, b + 1)``: ``P(Bin(a + b + 1, 1/2) >= b + 1)``."""
    n = a + b + 1
    return Fraction(sum(comb(n, i) for i in range(b + 1, n + 1)), 2**n)


def beta_should_stop(items: Sequence[Answer], threshold: float, fair: bool) -> bool:
    """Upstream's BetaStoppingCriteria with the tail computed exactly."""
    if len(items) < 2:
        return False
    voters = [x for x in items if not (fair and x is None)]
    top = Counter(voters).most_common(2)
    a = top[0][1] if top else 0
    b = top[1][1] if len(top) > 1 else 0
    return beta_tail(a, b) >= Fraction(threshold)


def asc(
    items: Sequence[Answer], threshold: float, max_n: int, fair: bool
) -> tuple[int, Answer, bool]:
    """ASC on one problem: ``(samples used, answer, whether the rule fired)``."""
    used = list(items[:max_n])
    for i in range(len(used)):
        if beta_should_stop(used[: i + 1], threshold, fair):
            return i + 1, majority(used[: i + 1], fair), True
    return max_n, majority(used, fair), False


def _dsc_judge(items: Sequence[Answer], max_size: int, fair: bool, window: int = 5) -> int:
    """dsc.py's DSC_judge (easy threshold 0.95, hard threshold 0)."""
    for i in range(max_size // window):
        if (i + 1) * window > len(items):
            break
        stop = beta_should_stop(items[: (i + 1) * window], 0.95, fair)
        if (i + 1) * window >= max_size:
            break
        if stop:
            return (i + 1) * window
    return max_size


@dataclass
class DSCResult:
    """Per-problem outcome of the DSC oracle, in the view's order."""

    n_used: list[int]
    answers: list[Answer]
    easy: list[bool]
    stopped: list[bool]
    easy_midpoints: int
    overhead: float


def _dsc_easy_search(
    pre: list[list[Answer]], max_size: int, rng: random.Random, allocate: list[int]
) -> int:
    """dsc.py's binary search for easy questions; returns the easy midpoints."""
    length = len(pre)
    easy_flag = [False] * length
    midpoints = 0
    left, right = 0, length
    while right > left:
        idx = (right + left) // 2
        lo, hi = max(0, idx - 1), min(idx + 1, length)
        mid_easy = False
        for j in range(lo, hi):
            choice = rng.sample(pre[j], max_size) if len(pre[j]) >= max_size else pre[j]
            if _dsc_judge(choice, max_size, fair=False) == 5:
                easy_flag[j] = True
                mid_easy = mid_easy or j == idx
        midpoints += mid_easy
        if all(easy_flag[lo:hi]):
            for j in range(left, idx + 1):
                allocate[j] = 1
            left = idx + 1
        else:
            right = idx
    return midpoints


def _dsc_hard_search(pre: list[list[Answer]], max_size: int, allocate: list[int]) -> None:
    """dsc.py's binary search for hard questions (3 flags needed in a window of at most 2)."""
    length = len(pre)
    hard_flag = [False] * length
    left, right = 0, length
    while right > left:
        idx = (right + left) // 2
        lo, hi = max(0, idx - 1), min(idx + 1, length)
        for j in range(lo, hi):
            size = min(max_size, len(pre[j]))
            if _dsc_judge(pre[j][:size], size, fair=False) >= (size // 5) * 5 / 2:
                hard_flag[j] = True
        if sum(hard_flag[lo:hi]) >= 3:
            for j in range(idx, right):
                allocate[j] = max_size
            right = idx
        else:
            left = idx + 1


def dsc_paper(
    view: View,
    max_size: int,
    rng: random.Random,
    overhead_prefix: int,
    problems: Sequence[str] | None = None,
) -> DSCResult:
    """dsc.py's evaluation for one ``max_sample_size``, both binary searches included.

    Problems are sorted as upstream sorts its ``(difficulty, problem text, ...)`` tuples
    (Python's stable sort; no texts: all equal).
    """
    rows = [answers(view, p) for p in range(len(view.answer_ids))]
    difficulty = [1 - np.mean(list(view.scores[p])) for p in range(len(rows))]
    texts = [""] * len(rows) if problems is None else list(problems)
    order = sorted(range(len(rows)), key=lambda p: (difficulty[p], texts[p]))
    pre = [rows[p] for p in order]
    allocate = [0] * len(pre)
    midpoints = _dsc_easy_search(pre, max_size, rng, allocate)
    _dsc_hard_search(pre, max_size, allocate)
    by_problem = {p: allocate[rank] for rank, p in enumerate(order)}
    result = DSCResult([], [], [], [], midpoints, 0.0)
    for p, row in enumerate(rows):
        kind = by_problem[p]
        if kind == 1:
            n, ans, fired = 1, row[0], False
        elif kind == 0:
            n, ans, fired = asc(row, 0.95, max_size, fair=False)
        else:
            n, ans, fired = max_size, majority(row[:max_size], fair=False), False
        result.n_used.append(n)
        result.answers.append(ans)
        result.easy.append(kind == 1)
        result.stopped.append(fired)
    per_problem = [np.mean(list(view.tokens[p][:overhead_prefix])) for p in range(len(rows))]
    result.overhead = float(midpoints * 3 * 4 * np.mean(per_problem))
    return result


def dsc_fair(view: View, max_size: int, difficulty: str) -> DSCResult:
    """Fair DSC: paid-for difficulty, judged on own first 5 samples which are then paid."""
    rows = [answers(view, p) for p in range(len(view.answer_ids))]
    if difficulty == "prior":
        key = [1 - float(m) for m in view.prior_mu]
    else:
        key = [1 - float(s[0]) for s in view.scores]
    order = sorted(range(len(rows)), key=lambda p: (key[p], p))
    paid = [1] * len(rows)
    easy = [False] * len(rows)
    midpoints = 0
    if max_size >= 5:
        flags = [False] * len(rows)
        left, right = 0, len(rows)
        while right > left:
            idx = (right + left) // 2
            lo, hi = max(0, idx - 1), min(idx + 1, len(rows))
            for j in range(lo, hi):
                paid[order[j]] = 5
                if beta_should_stop(rows[order[j]][:5], 0.95, fair=True):
                    flags[j] = True
                    midpoints += j == idx
            if all(flags[lo:hi]):
                for j in range(left, idx + 1):
                    easy[order[j]] = True
                left = idx + 1
            else:
                right = idx
    result = DSCResult([], [], easy, [], midpoints, 0.0)
    for p, row in enumerate(rows):
        n, _, fired = asc(row, 0.95, max_size, fair=True)
        n = max(1 if easy[p] else n, paid[p])
        result.n_used.append(n)
        result.answers.append(majority(row[:n], fair=True))
        result.stopped.append(fired and not easy[p])
    return result
