"""Fixed-budget voting: self-consistency and PRM-weighted self-consistency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from optscale_math import running_vote_pick

from optscale_baselines._protocol import (
    Decisions,
    FixedBudgetPolicy,
    Mode,
    PrefixDecisions,
    RowPolicy,
    VerifyOrder,
    ViewLike,
    check_budget,
    check_mode,
    view_width,
)
from optscale_baselines._votes import (
    one_hot,
    prefix_labels,
    prefix_majority,
    vote_counts,
)

Aggregate = Literal["sum", "max"]


@dataclass(frozen=True)
class SelfConsistency(FixedBudgetPolicy):
    """Self-consistency@N: majority vote over the first ``n`` answers.

    Parameters
    ----------
    n
        Samples per problem.
    mode
        ``"paper"`` (maj_vote.py): answer ids are raw strings, "no answer" is a candidate like
        any other, ties go to the answer seen first. ``"fair"``: answer ids are math-verify
        clusters, samples without an answer do not vote (``pick = -1`` when none answered),
        ties also go to the answer seen first, which is unbiased over random sample orders.
    """

    tag: ClassVar[str] = "sc"
    rows_independent: ClassVar[bool] = True
    """Each problem is decided from its own row alone: replay may stack sample orders."""
    verify_order: ClassVar[VerifyOrder] = "gold_pred"
    """Upstream grades this method ``verify(gold, pred)``."""

    def run(self, view: ViewLike) -> Decisions:
        """Vote over the first ``n`` samples of every row."""
        labels = prefix_labels(view, self.n, self.mode)
        pick = prefix_majority(labels, self.n)
        return Decisions(n_used=np.full(labels.shape[0], self.n, dtype=np.int64), pick=pick)

    def run_prefixes(self, view: ViewLike) -> PrefixDecisions:
        """Vote over the first ``j`` samples for every ``j <= n``, in one pass."""
        labels = prefix_labels(view, self.n, self.mode)
        n_used = np.full(labels.shape[0], self.n, dtype=np.int64)
        return PrefixDecisions(n_used=n_used, picks=running_vote_pick(labels))


@dataclass(frozen=True)
class WeightedSelfConsistency(RowPolicy):
    """Weighted self-consistency@N: each answer's votes weighted by the samples' PRM scores.

    Not an upstream method; both modes weight by the mean step reward (NaN counts 0) and
    break ties towards the answer seen first.

    Parameters
    ----------
    n
        Samples per problem.
    aggregate
        ``"sum"``: an answer's weight is the sum of its samples' scores; ``"max"``: the best.
    mode
        ``"paper"``: "no answer" is a candidate (as in paper-mode self-consistency).
        ``"fair"``: samples without an answer do not vote.
    """

    n: int
    aggregate: Aggregate = "sum"
    mode: Mode = "paper"
    rows_independent: ClassVar[bool] = True
    """Each problem is decided from its own row alone: replay may stack sample orders."""
    verify_order: ClassVar[VerifyOrder] = "gold_pred"
    """Upstream grades this method ``verify(gold, pred)``."""

    def __post_init__(self) -> None:
        check_budget("n", self.n)
        check_mode(self.mode)
        if self.aggregate not in ("sum", "max"):
            raise ValueError(f"aggregate must be 'sum' or 'max', got {self.aggregate!r}")
        object.__setattr__(self, "name", f"wsc-{self.aggregate}@{self.n}")

    @classmethod
    def grid(cls) -> list[dict[str, Any]]:
        """Hyperparameter settings for cross-fitting."""
        return [{"aggregate": "sum"}, {"aggregate": "max"}]

    def run(self, view: ViewLike) -> Decisions:
        """Weighted vote over the first ``n`` samples of every row."""
        labels = prefix_labels(view, self.n, self.mode)
        weights = np.nan_to_num(np.asarray(view.scores, dtype=np.float64)[:, : self.n], nan=0.0)
        voted = vote_counts(labels) > 0
        if self.aggregate == "sum":
            weight = vote_counts(labels, weights)
        else:
            weight = np.where(one_hot(labels), weights[:, :, None], -np.inf).max(axis=1)
        winner = np.argmax(np.where(voted, weight, -np.inf), axis=1).astype(np.int64)
        pick = np.where(voted.any(axis=1), winner, -1)
        return Decisions(n_used=np.full(labels.shape[0], self.n, dtype=np.int64), pick=pick)


@dataclass(frozen=True)
class MRThinking(FixedBudgetPolicy):
    """MR-Thinking@N over a sequential pool: the answer of round ``n``.

    Sample ``j`` of a sequential pool was generated with round ``j - 1``'s answer in its
    prompt, so the method pays for the first ``n`` rounds and commits to the last of them.
    Both modes behave the same (upstream grades ``verify(gold, pred)``).

    Parameters
    ----------
    n
        Rounds per problem.
    mode
        Kept for a uniform interface; it selects how the harness builds the view only.
    """

    tag: ClassVar[str] = "mr-thinking"
    rows_independent: ClassVar[bool] = True
    """Each problem is decided from its own row alone: replay may stack sample orders."""
    verify_order: ClassVar[VerifyOrder] = "gold_pred"
    """Upstream grades this method ``verify(gold, pred)``."""

    def run(self, view: ViewLike) -> Decisions:
        """Commit to sample ``n - 1`` of every row."""
        view_width(view, self.n)
        rows = np.shape(view.answer_ids)[0]
        return Decisions(
            n_used=np.full(rows, self.n, dtype=np.int64),
            pick=np.full(rows, self.n - 1, dtype=np.int64),
        )
