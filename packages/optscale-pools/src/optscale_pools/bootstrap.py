"""Vectorised bootstrap confidence intervals over problems and sample orders.

A replay yields a matrix ``x[r, p]`` (one row per sample order, one column per problem) of
per-problem outcomes: correctness (0/1) or tokens. The statistic is the grand mean. Problems are
the unit of sampling (a benchmark is a sample of problems); orders are a second, independent source
of spread in fair mode. Both are resampled at once, without a Python loop.
"""

from __future__ import annotations

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
    if n == 1:
        return np.ones((n_resamples, 1))
    draws = rng.integers(0, n, size=(n_resamples, n))
    draws += np.arange(n_resamples)[:, np.newaxis] * n
    return (
        np.bincount(draws.ravel(), minlength=n_resamples * n)
        .reshape(n_resamples, n)
        .astype(np.float64)
    )
