from __future__ import annotations

import numpy as np
import pytest
from optscale_math import TruncatedNormal01
from scipy import integrate
from scipy.stats import kstest, truncnorm

MODERATE = [(0.9, 0.05), (0.5, 0.3), (-1.0, 0.3), (3.0, 2.0), (1.2, 0.1), (0.2, 0.01)]
EXTREME = [(21.8, 0.8), (139.0, 0.01), (0.5, 1e-6), (-40.0, 0.5), (1.0 + 1e-6, 1e-6)]


def _scipy(mu: float, sigma: float):  # type: ignore[no-untyped-def]
    return truncnorm((0 - mu) / sigma, (1 - mu) / sigma, loc=mu, scale=sigma)


@pytest.mark.parametrize(("mu", "sigma"), [*MODERATE, (21.8, 0.8)])
def test_matches_scipy_truncnorm(mu: float, sigma: float) -> None:
    law, ref = TruncatedNormal01(mu, sigma), _scipy(mu, sigma)
    x = np.linspace(0.01, 0.99, 41)
    np.testing.assert_allclose(law.logpdf(x), ref.logpdf(x), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(law.cdf(x), ref.cdf(x), rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(law.sf(x), ref.sf(x), rtol=1e-8, atol=1e-300)
    q = np.linspace(0.01, 0.99, 21)
    np.testing.assert_allclose(law.ppf(q), ref.ppf(q), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("mu", "sigma"), [*MODERATE, (21.8, 0.8)])
def test_draws_follow_the_law(mu: float, sigma: float) -> None:
    draws = TruncatedNormal01(mu, sigma).rvs(4000, np.random.default_rng(7))
    assert draws.shape == (4000,)
    assert np.all((draws >= 0) & (draws <= 1))
    assert kstest(draws, _scipy(mu, sigma).cdf).pvalue > 1e-3


def test_draws_broadcast_per_row_and_stay_finite_in_the_extremes() -> None:
    mu, sigma = np.array([[e[0]] for e in EXTREME]), np.array([[e[1]] for e in EXTREME])
    draws = TruncatedNormal01(mu, sigma).rvs((len(EXTREME), 50), np.random.default_rng(1))
    assert draws.shape == (len(EXTREME), 50)
    assert np.all((draws >= 0) & (draws <= 1))
    np.testing.assert_allclose(draws[1], 1.0, atol=1e-4)  # mu = 139: mass at the upper edge
    np.testing.assert_allclose(draws[2], 0.5, atol=1e-5)  # sigma = 1e-6 around 0.5
    np.testing.assert_allclose(draws[3], 0.0, atol=0.05)  # mu = -40: mass at the lower edge


@pytest.mark.parametrize(("mu", "sigma"), MODERATE + EXTREME)
def test_stable_and_consistent_everywhere(mu: float, sigma: float) -> None:
    law = TruncatedNormal01(mu, sigma)
    x = np.linspace(0.0, 1.0, 201)
    log_cdf, log_sf = law.logcdf(x), law.logsf(x)
    assert not np.any(np.isnan(log_cdf))
    assert not np.any(np.isnan(log_sf))
    assert np.all(np.diff(log_cdf) >= 0)
    assert np.all(np.diff(log_sf) <= 0)
    # cdf + sf = 1 wherever both are representable
    total = np.exp(log_cdf) + np.exp(log_sf)
    np.testing.assert_allclose(total, 1.0, rtol=1e-12)
    q = np.array([1e-12, 1e-3, 0.25, 0.5, 0.75, 0.999])
    quantiles = law.ppf(q)
    assert np.all((quantiles >= 0) & (quantiles <= 1))
    assert np.all(np.diff(quantiles) >= 0)


@pytest.mark.parametrize(("mu", "sigma"), [(139.0, 0.01), (21.8, 0.8), (-1.0, 0.3)])
def test_tail_precision_against_closed_form(mu: float, sigma: float) -> None:
    # Far outside [0, 1] the law is an exponential of rate |b| / sigma at the near edge:
    # F(1 - t) ~ exp(-rate t) for mu > 1, with rate = (mu - 1) / sigma^2 (+ O(1/b^2)).
    law = TruncatedNormal01(mu, sigma)
    if mu > 1:
        rate = (mu - 1) / sigma**2
        t = 1.0 / rate
        expected = -t * rate - 0.5 * (t / sigma) ** 2
        assert abs(float(law.logcdf(1 - t)) - expected) < 5e-3 * abs(expected)
    else:
        np.testing.assert_allclose(law.sf(0.5), _scipy(mu, sigma).sf(0.5), rtol=1e-9)


def test_max_of_n_law(rng: np.random.Generator) -> None:
    mu, sigma = rng.uniform(-0.5, 1.5, 50), rng.uniform(0.01, 1.0, 50)
    n = rng.integers(1, 65, 50)
    law = TruncatedNormal01(mu, sigma)
    q = rng.uniform(0.01, 0.99, 50)
    x = law.max_ppf(q, n)
    np.testing.assert_allclose(law.max_cdf(x, n), q, rtol=1e-8)
    np.testing.assert_allclose(law.max_cdf(x, n), law.cdf(x) ** n, rtol=1e-10)
    gain = law.gain_of_one_more(0.8, n)
    np.testing.assert_allclose(gain, law.max_cdf(0.8, n) - law.max_cdf(0.8, n + 1), atol=1e-12)
    np.testing.assert_allclose(law.gain_of_one_more(0.8, 0), law.sf(0.8), rtol=1e-12)


@pytest.mark.parametrize(("mu", "sigma"), MODERATE)
@pytest.mark.parametrize("n", [1, 8, 64])
def test_expected_max_against_quadrature(mu: float, sigma: float, n: int) -> None:
    law = TruncatedNormal01(mu, sigma)
    centre = min(max(mu, 0.0), 1.0)
    below = integrate.quad(lambda x: float(law.max_cdf(x, n)), 0, centre, epsabs=1e-14)[0]
    above = integrate.quad(lambda x: float(law.max_cdf(x, n)), centre, 1, epsabs=1e-14)[0]
    assert float(law.expected_max(n)) == pytest.approx(1.0 - below - above, abs=1e-9)


def test_expected_max_in_the_exponential_limit() -> None:
    # mu = 139, sigma = 0.01: the mass sits within ~1/rate of 1, rate = 138 / 1e-4.
    rate = 138.0 / 1e-4
    assert float(TruncatedNormal01(139.0, 0.01).expected_max(1)) == pytest.approx(
        1 - 1 / rate, abs=1e-9
    )


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match="sigma"):
        TruncatedNormal01(0.5, 0.0)
    with pytest.raises(ValueError, match="sigma"):
        TruncatedNormal01(0.5, -1.0)
    with pytest.raises(ValueError, match="mu"):
        TruncatedNormal01(np.nan, 0.1)
    with pytest.raises(ValueError, match="shapes"):
        TruncatedNormal01(np.zeros(3), np.ones(2))
    with pytest.raises(ValueError, match="q"):
        TruncatedNormal01(0.5, 0.1).ppf(1.5)
