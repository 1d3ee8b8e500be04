"""The verifier-score model: a normal law truncated to [0, 1], and the law of the max of N draws."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

from optscale_math import _validation as check
from optscale_math._mass import (
    LOG_HALF,
    SIGMA_TINY,
    bisect_quantile,
    is_flat,
    log1mexp,
    log_cdf_sf,
    log_density,
    log_ndtr_diff,
)
from optscale_math._validation import FloatArray

# Tanh-sinh (double exponential) rule on (0, 1): u = 1 / (1 + exp(-pi sinh t)); log u is kept
# exactly so that nodes next to 0 and 1 keep their meaning.
_TS_T = np.arange(-4.0, 4.0 + 1e-12, 1.0 / 32.0)
_TS_LOG_U = -np.logaddexp(0.0, -np.pi * np.sinh(_TS_T))
_TS_W = (np.pi / 2.0) * np.cosh(_TS_T) / np.cosh((np.pi / 2.0) * np.sinh(_TS_T)) ** 2 / 64.0


class TruncatedNormal01:
    r"""Normal law N(mu, sigma^2) truncated to [0, 1]; every method broadcasts.

    Parameters
    ----------
    mu, sigma
        Location and scale of the untruncated normal: any finite ``mu`` (real fits reach 139) and
        any finite ``sigma > 0``. The limits are exact: sigma -> 0 is a point mass at
        clip(mu, 0, 1), sigma -> inf the uniform law, |mu| -> inf a point mass at the nearer end.

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
        w = 1.0 / np.maximum(self.sigma, SIGMA_TINY)
        with np.errstate(over="ignore"):
            self.a, self.b = -self.mu * w, (1.0 - self.mu) * w
        self.log_z = log_ndtr_diff(self.a, self.b)
        # Laws the closed-form inverse cannot represent (flat, or mu / sigma beyond 1e6, where
        # a and b lose their digits): their quantiles are found by bisection on the exact cdf.
        self._bisect = is_flat(self.mu, self.sigma) | ~(
            np.isfinite(self.log_z) & (np.minimum(np.abs(self.a), np.abs(self.b)) < 1e6)
        )

    def logpdf(self, x: npt.ArrayLike) -> FloatArray:
        """Log density; ``-inf`` outside [0, 1]."""
        x_a = check.number("x", x)
        inside = (x_a >= 0) & (x_a <= 1)
        value = log_density(self.mu, self.sigma, np.clip(x_a, 0.0, 1.0))
        out: FloatArray = np.where(inside, value, -np.inf)
        return out

    def pdf(self, x: npt.ArrayLike) -> FloatArray:
        """Density; 0 outside [0, 1]."""
        out: FloatArray = np.exp(self.logpdf(x))
        return out

    def _log_cdf_sf(self, x: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        x_a = check.number("x", x)
        log_cdf, log_sf = log_cdf_sf(self.mu, self.sigma, np.clip(x_a, 0.0, 1.0))
        log_cdf = np.where(x_a < 0, -np.inf, np.where(x_a >= 1, 0.0, log_cdf))
        log_sf = np.where(x_a < 0, 0.0, np.where(x_a >= 1, -np.inf, log_sf))
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
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lower = np.logaddexp(special.log_ndtr(self.a), log_q + self.log_z)
            upper = np.logaddexp(special.log_ndtr(-self.b), log_1mq + self.log_z)
            z = np.where(
                lower < LOG_HALF,
                special.ndtri_exp(np.minimum(lower, LOG_HALF)),
                -special.ndtri_exp(np.minimum(upper, 0.0)),
            )
            value = np.clip(self.mu + self.sigma * z, 0.0, 1.0)
        out: FloatArray = np.where(np.isnan(value), np.where(lower < LOG_HALF, 0.0, 1.0), value)
        bisect = np.broadcast_to(self._bisect, out.shape)
        if np.any(bisect):
            mu, sigma, log_q, log_1mq = (
                np.broadcast_to(v, out.shape)[bisect] for v in (self.mu, self.sigma, log_q, log_1mq)
            )
            out[bisect] = bisect_quantile(mu, sigma, log_q, log_1mq)
        return out

    def ppf(self, q: npt.ArrayLike) -> FloatArray:
        """Quantile function F^-1(q) for q in [0, 1]."""
        q_a = check.number("q", q)
        if np.any((q_a < 0) | (q_a > 1)):
            raise ValueError("q must lie in [0, 1]")
        with np.errstate(divide="ignore"):
            return self._ppf_logs(np.log(q_a), np.log1p(-q_a))

    def rvs(self, size: int | tuple[int, ...], rng: np.random.Generator) -> FloatArray:
        """Random draws of shape ``size`` (broadcast with mu and sigma), for simulations.

        Inverse-cdf sampling through [`ppf`][optscale_math.TruncatedNormal01.ppf], so it stays exact
        where rejection or scipy's ``truncnorm`` would struggle (mu far above 1, tiny sigma).
        """
        return self.ppf(rng.random(size))

    def max_cdf(self, x: npt.ArrayLike, n: npt.ArrayLike) -> FloatArray:
        """Cdf of the max of ``n`` i.i.d. draws: F(x)^n."""
        n_a = check.positive("n", n)
        out: FloatArray = np.exp(n_a * self.logcdf(x))
        return out

    def max_ppf(self, q: npt.ArrayLike, n: npt.ArrayLike) -> FloatArray:
        """Quantile of the max of ``n`` draws: F^-1(q^(1/n)), with 1 - q^(1/n) kept exact."""
        q_a = check.number("q", q)
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
