r"""Which rows have no finite maximum-likelihood fit: a moment test, no optimisation needed.

The truncated normal on $[0, 1]$ is the part $\eta_2 < 0$ of the exponential family with
density proportional to $\exp(\eta_1 x + \eta_2 x^2)$ on $[0, 1]$ (there
$\eta_1 = \mu / \sigma^2$, $\eta_2 = -1 / (2 \sigma^2)$). The whole family is regular and its
likelihood strictly concave in $\eta$, so a sample with at least two distinct scores has one
maximiser $\hat\eta$: the law whose mean and second moment equal the sample's. Along the laws
of a fixed mean, the second moment increases with $\eta_2$ (the Fisher information is positive
definite), and at $\eta_2 = 0$ the law is the exponential one, $\propto e^{\lambda x}$. Hence

$$\hat\eta_2 < 0 \iff \hat v < V(\lambda), \qquad M(\lambda) = \bar x,$$

with $\hat v$ the sample's (population) variance and $M$, $V$ the mean and variance of the
exponential law on $[0, 1]$:

$$M(\lambda) = \tfrac12 + \tfrac12 \coth\tfrac\lambda2 - \tfrac1\lambda, \qquad
V(\lambda) = \frac1{\lambda^2} - \frac1{4 \sinh^2(\lambda/2)} .$$

When $\hat v \ge V(\lambda)$ the truncated-normal likelihood has no finite optimum: it keeps
rising as $\sigma \to \infty$ with $\mu / \sigma^2 \to \lambda'$, the path
[`fit_mle`][optscale_math.fit_mle] answers with its ``UNBOUNDED`` point, so a search along it
can be skipped.
"""

from __future__ import annotations

import numpy as np

from optscale_math._objective import Rows
from optscale_math._validation import FloatArray

_SERIES = 1e-2
"""Below this |lambda| the moments come from their Taylor series (no cancellation)."""


MARGIN = 1e-6
"""Relative margin: rows this close to the boundary are searched, as all rows once were."""

STEEP = 1e4
"""Largest |lambda| screened. The answer at sigma = 100 has mu = lambda * 1e4, whose objective
loses accuracy for steeper rows; there the search, which finds a near-exponential point with a
small sigma, is kept."""


def exponential_moments(lam: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Mean and variance of the law on [0, 1] with density proportional to exp(lam x)."""
    small = np.abs(lam) < _SERIES
    safe = np.where(small, 1.0, lam)
    half = 0.5 * safe
    with np.errstate(over="ignore"):
        mean_far = 0.5 + 0.5 / np.tanh(half) - 1 / safe
        var_far = 1.0 / safe**2 - 0.25 / np.sinh(half) ** 2
    mean = np.where(small, 0.5 + lam / 12.0 - lam**3 / 720.0, mean_far)
    var = np.where(small, 1.0 / 12.0 - lam**2 / 240.0, var_far)
    return mean, var


def _rate_of_mean(mean: FloatArray) -> FloatArray:
    """Return the lambda whose exponential law has this mean (or the nearer of +-2 STEEP)."""
    lo, hi = np.full(mean.shape, -2.0 * STEEP), np.full(mean.shape, 2.0 * STEEP)
    for _ in range(64):  # the bracket shrinks to ~1e-15: below rounding of the moments
        mid = 0.5 * (lo + hi)
        above = exponential_moments(mid)[0] > mean
        hi, lo = np.where(above, mid, hi), np.where(above, lo, mid)
    out: FloatArray = 0.5 * (lo + hi)
    return out


def no_finite_optimum(rows: Rows) -> np.ndarray:
    """Rows whose likelihood surely has no finite optimum (variance beyond the exponential's).

    Rows with all scores equal are not flagged (they have their own answer), nor rows within a
    relative ``MARGIN`` of the boundary, where rounding could decide either way, nor rows
    steeper than ``STEEP``.
    """
    lam = _rate_of_mean(rows.mean)
    _, var = exponential_moments(lam)
    beyond = rows.css / rows.k >= var * (1.0 + MARGIN)
    out: np.ndarray = (rows.css > 0) & beyond & (np.abs(lam) <= STEEP)
    return out
