"""Deciding how many samples online, one problem at a time, as its scores arrive."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optscale_math import _validation as check
from optscale_math._estimate import fit_map, fit_mle
from optscale_math._sizing import min_samples


@dataclass(frozen=True)
class AllocatorDecision:
    """What to do next: ``stop`` now, and the total number of samples planned for the problem."""

    stop: bool
    planned_n: int


class Allocator:
    r"""Online OptScale for one problem: observe scores as they arrive, ask whether to stop.

    Parameters
    ----------
    target, percentile
        As in [`min_samples`][optscale_math.min_samples]: plan the smallest N whose max reaches
        ``target`` except with probability ``percentile``.
    peek
        Scores observed before fitting (k). Until then the plan is ``peek`` samples.
    max_n
        Most samples ever planned (``peek <= max_n``).
    prior_mu, prior_sigma
        Optional prior (OptScale^t, [`fit_map`][optscale_math.fit_map]); without it the fit is the
        MLE (OptScale^0).
    prior_mu_std, prior_sigma_std
        Prior standard deviations (upstream: 0.1).

    Notes
    -----
    Pure and deterministic: no I/O, no clock, no randomness. After ``peek`` scores it fits once
    on those scores and plans :math:`N = \max(k, N^*)` with :math:`N^*` from
    [`min_samples`][optscale_math.min_samples] clipped to ``[1, max_n]``; scores after the peek do
    not change the plan. This is exactly what the batch functions decide for the same scores.

    Examples
    --------
    >>> alloc = Allocator(target=0.9, percentile=0.05, peek=3, max_n=16)
    >>> for s in (0.95, 0.97, 0.96):
    ...     alloc.observe(s)
    >>> alloc.decision()
    AllocatorDecision(stop=True, planned_n=3)
    """

    def __init__(
        self,
        target: float,
        percentile: float,
        peek: int,
        max_n: int,
        prior_mu: float | None = None,
        prior_sigma: float | None = None,
        prior_mu_std: float = 0.1,
        prior_sigma_std: float = 0.1,
    ) -> None:
        self.target = float(check.open_unit("target", target))
        self.percentile = float(check.open_unit("percentile", percentile))
        self.peek = check.count("peek", peek, minimum=1)
        self.max_n = check.count("max_n", max_n, minimum=1)
        if self.max_n < self.peek:
            raise ValueError(f"max_n ({self.max_n}) must be >= peek ({self.peek})")
        if (prior_mu is None) != (prior_sigma is None):
            raise ValueError("prior_mu and prior_sigma must be given together")
        self.prior = None
        if prior_mu is not None and prior_sigma is not None:
            self.prior = (
                float(check.finite("prior_mu", prior_mu)),
                float(check.finite("prior_sigma", prior_sigma)),
            )
        self.prior_std = (prior_mu_std, prior_sigma_std)
        self._scores: list[float] = []
        self._planned: int | None = None

    @property
    def n_observed(self) -> int:
        """Scores observed so far."""
        return len(self._scores)

    def observe(self, score: float) -> None:
        """Record the next sample's verifier score (in [0, 1]); at most ``max_n`` of them."""
        value = float(check.finite("score", score))
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"score must lie in [0, 1], got {value}")
        if len(self._scores) >= self.max_n:
            raise ValueError(
                f"score: already {self.max_n} scores observed, max_n = {self.max_n} allows no more"
            )
        self._scores.append(value)
        if self._planned is None and len(self._scores) == self.peek:
            self._planned = self._plan(np.array([self._scores]))

    def _plan(self, peeks: npt.NDArray[np.float64]) -> int:
        if self.prior is None:
            fit = fit_mle(peeks)
        else:
            fit = fit_map(peeks, self.prior[0], self.prior[1], *self.prior_std)
        n = min_samples(fit.mu, fit.sigma, self.target, self.percentile, max_n=self.max_n)
        return max(int(n[0]), self.peek)

    def decision(self) -> AllocatorDecision:
        """Stop now? and how many samples in total are planned (``peek`` until the fit)."""
        planned = self.peek if self._planned is None else self._planned
        return AllocatorDecision(stop=self.n_observed >= planned, planned_n=planned)
