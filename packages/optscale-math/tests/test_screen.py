"""The moment test that lets `fit_mle` skip the search on rows without a finite optimum."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optscale_math import RIDGE_SIGMA, FitStatus, TruncatedNormal01, fit_mle, neg_log_likelihood
from optscale_math._estimate import _fit_rows, score_rows
from optscale_math._screen import exponential_moments, no_finite_optimum
from scipy import integrate, optimize


@pytest.mark.parametrize("lam", [-300.0, -7.0, -0.5, -1e-3, 0.0, 2e-3, 0.009, 0.3, 12.0, 900.0])
def test_exponential_moments_match_quadrature(lam: float) -> None:
    def weight(x: float) -> float:  # scaled so that it never overflows
        return float(np.exp(lam * (x - (1.0 if lam > 0 else 0.0))))

    mass = integrate.quad(weight, 0, 1, points=[0.0, 1.0], epsabs=0, epsrel=1e-13)[0]
    mean = integrate.quad(lambda x: x * weight(x), 0, 1, epsabs=0, epsrel=1e-13)[0] / mass
    second = integrate.quad(lambda x: x * x * weight(x), 0, 1, epsabs=0, epsrel=1e-13)[0] / mass
    got_mean, got_var = exponential_moments(np.array([lam]))
    assert got_mean[0] == pytest.approx(mean, rel=1e-9, abs=1e-12)
    assert got_var[0] == pytest.approx(second - mean * mean, rel=1e-6, abs=1e-13)


def _rows(rng: np.random.Generator) -> np.ndarray:
    """Rows of every kind: bell-shaped, piled at 1, flat, U-shaped, with padding."""
    size, width = 400, 12
    mu, sigma = rng.uniform(-0.5, 2.0, size), rng.uniform(0.01, 0.6, size)
    bell = TruncatedNormal01(mu[:, None], sigma[:, None]).rvs((size, width), rng)
    piled = 1.0 - rng.exponential(rng.uniform(0.005, 0.2, (size, 1)), (size, width)).clip(0, 1)
    u_shaped = rng.beta(0.4, 0.4, (size, width))
    flat = rng.uniform(0, 1, (size, width))
    x = np.concatenate([bell, piled, u_shaped, flat])
    k = rng.integers(2, width + 1, x.shape[0])
    x[np.arange(width)[None, :] >= np.asarray(k)[:, None]] = np.nan
    return x


def test_screened_rows_have_no_finite_optimum(rng: np.random.Generator) -> None:
    # Along the path sigma -> inf (best mu at each sigma) the objective keeps falling.
    x = _rows(rng)
    flagged = np.nonzero(no_finite_optimum(score_rows(x)))[0]
    assert flagged.size > 100
    for row in flagged[:: max(1, flagged.size // 25)]:
        path, one = [], x[row : row + 1]
        for sigma in (1.0, 10.0, 100.0):
            best = optimize.minimize_scalar(
                lambda m, sg=sigma, one=one: neg_log_likelihood(one, m, sg)[0],
                bracket=(-10 * sigma**2, 10 * sigma**2),
                tol=1e-12,
            )
            path.append(best.fun)
        assert path[0] > path[1] > path[2] - 1e-9, (row, path)


def test_fits_unchanged_by_the_screen(rng: np.random.Generator) -> None:
    x = _rows(rng)
    rows = score_rows(x)
    new, old = fit_mle(x), _fit_rows(rows, screen=False)
    flagged = no_finite_optimum(rows)
    # Rows with an optimum: the same answer as searching every row.
    np.testing.assert_array_equal(new.status[~flagged], old.status[~flagged])
    np.testing.assert_allclose(new.mu[~flagged], old.mu[~flagged], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(new.sigma[~flagged], old.sigma[~flagged], rtol=1e-9)
    # Rows without: the ridge answer; the search gave it too, or ran past sigma = RIDGE_SIGMA
    # along the same path to a point no better than it by more than rounding of a flat tail.
    assert np.all(new.status[flagged] == FitStatus.UNBOUNDED)
    np.testing.assert_allclose(new.sigma[flagged], RIDGE_SIGMA)
    same = old.status[flagged] == FitStatus.UNBOUNDED
    np.testing.assert_allclose(new.mu[flagged][same], old.mu[flagged][same], rtol=1e-9)
    assert np.all(old.sigma[flagged][~same] > RIDGE_SIGMA)
    ours = neg_log_likelihood(x[flagged], new.mu[flagged], new.sigma[flagged])
    theirs = neg_log_likelihood(x[flagged], old.mu[flagged], old.sigma[flagged])
    assert np.all(ours <= theirs + 1e-3)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20),
    st.integers(0, 40),
)
def test_row_statistics_do_not_depend_on_padding(scores: list[float], pad: int) -> None:
    # Prefix fits of different widths (live rule: max_n; replay: the view's K) must agree.
    row = np.array([scores])
    padded = np.concatenate([row, np.full((1, pad), np.nan)], axis=1)
    a, b = score_rows(row), score_rows(padded)
    assert (a.k, a.mean, a.css) == (b.k, b.mean, b.css)
