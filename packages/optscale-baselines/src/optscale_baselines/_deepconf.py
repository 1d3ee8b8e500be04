"""Confidence-weighted voting after DeepConf, with each sample's score as its confidence."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from optscale_baselines._live import StepCore, replay_core
from optscale_baselines._protocol import (
    BoolArray,
    Decisions,
    FloatArray,
    IntArray,
    RowPolicy,
    VerifyOrder,
    ViewLike,
    check_budget,
    check_level,
)
from optscale_baselines._tally import Tally
from optscale_baselines._votes import NOT_VOTING


def row_percentile(values: FloatArray, q: float) -> FloatArray:
    """Per-row ``q``-th percentile (linear interpolation) of the finite values; -inf if none.

    The same as ``numpy.nanpercentile`` row by row, without its warning on all-NaN rows.
    """
    ranked = np.sort(values, axis=1)  # NaN last
    m = np.isfinite(values).sum(axis=1)
    pos = np.maximum(m - 1, 0) * (q / 100.0)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, np.maximum(m - 1, 0))
    frac = pos - lo
    rows = np.arange(values.shape[0])
    low, high = ranked[rows, lo], ranked[rows, hi]
    with np.errstate(invalid="ignore", over="ignore"):
        spread = high - low  # overflows only for values of opposite signs near the float limit
        blend = np.where(np.isfinite(spread), low + frac * spread, (1 - frac) * low + frac * high)
        value = np.where(frac > 0, blend, low)
    out: FloatArray = np.where(m > 0, value, -np.inf)
    return out


class DeepConfCore:
    """Core of [`DeepConfOnline`][optscale_baselines.DeepConfOnline] (and the offline form).

    Warm-up samples are buffered; after the last of them the filter level is set and those at
    or above it vote. Later samples vote when at or above the level. A sample votes only with
    an answer and a usable score, with its score (floored at 0) as weight.
    """

    def __init__(self, rows: int, warmup: int, eta: float, tau: float, width: int) -> None:
        self.warmup, self.eta, self.tau = warmup, eta, tau
        self.tally = Tally(rows, width)
        self.level = np.full(rows, -np.inf)
        self.buffer = np.full((rows, warmup), np.nan)
        self.buffer_labels = np.full((rows, warmup), NOT_VOTING, dtype=np.int64)

    def _vote(self, rows: IntArray, scores: FloatArray, labels: IntArray) -> None:
        with np.errstate(invalid="ignore"):
            keep = (labels != NOT_VOTING) & (scores >= self.level[rows])
        self.tally.add(rows, labels, np.maximum(scores, 0.0), keep)

    def step(self, rows: IntArray, k: int, scores: FloatArray, labels: IntArray) -> BoolArray:
        """Buffer or vote sample ``k``; stop when the leader's share of the weight reaches tau."""
        if k < self.warmup:
            self.buffer[rows, k] = scores
            self.buffer_labels[rows, k] = labels
            if k + 1 < self.warmup:
                return np.zeros(rows.size, dtype=bool)
            self.level[rows] = row_percentile(self.buffer[rows], 100.0 - self.eta)
            for j in range(self.warmup):
                self._vote(rows, self.buffer[rows, j], self.buffer_labels[rows, j])
        else:
            self._vote(rows, scores, labels)
        total = self.tally.total[rows]
        lead = np.where(self.tally.leader[rows] >= 0, self.tally.leader_weight[rows], 0.0)
        with np.errstate(invalid="ignore"):  # tau = inf with no weight yet
            out: BoolArray = (total > 0) & (lead >= self.tau * total)
        return out

    def picks(self) -> IntArray:
        """Return the weighted-vote leader per row (its first sample), -1 where nobody voted."""
        return self.tally.picks()


DEEPCONF_ETAS = (10.0, 50.0, 90.0)
"""Kept shares of the warm-up in percent (DeepConf-low keeps 10, DeepConf-high 90)."""


def _check_eta(eta: float) -> None:
    if not (isinstance(eta, float | int) and 0.0 < eta <= 100.0):
        raise ValueError(f"eta must be a percentage in (0, 100], got {eta!r}")


@dataclass(frozen=True)
class DeepConfOnline(RowPolicy):
    r"""Online confidence-weighted voting (DeepConf's online mode), the score as confidence.

    Draw ``warmup`` samples; set the level $s$ to the $(100 - \eta)$-th percentile of their
    usable scores; from then on a sample votes for its answer with weight equal to its score
    when its score is at least $s$ (warm-up samples included). Stop as soon as the leader's
    share of the vote weight reaches $\tau$, $V(\hat a) / \sum_a V(a) \ge \tau$, or at
    ``max_n``; answer with the leader.

    Parameters
    ----------
    warmup
        $N_{\text{init}}$, clipped to ``max_n``.
    eta
        Percentage of the warm-up kept above the level (DeepConf uses 10 and 90).
    tau
        Consensus share that stops sampling (``math.inf``: never).
    max_n
        Most samples per problem.
    """

    rows_independent: ClassVar[bool] = True
    """Each problem is decided from its own row: replay may stack sample orders."""
    verify_order: ClassVar[VerifyOrder] = "gold_pred"

    warmup: int = 4
    eta: float = 90.0
    tau: float = 0.9
    max_n: int = 64

    def __post_init__(self) -> None:
        check_budget("warmup", self.warmup)
        check_budget("max_n", self.max_n)
        _check_eta(self.eta)
        check_level("tau", self.tau)
        object.__setattr__(
            self,
            "name",
            f"deepconf-w{self.warmup}-e{self.eta:g}-t{self.tau:g}@{self.max_n}",
        )

    @classmethod
    def grid(cls) -> list[dict[str, Any]]:
        """``warmup`` 2 or 4, ``eta`` in ``DEEPCONF_ETAS``, ``tau`` 0.5 to 0.95 (36 settings)."""
        taus = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
        return [
            {"warmup": w, "eta": e, "tau": t} for w in (2, 4) for e in DEEPCONF_ETAS for t in taus
        ]

    def core(self, prior_mu: FloatArray, prior_sigma: FloatArray) -> StepCore:
        """Return a fresh core, one row per problem."""
        warmup = min(self.warmup, self.max_n)
        return DeepConfCore(prior_mu.size, warmup, float(self.eta), float(self.tau), self.max_n)

    def run(self, view: ViewLike) -> Decisions:
        """Replay the rule on every row of ``view``."""
        return replay_core(self, view)


@dataclass(frozen=True)
class DeepConfOffline(RowPolicy):
    r"""Offline confidence-weighted voting (DeepConf's offline mode), the score as confidence.

    Pay for ``n`` samples, keep those whose score is at least the $(100 - \eta)$-th percentile
    of the ``n`` usable scores (the top $\eta$%), and answer with the score-weighted vote of the
    kept ones. It is [`DeepConfOnline`][optscale_baselines.DeepConfOnline] with
    ``warmup = max_n = n`` and no early stop.

    Parameters
    ----------
    n
        Samples per problem.
    eta
        Percentage kept.
    """

    rows_independent: ClassVar[bool] = True
    """Each problem is decided from its own row: replay may stack sample orders."""
    verify_order: ClassVar[VerifyOrder] = "gold_pred"

    n: int
    eta: float = 90.0

    def __post_init__(self) -> None:
        check_budget("n", self.n)
        _check_eta(self.eta)
        object.__setattr__(self, "name", f"deepconf-offline-e{self.eta:g}@{self.n}")

    @property
    def max_n(self) -> int:
        """Samples per problem (``n``)."""
        return self.n

    @classmethod
    def grid(cls) -> list[dict[str, Any]]:
        """``eta`` in ``DEEPCONF_ETAS``."""
        return [{"eta": e} for e in DEEPCONF_ETAS]

    def core(self, prior_mu: FloatArray, prior_sigma: FloatArray) -> StepCore:
        """Return a fresh core, one row per problem."""
        return DeepConfCore(prior_mu.size, self.n, float(self.eta), math.inf, self.n)

    def run(self, view: ViewLike) -> Decisions:
        """Replay the rule on every row of ``view``."""
        return replay_core(self, view)
