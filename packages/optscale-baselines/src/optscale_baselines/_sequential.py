"""Sequential OptScale: re-fit the score law after every wave, stop when improving is unlikely."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal, Protocol

import numpy as np
import numpy.typing as npt
from optscale_math import TruncatedNormal01, fit_map, fit_mle

from optscale_baselines._live import StepCore, usable_scores
from optscale_baselines._protocol import (
    BoolArray,
    Decisions,
    FloatArray,
    IntArray,
    RowPolicy,
    VerifyOrder,
    ViewLike,
    check_budget,
    view_width,
)
from optscale_baselines._tables import first_stops
from optscale_baselines._threshold import BestSoFar

Fitting = Literal["mle", "map"]


def improvement_probability(
    mu: npt.ArrayLike,
    sigma: npt.ArrayLike,
    best: npt.ArrayLike,
    epsilon: float,
    remaining: npt.ArrayLike,
) -> FloatArray:
    r"""Probability that one of ``remaining`` further draws beats ``best`` by more than ``epsilon``.

    Parameters
    ----------
    mu, sigma
        Score law [`TruncatedNormal01`][optscale_math.TruncatedNormal01] per row.
    best
        Best score so far per row.
    epsilon
        Margin an improvement must exceed.
    remaining
        Draws still allowed, $m \ge 0$.

    Returns
    -------
    numpy.ndarray
        $1 - F(b + \varepsilon)^m$ per row, computed as ``-expm1(m log F)``.

    Notes
    -----
    Further draws are i.i.d. with cdf $F$, so none exceeds $b + \varepsilon$ with probability
    $F(b + \varepsilon)^m$; the complement is the probability of an improvement. $F = 1$ at and
    above 1, so a best within $\varepsilon$ of 1 gives 0.
    """
    return chance_from_log(log_no_improvement(mu, sigma, best, epsilon), remaining)


def log_no_improvement(
    mu: npt.ArrayLike, sigma: npt.ArrayLike, best: npt.ArrayLike, epsilon: float
) -> FloatArray:
    """``log F(best + epsilon)``: log chance that one further draw does not improve enough."""
    law = TruncatedNormal01(mu, sigma)
    out: FloatArray = law.logcdf(np.asarray(best, dtype=np.float64) + epsilon)
    return out


def chance_from_log(log_f: FloatArray, remaining: npt.ArrayLike) -> FloatArray:
    """``1 - F^m`` from ``log F`` (see `improvement_probability`); 0 where ``m = 0``."""
    m = np.asarray(remaining, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        out: FloatArray = np.where(m > 0, -np.expm1(m * log_f), 0.0)
    return out


def packed(scores: FloatArray) -> tuple[FloatArray, BoolArray]:
    """Usable scores of each row moved to the front (NaN after), clipped to [0, 1].

    Returns the packed array, same shape (rows without a usable score get 0.5 first, to be
    ignored), and which rows have a usable score.
    """
    order = np.argsort(np.isnan(scores), axis=1, kind="stable")
    out = np.clip(np.take_along_axis(scores, order, axis=1), 0.0, 1.0)
    some = ~np.isnan(out[:, 0])
    out[~some, 0] = 0.5
    return out, some


def fit_packed(
    x: FloatArray, prior_mu: FloatArray, prior_sigma: FloatArray, fit: Fitting
) -> tuple[FloatArray, FloatArray]:
    """Fit packed rows: MAP where ``fit == "map"`` and the row has a prior, MLE elsewhere."""
    mu, sigma = np.empty(x.shape[0]), np.empty(x.shape[0])
    has_prior = np.isfinite(prior_mu) & np.isfinite(prior_sigma) & (fit == "map")
    for subset in (~has_prior, has_prior):
        if subset.any():
            if subset is has_prior:
                law = fit_map(x[subset], prior_mu[subset], prior_sigma[subset])
            else:
                law = fit_mle(x[subset])
            mu[subset], sigma[subset] = law.mu, law.sigma
    return mu, sigma


def prefix(scores: FloatArray, n: int) -> FloatArray:
    """``scores`` with every column from ``n`` on set to NaN (the fit's input after n samples).

    The fit's statistics do not depend on how much NaN padding follows a row (see
    [`fit_mle`][optscale_math.fit_mle]), so the live form (width ``max_n``) and the replay
    (the view's full width, shared by every budget) fit the very same numbers.
    """
    out = scores.copy()
    out[:, n:] = np.nan
    return out


class FitSource(Protocol):
    """Where a core gets the fitted law of some rows after ``n`` samples."""

    def __call__(self, rows: IntArray, n: int, scores: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Return ``(mu, sigma)`` of ``rows`` fitted on ``scores`` (their first ``n``)."""
        ...


class DirectFits:
    """Fit on demand (the live form)."""

    def __init__(self, fit: Fitting, prior_mu: FloatArray, prior_sigma: FloatArray) -> None:
        self.fit, self.prior_mu, self.prior_sigma = fit, prior_mu, prior_sigma

    def __call__(self, rows: IntArray, n: int, scores: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Fit ``rows`` now."""
        x, _ = packed(prefix(scores, n))
        return fit_packed(x, self.prior_mu[rows], self.prior_sigma[rows], self.fit)


_CHUNK = 4_000_000
"""Largest number of scores fitted in one call when tabulating prefix fits."""


@dataclass
class _ViewTables:
    """What the replay keeps per view: fits by sample count, ``log F`` tables by setting."""

    fits: dict[int, tuple[FloatArray, FloatArray]]
    logs: dict[str, tuple[FloatArray, IntArray]]


class TableFits:
    """Fits of every row after each scheduled ``n``, computed in a few large calls (replay).

    One batched fit costs about as much for a thousand rows as for one (Newton iterations, not
    rows, dominate), so the replay tabulates the fits of all rows at all scheduled sample counts
    up front, exactly as ``DirectFits`` would compute them one by one. Tables are cached per
    view content at the view's full width, so every grid cell and every budget ``max_n``
    replayed on the same view shares them: the fit after ``n`` samples is the same for all.
    The view's tables of ``log F`` per setting (``logs``) are kept with its fits.
    """

    _cache: ClassVar[OrderedDict[bytes, _ViewTables]] = OrderedDict()

    def __init__(
        self, scores: FloatArray, prior_mu: FloatArray, prior_sigma: FloatArray, fit: Fitting
    ) -> None:
        digest = hashlib.blake2b(digest_size=20)
        for part in (scores, prior_mu, prior_sigma):
            digest.update(np.ascontiguousarray(part).tobytes())
        digest.update(f"{fit}{scores.shape}".encode())
        key = digest.digest()
        entry = self._cache.setdefault(key, _ViewTables({}, {}))
        self.table, self.logs = entry.fits, entry.logs
        self._cache.move_to_end(key)
        while len(self._cache) > 4:
            self._cache.popitem(last=False)
        self.scores, self.prior, self.fit = scores, (prior_mu, prior_sigma), fit

    def prepare(self, schedule: list[int]) -> None:
        """Fit every row at each ``n`` of ``schedule`` not tabulated yet."""
        todo = [n for n in schedule if n not in self.table]
        rows, width = self.scores.shape
        per_call = max(1, _CHUNK // max(rows * width, 1))
        for i in range(0, len(todo), per_call):
            group = todo[i : i + per_call]
            x, _ = packed(np.concatenate([prefix(self.scores, n) for n in group]))
            prior_mu, prior_sigma = (np.tile(p, len(group)) for p in self.prior)
            mu, sigma = fit_packed(x, prior_mu, prior_sigma, self.fit)
            for j, n in enumerate(group):
                self.table[n] = (mu[j * rows : (j + 1) * rows], sigma[j * rows : (j + 1) * rows])

    def __call__(self, rows: IntArray, n: int, scores: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Look ``rows`` up in the table for ``n``."""
        mu, sigma = self.table[n]
        return mu[rows], sigma[rows]


class SequentialCore(BestSoFar):
    """Core of [`SequentialOptScale`][optscale_baselines.SequentialOptScale]."""

    def __init__(self, policy: SequentialOptScale, rows: int, fits: FitSource) -> None:
        super().__init__(rows)
        self.policy, self.fits = policy, fits
        self.scores = np.full((rows, policy.max_n), np.nan)
        self.mu, self.sigma = np.full(rows, 0.5), np.full(rows, 1.0)
        self.fitted = np.zeros(rows, dtype=bool)

    def step(self, rows: IntArray, k: int, scores: FloatArray, labels: IntArray) -> BoolArray:
        """Record sample ``k``; stop where the chance of an improvement is below ``delta``."""
        out: BoolArray = self.chance(rows, k, scores) < self.policy.delta
        return out

    def chance(self, rows: IntArray, k: int, scores: FloatArray) -> FloatArray:
        """Record sample ``k``; return the improvement chance (``inf`` at ``max_n``).

        NaN (never below a threshold) where the rule may not stop yet; see ``log_stay``.
        """
        log_f = self.log_stay(rows, k, scores)
        n = k + 1
        if n >= self.policy.max_n:
            return np.full(rows.size, np.inf)
        return chance_from_log(log_f, self.policy.max_n - n)

    def log_stay(self, rows: IntArray, k: int, scores: FloatArray) -> FloatArray:
        """Record sample ``k``; re-fit at the end of a wave; return ``log F(best + epsilon)``.

        NaN while the rule may not stop: before ``peek`` samples and for rows not fitted on a
        usable score yet. Neither the value nor the fits before ``max_n`` depend on
        ``max_n``, so the replay tabulates this once for every cap.
        """
        self.add(rows, k, scores)
        self.scores[rows, k] = scores
        p, n = self.policy, k + 1
        if n < p.peek or n >= p.max_n:
            return np.full(rows.size, np.nan)
        if (n - p.peek) % p.wave == 0:
            some = np.isfinite(self.best[rows])
            mu, sigma = self.fits(rows, n, self.scores[rows])
            self.mu[rows], self.sigma[rows] = mu, sigma
            self.fitted[rows] |= some
        log_f = log_no_improvement(self.mu[rows], self.sigma[rows], self.best[rows], p.epsilon)
        out: FloatArray = np.where(self.fitted[rows], log_f, np.nan)
        return out


@dataclass(frozen=True)
class SequentialOptScale(RowPolicy):
    r"""Sequential OptScale: re-fit after every wave; stop when a better sample is unlikely.

    After ``peek`` samples, and again after every further ``wave`` samples, fit the truncated
    normal score law to the usable scores so far ([`fit_mle`][optscale_math.fit_mle], or
    [`fit_map`][optscale_math.fit_map] with the problem's prior when ``fit="map"`` and the
    view has one) and stop when

    $$1 - F(b_n + \varepsilon)^{\,N_{\max} - n} < \delta,$$

    the probability that one of the samples still allowed beats the best so far $b_n$ by more
    than $\varepsilon$ (see
    [`improvement_probability`][optscale_baselines.improvement_probability]).
    The answer is the best-scored sample so far.

    Parameters
    ----------
    peek
        Samples before the first fit.
    wave
        Samples between fits.
    epsilon
        Improvement that matters.
    delta
        Stop when the chance of such an improvement falls below it.
    fit
        ``"mle"`` (OptScale^0's estimate) or ``"map"`` (OptScale^t's, where a prior exists).
    max_n
        Most samples per problem.
    """

    rows_independent: ClassVar[bool] = True
    """Each problem is decided from its own row: replay may stack sample orders."""
    verify_order: ClassVar[VerifyOrder] = "gold_pred"

    peek: int = 2
    wave: int = 1
    epsilon: float = 0.0
    delta: float = 0.1
    fit: Fitting = "mle"
    max_n: int = 64

    def __post_init__(self) -> None:
        check_budget("peek", self.peek)
        check_budget("wave", self.wave)
        check_budget("max_n", self.max_n)
        if not 0.0 <= self.epsilon < 1.0:
            raise ValueError(f"epsilon must lie in [0, 1), got {self.epsilon!r}")
        if not 0.0 < self.delta < 1.0:
            raise ValueError(f"delta must lie in (0, 1), got {self.delta!r}")
        if self.fit not in ("mle", "map"):
            raise ValueError(f"fit must be 'mle' or 'map', got {self.fit!r}")
        tag = f"k{self.peek}-w{self.wave}-e{self.epsilon:g}-d{self.delta:g}"
        object.__setattr__(self, "name", f"sequential-{self.fit}-{tag}@{self.max_n}")

    @classmethod
    def grid(cls) -> list[dict[str, Any]]:
        """``peek`` 2 or 4, ``wave`` 1 or 2, ``epsilon`` 0 to 0.05, ``delta`` 0.05 to 0.4."""
        return [
            {"peek": k, "wave": w, "epsilon": e, "delta": d}
            for k in (2, 4)
            for w in (1, 2)
            for e in (0.0, 0.02, 0.05)
            for d in (0.05, 0.1, 0.2, 0.4)
        ]

    def schedule(self) -> list[int]:
        """Sample counts after which the law is re-fitted (those below ``max_n``)."""
        return list(range(self.peek, self.max_n, self.wave))

    def core(self, prior_mu: FloatArray, prior_sigma: FloatArray) -> StepCore:
        """Return a fresh core fitting on demand, one row per problem (the live form's)."""
        return SequentialCore(self, prior_mu.size, DirectFits(self.fit, prior_mu, prior_sigma))

    def run(self, view: ViewLike) -> Decisions:
        """Replay the rule on every row of ``view``, with fits tabulated in advance."""
        view_width(view, self.max_n, "max_n")
        scores = usable_scores(
            np.asarray(view.scores, dtype=np.float64), np.asarray(view.empty, dtype=bool)
        )
        prior = (
            np.asarray(view.prior_mu, dtype=np.float64),
            np.asarray(view.prior_sigma, dtype=np.float64),
        )
        table = TableFits(scores, *prior, self.fit)
        tag = f"{self.peek} {self.wave} {self.epsilon!r}"
        if tag not in table.logs:
            table.logs[tag] = self._log_table(scores, table)
        log_f, picks = table.logs[tag]
        n = np.arange(1, self.max_n + 1)
        with np.errstate(invalid="ignore"):
            stop = chance_from_log(log_f[:, : self.max_n], self.max_n - n) < self.delta
        stop[:, -1] = False
        return first_stops(stop, picks[:, : self.max_n])

    def _log_table(self, scores: FloatArray, table: TableFits) -> tuple[FloatArray, IntArray]:
        """``log_stay`` and the best sample of every row after each sample count, full width.

        The live form's core under the view's full width as cap, fed as the live form is fed
        with every row kept running: a row's values read its own samples only, so they are
        the same whenever the row stops, and they depend on neither ``delta`` nor the cap.
        """
        rows, width = scores.shape
        policy = replace(self, max_n=width)
        table.prepare(policy.schedule())
        core, every = SequentialCore(policy, rows, table), np.arange(rows)
        log_f, picks = np.empty((rows, width)), np.empty((rows, width), dtype=np.int64)
        for k in range(width):
            log_f[:, k] = core.log_stay(every, k, scores[:, k])
            picks[:, k] = core.pick
        return log_f, picks
