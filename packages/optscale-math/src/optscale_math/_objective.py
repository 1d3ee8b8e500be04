"""The fitting objective (truncated-normal NLL, optional Gaussian priors) and its derivatives.

Rows are summarised once by their sufficient statistics (count, mean, centred sum of squares),
so one evaluation costs O(P) whatever the number of scores per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from optscale_math._mass import LOG_SQRT_2PI, log1mexp, log_ndtr_diff
from optscale_math._validation import FloatArray

_SQRT2 = float(np.sqrt(2.0))


@dataclass(frozen=True)
class Rows:
    """Per-row statistics of the scores and optional Gaussian priors (mean, sd) on mu and sigma."""

    k: FloatArray
    mean: FloatArray
    css: FloatArray  # centred sum of squares, sum (x - mean)^2
    prior: tuple[FloatArray, FloatArray, float, float] | None = None

    def take(self, rows: npt.NDArray[np.intp]) -> Rows:
        """Return the statistics of a subset of rows."""
        prior = self.prior
        if prior is not None:
            prior = (prior[0][rows], prior[1][rows], prior[2], prior[3])
        return Rows(self.k[rows], self.mean[rows], self.css[rows], prior)


def _log_z_parts(
    a: FloatArray, b: FloatArray, w: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    r"""``log Z + r^2/2`` and the log-density offsets at a and b, exact in far tails.

    Returns ``(shift, log_phi_a, log_phi_b, side)``: ``shift = log Z + r^2/2`` with reference
    r = a when 0 < a < b (side 1), r = b when a < b < 0 (side -1), r = 0 otherwise (side 0);
    ``log_phi_a = -(a^2 - r^2)/2`` and the same at b.

    Notes
    -----
    In the upper tail :math:`Z = Q(a) - Q(b)` and
    :math:`\log Q(u) + u^2/2 = \log(\tfrac12\,\mathrm{erfcx}(u/\sqrt2))`; the lower tail is the
    mirror image. Differences of squares are formed as :math:`(b-a)(b+a) = w(a+b)` with
    :math:`w = 1/\sigma` exact, so nothing of size :math:`a^2` ever cancels.
    """
    upper, lower = a > 0, b < 0
    tail = upper | lower
    u = np.where(upper, a, np.where(lower, -b, 1.0))
    v = np.where(upper, b, np.where(lower, -a, 2.0))
    half_w_sum = 0.5 * w * (a + b)
    cx_u = special.erfcx(u / _SQRT2)
    log_ratio = -0.5 * w * (u + v) + np.log(special.erfcx(v / _SQRT2) / cx_u)
    shifted_tail = np.log(0.5 * cx_u) + log1mexp(np.minimum(log_ratio, 0.0))
    middle = log_ndtr_diff(np.where(tail, -1.0, a), np.where(tail, 1.0, b))
    shift = np.where(tail, shifted_tail, middle)
    log_phi_a = np.where(upper, 0.0, np.where(lower, half_w_sum, -0.5 * a * a))
    log_phi_b = np.where(upper, -half_w_sum, np.where(lower, 0.0, -0.5 * b * b))
    return shift, log_phi_a, log_phi_b, np.where(upper, 1.0, np.where(lower, -1.0, 0.0))


Terms = tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]
"""What one evaluation yields per row: 1/sigma, a, b, phi(a)/Z, phi(b)/Z and the value."""


def terms(rows: Rows, mu: FloatArray, s: FloatArray) -> Terms:
    """Evaluate the objective at (mu, s = log sigma), keeping what its derivatives reuse."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
        return _terms(rows, mu, s)


def _terms(rows: Rows, mu: FloatArray, s: FloatArray) -> Terms:
    """W = 1/sigma, a, b, phi(a)/Z, phi(b)/Z and the objective value."""
    w = np.exp(-s)
    a, b = -mu * w, (1.0 - mu) * w
    shift, log_phi_a, log_phi_b, side = _log_z_parts(a, b, w)
    ra = np.exp(log_phi_a - LOG_SQRT_2PI - shift)
    rb = np.exp(log_phi_b - LOG_SQRT_2PI - shift)
    m = rows.mean
    # sum_i z_i^2 - k r^2, z_i = (x_i - mu) w, from the centred statistics:
    # css w^2 + k ((m - mu)^2 - (r/w)^2) w^2, the last bracket factored exactly by side.
    first = np.where(side > 0, m, np.where(side < 0, m - 1.0, m - mu))
    second = np.where(side > 0, m - 2.0 * mu, np.where(side < 0, m + 1.0 - 2.0 * mu, m - mu))
    spread = rows.css + rows.k * first * second
    val = 0.5 * spread * w * w + rows.k * (s + LOG_SQRT_2PI + shift)
    if rows.prior is not None:
        pm, ps, tm, ts = rows.prior
        sigma = np.exp(s)
        val = val + 0.5 * ((mu - pm) / tm) ** 2 + 0.5 * ((sigma - ps) / ts) ** 2
        val = val + 2 * LOG_SQRT_2PI + np.log(tm) + np.log(ts)
    return w, a, b, ra, rb, val


def value(rows: Rows, mu: FloatArray, s: FloatArray) -> FloatArray:
    """Objective in (mu, s = log sigma): NLL (+ negative log priors), upstream's constants."""
    return terms(rows, mu, s)[5]


def value_grad_hess(
    rows: Rows, mu: FloatArray, s: FloatArray, known: Terms | None = None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    r"""Objective, gradient ``[R, 2]`` and Hessian ``[R, 2, 2]`` in (mu, s = log sigma).

    ``known``: the `terms` of these rows at this point, when already evaluated (a line
    search's accepted trial), so they are not computed twice.

    Notes
    -----
    With :math:`G = \ln Z(a, b)`, :math:`r_a = \varphi(a)/Z`, :math:`r_b = \varphi(b)/Z`:
    :math:`G_a = -r_a`, :math:`G_b = r_b`, :math:`G_{aa} = a r_a - r_a^2`,
    :math:`G_{bb} = -b r_b - r_b^2`, :math:`G_{ab} = r_a r_b`, chained through
    :math:`a = -\mu e^{-s}`, :math:`b = (1-\mu) e^{-s}`.
    """
    with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
        w, a, b, ra, rb, val = _terms(rows, mu, s) if known is None else known
        k = rows.k
        g_aa, g_bb, g_ab = a * ra - ra * ra, -b * rb - rb * rb, ra * rb
        g_a, g_b = -ra, rb
        w2 = w * w
        s1 = k * (rows.mean - mu)
        s2 = rows.css + k * (rows.mean - mu) ** 2
        g_mu = -s1 * w2 - k * w * (g_a + g_b)
        g_s = -s2 * w2 + k + k * (-a * g_a - b * g_b)
        h_mm = k * w2 + k * w2 * (g_aa + 2 * g_ab + g_bb)
        h_ms = 2 * s1 * w2 + k * w * (a * g_aa + (a + b) * g_ab + b * g_bb + g_a + g_b)
        h_ss = 2 * s2 * w2 + k * (
            a * a * g_aa + 2 * a * b * g_ab + b * b * g_bb + a * g_a + b * g_b
        )
        if rows.prior is not None:
            pm, ps, tm, ts = rows.prior
            sigma = np.exp(s)
            g_mu = g_mu + (mu - pm) / tm**2
            g_s = g_s + (sigma - ps) * sigma / ts**2
            h_mm = h_mm + 1.0 / tm**2
            h_ss = h_ss + sigma * (2 * sigma - ps) / ts**2
    grad = np.stack([g_mu, g_s], 1)
    hess = np.stack([np.stack([h_mm, h_ms], -1), np.stack([h_ms, h_ss], -1)], -2)
    return val, grad, hess


def grad_mu(rows: Rows, mu: FloatArray, s: FloatArray) -> FloatArray:
    """D objective / d mu (increasing in mu at fixed sigma for the MLE: used for bisection)."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
        w, _, _, ra, rb, _ = _terms(rows, mu, s)
        g: FloatArray = -rows.k * (rows.mean - mu) * w * w - rows.k * w * (rb - ra)
        if rows.prior is not None:
            g = g + (mu - rows.prior[0]) / rows.prior[2] ** 2
    return g
