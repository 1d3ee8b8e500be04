"""OptScale as a replayable policy over a pool: peek, fit, size N, Best-of-N among the first N."""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt

from optscale_math import _validation as check
from optscale_math._contract import Decisions, VerifyOrder, ViewLike
from optscale_math._estimate import fit_map, fit_mle
from optscale_math._sizing import min_samples
from optscale_math._upstream import first_reaching, upstream_fit, upstream_grid_quantile_table
from optscale_math._validation import FloatArray, IntArray

PEEKS = (3, 5, 10, 20)
"""Upstream's peek sizes k, one per panel."""

PANELS = (8, 16, 32, 64)
"""Upstream's max_N panels; panel ``PANELS[i]`` peeks ``PEEKS[i]`` scores."""

TARGET_SCORES = (0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.975)
"""Target scores of the upstream grid (AIME24, AIME25; other datasets: ``UPSTREAM_TARGETS``)."""

PERCENTILES = (0.01, 0.02, 0.035, 0.05, 0.075, 0.1)
"""Percentiles of the upstream grid (every dataset)."""

UPSTREAM_TARGETS = {
    "AIME24": TARGET_SCORES,
    "AIME25": TARGET_SCORES,
    "AMC23": (0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.975),
    "MATH500": (0.85, 0.9, 0.925, 0.95, 0.96, 0.97, 0.98, 0.99),
    "GSM8K": (0.9, 0.93, 0.95, 0.96, 0.97, 0.98, 0.99),
}
"""Target scores each upstream notebook actually swept (read from its published allocations)."""

OPTSCALE_GRID = tuple((t, p) for t in TARGET_SCORES for p in PERCENTILES)
"""The 8 x 6 (target, percentile) grid of the paper."""

Variant = Literal["mle", "map"]
Mode = Literal["paper", "fair"]


@lru_cache(maxsize=32)
def _fits(
    variant: str, mode: str, peeks: bytes, shape: tuple[int, int], priors: bytes
) -> tuple[FloatArray, FloatArray]:
    """Fits shared by every grid cell of a panel (they do not depend on target or percentile)."""
    x = np.frombuffer(peeks, dtype=np.float64).reshape(shape)
    prior = np.frombuffer(priors, dtype=np.float64).reshape(2, -1) if variant == "map" else None
    if mode == "paper":
        mu, sigma = upstream_fit(x) if prior is None else upstream_fit(x, prior[0], prior[1])
    else:
        fit = fit_mle(x) if prior is None else fit_map(x, prior[0], prior[1])
        mu, sigma = fit.mu, fit.sigma
    return _frozen(mu), _frozen(sigma)


def _frozen(array: FloatArray) -> FloatArray:
    """Make a cached result read-only, so that no caller can change what later calls receive."""
    array.setflags(write=False)
    return array


@lru_cache(maxsize=16)
def _grid_quantile_table(
    mu: bytes, sigma: bytes, percentiles: tuple[float, ...], max_n: int
) -> FloatArray:
    """Grid quantiles of one panel's fits for a whole row of the grid (shared by its cells)."""
    table = upstream_grid_quantile_table(
        np.frombuffer(mu, dtype=np.float64),
        np.frombuffer(sigma, dtype=np.float64),
        percentiles,
        max_n=max_n,
    )
    return _frozen(table)


def best_of_first(scores: npt.ArrayLike, empty: npt.ArrayLike, n_used: npt.ArrayLike) -> IntArray:
    """Upstream's Best-of-N pick among the first ``n_used`` samples of each row.

    The argmax of the scores (first index on ties; NaN never wins); if that completion is empty
    its score becomes 0 and the argmax is taken again, until a non-empty one wins or the max is
    0, in which case the last pick (empty) stays.
    """
    s = check.as_float("scores", scores)
    e = np.asarray(empty, dtype=bool)
    n = np.asarray(n_used, dtype=np.int64)
    if e.shape != s.shape or n.shape != s.shape[:1]:
        raise ValueError(f"shapes differ: scores{s.shape}, empty{e.shape}, n_used{n.shape}")
    cols = np.arange(s.shape[1])[None, :]
    masked = np.where((cols < n[:, None]) & ~np.isnan(s), s, -np.inf)
    pick = np.argmax(masked, axis=1)
    for i in np.nonzero(e[np.arange(s.shape[0]), pick])[0]:
        row = masked[i].copy()
        while e[i, pick[i]]:
            row[pick[i]] = 0.0
            if row.max() == 0:
                break
            pick[i] = int(np.argmax(row))
    out: IntArray = pick.astype(np.int64)
    return out


class OptScalePolicy:
    """OptScale^0 (``variant="mle"``) or OptScale^t (``variant="map"``) on a pool view.

    Parameters
    ----------
    variant
        ``"mle"``: fit the peeked scores alone; ``"map"``: Gaussian priors N(view.prior_mu, 0.1),
        N(view.prior_sigma, 0.1).
    peek
        Scores peeked before fitting (k).
    max_n
        Panel: most samples per problem.
    target, percentile
        Grid cell, see [`optscale_math.min_samples`][optscale_math.min_samples].
    mode
        ``"paper"``: upstream numerics (per-problem L-BFGS-B fits, 1000-point grid rule);
        ``"fair"``: batched fits and the exact closed form.

    Notes
    -----
    Per problem: fit (mu, sigma) on the first k scores, take the minimal N in 1..max_N,
    N = max(N, k), then Best-of-N among the first N
    ([`best_of_first`][optscale_math.best_of_first]). The view is used through its attributes
    ``scores``, ``empty``, ``prior_mu`` and ``prior_sigma`` only.
    """

    name: str = "OptScale"
    verify_order: ClassVar[VerifyOrder] = "gold_pred"
    """Graded ``verify(gold, pred)`` like every upstream method except bon.py."""
    rows_independent: ClassVar[bool] = True
    """Each problem is decided from its own row (and prior) alone, so replay may stack orders."""

    def __init__(
        self,
        variant: Variant = "mle",
        peek: int = 3,
        max_n: int = 8,
        target: float = 0.9,
        percentile: float = 0.05,
        mode: Mode = "fair",
    ) -> None:
        if variant not in ("mle", "map"):
            raise ValueError(f"variant must be 'mle' or 'map', got {variant!r}")
        if mode not in ("paper", "fair"):
            raise ValueError(f"mode must be 'paper' or 'fair', got {mode!r}")
        self.variant, self.mode = variant, mode
        self.peek = check.count("peek", peek, minimum=1)
        self.max_n = check.count("max_n", max_n, minimum=1)
        if self.max_n < self.peek:
            raise ValueError(f"max_n ({self.max_n}) must be >= peek ({self.peek})")
        self.target = float(check.open_unit("target", target))
        self.percentile = float(check.open_unit("percentile", percentile))
        self.name = "OptScale^0" if variant == "mle" else "OptScale^t"

    @classmethod
    def grid(cls, dataset: str | None = None) -> list[dict[str, object]]:
        """Grid cells as keyword dicts: the paper's 8 x 6 grid, or one dataset's swept targets."""
        targets = TARGET_SCORES if dataset is None else UPSTREAM_TARGETS[dataset.upper()]
        return [{"target": t, "percentile": p} for t in targets for p in PERCENTILES]

    def fits(self, view: ViewLike) -> tuple[FloatArray, FloatArray]:
        """(mu, sigma) per problem from the first ``peek`` scores of ``view``."""
        scores = check.as_float("view.scores", view.scores)
        if scores.ndim != 2 or scores.shape[1] < self.peek:
            raise ValueError(f"view.scores must be [P, K] with K >= peek, got {scores.shape}")
        peeks = np.ascontiguousarray(scores[:, : self.peek])
        priors = b""
        if self.variant == "map":
            prior = np.stack(
                [
                    check.as_float("view.prior_mu", view.prior_mu),
                    check.as_float("view.prior_sigma", view.prior_sigma),
                ]
            )
            if prior.shape != (2, scores.shape[0]) or not np.all(np.isfinite(prior)):
                raise ValueError("OptScale^t needs finite view.prior_mu and view.prior_sigma [P]")
            priors = prior.tobytes()
        return _fits(self.variant, self.mode, peeks.tobytes(), peeks.shape, priors)

    def plan(self, view: ViewLike) -> IntArray:
        """Return samples per problem: max(k, minimal N), capped by the view's K."""
        mu, sigma = self.fits(view)
        if self.mode == "paper":
            swept = PERCENTILES if self.percentile in PERCENTILES else (self.percentile,)
            table = _grid_quantile_table(mu.tobytes(), sigma.tobytes(), swept, self.max_n)
            quantiles = table[swept.index(self.percentile)]
            n = first_reaching(quantiles, self.target)
        else:
            n = min_samples(mu, sigma, self.target, self.percentile, max_n=self.max_n)
        k_all = np.asarray(view.scores).shape[1]
        out: IntArray = np.minimum(np.maximum(n, self.peek), k_all).astype(np.int64)
        return out

    def run(self, view: ViewLike) -> Decisions:
        """Decide n_used and the Best-of-N pick for every problem of ``view``."""
        n_used = self.plan(view)
        pick = best_of_first(view.scores, view.empty, n_used)
        return Decisions(n_used=n_used, pick=pick)
