"""The best-score threshold: stop once the best score so far reaches a level."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from optscale_baselines._live import StepCore, replay_core, replay_core_prefixes
from optscale_baselines._protocol import (
    BoolArray,
    Decisions,
    FloatArray,
    IntArray,
    PrefixDecisions,
    RowPolicy,
    VerifyOrder,
    ViewLike,
    check_budget,
    check_level,
)


class BestSoFar:
    """Running best usable score and its first index, per row (NaN scores never win)."""

    def __init__(self, rows: int) -> None:
        self.best = np.full(rows, -np.inf)
        self.pick = np.full(rows, -1, dtype=np.int64)

    def add(self, rows: IntArray, k: int, scores: FloatArray) -> None:
        """Take sample ``k`` of ``rows`` into account (strictly better replaces: first argmax)."""
        with np.errstate(invalid="ignore"):
            better = scores > self.best[rows]
        self.best[rows[better]] = scores[better]
        self.pick[rows[better]] = k

    def picks(self) -> IntArray:
        """Index of the best usable sample per row, -1 where none was usable."""
        return self.pick.copy()


class ThresholdCore(BestSoFar):
    """Core of [`BestScoreThreshold`][optscale_baselines.BestScoreThreshold]."""

    def __init__(self, rows: int, tau: float, min_n: int) -> None:
        super().__init__(rows)
        self.tau, self.min_n = tau, min_n

    def step(self, rows: IntArray, k: int, scores: FloatArray, labels: IntArray) -> BoolArray:
        """Stop rows whose best reaches ``tau`` once ``min_n`` samples are in."""
        self.add(rows, k, scores)
        if k + 1 < self.min_n:
            return np.zeros(rows.size, dtype=bool)
        out: BoolArray = self.best[rows] >= self.tau
        return out


THRESHOLD_TAUS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995)
"""Levels of the threshold grid (scores are verifier probabilities in [0, 1])."""


@dataclass(frozen=True)
class BestScoreThreshold(RowPolicy):
    r"""Best-score threshold: after at least ``min_n`` samples, stop once the best reaches ``tau``.

    $$n_{\text{used}} = \min\{\, n \ge n_0 : \max_{i \le n} s_i \ge \tau \,\} \wedge N_{\max},$$

    and the answer is the best-scored sample so far (first on ties; empty or unscored samples are
    never picked). The simplest early stop, and the baseline the other rules must beat.

    Parameters
    ----------
    tau
        Score level that ends sampling (``math.inf``: never, which is fair Best-of-``max_n``).
    min_n
        Samples drawn before the level is checked ($n_0$).
    max_n
        Most samples per problem.
    """

    rows_independent: ClassVar[bool] = True
    """Each problem is decided from its own row: replay may stack sample orders."""
    verify_order: ClassVar[VerifyOrder] = "gold_pred"

    tau: float = 0.9
    min_n: int = 1
    max_n: int = 64

    def __post_init__(self) -> None:
        check_level("tau", self.tau)
        check_budget("min_n", self.min_n)
        check_budget("max_n", self.max_n)
        object.__setattr__(self, "name", f"threshold-t{self.tau:g}-n{self.min_n}@{self.max_n}")

    @classmethod
    def grid(cls) -> list[dict[str, Any]]:
        """``min_n`` in 1, 2, 4 times ``tau`` in ``THRESHOLD_TAUS`` (36 settings)."""
        return [{"tau": t, "min_n": n} for n in (1, 2, 4) for t in THRESHOLD_TAUS]

    def core(self, prior_mu: FloatArray, prior_sigma: FloatArray) -> StepCore:
        """Return a fresh core, one row per problem."""
        return ThresholdCore(prior_mu.size, float(self.tau), self.min_n)

    def run(self, view: ViewLike) -> Decisions:
        """Replay the rule on every row of ``view``."""
        return replay_core(self, view)

    def run_prefixes(self, view: ViewLike) -> PrefixDecisions:
        """Every cap at once: the level test never reads ``max_n``."""
        return replay_core_prefixes(self, view)
