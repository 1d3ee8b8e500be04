"""How many samples: the exact closed form for the smallest N whose max reaches a target."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from optscale_math import _validation as check
from optscale_math._mass import log_cdf_sf
from optscale_math._validation import IntArray


def min_samples(
    mu: npt.ArrayLike,
    sigma: npt.ArrayLike,
    target: npt.ArrayLike,
    percentile: npt.ArrayLike,
    *,
    max_n: int,
    min_n: int = 1,
) -> IntArray:
    r"""Smallest N in [min_n, max_n] whose max-of-N law has its ``percentile``-quantile >= target.

    Parameters
    ----------
    mu, sigma
        Score law [`TruncatedNormal01`][optscale_math.TruncatedNormal01] parameters (``sigma > 0``);
        arrays broadcast.
    target
        Score the best of N samples should reach, in (0, 1).
    percentile
        Quantile level p in (0, 1): the p-quantile of the max must reach ``target``, i.e. the
        max falls short of ``target`` with probability at most p.
    max_n, min_n
        Bounds on N (``1 <= min_n <= max_n``); ``max_n`` is returned when no N qualifies.

    Returns
    -------
    numpy.ndarray
        int64 array of the broadcast shape.

    Notes
    -----
    The p-quantile of the max of N i.i.d. draws is :math:`F^{-1}(p^{1/N})`, and since F is
    continuous and increasing on [0, 1],
    :math:`F^{-1}(p^{1/N}) \ge s \iff F(s)^N \le p \iff N \ln F(s) \le \ln p`, so

    .. math:: N^* = \left\lceil \frac{\ln p}{\ln F(s)} \right\rceil,

    clipped to ``[min_n, max_n]``. ``ln F(s)`` is computed as in
    [`TruncatedNormal01.logcdf`][optscale_math.TruncatedNormal01.logcdf], which switches to
    ``log1p(-sf)`` where F is close to 1. ``F(s) = 1`` (no N works) gives ``max_n``; ``F(s) = 0``
    gives ``min_n``. Because the ratio is rounded, the candidate and its neighbour below are
    re-checked with the condition :math:`N \ln F(s) \le \ln p` itself.

    Every finite ``mu`` and finite ``sigma > 0`` is answered from its law, the float limits
    included: a tiny ``sigma`` is a point mass at clip(mu, 0, 1), a huge one the uniform law,
    and a huge ``|mu|`` a point mass at the nearer end of [0, 1].

    Examples
    --------
    >>> int(min_samples(0.8, 0.1, 0.95, 0.05, max_n=256))
    65
    """
    max_n = check.count("max_n", max_n, minimum=1)
    min_n = check.count("min_n", min_n, minimum=1)
    if max_n < min_n:
        raise ValueError(f"max_n ({max_n}) must be >= min_n ({min_n})")
    mu_a = check.finite("mu", mu)
    sigma_a = check.positive("sigma", sigma)
    target_a = check.open_unit("target", target)
    p_a = check.open_unit("percentile", percentile)
    mu_a, sigma_a, target_a, p_a = check.broadcast(
        mu=mu_a, sigma=sigma_a, target=target_a, percentile=p_a
    )
    log_f = log_cdf_sf(mu_a, sigma_a, target_a)[0]
    log_p = np.log(p_a)
    never = log_f >= 0.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(never, np.inf, log_p / np.where(never, -1.0, log_f))
    n = np.clip(np.ceil(ratio), min_n, max_n).astype(np.int64)

    def holds(m: IntArray) -> npt.NDArray[np.bool_]:
        with np.errstate(invalid="ignore"):
            ok: npt.NDArray[np.bool_] = ~never & (m * log_f <= log_p)
        return ok

    n = np.where((n > min_n) & holds(n - 1), n - 1, n)
    n = np.where((n < max_n) & ~holds(n), n + 1, n)
    out: IntArray = n.astype(np.int64)
    return out
