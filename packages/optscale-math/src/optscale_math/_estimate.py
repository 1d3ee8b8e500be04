"""Batched maximum-likelihood and MAP fits of the truncated normal score law."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optscale_math import _validation as check
from optscale_math._objective import Rows, Terms, grad_mu, terms, value, value_grad_hess
from optscale_math._screen import no_finite_optimum
from optscale_math._upstream import SIGMA_FLOOR
from optscale_math._validation import FloatArray

SIGMA_CAP = 1e3
"""Upper bound on sigma during the search (a score law on [0, 1] is flat long before that)."""

RIDGE_SIGMA = 100.0
"""sigma of the answer where the likelihood keeps rising as (mu, sigma) run off (see FitStatus)."""

RATE_CAP = 1e8
"""Largest |mu| / sigma^2 (the limiting exponential rate) searched on that path."""

_LOG_FLOOR = float(np.log(SIGMA_FLOOR))
_LOG_CAP = float(np.log(SIGMA_CAP))
_MAX_ITER = 300
_HALVINGS = 40
_HALVING_BLOCK = 8


class FitStatus(enum.IntEnum):
    """How a row's fit ended; the answer is finite in every case.

    OK: an interior optimum. AT_FLOOR: the optimum sits on the bound sigma = 1e-6.
    UNBOUNDED: no finite optimum, the likelihood keeps rising along a path where
    mu, sigma -> +-inf with mu / sigma^2 -> lambda (the law tends to the exponential
    exp(lambda x) on [0, 1]: scores piled against 1 or 0). The answer is the best point of that
    path at sigma = ``RIDGE_SIGMA``, which fits better than any point with smaller sigma.
    DEGENERATE: all scores equal (k = 1 included); the likelihood grows without bound as
    sigma -> 0, and the answer is (the score, 1e-6), the optimum under the bound for a score
    inside (0, 1).
    """

    OK = 0
    AT_FLOOR = 1
    UNBOUNDED = 2
    DEGENERATE = 3


@dataclass(frozen=True)
class Fit:
    """Fitted score laws, one per row: ``mu``, ``sigma`` (float, ``[P]``), ``status`` (``[P]``).

    ``status`` holds [`FitStatus`][optscale_math.FitStatus] values.
    """

    mu: FloatArray
    sigma: FloatArray
    status: npt.NDArray[np.int8]


def score_rows(scores: npt.ArrayLike) -> Rows:
    """Validate ``[P, k]`` scores (NaN only as trailing padding) and summarise each row."""
    x = check.as_float("scores", scores)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"scores must be a 2-D [P, k] array with k >= 1, got shape {x.shape}")
    present = ~np.isnan(x)
    gap = np.any(present[:, 1:] & ~present[:, :-1], axis=1)
    if np.any(gap):
        row = int(np.nonzero(gap)[0][0])
        raise ValueError(
            f"scores: NaN before a score in row {row} (NaN is only padding at the end)"
        )
    if not np.all(present[:, 0]):
        raise ValueError(f"scores: row {int(np.nonzero(~present[:, 0])[0][0])} has no score")
    valid = x[present]
    if np.any((valid < 0) | (valid > 1)):
        raise ValueError("scores must lie in [0, 1] (NaN for padding)")
    k = present.sum(axis=1).astype(np.float64)
    # Sums run left to right (cumsum), so trailing padding adds exact zeros: a row has the same
    # statistics, bit for bit, at any padded width (a pairwise sum would regroup with the width).
    mean = np.cumsum(np.where(present, x, 0.0), axis=1)[:, -1] / k
    css = np.cumsum(np.where(present, x - mean[:, None], 0.0) ** 2, axis=1)[:, -1]
    equal = np.nanmax(x, axis=1) == np.nanmin(x, axis=1)
    return Rows(k, np.where(equal, x[:, 0], mean), np.where(equal, 0.0, css))


def _per_row(name: str, value: npt.ArrayLike, n_rows: int) -> FloatArray:
    """Return a finite scalar or ``[P]`` argument as ``[P]``; other shapes name the argument."""
    array = check.finite(name, value)
    if array.ndim > 1 or (array.ndim == 1 and array.shape[0] not in (1, n_rows)):
        raise ValueError(
            f"{name} must be a scalar or have shape [P] = [{n_rows}], got {array.shape}"
        )
    out: FloatArray = np.broadcast_to(array, (n_rows,)).astype(np.float64)
    return out


def _direction(grad: FloatArray, hess: FloatArray, free: npt.NDArray[np.bool_]) -> FloatArray:
    """Newton step on the free coordinates, the Hessian shifted to be positive definite."""
    h = np.where(free[:, :, None] & free[:, None, :], hess, 0.0)
    h = np.where(np.eye(2, dtype=bool) & ~free[:, :, None], 1.0, h)
    g = np.where(free, grad, 0.0)
    tr = h[:, 0, 0] + h[:, 1, 1]
    lam_min = 0.5 * (tr - np.sqrt((h[:, 0, 0] - h[:, 1, 1]) ** 2 + 4 * h[:, 0, 1] ** 2))
    # Indefinite: shift by twice the negative eigenvalue, so the step along that direction is a
    # moderate gradient step rather than a jump to another basin.
    shift = np.where(lam_min < 0, -2.0 * lam_min, 0.0) + 1e-10 * (1.0 + np.abs(tr))
    h00, h11, h01 = h[:, 0, 0] + shift, h[:, 1, 1] + shift, h[:, 0, 1]
    with np.errstate(all="ignore"):
        det = h00 * h11 - h01 * h01
        step = np.stack([h11 * g[:, 0] - h01 * g[:, 1], h00 * g[:, 1] - h01 * g[:, 0]], 1)
        step = -step / det[:, None]
    bad = ~np.all(np.isfinite(step), axis=1)
    step[bad] = -g[bad]
    out: FloatArray = np.where(free, step, 0.0)
    return out


def _line_search(
    rows: Rows,
    th: FloatArray,
    step: FloatArray,
    val: FloatArray,
    grad: FloatArray,
    bounds: tuple[FloatArray, FloatArray],
) -> tuple[FloatArray, npt.NDArray[np.bool_], FloatArray]:
    """Backtrack each row's step (Armijo, strict decrease) by halvings, up to ``_HALVINGS``.

    Step sizes 1, then blocks of the next halvings tried in one evaluation; each row takes the
    first that passes, exactly as one halving at a time would, in fewer calls. Returns the new
    points, which rows found one, and the `terms` at the new points (``[6, rows]``).
    """
    lo, hi = bounds
    new, accepted = th.copy(), np.zeros(th.shape[0], dtype=bool)
    new_terms = np.empty((6, th.shape[0]))
    halved = 0
    while halved < _HALVINGS:
        todo = np.nonzero(~accepted)[0]
        if todo.size == 0:
            break
        block = 1 if halved == 0 else min(_HALVINGS - halved, _HALVING_BLOCK)
        t = 0.5 ** np.arange(halved, halved + block, dtype=np.float64)
        trial = np.clip(th[todo] + t[:, None, None] * step[todo], lo, hi)  # [block, n, 2]
        flat = trial.reshape(-1, 2)
        tried = terms(rows.take(np.tile(todo, block)), flat[:, 0], flat[:, 1])
        f_trial = tried[5].reshape(block, todo.size)
        drop = np.minimum(np.sum(grad[todo] * (trial - th[todo]), axis=2), 0.0)
        ok = np.isfinite(f_trial) & (f_trial < val[todo]) & (f_trial <= val[todo] + 1e-4 * drop)
        passed = np.nonzero(ok.any(axis=0))[0]
        first = np.argmax(ok[:, passed], axis=0)
        new[todo[passed]] = trial[first, passed]
        new_terms[:, todo[passed]] = np.stack(tried)[:, first * todo.size + passed]
        accepted[todo[passed]] = True
        halved += block
    return new, accepted, new_terms


def _newton(
    rows: Rows, mu0: FloatArray, s0: FloatArray
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Projected Newton with backtracking on all rows at once; s stays in [log 1e-6, log cap].

    Returns mu, s and which rows were still moving after ``_MAX_ITER`` iterations (unsettled).
    """
    lo, hi = np.array([-np.inf, _LOG_FLOOR]), np.array([np.inf, _LOG_CAP])
    theta = np.clip(np.stack([mu0, s0], 1), lo, hi)
    active = np.arange(theta.shape[0])
    known: Terms | None = None  # terms at theta[active], from the last line search
    for _ in range(_MAX_ITER):
        if active.size == 0:
            break
        sub = rows.take(active)
        th = theta[active]
        val, grad, hess = value_grad_hess(sub, th[:, 0], th[:, 1], known)
        free = ~(((th <= lo) & (grad > 0)) | ((th >= hi) & (grad < 0)))
        step = _direction(grad, hess, free)
        # Trust caps keep a step inside its basin; relative in mu, so a path running off is
        # followed geometrically rather than in one jump.
        cap_mu = (0.25 + 0.5 * np.abs(th[:, 0])) / np.maximum(np.abs(step[:, 0]), 1e-300)
        cap_s = 1.0 / np.maximum(np.abs(step[:, 1]), 1e-300)
        step *= np.minimum(1.0, np.minimum(cap_mu, cap_s))[:, None]
        new, accepted, new_terms = _line_search(sub, th, step, val, grad, (lo, hi))
        theta[active] = new
        moved = np.max(np.abs(new - th) / (1.0 + np.abs(th)), axis=1)
        keep = accepted & (moved > 1e-13)
        active = active[keep]
        kept = new_terms[:, keep]
        known = (kept[0], kept[1], kept[2], kept[3], kept[4], kept[5])
    unsettled = np.zeros(theta.shape[0], dtype=bool)
    unsettled[active] = True
    return theta[:, 0], theta[:, 1], unsettled


def _ridge(rows: Rows) -> FloatArray:
    """Best mu at sigma = RIDGE_SIGMA: the objective is convex in mu there; bisect its slope."""
    s = np.full(rows.k.shape, np.log(RIDGE_SIGMA))
    lo = np.full(rows.k.shape, -RATE_CAP * RIDGE_SIGMA**2)
    hi = -lo
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        up = grad_mu(rows, mid, s) > 0
        hi = np.where(up, mid, hi)
        lo = np.where(up, lo, mid)
    out: FloatArray = 0.5 * (lo + hi)
    return out


def _start(rows: Rows) -> tuple[FloatArray, FloatArray]:
    """Upstream's MLE start: the mean and population std of the row (sigma floored)."""
    std = np.sqrt(rows.css / rows.k)
    return rows.mean, np.log(np.maximum(std, SIGMA_FLOOR))


def fit_mle(scores: npt.ArrayLike) -> Fit:
    r"""Maximum-likelihood (mu, sigma) of the truncated normal, row by row, all rows at once.

    Parameters
    ----------
    scores
        ``[P, k]`` scores in [0, 1]; NaN only as padding at the end of a row.

    Returns
    -------
    Fit
        ``mu``, ``sigma`` and a [`FitStatus`][optscale_math.FitStatus] per row; never NaN or inf.

    Notes
    -----
    Minimises upstream's objective
    :math:`\sum_i [\tfrac12 z_i^2 + \ln\sigma + \tfrac12\ln 2\pi] + k \ln Z`,
    :math:`z_i = (x_i-\mu)/\sigma`, :math:`Z = \Phi((1-\mu)/\sigma) - \Phi(-\mu/\sigma)`,
    subject to :math:`\sigma \ge 10^{-6}`, from upstream's start (mean and population std).
    The law is an exponential family in :math:`(\mu/\sigma^2, -1/(2\sigma^2))`, where this
    objective is convex: there is one stationary point at most, and projected Newton steps in
    :math:`(\mu, \ln\sigma)` (positive-definite shift, backtracking) reach it. Where there is
    none, the objective decreases towards the exponential limit; the best point at
    sigma = ``RIDGE_SIGMA`` (bisection on the slope in mu, convex there) is then lower than the
    Newton end point and is returned as ``UNBOUNDED``. Rows that a moment test shows to have no
    finite optimum (their variance exceeds that of the exponential law with their mean; see
    ``optscale_math._screen``) skip the search and get that answer directly: the search could
    only follow the path away, hundreds of iterations for nothing. Equal scores give
    ``DEGENERATE``.
    """
    return _fit_rows(score_rows(scores), screen=True)


def _fit_rows(rows: Rows, *, screen: bool) -> Fit:
    """`fit_mle` on summarised rows; ``screen=False`` searches every row (tests compare)."""
    mu0, s0 = _start(rows)
    run_off = no_finite_optimum(rows) if screen else np.zeros(rows.k.shape, dtype=bool)
    # Equal scores get their answer at the end whatever the search finds: skip the search.
    degenerate = rows.css == 0
    search = np.nonzero(~run_off & ~degenerate)[0]
    mu, s, unsettled = mu0.copy(), s0.copy(), np.ones(rows.k.shape, dtype=bool)
    mu[search], s[search], unsettled[search] = _newton(rows.take(search), mu0[search], s0[search])
    if not screen:
        unsettled[:] = True
    unsettled &= ~degenerate
    status = np.full(mu.shape, FitStatus.OK, dtype=np.int8)
    status[s <= _LOG_FLOOR] = FitStatus.AT_FLOOR
    # A search that settled stopped at the one stationary point (the objective is convex in the
    # natural parameters), which the ridge cannot beat: only the others need the ridge.
    ridge_rows = np.nonzero(unsettled)[0]
    if ridge_rows.size:
        sub = rows.take(ridge_rows)
        ridge_mu, ridge_s = _ridge(sub), np.log(RIDGE_SIGMA)
        ridge_s_rows = np.full(ridge_rows.size, ridge_s)
        lower = value(sub, ridge_mu, ridge_s_rows) < value(sub, mu[ridge_rows], s[ridge_rows])
        better = run_off[ridge_rows] | lower
        take = ridge_rows[better]
        mu[take], s[take] = ridge_mu[better], ridge_s
        status[take] = FitStatus.UNBOUNDED
    mu, s = np.where(degenerate, rows.mean, mu), np.where(degenerate, _LOG_FLOOR, s)
    status[degenerate] = FitStatus.DEGENERATE
    return Fit(mu, np.exp(s), status)


def fit_map(
    scores: npt.ArrayLike,
    prior_mu: npt.ArrayLike,
    prior_sigma: npt.ArrayLike,
    prior_mu_std: float = 0.1,
    prior_sigma_std: float = 0.1,
) -> Fit:
    r"""MAP (mu, sigma) under Gaussian priors N(prior_mu, prior_mu_std^2), N(prior_sigma, ...).

    Parameters
    ----------
    scores
        ``[P, k]`` scores in [0, 1]; NaN only as padding at the end of a row.
    prior_mu, prior_sigma
        Per-row prior means (scalars or ``[P]``); published priors have prior_sigma < 0 at times,
        which is allowed (it pulls sigma towards the floor).
    prior_mu_std, prior_sigma_std
        Prior standard deviations (upstream: 0.1 each).

    Returns
    -------
    Fit
        Status ``OK`` or ``AT_FLOOR``: the priors always give a finite optimum.

    Notes
    -----
    Minimises the objective of [`fit_mle`][optscale_math.fit_mle] plus
    :math:`\tfrac12((\mu-\mu_0)/\tau_\mu)^2 + \tfrac12((\sigma-\sigma_0)/\tau_\sigma)^2`
    and the priors' normalising constants (upstream's ``norm.logpdf`` priors). The posterior
    is not convex, so Newton runs from the prior (upstream's start), from the row's
    (mean, std) and from the best point of a grid, and the lowest end point is kept.
    """
    rows = score_rows(scores)
    n_rows = rows.k.size
    pm = _per_row("prior_mu", prior_mu, n_rows)
    ps = _per_row("prior_sigma", prior_sigma, n_rows)
    tm = float(check.positive("prior_mu_std", prior_mu_std))
    ts = float(check.positive("prior_sigma_std", prior_sigma_std))
    rows = Rows(rows.k, rows.mean, rows.css, (pm, ps, tm, ts))
    prior_s = np.log(np.maximum(ps, SIGMA_FLOOR))
    mean, std_s = _start(rows)
    # Mixed starts (prior mu with the data's sigma and vice versa) were dropped: on 40,000 random
    # rows (k = 3 to 20) they never improved on the best of these three by more than 1e-9.
    starts = [(pm, prior_s), (mean, std_s), _grid_start(rows)]
    best_mu, best_s, best_f = pm, ps, np.full(n_rows, np.inf)
    for mu0, s0 in starts:
        mu, s, _ = _newton(rows, mu0, s0)
        f = value(rows, mu, s)
        better = f < best_f
        best_mu, best_s = np.where(better, mu, best_mu), np.where(better, s, best_s)
        best_f = np.where(better, f, best_f)
    status = np.where(best_s <= _LOG_FLOOR, FitStatus.AT_FLOOR, FitStatus.OK).astype(np.int8)
    return Fit(best_mu, np.exp(best_s), status)


_GRID_MU = np.linspace(-0.5, 1.5, 21)
_GRID_S = np.log(np.geomspace(1e-3, 1.0, 13))


def _grid_start(rows: Rows) -> tuple[FloatArray, FloatArray]:
    """Lowest objective over a coarse (mu, sigma) grid, per row."""
    mu_g, s_g = (g.reshape(-1) for g in np.meshgrid(_GRID_MU, _GRID_S))
    best = np.full(rows.k.size, np.inf)
    best_mu, best_s = np.zeros(rows.k.size), np.zeros(rows.k.size)
    for m, s in zip(mu_g, s_g, strict=True):
        f = value(rows, np.full(rows.k.size, m), np.full(rows.k.size, s))
        better = f < best
        best = np.where(better, f, best)
        best_mu, best_s = np.where(better, m, best_mu), np.where(better, s, best_s)
    return best_mu, best_s


def neg_log_likelihood(
    scores: npt.ArrayLike,
    mu: npt.ArrayLike,
    sigma: npt.ArrayLike,
    prior: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    prior_std: tuple[float, float] = (0.1, 0.1),
) -> FloatArray:
    """Per-row objective of `fit_mle` (with ``prior``: of `fit_map`), vectorised."""
    rows = score_rows(scores)
    n_rows = rows.k.size
    mu_a = _per_row("mu", mu, n_rows)
    s = np.log(check.positive("sigma", _per_row("sigma", sigma, n_rows)))
    if prior is not None:
        pm = _per_row("prior_mu", prior[0], n_rows)
        ps = _per_row("prior_sigma", prior[1], n_rows)
        rows = Rows(rows.k, rows.mean, rows.css, (pm, ps, float(prior_std[0]), float(prior_std[1])))
    return value(rows, mu_a, s)
