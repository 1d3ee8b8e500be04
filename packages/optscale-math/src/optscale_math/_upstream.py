"""Upstream OptScale numerics, reproduced for paper mode: per-problem L-BFGS-B fits, grid rule.

These are deliberately the upstream computations (the notebooks of github.com/Albertwyk/OptScale
at commit a7dd914), not the best ones: the batched fits in ``_estimate`` and the
closed form in ``_sizing`` are what fair mode uses.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
import numpy.typing as npt
from scipy import special

from optscale_math import _validation as check
from optscale_math._validation import FloatArray, IntArray

GRID = np.linspace(0, 1, 1000)
"""The 1000-point score grid of upstream's numerical quantile."""

SIGMA_FLOOR = 1e-6
"""Lower bound on sigma in every fit (upstream's L-BFGS-B bound)."""

_CHUNK = 32


_LOG_SQRT_2PI = np.log(np.sqrt(2 * np.pi))
"""scipy's constant in ``norm.logpdf``, spelled as scipy spells it so results match bit for bit."""


def _std_logpdf(z: FloatArray | float) -> FloatArray:
    """``scipy.stats.norm.logpdf(z)`` to the last bit, without its per-call overhead."""
    out: FloatArray = -(np.asarray(z) ** 2) / 2.0 - _LOG_SQRT_2PI
    return out


def upstream_nll(params: FloatArray, data: FloatArray) -> float:
    """Upstream's truncated-normal NLL (``norm.logpdf`` form; inf where invalid).

    ``norm.cdf`` and ``norm.logpdf`` are replaced by the expressions scipy evaluates inside
    them (``ndtr`` and ``-z**2 / 2 - log(sqrt(2 pi))``), which give identical floats at a
    fraction of the cost; the tests hold the two forms equal bit for bit.
    """
    mu, sigma = float(params[0]), float(params[1])
    if sigma <= 0:
        return float(np.inf)
    z_norm = special.ndtr((1 - mu) / sigma) - special.ndtr((0 - mu) / sigma)
    if z_norm <= 0:
        return float(np.inf)
    log_p = np.sum(_std_logpdf((data - mu) / sigma) - np.log(sigma)) - len(data) * np.log(z_norm)
    return float(-log_p)


def upstream_neg_log_posterior(
    params: FloatArray, data: FloatArray, prior_mu: float, prior_sigma: float
) -> float:
    """Upstream's MAP objective: the NLL minus Gaussian log priors N(prior, 0.1) on mu and sigma."""
    nll = upstream_nll(params, data)
    if not np.isfinite(nll):
        return nll
    log_prior = (_std_logpdf((params[0] - prior_mu) / 0.1) - np.log(0.1)) + (
        _std_logpdf((params[1] - prior_sigma) / 0.1) - np.log(0.1)
    )
    return float(nll - log_prior)


def _minimize(objective: Callable[[FloatArray], float], start: FloatArray) -> FloatArray:
    from scipy import optimize  # deferred: importing optscale_math stays cheap without it

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        result = optimize.minimize(
            objective, start, bounds=[(None, None), (SIGMA_FLOOR, None)], method="L-BFGS-B"
        )
    x: FloatArray = np.asarray(result.x, dtype=np.float64)
    return x


def upstream_fit(
    scores: npt.ArrayLike,
    prior_mu: npt.ArrayLike | None = None,
    prior_sigma: npt.ArrayLike | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Fit each row on its own with ``scipy.optimize.minimize(method="L-BFGS-B")``, as upstream.

    Parameters
    ----------
    scores
        ``[P, k]`` peeked scores (NaN padding at the end of a row is dropped).
    prior_mu, prior_sigma
        ``[P]`` priors: when given, the MAP objective started at the prior; otherwise the MLE
        started at the (mean, population std) of the row. Bounds: sigma >= 1e-6.

    Returns
    -------
    tuple of numpy.ndarray
        ``mu`` and ``sigma``, shape ``[P]``.
    """
    rows = check.as_float("scores", scores)
    if rows.ndim != 2:
        raise ValueError(f"scores must be 2-D [P, k], got shape {rows.shape}")
    if (prior_mu is None) != (prior_sigma is None):
        raise ValueError("prior_mu and prior_sigma must be given together")
    n_rows = rows.shape[0]
    mu_out = np.empty(n_rows)
    sigma_out = np.empty(n_rows)
    pm = ps = None
    if prior_mu is not None and prior_sigma is not None:
        pm = check.finite("prior_mu", prior_mu) * np.ones(n_rows)
        ps = check.finite("prior_sigma", prior_sigma) * np.ones(n_rows)
    for i in range(n_rows):
        data = rows[i][~np.isnan(rows[i])]
        if pm is not None and ps is not None:
            objective = partial(
                upstream_neg_log_posterior,
                data=data,
                prior_mu=float(pm[i]),
                prior_sigma=float(ps[i]),
            )
            start = np.array([pm[i], ps[i]])
        else:
            objective = partial(upstream_nll, data=data)
            start = np.array([np.mean(data), np.std(data)])
        mu_out[i], sigma_out[i] = _minimize(objective, start)
    return mu_out, sigma_out


def _first_at_least(cdf: FloatArray, percentile: float) -> npt.NDArray[np.intp]:
    """``np.searchsorted(row, percentile)`` for every row of ``cdf`` (last axis)."""
    regular = np.all(np.isfinite(cdf), axis=-1)
    # NaN sorts after every number, so an all-NaN row gives 0, as np.searchsorted does.
    idx = np.sum(cdf < percentile, axis=-1)
    irregular = ~regular & ~np.all(np.isnan(cdf), axis=-1)
    for pos in zip(*np.nonzero(irregular), strict=True):
        idx[pos] = np.searchsorted(cdf[pos], percentile)
    out: npt.NDArray[np.intp] = idx
    return out


def upstream_grid_quantiles(
    mu: npt.ArrayLike, sigma: npt.ArrayLike, percentile: float, *, max_n: int
) -> FloatArray:
    """Upstream's numerical p-quantile of the max of N draws, N = 1..max_n: shape ``[P, max_n]``.

    Notes
    -----
    On the grid :math:`x_j = j/999`, the density of the max, :math:`N f F^{N-1}`, is summed
    cumulatively (times the step), normalised by its last value, and the first grid point whose
    normalised sum is >= p is the quantile (``np.searchsorted``). ``f`` and ``F`` are formed as
    upstream does, with ``scipy.stats.norm`` and no log space: where the truncation mass
    underflows to 0 (mu far outside [0, 1] or tiny sigma) the sums are NaN and the quantile is 0.

    A NaN or infinite ``mu``, or a ``sigma`` that is not finite and > 0, is not a law: upstream's
    arrays would turn it into a quantile of 0 (N = max_n) through NaN arithmetic alone, so it is
    refused with a ValueError naming the argument instead.
    """
    table: FloatArray = upstream_grid_quantile_table(mu, sigma, (percentile,), max_n=max_n)[0]
    return table


def upstream_grid_quantile_table(
    mu: npt.ArrayLike, sigma: npt.ArrayLike, percentiles: Sequence[float], *, max_n: int
) -> FloatArray:
    """`upstream_grid_quantiles` for several percentiles at once: ``[len(p), P, max_n]``.

    The normalised sums do not depend on the percentile, so a grid sweep pays for them once.
    """
    from scipy.stats import norm  # deferred: scipy.stats alone takes about a second to import

    mu_a = check.finite("mu", mu).reshape(-1)
    sigma_a = check.positive("sigma", sigma).reshape(-1)
    mu_a, sigma_a = check.broadcast(mu=mu_a, sigma=sigma_a)
    max_n = check.count("max_n", max_n, minimum=1)
    dx = GRID[1] - GRID[0]
    n = np.arange(1, max_n + 1, dtype=np.float64)[None, :, None]
    out = np.empty((len(percentiles), mu_a.size, max_n))
    for start in range(0, mu_a.size, _CHUNK):
        m = mu_a[start : start + _CHUNK, None, None]
        s = sigma_a[start : start + _CHUNK, None, None]
        with np.errstate(all="ignore"):
            a = (0 - m) / s
            b = (1 - m) / s
            z_norm = norm.cdf(b) - norm.cdf(a)
            pdf = norm.pdf(GRID, m, s) / z_norm
            cdf = (norm.cdf((GRID - m) / s) - norm.cdf(a)) / z_norm
            # N = 1 is upstream's separate branch (pdf alone); 1 * pdf * cdf**0 is the same bits.
            dens = n * pdf * np.power(cdf, n - 1)
            sums = np.cumsum(dens, axis=-1) * dx
            sums = sums / sums[..., -1:]
        for j, percentile in enumerate(percentiles):
            idx = _first_at_least(sums, percentile)
            out[j, start : start + _CHUNK] = GRID[np.minimum(idx, GRID.size - 1)]
    return out


def upstream_min_samples(
    mu: npt.ArrayLike, sigma: npt.ArrayLike, target: float, percentile: float, *, max_n: int
) -> IntArray:
    """Upstream's minimal N: the first N in 1..max_n whose grid quantile is >= target, else max_n.

    ``mu`` and ``sigma`` are 1-D (one entry per problem); see
    [`upstream_grid_quantiles`][optscale_math.upstream_grid_quantiles].
    """
    quantiles = upstream_grid_quantiles(mu, sigma, percentile, max_n=max_n)
    return first_reaching(quantiles, target)


def first_reaching(quantiles: FloatArray, target: float) -> IntArray:
    """Return per row of ``[P, max_n]`` quantiles the first N reaching target, else max_n."""
    reached = quantiles >= target
    first = np.argmax(reached, axis=1) + 1
    out: IntArray = np.where(reached.any(axis=1), first, quantiles.shape[1]).astype(np.int64)
    return out
