"""Batch budget allocation as a method: peek at every problem, then spend a token budget."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
from optscale_math import allocate_budget, fit_mle

from optscale_baselines._bestofn import fair_bon_pick
from optscale_baselines._live import usable_scores
from optscale_baselines._protocol import (
    Decisions,
    FloatArray,
    IntArray,
    RowPolicy,
    VerifyOrder,
    ViewLike,
    check_budget,
    view_width,
)
from optscale_baselines._sequential import packed


@lru_cache(maxsize=4096)
def _peek_fit(peeks: bytes, shape: tuple[int, int]) -> tuple[FloatArray, FloatArray]:
    """[`fit_mle`][optscale_math.fit_mle] of every peeked problem with a usable score, memoised.

    An evaluator builds one policy per budget ``N`` and setting, but the peek, and so the fit,
    depends on neither ``N`` nor ``target``: the fit covers every problem with a usable peeked
    score, open or not, and the caller keeps the open ones. [`fit_mle`][optscale_math.fit_mle]
    fits each row on its own, so a row's result does not depend on which rows come with it,
    and one fit per peek serves every budget and target. The key is the exact bytes of the
    scores, so a hit returns what the fit would return; results are read-only.
    """
    fit = fit_mle(np.frombuffer(peeks, dtype=np.float64).reshape(shape))
    fit.mu.setflags(write=False)
    fit.sigma.setflags(write=False)
    return fit.mu, fit.sigma


def bon_token_budget(view: ViewLike, n: int) -> float:
    """Tokens Best-of-``n`` pays on ``view``: the sum of every row's first ``n`` samples' tokens.

    An evaluator passes this, computed on the view in the order being replayed, as the
    ``budget`` of [`BatchBudget`][optscale_baselines.BatchBudget] to compare the two at equal
    total tokens.
    """
    view_width(view, n)
    return float(np.asarray(view.tokens, dtype=np.float64)[:, :n].sum())


@dataclass(frozen=True)
class BatchBudget(RowPolicy):
    r"""Peek ``peek`` samples of every problem, fit, and spend a total token budget greedily.

    1. Pay for the first ``peek`` samples of every problem and fit the score law
       ([`fit_mle`][optscale_math.fit_mle] on the usable scores).
    2. Problems whose best score already reaches ``target`` are done. For the others, further
       samples are independent draws, so $j$ more solve a problem with probability
       $1 - F(s)^j$ whatever the peek showed; [`allocate_budget`][optscale_math.allocate_budget]
       spends what the peek left of ``budget`` on them, each sample costing the mean tokens of
       the problem's peeked samples, at most ``max_n`` samples per problem.
    3. Answer with the best-scored sample paid for.

    Parameters
    ----------
    budget
        Total tokens for the whole batch (all problems of the view), peeks included. To compare
        with Best-of-N at equal tokens, an evaluator passes
        [`bon_token_budget(view, N)`][optscale_baselines.bon_token_budget] for the view it
        replays. ``None`` when ``bon_n`` is given.
    bon_n
        Instead of ``budget``: spend what Best-of-``bon_n`` would, estimated from what was paid
        for, ``bon_n`` times the sum over problems of the mean tokens of their peeked samples.
        This form needs no outside knowledge of the view, so an engine that builds a policy per
        sample budget ``N`` can use ``max_n = N``: with neither ``budget`` nor ``bon_n``,
        ``bon_n = max_n``.
    peek
        Samples paid for every problem first, even where that alone exceeds ``budget``.
        Problems without a usable score among them get no more.
    target
        Score a problem's best sample should reach.
    max_n
        Most samples per problem.

    Notes
    -----
    Problems compete for the budget, so decisions depend on the whole batch
    (``rows_independent = False``); the token costs of the extra samples are estimates, so the
    tokens actually paid can differ from ``budget`` a little either way.
    """

    budget: float | None = None
    bon_n: int | None = None
    peek: int = 2
    target: float = 0.9
    max_n: int = 64
    rows_independent: ClassVar[bool] = False
    """Problems compete for one budget: replay must run one sample order at a time."""
    verify_order: ClassVar[VerifyOrder] = "gold_pred"

    def __post_init__(self) -> None:
        if self.budget is not None and self.bon_n is not None:
            raise ValueError("give at most one of budget and bon_n")
        if self.budget is None:
            check_budget("bon_n", self.spend_like)
            spend = f"bon{self.spend_like}"
        else:
            if not (isinstance(self.budget, float | int) and np.isfinite(self.budget)):
                raise ValueError(f"budget must be a finite number, got {self.budget!r}")
            if self.budget < 0:
                raise ValueError(f"budget must be >= 0, got {self.budget!r}")
            spend = f"b{self.budget:g}"
        check_budget("peek", self.peek)
        check_budget("max_n", self.max_n)
        if not 0.0 < self.target < 1.0:
            raise ValueError(f"target must lie in (0, 1), got {self.target!r}")
        tag = f"k{self.peek}-t{self.target:g}"
        object.__setattr__(self, "name", f"batch-{tag}-{spend}@{self.max_n}")

    @property
    def spend_like(self) -> int:
        """The Best-of-N whose estimated tokens are spent (``bon_n``, default ``max_n``)."""
        return self.max_n if self.bon_n is None else self.bon_n

    @classmethod
    def grid(cls) -> list[dict[str, Any]]:
        """``peek`` 1, 2 or 4 times ``target`` 0.5 to 0.99 (18 settings; budget is the sweep)."""
        targets = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99)
        return [{"peek": k, "target": t} for k in (1, 2, 4) for t in targets]

    def plan(self, view: ViewLike) -> IntArray:
        """Return samples per problem: the peek plus the greedy allocation of the rest."""
        view_width(view, self.max_n, "max_n")
        peek = min(self.peek, self.max_n)
        scores = usable_scores(
            np.asarray(view.scores, dtype=np.float64)[:, :peek],
            np.asarray(view.empty, dtype=bool)[:, :peek],
        )
        tokens = np.asarray(view.tokens, dtype=np.float64)[:, :peek]
        n_used = np.full(scores.shape[0], peek, dtype=np.int64)
        cost = np.maximum(tokens.mean(axis=1), 1.0)
        if self.budget is not None:
            total = float(self.budget)
        else:
            total = float(self.spend_like) * float(cost.sum())
        left = total - float(tokens.sum())
        x, some = packed(scores)
        best = np.where(some, x.max(axis=1, initial=-np.inf, where=~np.isnan(x)), -np.inf)
        open_ = some & (best < self.target)
        if left <= 0 or not open_.any() or peek == self.max_n:
            return n_used
        peeks = np.ascontiguousarray(x[some], dtype=np.float64)
        mu, sigma = _peek_fit(peeks.tobytes(), (peeks.shape[0], peeks.shape[1]))
        mine = open_[some]
        extra = allocate_budget(
            mu[mine], sigma[mine], self.target, cost[open_], left, max_n=self.max_n - peek
        )
        n_used[open_] += extra
        return n_used

    def run(self, view: ViewLike) -> Decisions:
        """Plan the batch and pick the best usable sample among those paid for."""
        n_used = self.plan(view)
        scores = np.asarray(view.scores, dtype=np.float64)[:, : self.max_n]
        empty = np.asarray(view.empty, dtype=bool)[:, : self.max_n]
        unpaid = np.arange(scores.shape[1]) >= n_used[:, None]
        pick = fair_bon_pick(np.where(unpaid, np.nan, scores), empty | unpaid)
        return Decisions(n_used=n_used, pick=pick)
