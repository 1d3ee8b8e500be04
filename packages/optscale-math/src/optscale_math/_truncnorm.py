"""The verifier-score model: a normal law truncated to [0, 1], and the law of the max of N draws."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

from optscale_math import _validation as check
from optscale_math._validation import FloatArray

LOG_HALF = float(np.log(0.5))
LOG_SQRT_2PI = float(0.5 * np.log(2.0 * np.pi))
# Tanh-sinh (double exponential) rule on (0, 1): u = 1 / (1 + exp(-pi sinh t)); log u is kept
# exactly so that nodes next to 0 and 1 keep their meaning.
_TS_T = np.arange(-4.0, 4.0 + 1e-12, 1.0 / 32.0)
_TS_LOG_U = -np.logaddexp(0.0, -np.pi * np.sinh(_TS_T))
_TS_W = (np.pi / 2.0) * np.cosh(_TS_T) / np.cosh((np.pi / 2.0) * np.sinh(_TS_T)) ** 2 / 64.0


def log1mexp(x: FloatArray) -> FloatArray:
    """``log(1 - exp(x))`` for ``x <= 0``, accurate at both ends (Maechler's switch at -ln 2)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    near = x > LOG_HALF
    with np.errstate(divide="ignore"):
        out[near] = np.log(-np.expm1(x[near]))
        out[~near] = np.log1p(-np.exp(x[~near]))
    return out


def log_ndtr_diff(lo: FloatArray, hi: FloatArray) -> FloatArray:
    r"""``log(Phi(hi) - Phi(lo))`` for ``lo <= hi``, in log space so that far tails stay finite.

    Notes
    -----
    Intervals above zero are mirrored (:math:`\Phi(h)-\Phi(l) = \Phi(-l)-\Phi(-h)`) so the
    subtraction always happens in the lower tail, where ``log_ndtr`` keeps full relative precision:
    :math:`\log\Phi(h) + \log(1 - e^{\log\Phi(l) - \log\Phi(h)})`. An interval straddling
    zero uses :math:`\log(1 - \Phi(l) - \Phi(-h))`. Each entry evaluates its own branch only.
    """
    lo, hi = np.broadcast_arrays(np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64))
    flip = lo > 0
    lo2 = np.where(flip, -hi, lo)
    hi2 = np.where(flip, -lo, hi)
    out = np.empty(lo2.shape)
    mid = hi2 > 0
    with np.errstate(divide="ignore"):
        out[mid] = np.log1p(-(special.ndtr(lo2[mid]) + special.ndtr(-hi2[mid])))
    tail = ~mid
    log_hi = special.log_ndtr(hi2[tail])
    log_lo = special.log_ndtr(lo2[tail])
    out[tail] = log_hi + log1mexp(np.minimum(log_lo - log_hi, 0.0))
    return out


def log_cdf_inside(mu: FloatArray, sigma: FloatArray, x: FloatArray) -> FloatArray:
    """``log F(x)`` for x in [0, 1] and validated, broadcast arrays: the lean path of min_samples.

    The complement form ``log1p(-sf)`` is computed only where F(x) > 1/2.
    """
    shape = np.shape(mu)
    mu, sigma, x = (np.atleast_1d(v).reshape(-1) for v in (mu, sigma, x))
    a, b, z = -mu / sigma, (1.0 - mu) / sigma, (x - mu) / sigma
    log_z = log_ndtr_diff(a, b)
    log_cdf = log_ndtr_diff(a, np.maximum(z, a)) - log_z
    high = log_cdf > LOG_HALF
    log_sf = log_ndtr_diff(np.minimum(z[high], b[high]), b[high]) - log_z[high]
    log_cdf[high] = log1mexp(np.minimum(log_sf, 0.0))
    out: FloatArray = np.minimum(log_cdf, 0.0).reshape(shape)
    return out


class TruncatedNormal01:
    r"""Normal law N(mu, sigma^2) truncated to [0, 1]; every method broadcasts.

    Parameters
    ----------
    mu, sigma
        Location and scale of the untruncated normal. ``mu`` may lie far outside [0, 1] (real fits
        reach 139); ``sigma`` must be > 0 and may be as small as 1e-6.

    Notes
    -----
    With :math:`a = -\mu/\sigma`, :math:`b = (1-\mu)/\sigma` and
    :math:`Z = \Phi(b) - \Phi(a)`, the density on [0, 1] is
    :math:`f(x) = \varphi((x-\mu)/\sigma) / (\sigma Z)` and the cdf is
    :math:`F(x) = (\Phi((x-\mu)/\sigma) - \Phi(a)) / Z`. Everything is computed in log space
    (``scipy.special.log_ndtr``, ``ndtri_exp``), and ``cdf``/``sf`` each switch to the complement
    when it is the smaller of the two, so both keep full relative precision.

    Examples
    --------
    >>> law = TruncatedNormal01(0.9, 0.05)
    >>> round(float(law.cdf(0.9)), 4)
    0.5116
    """

    def __init__(self, mu: npt.ArrayLike, sigma: npt.ArrayLike) -> None:
        mu_a = check.finite("mu", mu)
        sigma_a = check.positive("sigma", sigma)
        self.mu, self.sigma = check.broadcast(mu=mu_a, sigma=sigma_a)
        self.a = -self.mu / self.sigma
        self.b = (1.0 - self.mu) / self.sigma
        self.log_z = log_ndtr_diff(self.a, self.b)

    def _z(self, x: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        x_a = check.as_float("x", x)
        x_c = np.clip(x_a, 0.0, 1.0)
        return x_a, (x_c - self.mu) / self.sigma

    def logpdf(self, x: npt.ArrayLike) -> FloatArray:
        """Log density; ``-inf`` outside [0, 1]."""
        x_a, z = self._z(x)
        inside = (x_a >= 0) & (x_a <= 1)
        value = -0.5 * z * z - LOG_SQRT_2PI - np.log(self.sigma) - self.log_z
        out: FloatArray = np.where(inside, value, -np.inf)
        return out

    def pdf(self, x: npt.ArrayLike) -> FloatArray:
        """Density; 0 outside [0, 1]."""
        out: FloatArray = np.exp(self.logpdf(x))
        return out

    def _log_cdf_sf(self, x: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        x_a, z = self._z(x)
        z, a, b = np.broadcast_arrays(z, self.a, self.b)
        log_cdf = log_ndtr_diff(a, np.maximum(z, a)) - self.log_z
        log_sf = log_ndtr_diff(np.minimum(z, b), b) - self.log_z
        log_cdf, log_sf = (
            np.where(log_cdf > LOG_HALF, log1mexp(np.minimum(log_sf, 0.0)), log_cdf),
            np.where(log_sf > LOG_HALF, log1mexp(np.minimum(log_cdf, 0.0)), log_sf),
        )
        log_cdf = np.where(x_a < 0, -np.inf, np.where(x_a >= 1, 0.0, np.minimum(log_cdf, 0.0)))
        log_sf = np.where(x_a < 0, 0.0, np.where(x_a >= 1, -np.inf, np.minimum(log_sf, 0.0)))
        return log_cdf, log_sf

    def logcdf(self, x: npt.ArrayLike) -> FloatArray:
        """Log of F(x) = P(X <= x)."""
        return self._log_cdf_sf(x)[0]

    def cdf(self, x: npt.ArrayLike) -> FloatArray:
        """F(x) = P(X <= x)."""
        out: FloatArray = np.exp(self.logcdf(x))
        return out

    def logsf(self, x: npt.ArrayLike) -> FloatArray:
        """Log of 1 - F(x), accurate where F(x) is close to 1."""
        return self._log_cdf_sf(x)[1]

    def sf(self, x: npt.ArrayLike) -> FloatArray:
        """1 - F(x) = P(X > x)."""
        out: FloatArray = np.exp(self.logsf(x))
        return out

    def _ppf_logs(self, log_q: FloatArray, log_1mq: FloatArray) -> FloatArray:
        """Quantile from log q and log(1 - q): each tail is inverted where it is accurate."""
        with np.errstate(divide="ignore", invalid="ignore"):
            lower = np.logaddexp(special.log_ndtr(self.a), log_q + self.log_z)
            upper = np.logaddexp(special.log_ndtr(-self.b), log_1mq + self.log_z)
            z = np.where(
                lower < LOG_HALF,
                special.ndtri_exp(np.minimum(lower, LOG_HALF)),
                -special.ndtri_exp(np.minimum(upper, 0.0)),
            )
            value = np.clip(self.mu + self.sigma * z, 0.0, 1.0)
        out: FloatArray = np.where(np.isnan(value), np.where(lower < LOG_HALF, 0.0, 1.0), value)
        return out

    def ppf(self, q: npt.ArrayLike) -> FloatArray:
        """Quantile function F^-1(q) for q in [0, 1]."""
        q_a = check.as_float("q", q)
        if np.any((q_a < 0) | (q_a > 1)):
            raise ValueError("q must lie in [0, 1]")
        with np.errstate(divide="ignore"):
            return self._ppf_logs(np.log(q_a), np.log1p(-q_a))

    def rvs(self, size: int | tuple[int, ...], rng: np.random.Generator) -> FloatArray:
        """Random draws of shape ``size`` (broadcast with mu and sigma), for simulations.

        Inverse-cdf sampling through :meth:`ppf`, so it stays exact where rejection or scipy's
        ``truncnorm`` would struggle (mu far above 1, tiny sigma).
        """
        return self.ppf(rng.random(size))

    def max_cdf(self, x: npt.ArrayLike, n: npt.ArrayLike) -> FloatArray:
        """Cdf of the max of ``n`` i.i.d. draws: F(x)^n."""
        n_a = check.positive("n", n)
        out: FloatArray = np.exp(n_a * self.logcdf(x))
        return out

    def max_ppf(self, q: npt.ArrayLike, n: npt.ArrayLike) -> FloatArray:
        """Quantile of the max of ``n`` draws: F^-1(q^(1/n)), with 1 - q^(1/n) kept exact."""
        q_a = check.as_float("q", q)
        if np.any((q_a < 0) | (q_a > 1)):
            raise ValueError("q must lie in [0, 1]")
        n_a = check.positive("n", n)
        with np.errstate(divide="ignore"):
            log_u = np.log(q_a) / n_a
            return self._ppf_logs(log_u, log1mexp(log_u))

    def expected_max(self, n: npt.ArrayLike) -> FloatArray:
        r"""E[max of ``n`` draws], as the integral of the max-of-n quantile over (0, 1).

        Notes
        -----
        :math:`E[M_n] = \int_0^1 F^{-1}(u^{1/n})\,du`, evaluated by a 257-node tanh-sinh rule,
        which copes with the steep ends of the quantile function (tiny sigma, mu far from [0, 1]).
        """
        n_a = check.positive("n", n)
        shape = (-1,) + (1,) * max(np.ndim(n_a), self.mu.ndim)
        log_u = _TS_LOG_U.reshape(shape) / n_a
        out: FloatArray = np.tensordot(_TS_W, self._ppf_logs(log_u, log1mexp(log_u)), axes=(0, 0))
        return out

    def gain_of_one_more(self, target: npt.ArrayLike, n: npt.ArrayLike) -> FloatArray:
        """Increase of P(max >= target) from one more sample after ``n``: F(t)^n (1 - F(t)).

        ``n`` may be 0 (the gain of the first sample is 1 - F(t)).
        """
        n_a = check.finite("n", n)
        if np.any(n_a < 0):
            raise ValueError("n must be >= 0")
        log_cdf, log_sf = self._log_cdf_sf(target)
        with np.errstate(invalid="ignore"):
            value = np.where(n_a == 0, log_sf, n_a * log_cdf + log_sf)
        out: FloatArray = np.exp(value)
        return out
