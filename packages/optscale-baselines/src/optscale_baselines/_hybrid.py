"""A hybrid of scores and agreement: stop when the weighted-vote winner is unlikely to change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

from optscale_baselines._live import StepCore, replay_inputs
from optscale_baselines._protocol import (
    BoolArray,
    Decisions,
    FloatArray,
    IntArray,
    RowPolicy,
    VerifyOrder,
    ViewLike,
    check_budget,
)
from optscale_baselines._tables import TableCache, content_key, first_stops
from optscale_baselines._tally import Tally
from optscale_baselines._votes import NOT_VOTING


def overtake_probability(
    margin: npt.ArrayLike,
    mean: npt.ArrayLike,
    second: npt.ArrayLike,
    remaining: npt.ArrayLike,
    concentration: npt.ArrayLike,
) -> FloatArray:
    r"""Approximate the chance that a rival's vote weight ends above the leader's (normal law).

    Parameters
    ----------
    margin
        The leader's weight minus the rival's now, $d \ge 0$.
    mean, second
        Mean $\mu$ and second moment $E[X^2]$ of $X$, the change of the margin from one future
        sample.
    remaining
        Samples still allowed, $m$.
    concentration
        $A = n + \alpha$: samples so far plus the new-cluster mass, which sets how uncertain
        the cluster frequencies are.

    Returns
    -------
    numpy.ndarray
        $\Phi\big(-(d + m\mu) / \sqrt{m v \kappa}\big)$ with $v = E[X^2] - \mu^2$ and
        $\kappa = (A + m) / (A + 1)$; 0 where $m = 0$. With $v = 0$ the margin is certain and
        the result is 1 if it ends at or below 0, else 0.

    Notes
    -----
    The $m$ future margin changes are exchangeable draws whose sum has mean $m\mu$; its
    variance is $m v$ for known cluster frequencies and $m v \kappa$ for frequencies drawn from
    a Dirichlet with total mass $A$ (the Dirichlet-multinomial overdispersion factor). The
    central limit theorem gives the normal tail.
    """
    d = np.asarray(margin, dtype=np.float64)
    mu = np.asarray(mean, dtype=np.float64)
    m = np.asarray(remaining, dtype=np.float64)
    a = np.asarray(concentration, dtype=np.float64)
    var = np.maximum(np.asarray(second, dtype=np.float64) - mu * mu, 0.0)
    drift = d + m * mu
    with np.errstate(invalid="ignore", divide="ignore"):
        z = drift / np.sqrt(m * var * (a + m) / (a + 1.0))
    certain = (drift <= 0).astype(np.float64)
    out: FloatArray = np.where(m > 0, np.where(var > 0, ndtr(-z), certain), 0.0)
    return out


def flip_probability(
    tally: Tally, rows: IntArray, seen: int, remaining: int, alpha: float
) -> FloatArray:
    r"""Union bound on the chance that the current leader of each row is not the final one.

    A future sample joins seen cluster $c$ with probability $n_c / (n + \alpha)$ (the
    predictive of a Dirichlet process of concentration $\alpha$), a new cluster with
    $\alpha / (n + \alpha)$, and casts no vote otherwise; its weight has the moments of its
    cluster's votes so far (a new cluster: of all votes so far). Against rival $c$ the
    leader's margin then moves per sample by $\mu_c = (W_L - W_c) / (n + \alpha)$ on
    average, with second moment $(Q_L + Q_c) / (n + \alpha)$ ($W$: summed weights, $Q$:
    summed squared weights). The result sums
    [`overtake_probability`][optscale_baselines.overtake_probability] over every other seen
    cluster and one new cluster, capped at 1; rows without a vote get 1.
    """
    lead = tally.leader[rows]
    voted = lead >= 0
    safe = np.where(voted, lead, 0)
    w_l, q_l = tally.weight[rows, safe], tally.square[rows, safe]
    conc = seen + alpha
    rivals = tally.count[rows] > 0
    rivals[np.arange(rows.size), safe] = False
    # Only rival entries are evaluated; the sum runs over the whole row (zeros elsewhere), so
    # a row's bound does not depend on which other rows are evaluated with it.
    i, c = np.nonzero(rivals)
    gap = w_l[i] - tally.weight[rows[i], c]
    each = np.zeros(rivals.shape)
    each[i, c] = overtake_probability(
        gap, gap / conc, (q_l[i] + tally.square[rows[i], c]) / conc, remaining, conc
    )
    total = each.sum(axis=1)
    if alpha > 0:
        votes = np.maximum(tally.votes[rows], 1.0)
        new_w = alpha * tally.total[rows] / votes
        new_q = alpha * tally.square[rows].sum(axis=1) / votes
        total += overtake_probability(
            w_l, (w_l - new_w) / conc, (q_l + new_q) / conc, remaining, conc
        )
    out: FloatArray = np.where(voted, np.minimum(total, 1.0), 1.0)
    return out


def cast_votes(tally: Tally, rows: IntArray, scores: FloatArray, labels: IntArray) -> None:
    """Add sample ``k`` of ``rows`` to ``tally``: answers with a usable score vote with it."""
    voting = (labels != NOT_VOTING) & np.isfinite(scores)
    tally.add(rows, labels, np.maximum(np.nan_to_num(scores), 0.0), voting)


class HybridCore:
    """Core of [`AgreementHybrid`][optscale_baselines.AgreementHybrid] (the live form)."""

    def __init__(self, rows: int, policy: AgreementHybrid) -> None:
        self.policy = policy
        self.tally = Tally(rows, policy.max_n)

    def step(self, rows: IntArray, k: int, scores: FloatArray, labels: IntArray) -> BoolArray:
        """Vote with sample ``k``; from ``min_n`` samples on, stop when a flip is unlikely."""
        p = self.policy
        cast_votes(self.tally, rows, scores, labels)
        if k + 1 < p.min_n:
            return np.zeros(rows.size, dtype=bool)
        flip = flip_probability(self.tally, rows, k + 1, p.max_n - k - 1, p.alpha)
        out: BoolArray = flip <= p.delta
        return out

    def picks(self) -> IntArray:
        """Return the weighted-vote leader per row (its first sample), -1 where nobody voted."""
        return self.tally.picks()


_TABLES: TableCache[tuple[FloatArray, IntArray]] = TableCache(8)
"""Recent flip tables (a grid replays one view for each of its settings)."""


def flip_table(view: ViewLike, max_n: int, alpha: float) -> tuple[FloatArray, IntArray]:
    """Flip bound and leader of every row after each sample count, fed as the live form is.

    Returns ``flips[p, k]``, the [`flip_probability`][optscale_baselines.flip_probability]
    after ``k + 1`` samples under cap ``max_n``, and ``leaders[p, k]``, the weighted-vote
    leader then. Neither depends on ``min_n`` or ``delta``, nor on when a row stops (a row's
    tally reads that row's samples only), so one table, cached by content, serves every
    such setting.
    """
    scores, labels = replay_inputs(view, max_n)

    def make() -> tuple[FloatArray, IntArray]:
        rows = scores.shape[0]
        tally, every = Tally(rows, max_n), np.arange(rows)
        flips, leaders = np.empty((rows, max_n)), np.empty((rows, max_n), dtype=np.int64)
        for k in range(max_n):
            cast_votes(tally, every, scores[:, k], labels[:, k])
            leaders[:, k] = tally.leader
            flips[:, k] = flip_probability(tally, every, k + 1, max_n - k - 1, alpha)
        return flips, leaders

    return _TABLES.get(content_key((scores, labels), f"{max_n} {alpha!r}"), make)


@dataclass(frozen=True)
class AgreementHybrid(RowPolicy):
    r"""Stop when the score-weighted vote's winner is unlikely to change by ``max_n``.

    Every sample with an answer and a usable score votes for its answer cluster with its score.
    From ``min_n`` samples on, stop as soon as the probability that some other cluster (seen or
    new) ends with more weight than the current leader after all ``max_n`` samples is at most
    ``delta`` (union bound over clusters, see
    [`flip_probability`][optscale_baselines.flip_probability]); answer with the leader.

    Parameters
    ----------
    min_n
        Samples before the first check.
    alpha
        Concentration of the new-cluster mass (larger: more caution about unseen answers).
    delta
        Tolerated probability that the answer would change.
    max_n
        Most samples per problem.
    """

    rows_independent: ClassVar[bool] = True
    """Each problem is decided from its own row: replay may stack sample orders."""
    verify_order: ClassVar[VerifyOrder] = "gold_pred"

    min_n: int = 2
    alpha: float = 1.0
    delta: float = 0.1
    max_n: int = 64

    def __post_init__(self) -> None:
        check_budget("min_n", self.min_n)
        check_budget("max_n", self.max_n)
        if not (isinstance(self.alpha, float | int) and self.alpha >= 0):
            raise ValueError(f"alpha must be >= 0, got {self.alpha!r}")
        if not 0.0 < self.delta < 1.0:
            raise ValueError(f"delta must lie in (0, 1), got {self.delta!r}")
        tag = f"n{self.min_n}-a{self.alpha:g}-d{self.delta:g}"
        object.__setattr__(self, "name", f"hybrid-{tag}@{self.max_n}")

    @classmethod
    def grid(cls) -> list[dict[str, Any]]:
        """``min_n`` 2 or 3, ``alpha`` 0.5, 1 or 2, ``delta`` 0.02 to 0.3 (30 settings)."""
        return [
            {"min_n": n, "alpha": a, "delta": d}
            for n in (2, 3)
            for a in (0.5, 1.0, 2.0)
            for d in (0.02, 0.05, 0.1, 0.2, 0.3)
        ]

    def core(self, prior_mu: FloatArray, prior_sigma: FloatArray) -> StepCore:
        """Return a fresh core, one row per problem."""
        return HybridCore(prior_mu.size, self)

    def run(self, view: ViewLike) -> Decisions:
        """Replay the rule on every row of ``view`` from its table of flip bounds.

        The row stops after the first ``n >= min_n`` samples whose flip bound is at most
        ``delta`` (else at ``max_n``) and answers with the leader after ``n`` samples: the
        decisions of the live form, sample for sample (see ``flip_table``).
        """
        flips, leaders = flip_table(view, self.max_n, float(self.alpha))
        steps = np.arange(self.max_n)
        return first_stops((steps >= self.min_n - 1) & (flips <= self.delta), leaders)
