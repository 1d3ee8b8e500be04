"""Log masses of the truncated normal on [0, 1], finite and exact in every float regime.

Three regimes, chosen per entry, each computed where it keeps full relative precision:

* flat: the log-density varies by at most 1 over [0, 1] (sigma large against 1 and against
  sqrt|mu|); the masses are Gauss-Legendre sums of a smooth integrand, which tend to the uniform
  law as sigma -> inf;
* one-sided: the mode mu lies outside [0, 1]; masses are measured from the nearer end with
  ``erfcx`` and exact products, so that |mu| up to 1e308 still gives the limit (a point mass at
  that end) instead of 0 / 0;
* straddling: 0 < mu < 1 and sigma at most about 1.4, through ``log_ndtr`` differences.

sigma below ``SIGMA_TINY`` is read as ``SIGMA_TINY``: the law is a point mass at mu either way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from optscale_math._validation import FloatArray

LOG_HALF = float(np.log(0.5))
LOG_SQRT_2PI = float(0.5 * np.log(2.0 * np.pi))
_LOG_SQRT_HALF_PI = float(0.5 * np.log(0.5 * np.pi))
_SQRT_HALF = float(np.sqrt(0.5))
SIGMA_TINY = 1e-300
"""Smallest sigma used in the arithmetic (1 / sigma stays finite)."""
_FLAT = 1.0
"""Largest (|mu| + 1) / sigma^2 handled by quadrature (the log-density's range on [0, 1])."""
_ERFCX_FAR = 1e100
_GL_X, _GL_W = np.polynomial.legendre.leggauss(24)


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
    An interval so far out that :math:`\log\Phi(h)` is ``-inf`` has log mass ``-inf``.
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
    with np.errstate(invalid="ignore"):
        gap = np.where(np.isneginf(log_hi), -np.inf, np.minimum(log_lo - log_hi, 0.0))
    out[tail] = log_hi + log1mexp(gap)
    return out


def _flat_log_mass(lam: FloatArray, kap: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
    """``log int_lo^hi exp(lam t - kap t^2) dt`` for |lam| + kap <= 1 (24-node Gauss-Legendre)."""
    half = 0.5 * (hi - lo)
    t = lo[:, None] + half[:, None] * (1.0 + _GL_X)
    g = t * lam[:, None] - t * t * kap[:, None]
    with np.errstate(divide="ignore"):
        out: FloatArray = np.log(half) + np.log(np.exp(g) @ _GL_W)
    return out


def _side_log_mass(c: FloatArray, w: FloatArray, s0: FloatArray, s1: FloatArray) -> FloatArray:
    r"""Log mass of distances [s0, s1] from the nearer end, the mode at distance -c (c >= 0).

    Relative to the density at the end and without the constant :math:`\sigma\sqrt{\pi/2}`:
    :math:`e^{-E(s_0)}\,\mathrm{erfcx}(y_0) - e^{-E(s_1)}\,\mathrm{erfcx}(y_1)` with
    :math:`y = (c + s)w/\sqrt2` and :math:`E(s) = s(s/2 + c)w^2`, differences of E formed as
    exact products.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        e0 = ((s0 * (0.5 * s0 + c)) * w) * w
        gap = (((s1 - s0) * (0.5 * (s1 + s0) + c)) * w) * w
        log_cx0 = _log_erfcx(c + s0, w)
        ratio = _log_erfcx(c + s1, w) - log_cx0
        out: FloatArray = -e0 + log_cx0 + log1mexp(np.minimum(ratio - gap, 0.0))
    return out


def _log_erfcx(u: FloatArray, w: FloatArray) -> FloatArray:
    """``log erfcx(u w / sqrt 2)`` for u >= 0, w > 0; past 1e100 its asymptote -log(y sqrt pi).

    The asymptote is exact there to 1 / (2 y^2) and is formed from logs, so y may overflow.
    """
    with np.errstate(divide="ignore", over="ignore"):
        y = u * w * _SQRT_HALF
        far = ~(y < _ERFCX_FAR)
        near: FloatArray = np.log(special.erfcx(np.where(far, 0.0, y)))
        out: FloatArray = np.where(far, -(np.log(u) + np.log(w)) - _LOG_SQRT_HALF_PI, near)
    return out


@dataclass(frozen=True)
class _Split:
    """Flattened arguments, 1 / sigma, and the entries of each regime (index arrays)."""

    shape: tuple[int, ...]
    mu: FloatArray
    w: FloatArray
    x: FloatArray
    flat: npt.NDArray[np.intp]
    side: npt.NDArray[np.intp]
    mid: npt.NDArray[np.intp]

    def flat_terms(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Linear and quadratic rates of the flat entries' log-density, and their log mass."""
        w = self.w[self.flat]
        lam, kap = self.mu[self.flat] * w * w, 0.5 * w * w
        ones = np.ones(self.flat.size)
        return lam, kap, _flat_log_mass(lam, kap, ones - 1.0, ones)

    def side_terms(self) -> tuple[npt.NDArray[np.bool_], FloatArray, FloatArray, FloatArray]:
        """Mode above 1?, its distance c from the nearer end, x's distance from it, log mass."""
        mu, x = self.mu[self.side], self.x[self.side]
        top = mu >= 1.0
        c = np.where(top, mu - 1.0, -mu)
        near = np.where(top, 1.0 - x, x)
        ones = np.ones(self.side.size)
        return top, c, near, _side_log_mass(c, self.w[self.side], ones - 1.0, ones)

    def mid_terms(self) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Standardised 0, 1 and x of the straddling entries, and their log mass."""
        mu, w = self.mu[self.mid], self.w[self.mid]
        a, b, z = -mu * w, (1.0 - mu) * w, (self.x[self.mid] - mu) * w
        return a, b, z, log_ndtr_diff(a, b)


def is_flat(mu: FloatArray, sigma: FloatArray) -> npt.NDArray[np.bool_]:
    """Whether the log-density varies by at most 1 over [0, 1] (the quadrature regime)."""
    w = 1.0 / np.maximum(sigma, SIGMA_TINY)
    with np.errstate(over="ignore"):
        flat: npt.NDArray[np.bool_] = (np.abs(mu) + 1.0) * w * w <= _FLAT
    return flat


def _split(mu: FloatArray, sigma: FloatArray, x: FloatArray) -> _Split:
    mu, sigma, x = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (mu, sigma, x)))
    shape = mu.shape
    mu, sigma, x = (v.reshape(-1) for v in (mu, sigma, x))
    w = 1.0 / np.maximum(sigma, SIGMA_TINY)
    flat = is_flat(mu, sigma)
    side = ~flat & ((mu <= 0.0) | (mu >= 1.0))
    return _Split(
        shape, mu, w, x, np.nonzero(flat)[0], np.nonzero(side)[0], np.nonzero(~flat & ~side)[0]
    )


def log_cdf_sf(mu: FloatArray, sigma: FloatArray, x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``(log F(x), log(1 - F(x)))`` for validated arrays and x in [0, 1], in every regime.

    Each of the two is computed from its own mass, so both keep full relative precision.
    """
    p = _split(mu, sigma, x)
    log_cdf, log_sf = np.empty(p.mu.size), np.empty(p.mu.size)

    lam, kap, whole = p.flat_terms()
    x_flat = p.x[p.flat]
    log_cdf[p.flat] = _flat_log_mass(lam, kap, np.zeros(p.flat.size), x_flat) - whole
    log_sf[p.flat] = _flat_log_mass(lam, kap, x_flat, np.ones(p.flat.size)) - whole

    top, c, near, whole = p.side_terms()
    w = p.w[p.side]
    to_near = _side_log_mass(c, w, np.zeros(p.side.size), near) - whole
    to_far = _side_log_mass(c, w, near, np.ones(p.side.size)) - whole
    log_cdf[p.side] = np.where(top, to_far, to_near)
    log_sf[p.side] = np.where(top, to_near, to_far)

    a, b, z, whole = p.mid_terms()
    log_cdf[p.mid] = log_ndtr_diff(a, np.maximum(z, a)) - whole
    log_sf[p.mid] = log_ndtr_diff(np.minimum(z, b), b) - whole
    return np.minimum(log_cdf, 0.0).reshape(p.shape), np.minimum(log_sf, 0.0).reshape(p.shape)


def log_density(mu: FloatArray, sigma: FloatArray, x: FloatArray) -> FloatArray:
    """Log density at x in [0, 1] for validated arrays, in every regime of ``log_cdf_sf``."""
    p = _split(mu, sigma, x)
    out = np.empty(p.mu.size)

    lam, kap, whole = p.flat_terms()
    x_flat = p.x[p.flat]
    out[p.flat] = x_flat * lam - x_flat * x_flat * kap - whole

    _, c, near, whole = p.side_terms()
    w = p.w[p.side]
    with np.errstate(over="ignore"):
        drop = ((near * (0.5 * near + c)) * w) * w
    out[p.side] = -drop - whole + np.log(w) - _LOG_SQRT_HALF_PI

    _, _, z, whole = p.mid_terms()
    out[p.mid] = -0.5 * z * z - LOG_SQRT_2PI + np.log(p.w[p.mid]) - whole
    result: FloatArray = out.reshape(p.shape)
    return result


_ONE_BITS = int(np.float64(1.0).view(np.int64))


def bisect_quantile(
    mu: FloatArray, sigma: FloatArray, log_q: FloatArray, log_1mq: FloatArray
) -> FloatArray:
    """Smallest double x in [0, 1] with F(x) >= q, by bisection on the bits of doubles (64 steps).

    Non-negative doubles are ordered as their int64 bit patterns, so 64 halvings of the patterns
    of [0, 1] end on the exact answer. The tail holding less mass is compared, in log space.
    """
    lo = np.zeros(mu.shape, dtype=np.int64)
    hi = np.full(mu.shape, _ONE_BITS, dtype=np.int64)
    lower = log_q < LOG_HALF
    for _ in range(64):
        mid = lo + (hi - lo) // 2
        log_cdf, log_sf = log_cdf_sf(mu, sigma, mid.view(np.float64))
        short = np.where(lower, log_cdf < log_q, log_sf > log_1mq)  # F(mid) < q
        lo, hi = np.where(short, mid + 1, lo), np.where(short, hi, mid)
    out: FloatArray = hi.view(np.float64)
    return out
