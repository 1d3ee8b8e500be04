"""Spreading a cost budget over a batch: the greedy allocation, taken in bulk.

Greedy visits every problem's next sample in order of gain per unit cost and takes each one
that still fits. Instead of one step per sample (time proportional to budget / cost), the
longest prefix of that order that fits is found by bisection on the priority and taken at once;
the sample after it does not fit, so its problem can take nothing more. Each round thus retires
at least one problem: at most P + 1 rounds of 64 bisection steps over P problems.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from optscale_math import _validation as check
from optscale_math._mass import log_cdf_sf
from optscale_math._validation import FloatArray, IntArray


def allocate_budget(
    mu: npt.ArrayLike,
    sigma: npt.ArrayLike,
    target: npt.ArrayLike,
    cost_per_sample: npt.ArrayLike,
    budget: float,
    *,
    max_n: int | None = None,
) -> IntArray:
    r"""Allocate samples to maximise the expected number of problems whose best reaches target.

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
        Optional cap on samples per problem. Without it, ``budget / cost_per_sample`` must stay
        below 2^53 for every problem.

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
    The run time does not depend on the budget: see the module notes.
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
    with np.errstate(over="ignore"):
        affordable = np.floor(budget / cost_a)
    if max_n is None:
        if np.any(affordable > check.COUNT_MAX):
            raise ValueError(
                "budget / cost_per_sample allows more than 2^53 samples of one problem; give max_n"
            )
        cap = affordable
    else:
        cap = np.minimum(affordable, check.count("max_n", max_n, minimum=0))
    # target lies in (0, 1): the law's log cdf and log sf there, both from one evaluation.
    log_f, log_sf = log_cdf_sf(mu_a, sigma_a, target_a)
    # Priority of problem i's sample n (n = 0, 1, ...): log gain per unit cost, non-increasing in n.
    first = log_sf - np.log(cost_a)
    cap = np.where(np.isfinite(first), cap, 0.0)
    return _greedy(_Queue(first, log_f, cap, np.zeros(cap.size)), cost_a, budget)


class _Queue:
    """Every problem's samples in priority order, counted above a threshold in closed form."""

    def __init__(
        self, first: FloatArray, log_f: FloatArray, cap: FloatArray, base: FloatArray
    ) -> None:
        self.first, self.log_f, self.cap, self.base = first, log_f, cap, base

    def priority(self, n: FloatArray) -> FloatArray:
        """Priority of sample ``n`` of each problem (the float expression greedy compares)."""
        with np.errstate(invalid="ignore"):
            out: FloatArray = np.where(n == 0, self.first, n * self.log_f + self.first)
        return out

    def at_least(self, tau: float) -> FloatArray:
        """Count the samples per problem whose priority is >= ``tau``, within [base, cap]."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            guess = np.floor((self.first - tau) / np.abs(self.log_f)) + 1.0
        # 0 / 0: log F rounds to 0 and every sample has priority tau.
        guess = np.nan_to_num(guess, nan=np.inf, posinf=np.inf, neginf=0.0)
        n = np.clip(guess, self.base, self.cap)
        # The quotient can be off by a rounding: settle on the exact comparison, both ways.
        for _ in range(2):
            n = np.where((n > self.base) & (self.priority(np.maximum(n - 1, 0)) < tau), n - 1, n)
            n = np.where((n < self.cap) & (self.priority(n) >= tau), n + 1, n)
        return n


def _greedy(queue: _Queue, cost: FloatArray, budget: float) -> IntArray:
    """Greedy in bulk: per round, the longest fitting prefix, then the first misfit's tie group."""
    taken = np.zeros(cost.size)
    active = taken < queue.cap
    left = budget
    while True:
        active &= (taken < queue.cap) & (cost <= left)
        if not np.any(active):
            break
        sub = _Queue(queue.first, queue.log_f, np.where(active, queue.cap, taken), taken)

        def spend(tau: float, sub: _Queue = sub) -> float:
            return float(np.sum((sub.at_least(tau) - sub.base) * cost))

        lowest = float(np.nextafter(-np.inf, 0.0))
        if spend(lowest) <= left:
            return sub.at_least(lowest).astype(np.int64)
        tau = _lowest_fitting(spend, left)
        counts = sub.at_least(tau)
        left -= float(np.sum((counts - taken) * cost))
        taken = counts
        # The next priority level does not fit whole: take it in index order, as far as it fits.
        nxt = np.where(active & (taken < sub.cap), sub.priority(taken), -np.inf)
        level = float(np.max(nxt))
        more = sub.at_least(level) - taken
        for i in np.nonzero(more > 0)[0]:
            fits = min(more[i], max(np.floor(left / cost[i]), 0.0))
            taken[i] += fits
            left -= fits * cost[i]
            if fits < more[i]:
                active[i] = False
    return taken.astype(np.int64)


def _lowest_fitting(spend: Callable[[float], float], left: float) -> float:
    """Smallest float tau with ``spend(tau) <= left`` (non-increasing in tau), by bit bisection."""
    lo, hi = _key(float(np.nextafter(-np.inf, 0.0))), _key(float(np.finfo(np.float64).max))
    while lo < hi:
        mid = lo + (hi - lo) // 2
        if spend(_value(mid)) <= left:
            hi = mid
        else:
            lo = mid + 1
    return _value(lo)


def _key(x: float) -> int:
    """Order-preserving map of finite floats to integers."""
    bits = int(np.float64(x).view(np.int64))
    return bits if bits >= 0 else -(bits & 0x7FFFFFFFFFFFFFFF)


def _value(key: int) -> float:
    """Inverse of ``_key``."""
    bits = key if key >= 0 else -key | -0x8000000000000000
    return float(np.int64(bits).view(np.float64))
