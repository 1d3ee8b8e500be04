"""Best-of-N: the highest PRM score among the first N samples."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
from optscale_math import running_best_pick

from optscale_baselines._protocol import (
    BoolArray,
    Decisions,
    FloatArray,
    IntArray,
    Mode,
    PrefixDecisions,
    VerifyOrder,
    ViewLike,
    check_budget,
    check_mode,
    view_width,
)

ScoreKind = Literal["mean", "last"]


def _first_argmax(values: FloatArray) -> IntArray:
    return np.asarray(np.argmax(values, axis=1), dtype=np.int64)


def upstream_bon_pick(scores: FloatArray, empty: BoolArray) -> IntArray:
    """Upstream's pick (bon.py) over whole rows of non-negative ``scores``, vectorised.

    Notes
    -----
    Upstream takes the first argmax; while it is an empty completion it sets that score to 0
    and takes the first argmax again, stopping (and keeping the empty one) once the maximum
    is 0. With scores ``>= 0`` this ends at:

    - the first non-empty sample with the largest non-empty score, when that score is ``> 0``;
    - else, if an empty sample has a positive score, the empty one zeroed last: the smallest
      positive empty score, last index among equals;
    - else (all scores 0), sample 0.
    """
    best_kept = np.where(empty, -np.inf, scores)
    kept_max = best_kept.max(axis=1)
    kept_pick = _first_argmax(best_kept)
    positive_empty = empty & (scores > 0)
    reversed_key = np.where(positive_empty, scores, np.inf)[:, ::-1]
    last_zeroed = scores.shape[1] - 1 - np.argmin(reversed_key, axis=1)
    pick = np.where(positive_empty.any(axis=1), last_zeroed, 0)
    pick = np.where(kept_max > 0, kept_pick, pick)
    return pick.astype(np.int64)


def fair_bon_pick(scores: FloatArray, empty: BoolArray) -> IntArray:
    """Argmax (first on ties) over samples that are non-empty and scored; ``-1`` if none."""
    usable = ~empty & np.isfinite(scores)
    masked = np.where(usable, scores, -np.inf)
    return np.where(usable.any(axis=1), _first_argmax(masked), -1).astype(np.int64)


@dataclass(frozen=True)
class BestOfN:
    """Best-of-N: pay for the first ``n`` samples, answer with the best-scored one.

    Parameters
    ----------
    n
        Samples per problem.
    mode
        ``"paper"``: upstream's rule (empty completions re-scored 0 one at a time, see
        `upstream_bon_pick`), graded with math-verify arguments swapped as bon.py does.
        ``"fair"``: empty or unscored completions are never picked (``-1`` if all are), graded
        ``verify(gold, pred)``.
    score
        ``"mean"`` (mean step reward, upstream) or ``"last"`` (last step reward).
    """

    n: int
    mode: Mode = "paper"
    score: ScoreKind = "mean"
    name: str = field(init=False)
    rows_independent: ClassVar[bool] = True
    """Each problem is decided from its own row alone: replay may stack sample orders."""

    def __post_init__(self) -> None:
        check_budget("n", self.n)
        check_mode(self.mode)
        if self.score not in ("mean", "last"):
            raise ValueError(f"score must be 'mean' or 'last', got {self.score!r}")
        suffix = "" if self.score == "mean" else "-last"
        object.__setattr__(self, "name", f"bon{suffix}@{self.n}")

    @property
    def verify_order(self) -> VerifyOrder:
        """``"pred_gold"`` in paper mode (bon.py's swapped call), else ``"gold_pred"``."""
        return "pred_gold" if self.mode == "paper" else "gold_pred"

    @classmethod
    def grid(cls) -> list[dict[str, Any]]:
        """Hyperparameter settings for cross-fitting (constructor keywords besides budget)."""
        return [{"score": "mean"}, {"score": "last"}]

    def run(self, view: ViewLike) -> Decisions:
        """Pick the best-scored of the first ``n`` samples of every row.

        Raises
        ------
        ValueError
            In paper mode, if a used score is negative or not finite (upstream's rule assumes
            PRM probabilities).
        """
        view_width(view, self.n)
        raw = view.scores if self.score == "mean" else view.last_scores
        scores = np.asarray(raw, dtype=np.float64)[:, : self.n]
        empty = np.asarray(view.empty, dtype=bool)[:, : self.n]
        if self.mode == "paper":
            if not (np.isfinite(scores).all() and (scores >= 0).all()):
                field_name = "scores" if self.score == "mean" else "last_scores"
                raise ValueError(f"view.{field_name} must be finite and >= 0 in paper mode")
            pick = upstream_bon_pick(scores, empty)
        else:
            pick = fair_bon_pick(scores, empty)
        n_used = np.full(scores.shape[0], self.n, dtype=np.int64)
        return Decisions(n_used=n_used, pick=pick)

    def run_prefixes(self, view: ViewLike) -> PrefixDecisions:
        """Decide Best-of-``j`` for every ``j <= n`` at once (the prefix capability).

        Fair mode keeps a running best; paper mode re-applies upstream's rule to each prefix
        (its empty-completion rule is not a running one).
        """
        if self.mode == "paper":
            picks = [BestOfN(j, self.mode, self.score).run(view).pick for j in range(1, self.n + 1)]
            n_used = np.full(picks[0].shape[0], self.n, dtype=np.int64)
            return PrefixDecisions(n_used=n_used, picks=np.stack(picks, axis=1))
        view_width(view, self.n)
        raw = view.scores if self.score == "mean" else view.last_scores
        scores = np.asarray(raw, dtype=np.float64)[:, : self.n]
        running = running_best_pick(scores, np.asarray(view.empty, dtype=bool)[:, : self.n])
        n_used = np.full(scores.shape[0], self.n, dtype=np.int64)
        return PrefixDecisions(n_used=n_used, picks=running)
