"""Hostile input for every public function: a correct result or a ValueError naming the argument.

Numbers at the float limits, NaN, infinities, empty and oversized shapes. The limits have exact
oracles: sigma -> 0 is a point mass at clip(mu, 0, 1), sigma -> inf the uniform law on [0, 1],
|mu| -> inf a point mass at the nearer end.
"""

from __future__ import annotations

import math
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from optscale_math import (
    Allocator,
    OptScalePolicy,
    TruncatedNormal01,
    allocate_budget,
    fit_map,
    fit_mle,
    min_samples,
    neg_log_likelihood,
    upstream_fit,
    upstream_grid_quantiles,
    upstream_min_samples,
)

TINY, HUGE = 5e-324, float(np.finfo(np.float64).max)
any_mu = st.floats(-HUGE, HUGE)
any_sigma = st.floats(TINY, HUGE)
unit_open = st.floats(1e-12, 1 - 1e-12)


def _uniform_n(target: float, p: float, max_n: int) -> int:
    """Smallest N with target^N <= p (uniform law), by trying each N."""
    return next((n for n in range(1, max_n + 1) if n * math.log(target) <= math.log(p)), max_n)


@pytest.mark.parametrize("sigma", [1e100, 1e200, 1e300, HUGE])
@pytest.mark.parametrize("mu", [0.0, 0.5, 1.0, -3.0, 40.0])
@pytest.mark.parametrize(("target", "p"), [(0.9, 0.05), (0.3, 0.5), (0.99, 0.01)])
def test_huge_sigma_is_the_uniform_law(mu: float, sigma: float, target: float, p: float) -> None:
    assert min_samples(mu, sigma, target, p, max_n=512) == _uniform_n(target, p, 512)
    law = TruncatedNormal01(mu, sigma)
    x = np.array([0.0, 1e-300, 0.25, target, 1 - 1e-9, 1.0])
    np.testing.assert_allclose(law.cdf(x), x, rtol=1e-12, atol=0)
    np.testing.assert_allclose(law.sf(x), 1 - x, rtol=1e-6, atol=0)
    np.testing.assert_allclose(law.pdf(x), 1.0, rtol=1e-12)
    np.testing.assert_allclose(law.ppf([1e-200, 0.3, 0.999]), [1e-200, 0.3, 0.999], rtol=1e-12)


@pytest.mark.parametrize("sigma", [TINY, 1e-300, 1e-200, 1e-30])
@pytest.mark.parametrize("mu", [0.25, 0.5, 0.75, -0.1, 1.1, 0.9])
def test_tiny_sigma_is_a_point_mass_at_the_clipped_mu(mu: float, sigma: float) -> None:
    point = min(max(mu, 0.0), 1.0)
    for target in (0.1, 0.6, 0.95):
        expected = 2 if point > target else 64
        assert min_samples(mu, sigma, target, 0.05, max_n=64, min_n=2) == expected
    law = TruncatedNormal01(mu, sigma)
    assert law.cdf(point - 1e-3) == 0.0
    assert law.cdf(min(point + 1e-3, 1.0)) == 1.0
    assert law.ppf(0.3) == pytest.approx(point, abs=1e-12)
    assert law.expected_max(8) == pytest.approx(point, abs=1e-12)


@pytest.mark.parametrize("mu", [1e300, HUGE, 1e20, -1e300, -HUGE, -1e20])
@pytest.mark.parametrize("sigma", [1e-6, 0.1, 3.0, 1e5])
def test_huge_mu_is_a_point_mass_at_the_nearer_end(mu: float, sigma: float) -> None:
    reaches = mu > 0
    for target in (0.01, 0.5, 0.999):
        assert min_samples(mu, sigma, target, 0.05, max_n=64) == (1 if reaches else 64)
    law = TruncatedNormal01(mu, sigma)
    end = 1.0 if reaches else 0.0
    assert law.cdf(0.5) == (0.0 if reaches else 1.0)
    assert law.ppf(0.5) == pytest.approx(end, abs=1e-9)
    assert np.isfinite(law.logpdf(end))


@pytest.mark.parametrize(("mu", "sigma"), [(1e300, 0.1), (HUGE, 1e-300), (1e120, 1e10)])
def test_density_at_the_end_of_a_piled_law_is_its_exponential_rate(mu: float, sigma: float) -> None:
    # Against 1 the law is exp(-rate (1 - x)) with rate (mu - 1) / sigma^2: density rate at 1.
    log_rate = math.log(mu) - 2 * math.log(sigma)
    assert TruncatedNormal01(mu, sigma).logpdf(1.0) == pytest.approx(log_rate, rel=1e-12)
    assert TruncatedNormal01(1.0 - mu, sigma).logpdf(0.0) == pytest.approx(log_rate, rel=1e-12)


def test_a_law_at_the_tipping_point_is_the_exponential_law() -> None:
    # mu / sigma^2 = 2 with mu = 2e12: the density is proportional to exp(2x) on [0, 1].
    sigma = 1e6
    law = TruncatedNormal01(2.0 * sigma**2, sigma)
    x = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(law.cdf(x), np.expm1(2 * x) / np.expm1(2.0), rtol=1e-9)


@settings(max_examples=300, deadline=None)
@given(mu=any_mu, sigma=any_sigma, target=unit_open, p=unit_open, max_n=st.integers(1, 2**20))
def test_min_samples_always_lands_in_its_bounds(
    mu: float, sigma: float, target: float, p: float, max_n: int
) -> None:
    n = int(min_samples(mu, sigma, target, p, max_n=max_n))
    assert 1 <= n <= max_n


ULPS = 4 * np.finfo(np.float64).eps
"""Rounding allowed between two evaluations of one function at equal arguments."""


@settings(max_examples=200, deadline=None)
@example(mu=0.0, sigma=1.0, xs=[0.0, 0.38671875, 0.38671875])
@given(mu=any_mu, sigma=any_sigma, xs=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=6))
def test_cdf_is_a_cdf_at_any_parameters(mu: float, sigma: float, xs: list[float]) -> None:
    law = TruncatedNormal01(mu, sigma)
    x = np.sort(np.array(xs))
    cdf, sf = law.cdf(x), law.sf(x)
    assert np.all((cdf >= 0) & (cdf <= 1) & (sf >= 0) & (sf <= 1))
    # Non-decreasing up to rounding: numpy's vectorised log/exp may round one array position a
    # unit in the last place apart from another holding the same x (seen: mu=0, sigma=1, x=0.387).
    assert np.all(np.diff(cdf) >= -ULPS)
    np.testing.assert_allclose(cdf + sf, 1.0, atol=1e-9)
    q = law.ppf(x)
    assert np.all((q >= 0) & (q <= 1))
    assert np.all(np.diff(q) >= -ULPS)
    assert np.all(np.isfinite(law.expected_max(np.array([1.0, 4.0]))))


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: min_samples(np.nan, 0.1, 0.9, 0.05, max_n=8), "mu"),
        (lambda: min_samples(0.5, np.inf, 0.9, 0.05, max_n=8), "sigma"),
        (lambda: min_samples(0.5, -TINY, 0.9, 0.05, max_n=8), "sigma"),
        (lambda: min_samples(0.5, 0.1, np.nan, 0.05, max_n=8), "target"),
        (lambda: min_samples(0.5, 0.1, 0.9, 0.05, max_n=2**70), "max_n"),
        (lambda: min_samples(0.5, 0.1, 0.9, 0.05, max_n=8.0), "max_n"),
        (lambda: min_samples("x", 0.1, 0.9, 0.05, max_n=8), "mu"),
        (lambda: TruncatedNormal01(0.5, 0.1).cdf(np.nan), "x"),
        (lambda: TruncatedNormal01(0.5, 0.1).ppf(np.nan), "q"),
        (lambda: TruncatedNormal01(-np.inf, 0.1), "mu"),
        (lambda: allocate_budget([0.5], [0.1], 0.9, 1.0, np.inf), "budget"),
        (lambda: allocate_budget([0.5], [0.1], 0.9, np.nan, 1.0), "cost_per_sample"),
        (lambda: allocate_budget([0.5], [0.1], 0.9, TINY, 1e300), "max_n"),
        (lambda: fit_mle([[0.5, 1e400]]), "scores"),
        (lambda: fit_mle([[np.inf, 0.5]]), "scores"),
        (lambda: fit_mle(np.zeros((2, 0))), "scores"),
        (lambda: fit_map([[0.5, 0.6]], np.nan, 0.1), "prior_mu"),
        (lambda: fit_map([[0.5, 0.6]], 0.5, 0.1, prior_sigma_std=0.0), "prior_sigma_std"),
        (lambda: neg_log_likelihood([[0.5, 0.6]], 0.5, -1.0), "sigma"),
        (lambda: upstream_min_samples([np.nan], [0.1], 0.9, 0.05, max_n=64), "mu"),
        (lambda: upstream_min_samples([0.5], [0.0], 0.9, 0.05, max_n=64), "sigma"),
        (lambda: upstream_grid_quantiles([0.5], [np.inf], 0.05, max_n=8), "sigma"),
        (lambda: upstream_fit([[0.5, 0.6]], [np.nan], [0.1]), "prior_mu"),
        (lambda: Allocator(0.9, 0.05, peek=3, max_n=8, prior_mu=np.inf, prior_sigma=0.1), "prior"),
    ],
)
def test_invalid_input_names_the_argument(call: object, name: str) -> None:
    assert callable(call)
    with pytest.raises(ValueError, match=name):
        call()


def test_allocator_refuses_more_scores_than_max_n() -> None:
    alloc = Allocator(0.9, 0.05, peek=3, max_n=4)
    for score in (0.1, 0.2, 0.3, 0.4):
        alloc.observe(score)
    with pytest.raises(ValueError, match="max_n"):
        alloc.observe(0.5)
    assert alloc.n_observed == 4


def test_empty_batches_give_empty_answers() -> None:
    assert min_samples(np.zeros(0), 0.1, 0.9, 0.05, max_n=8).shape == (0,)
    assert allocate_budget(np.zeros(0), np.zeros(0) + 0.1, 0.9, 1.0, 10.0).shape == (0,)
    assert fit_mle(np.zeros((0, 3))).mu.shape == (0,)


def test_cached_fits_cannot_be_changed_by_a_caller(rng: np.random.Generator) -> None:
    scores = rng.uniform(0.3, 1.0, (6, 8))
    view = SimpleNamespace(scores=scores, empty=np.zeros(scores.shape, dtype=bool))
    for mode in ("fair", "paper"):
        policy = OptScalePolicy(peek=3, max_n=8, mode=mode)
        before = policy.plan(view).copy()
        mu, _ = policy.fits(view)
        with pytest.raises(ValueError, match="read-only"):
            mu[:] = 5.0
        np.testing.assert_array_equal(policy.plan(view), before)


def test_import_does_not_load_scipy_stats() -> None:
    code = "import sys, optscale_math; print('scipy.stats' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "False"
