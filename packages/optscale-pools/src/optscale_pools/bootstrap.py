"""Vectorised bootstrap confidence intervals over problems and sample orders.

A replay yields a matrix ``x[r, p]`` (one row per sample order, one column per problem) of
per-problem outcomes: correctness (0/1) or tokens. The statistic is the grand mean. Problems are
the unit of sampling (a benchmark is a sample of problems); orders are a second, independent source
of spread in fair mode. Both are resampled at once, without a Python loop.

The evaluation engine instead resamples problems only, with one set of draws
([`Resampling`][optscale_pools.Resampling]) shared by every estimate of an evaluation, so that
replicate ``b`` of every method at every budget is computed on the same resampled problems.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

CONFIDENCE = 0.95
"""Coverage of the reported intervals."""

N_RESAMPLES = 2000
"""Bootstrap resamples per interval."""


def bootstrap_means(
    values: npt.NDArray[np.float64],
    rng: np.random.Generator,
    n_resamples: int = N_RESAMPLES,
) -> npt.NDArray[np.float64]:
    r"""Bootstrap replicates of the grand mean of ``values[r, p]``, resampling orders and problems.

    Parameters
    ----------
    values
        Outcomes of shape ``[R, P]`` (``R`` sample orders, ``P`` problems), or a stack of such
        matrices of shape ``[S, R, P]`` resampled with the same draws (paired replicates).
    rng
        Source of the resampling draws.
    n_resamples
        Number of replicates ``B``.

    Returns
    -------
    numpy.ndarray
        Replicates of shape ``[B]`` (or ``[S, B]`` for a stack).

    Notes
    -----
    With ``w_b`` the multinomial counts of the orders drawn in replicate ``b`` (``R`` draws with
    replacement) and ``v_b`` those of the problems (``P`` draws), the replicate mean over the
    drawn order-problem grid is

    $$\bar x_b = \frac{w_b^\top X v_b}{R P},$$

    so all replicates cost one matrix product ``W X`` and a row-wise dot product with ``V``.
    With ``R = 1`` this is the ordinary bootstrap over problems.
    """
    stack = np.asarray(values, dtype=np.float64)
    single = stack.ndim == 2
    if single:
        stack = stack[np.newaxis]
    if stack.ndim != 3 or stack.shape[1] < 1 or stack.shape[2] < 1:
        msg = f"values must have shape [R, P] or [S, R, P] with R, P >= 1, got {values.shape}"
        raise ValueError(msg)
    n_orders, n_problems = stack.shape[1], stack.shape[2]
    order_counts = resample_counts(rng, n_orders, n_resamples)
    problem_counts = resample_counts(rng, n_problems, n_resamples)
    # [S, B, P]: order-weighted sums per problem, then weighted by problem counts.
    weighted = order_counts @ stack
    replicates = np.einsum("sbp,bp->sb", weighted, problem_counts) / (n_orders * n_problems)
    result: npt.NDArray[np.float64] = replicates[0] if single else replicates
    return result


def percentile_interval(
    replicates: npt.NDArray[np.float64], confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Equal-tailed percentile interval of bootstrap replicates (last axis)."""
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(replicates, [tail, 100.0 - tail], axis=-1)
    return float(low), float(high)


def resample_counts(rng: np.random.Generator, n: int, n_resamples: int) -> npt.NDArray[np.float64]:
    """Count each of ``n`` items in ``n`` draws with replacement, per replicate ``[B, n]``."""
    if n <= 1:  # nothing to draw: no randomness is consumed
        return np.ones((n_resamples, n))
    draws = rng.integers(0, n, size=(n_resamples, n))
    draws += np.arange(n_resamples)[:, np.newaxis] * n
    return (
        np.bincount(draws.ravel(), minlength=n_resamples * n)
        .reshape(n_resamples, n)
        .astype(np.float64)
    )


@dataclass(frozen=True, eq=False)
class Resampling:
    """Bootstrap draws of the problems, shared by every estimate of one evaluation.

    The problems are split into strata (the two cross-fitting halves, or one stratum holding
    every problem); replicate ``b`` draws, within each stratum, as many problems as it holds,
    with replacement. Every estimate computed from the same ``Resampling`` (every method, every
    setting, every budget) sees the same problems in replicate ``b``: common random numbers, so
    that a difference or ratio of two estimates is bootstrapped replicate by replicate.

    Attributes
    ----------
    strata
        Sorted problem indices of each stratum; together they hold ``0..P-1`` once each.
    counts
        Per stratum, how often replicate ``b`` drew each of its problems, ``[B, |stratum|]``.
    """

    strata: tuple[npt.NDArray[np.int64], ...]
    counts: tuple[npt.NDArray[np.float64], ...]

    @property
    def n_problems(self) -> int:
        """Problems resampled ``P``."""
        return sum(int(stratum.size) for stratum in self.strata)

    @property
    def n_resamples(self) -> int:
        """Replicates ``B``."""
        return int(self.counts[0].shape[0])

    def means(self, values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Replicates ``[S, B]`` of the mean over problems of each row of ``values [S, P]``."""
        total = np.zeros((values.shape[0], self.n_resamples))
        for stratum, counts in zip(self.strata, self.counts, strict=True):
            total += values[:, stratum] @ counts.T
        result: npt.NDArray[np.float64] = total / self.n_problems
        return result


def draw_resampling(
    n_problems: int, *, seed: int = 0, n_resamples: int = N_RESAMPLES, halves: bool = True
) -> Resampling:
    """Draw the problems of ``n_resamples`` bootstrap replicates, once for a whole evaluation.

    Parameters
    ----------
    n_problems
        Problems ``P`` (at least 1).
    seed
        Seed of the halves and of the draws.
    n_resamples
        Replicates ``B``.
    halves
        True: the strata are two random halves of the problems (sizes ``P // 2`` and the rest),
        the halves cross-fitting chooses on and reports on, so each half is resampled within
        itself; False: one stratum, the ordinary bootstrap over problems.

    Returns
    -------
    Resampling
    """
    if n_problems < 1 or n_resamples < 1:
        msg = f"need at least 1 problem and 1 replicate, got {n_problems} and {n_resamples}"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    strata: tuple[npt.NDArray[np.int64], ...]
    if halves:
        shuffled = rng.permutation(n_problems)
        cut = n_problems // 2
        strata = (np.sort(shuffled[:cut]), np.sort(shuffled[cut:]))
    else:
        strata = (np.arange(n_problems, dtype=np.int64),)
    counts = tuple(resample_counts(rng, stratum.size, n_resamples) for stratum in strata)
    return Resampling(strata=strata, counts=counts)
