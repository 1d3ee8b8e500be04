from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optscale_math import (
    TruncatedNormal01,
    min_samples,
    upstream_grid_quantiles,
    upstream_min_samples,
)
from scipy.stats import truncnorm


def brute_force(
    mu: np.ndarray,
    sigma: np.ndarray,
    target: np.ndarray,
    p: np.ndarray,
    max_n: np.ndarray,
    min_n: np.ndarray,
) -> np.ndarray:
    """Try N = min_n..max_n in turn: the first whose max has P(max < target) = F(t)^N <= p."""
    f = truncnorm.cdf(target, -mu / sigma, (1 - mu) / sigma, loc=mu, scale=sigma)
    n = np.arange(1, int(max_n.max()) + 1)[None, :]
    ok = (f[:, None] ** n <= p[:, None]) & (n >= min_n[:, None]) & (n <= max_n[:, None])
    return np.where(ok.any(axis=1), np.argmax(ok, axis=1) + 1, max_n)


def random_cases(rng: np.random.Generator, size: int) -> tuple[np.ndarray, ...]:
    mu = rng.uniform(-1.0, 3.0, size)
    sigma = np.exp(rng.uniform(np.log(1e-3), np.log(2.0), size))
    target = rng.uniform(0.0, 1.0, size)
    p = rng.uniform(0.0, 1.0, size)
    max_n = rng.integers(1, 257, size)
    min_n = np.minimum(rng.integers(1, 257, size), max_n)
    return mu, sigma, target, p, max_n, min_n


def test_exact_on_100k_random_cases(rng: np.random.Generator) -> None:
    mismatches = 0
    for _ in range(10):
        mu, sigma, target, p, max_n, min_n = random_cases(rng, 10_000)
        expected = brute_force(mu, sigma, target, p, max_n, min_n)
        # One call for all cases; per-case bounds act as a clip of the unbounded answer.
        got = np.clip(min_samples(mu, sigma, target, p, max_n=256), min_n, max_n)
        mismatches += int(np.sum(got != expected))
    assert mismatches == 0


def test_bounds_inside_the_function(rng: np.random.Generator) -> None:
    mu, sigma, target, p, _, _ = random_cases(rng, 5000)
    for max_n, min_n in [(1, 1), (8, 3), (64, 20), (256, 1), (256, 256)]:
        bounds = (np.full(5000, max_n), np.full(5000, min_n))
        expected = brute_force(mu, sigma, target, p, *bounds)
        got = min_samples(mu, sigma, target, p, max_n=max_n, min_n=min_n)
        np.testing.assert_array_equal(got, expected)


def test_integer_boundaries_are_decided_by_the_exact_condition(rng: np.random.Generator) -> None:
    # Choose p = F(t)^N exactly, so ln p / ln F(t) is an integer up to rounding: the answer must
    # be N itself (F^N <= p holds with equality), never N + 1 or N - 1.
    mu, sigma, target = (
        rng.uniform(0, 1, 2000),
        rng.uniform(0.05, 1, 2000),
        rng.uniform(0.2, 0.9, 2000),
    )
    n = rng.integers(1, 60, 2000)
    log_f = TruncatedNormal01(mu, sigma).logcdf(target)
    p = np.exp(n * log_f)
    keep = (p > 0) & (p < 1)
    got = min_samples(mu[keep], sigma[keep], target[keep], p[keep], max_n=256)
    log_p = np.log(p[keep])
    assert np.all(got * log_f[keep] <= log_p)  # N qualifies ...
    assert np.all((got == 1) | ((got - 1) * log_f[keep] > log_p))  # ... and N - 1 does not


def test_extreme_laws() -> None:
    # Piled against 1 (mu = 139): one sample reaches 0.9; piled at 0: never.
    assert min_samples(139.0, 0.01, 0.9, 0.01, max_n=64) == 1
    assert min_samples(-1.0, 1e-3, 0.5, 0.5, max_n=64) == 64
    assert min_samples(0.5, 1e-6, 0.6, 0.1, max_n=64, min_n=2) == 64
    assert min_samples(0.5, 1e-6, 0.4, 0.1, max_n=64, min_n=2) == 2


def test_upstream_grid_method_disagreements_are_resolution_effects(
    rng: np.random.Generator,
) -> None:
    """The 1000-point grid rule versus the exact answer on the paper's panels."""
    size = 600
    mu, sigma = rng.uniform(-1.0, 3.0, size), np.exp(rng.uniform(np.log(1e-3), np.log(2.0), size))
    target, p = rng.uniform(0.05, 0.95, size), rng.uniform(0.01, 0.99, size)
    dx = 1 / 999
    disagree = explained = 0
    for i in range(size):
        exact = int(min_samples(mu[i], sigma[i], target[i], p[i], max_n=64))
        grid = int(
            upstream_min_samples(mu[i : i + 1], sigma[i : i + 1], target[i], p[i], max_n=64)[0]
        )
        if exact == grid:
            continue
        disagree += 1
        q_grid = upstream_grid_quantiles(mu[i : i + 1], sigma[i : i + 1], p[i], max_n=64)[0]
        n = np.arange(1, 65)
        q_exact = TruncatedNormal01(mu[i], sigma[i]).max_ppf(p[i], n)
        between = (n >= min(exact, grid)) & (n <= max(exact, grid))
        near = np.abs(q_exact[between] - target[i]) <= 3 * dx
        collapsed = q_grid[between] == 0.0  # NaN sums or mass between grid points
        explained += bool(np.any(near) or np.all(collapsed) or sigma[i] < 3 * dx)
    print(f"grid rule disagrees with the exact N in {disagree}/{size} cases")
    assert explained == disagree


@settings(max_examples=200, deadline=None)
@given(
    mu=st.floats(-2.0, 5.0),
    sigma=st.floats(1e-4, 3.0),
    t1=st.floats(0.01, 0.99),
    t2=st.floats(0.01, 0.99),
    p=st.floats(0.001, 0.999),
)
def test_non_decreasing_in_target(mu: float, sigma: float, t1: float, t2: float, p: float) -> None:
    lo, hi = sorted((t1, t2))
    assert min_samples(mu, sigma, lo, p, max_n=256) <= min_samples(mu, sigma, hi, p, max_n=256)


@settings(max_examples=200, deadline=None)
@given(
    mu=st.floats(-2.0, 5.0),
    sigma=st.floats(1e-4, 3.0),
    t=st.floats(0.01, 0.99),
    p1=st.floats(0.001, 0.999),
    p2=st.floats(0.001, 0.999),
)
def test_non_decreasing_as_percentile_falls(
    mu: float, sigma: float, t: float, p1: float, p2: float
) -> None:
    lo, hi = sorted((p1, p2))
    assert min_samples(mu, sigma, t, lo, max_n=256) >= min_samples(mu, sigma, t, hi, max_n=256)


@settings(max_examples=200, deadline=None)
@given(
    mu1=st.floats(-2.0, 5.0),
    mu2=st.floats(-2.0, 5.0),
    sigma=st.floats(1e-4, 3.0),
    t=st.floats(0.01, 0.99),
    p=st.floats(0.001, 0.999),
)
def test_never_increases_as_mu_rises(
    mu1: float, mu2: float, sigma: float, t: float, p: float
) -> None:
    lo, hi = sorted((mu1, mu2))
    assert min_samples(hi, sigma, t, p, max_n=256) <= min_samples(lo, sigma, t, p, max_n=256)


@settings(max_examples=200, deadline=None)
@given(
    mu=st.floats(-50.0, 200.0),
    sigma=st.floats(1e-6, 10.0),
    t=st.floats(1e-6, 1 - 1e-6),
    p=st.floats(1e-9, 1 - 1e-9),
    max_n=st.integers(1, 512),
    min_n=st.integers(1, 512),
)
def test_always_within_bounds(
    mu: float, sigma: float, t: float, p: float, max_n: int, min_n: int
) -> None:
    min_n = min(min_n, max_n)
    n = int(min_samples(mu, sigma, t, p, max_n=max_n, min_n=min_n))
    assert min_n <= n <= max_n


def test_broadcasts() -> None:
    out = min_samples(np.array([[0.5], [0.9]]), 0.1, np.array([0.6, 0.8, 0.95]), 0.05, max_n=64)
    assert out.shape == (2, 3)
    assert out.dtype == np.int64


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"target": 0.0}, "target"),
        ({"target": 1.0}, "target"),
        ({"target": np.nan}, "target"),
        ({"percentile": 0.0}, "percentile"),
        ({"percentile": 1.2}, "percentile"),
        ({"sigma": 0.0}, "sigma"),
        ({"sigma": -0.1}, "sigma"),
        ({"mu": np.inf}, "mu"),
        ({"max_n": 2, "min_n": 3}, "max_n"),
        ({"max_n": 0}, "max_n"),
        ({"mu": np.zeros(3), "sigma": np.ones(2)}, "shapes"),
    ],
)
def test_bad_input(kwargs: dict[str, object], name: str) -> None:
    args: dict[str, object] = {"mu": 0.5, "sigma": 0.1, "target": 0.9, "percentile": 0.05}
    bounds: dict[str, object] = {"max_n": 64}
    for key, value in kwargs.items():
        (bounds if key in ("max_n", "min_n") else args)[key] = value
    with pytest.raises(ValueError, match=name):
        min_samples(**args, **bounds)  # type: ignore[arg-type]
