"""Deciding how many samples: online per problem (Allocator) and across a batch (budgets)."""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optscale_math import _validation as check
from optscale_math._estimate import fit_map, fit_mle
from optscale_math._sizing import min_samples
from optscale_math._truncnorm import TruncatedNormal01
from optscale_math._validation import IntArray


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
        As in :func:`min_samples`: plan the smallest N whose max reaches ``target`` except with
        probability ``percentile``.
    peek
        Scores observed before fitting (k). Until then the plan is ``peek`` samples.
    max_n
        Most samples ever planned (``peek <= max_n``).
    prior_mu, prior_sigma
        Optional prior (OptScale^t, :func:`fit_map`); without it the fit is the MLE (OptScale^0).
    prior_mu_std, prior_sigma_std
        Prior standard deviations (upstream: 0.1).

    Notes
    -----
    Pure and deterministic: no I/O, no clock, no randomness. After ``peek`` scores it fits once
    on those scores and plans :math:`N = \max(k, N^*)` with :math:`N^*` from
    :func:`min_samples` clipped to ``[1, max_n]``; scores after the peek do not change the plan.
    This is exactly what the batch functions decide for the same scores.

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
        """Record the next sample's verifier score (in [0, 1])."""
        value = float(check.finite("score", score))
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"score must lie in [0, 1], got {value}")
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


def allocate_budget(
    mu: npt.ArrayLike,
    sigma: npt.ArrayLike,
    target: npt.ArrayLike,
    cost_per_sample: npt.ArrayLike,
    budget: float,
    *,
    max_n: int | None = None,
) -> IntArray:
    """Allocate samples to maximise the expected number of problems whose best reaches target.

    Parameters
    ----------
    mu, sigma
        Per-problem score laws (``[P]``).
    target
        Score to reach, in (0, 1) (scalar or ``[P]``).
    cost_per_sample
        Cost of one sample of each problem (e.g. mean tokens), > 0 (scalar or ``[P]``).
    budget
        Total cost allowed (>= 0).
    max_n
        Optional cap on samples per problem.

    Returns
    -------
    numpy.ndarray
        int64 ``[P]`` sample counts with total cost <= ``budget``.

    Notes
    -----
    Problem i solved with n samples has :math:`P_i(n) = 1 - F_i(s)^n`; the n-th sample adds
    :math:`F_i(s)^{n-1}(1 - F_i(s))`, which never grows with n. Greedy takes the sample with
    the largest gain per unit cost while it fits in the budget (ties: lowest problem index).
    With equal costs this is optimal (a concave separable objective); with unequal costs it is
    the classic greedy for a concave knapsack, within one sample's gain of the optimum.
    """
    budget = float(check.finite("budget", budget))
    if budget < 0:
        raise ValueError("budget must be >= 0")
    mu_a = check.finite("mu", mu)
    sigma_a = check.positive("sigma", sigma)
    target_a = check.open_unit("target", target)
    cost_a = check.positive("cost_per_sample", cost_per_sample)
    mu_a, sigma_a, target_a, cost_a = check.broadcast(
        mu=mu_a, sigma=sigma_a, target=target_a, cost_per_sample=cost_a
    )
    if mu_a.ndim != 1:
        raise ValueError(f"mu must be 1-D [P], got shape {mu_a.shape}")
    cap = None if max_n is None else check.count("max_n", max_n, minimum=0)
    law = TruncatedNormal01(mu_a, sigma_a)
    log_f, log_sf = law.logcdf(target_a), law.logsf(target_a)
    counts = np.zeros(mu_a.size, dtype=np.int64)
    # Priority: log gain per unit cost of problem i's next sample, n = counts[i].
    heap = [
        (-(log_sf[i] - np.log(cost_a[i])), i) for i in range(mu_a.size) if np.isfinite(log_sf[i])
    ]
    heapq.heapify(heap)
    left = budget
    while heap:
        _, i = heapq.heappop(heap)
        if cost_a[i] > left or (cap is not None and counts[i] >= cap):
            continue
        counts[i] += 1
        left -= cost_a[i]
        gain = counts[i] * log_f[i] + log_sf[i]
        if np.isfinite(gain):
            heapq.heappush(heap, (-(gain - np.log(cost_a[i])), i))
    return counts
