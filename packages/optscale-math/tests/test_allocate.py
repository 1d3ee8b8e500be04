from __future__ import annotations

import heapq
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optscale_math import (
    Allocator,
    AllocatorDecision,
    TruncatedNormal01,
    allocate_budget,
    fit_map,
    fit_mle,
    min_samples,
)


@pytest.mark.parametrize("use_prior", [False, True])
def test_allocator_decides_as_the_batch_functions(
    rng: np.random.Generator, use_prior: bool
) -> None:
    size, peek, max_n, target, percentile = 60, 3, 16, 0.9, 0.05
    scores = np.clip(rng.normal(rng.uniform(0.6, 1.1, (size, 1)), 0.08, (size, max_n)), 0, 1)
    pm, ps = rng.uniform(0.4, 0.9, size), rng.uniform(0.05, 0.3, size)
    fit = fit_map(scores[:, :peek], pm, ps) if use_prior else fit_mle(scores[:, :peek])
    planned = np.maximum(min_samples(fit.mu, fit.sigma, target, percentile, max_n=max_n), peek)
    for i in range(size):
        prior = {"prior_mu": pm[i], "prior_sigma": ps[i]} if use_prior else {}
        alloc = Allocator(target, percentile, peek, max_n, **prior)
        for j in range(max_n):
            decision = alloc.decision()
            if j < peek:
                assert decision == AllocatorDecision(stop=False, planned_n=peek)
            else:
                assert decision == AllocatorDecision(stop=j >= planned[i], planned_n=planned[i])
            alloc.observe(scores[i, j])
        assert alloc.decision().stop


def test_allocator_bad_input() -> None:
    with pytest.raises(ValueError, match="max_n"):
        Allocator(0.9, 0.05, peek=5, max_n=3)
    with pytest.raises(ValueError, match="target"):
        Allocator(1.0, 0.05, peek=3, max_n=8)
    with pytest.raises(ValueError, match="prior"):
        Allocator(0.9, 0.05, peek=3, max_n=8, prior_mu=0.5)
    alloc = Allocator(0.9, 0.05, peek=3, max_n=8)
    with pytest.raises(ValueError, match="score"):
        alloc.observe(np.nan)
    with pytest.raises(ValueError, match="score"):
        alloc.observe(1.5)


def _expected_solved(counts: np.ndarray, log_f: np.ndarray) -> float:
    return float(np.sum(1.0 - np.exp(counts * log_f)))


def _exhaustive(log_f: np.ndarray, cost: np.ndarray, budget: float, cap: int) -> float:
    best = 0.0
    for counts in itertools.product(range(cap + 1), repeat=log_f.size):
        c = np.array(counts)
        if np.sum(c * cost) <= budget + 1e-12:
            best = max(best, _expected_solved(c, log_f))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_budget_equals_exhaustive_search_with_equal_costs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    mu, sigma = rng.uniform(-0.2, 1.2, 3), rng.uniform(0.05, 0.5, 3)
    target, budget = 0.8, float(rng.integers(0, 9))
    counts = allocate_budget(mu, sigma, target, 1.0, budget)
    log_f = TruncatedNormal01(mu, sigma).logcdf(target)
    assert counts.sum() <= budget
    got = _expected_solved(counts, log_f)
    assert got == pytest.approx(_exhaustive(log_f, np.ones(3), budget, 8), abs=1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_budget_with_unequal_costs_is_within_one_sample_gain(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    mu, sigma = rng.uniform(-0.2, 1.2, 3), rng.uniform(0.05, 0.5, 3)
    cost = rng.choice([1.0, 2.0, 3.0], 3)
    budget = float(rng.integers(0, 12))
    counts = allocate_budget(mu, sigma, 0.8, cost, budget)
    log_f = TruncatedNormal01(mu, sigma).logcdf(0.8)
    assert np.sum(counts * cost) <= budget
    best = _exhaustive(log_f, cost, budget, 8)
    largest_gain = float(np.max(1 - np.exp(log_f)))
    assert _expected_solved(counts, log_f) >= best - largest_gain - 1e-12


def test_budget_respects_max_n_and_bad_input() -> None:
    counts = allocate_budget([0.2, 0.3], [0.1, 0.1], 0.9, 1.0, 100, max_n=5)
    np.testing.assert_array_equal(counts, [5, 5])
    with pytest.raises(ValueError, match="budget"):
        allocate_budget([0.5], [0.1], 0.9, 1.0, -1)
    with pytest.raises(ValueError, match="cost_per_sample"):
        allocate_budget([0.5], [0.1], 0.9, 0.0, 10)
    with pytest.raises(ValueError, match="shapes"):
        allocate_budget([0.5, 0.6], [0.1, 0.1, 0.1], 0.9, 1.0, 10)


def _greedy_one_at_a_time(
    mu: np.ndarray, sigma: np.ndarray, target: float, cost: np.ndarray, budget: float, cap: int
) -> np.ndarray:
    """The slow obvious greedy: one sample per step, best log gain per unit cost first."""
    law = TruncatedNormal01(mu, sigma)
    log_f, log_sf = law.logcdf(target), law.logsf(target)
    counts, left = np.zeros(mu.size, dtype=np.int64), budget
    heap = [(-(log_sf[i] - np.log(cost[i])), i) for i in range(mu.size) if np.isfinite(log_sf[i])]
    heapq.heapify(heap)
    while heap:
        _, i = heapq.heappop(heap)
        if cost[i] > left or counts[i] >= cap:
            continue
        counts[i] += 1
        left -= cost[i]
        gain = counts[i] * log_f[i] + log_sf[i]
        if np.isfinite(gain):
            heapq.heappush(heap, (-(gain - np.log(cost[i])), i))
    return counts


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(1, 8),
    budget=st.floats(0.0, 300.0),
    cap=st.integers(0, 40),
)
def test_bulk_greedy_takes_the_samples_the_one_at_a_time_greedy_takes(
    seed: int, size: int, budget: float, cap: int
) -> None:
    rng = np.random.default_rng(seed)
    mu, sigma = rng.uniform(-0.5, 1.5, size), np.exp(rng.uniform(np.log(1e-3), 0.0, size))
    cost = rng.choice([0.5, 1.0, 3.0, 7.25], size)
    expected = _greedy_one_at_a_time(mu, sigma, 0.8, cost, budget, cap)
    np.testing.assert_array_equal(
        allocate_budget(mu, sigma, 0.8, cost, budget, max_n=cap), expected
    )


def test_budget_run_time_does_not_grow_with_budget_over_cost() -> None:
    # A million dollars at a millionth each: 10^12 one-at-a-time steps, a handful of bulk rounds.
    mu, sigma = np.array([0.5, 0.7, 0.95]), np.array([0.1, 0.2, 0.05])
    counts = allocate_budget(mu, sigma, 0.9, 1e-6, 1e6, max_n=10**12)
    assert counts.sum() == 10**12
    assert np.sum(counts * 1e-6) <= 1e6 * (1 + 1e-12)


def test_budget_refuses_more_samples_than_float_counts_hold() -> None:
    with pytest.raises(ValueError, match="max_n"):
        allocate_budget([0.5], [0.1], 0.9, 1e-300, 1e300)
    assert allocate_budget([0.5], [0.1], 0.9, 1e-300, 1e300, max_n=7).tolist() == [7]
