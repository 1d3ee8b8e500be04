from __future__ import annotations

import numpy as np
import pytest
import upstream_as_written as as_written
from optscale_math import (
    RIDGE_SIGMA,
    SIGMA_FLOOR,
    FitStatus,
    TruncatedNormal01,
    fit_map,
    fit_mle,
    neg_log_likelihood,
    upstream_fit,
)


def draw(rng: np.random.Generator, size: int, k: int) -> np.ndarray:
    """Scores from truncated normals; 30% of rows piled up against 1 (as real PRM scores are)."""
    mu, sigma = rng.uniform(-0.5, 2.0, size), rng.uniform(0.01, 0.5, size)
    pile = rng.random(size) < 0.3
    mu[pile], sigma[pile] = rng.uniform(1.0, 3.0, pile.sum()), rng.uniform(0.005, 0.1, pile.sum())
    return TruncatedNormal01(mu[:, None], sigma[:, None]).rvs((size, k), rng)


@pytest.mark.parametrize("k", [3, 5, 10, 20])
@pytest.mark.parametrize("variant", ["mle", "map"])
def test_at_least_as_good_as_per_row_lbfgsb(rng: np.random.Generator, k: int, variant: str) -> None:
    size = 150  # per (k, variant); the benchmark runs 10,000
    x = draw(rng, size, k)
    pm, ps = rng.uniform(0.3, 1.0, size), rng.uniform(0.02, 0.3, size)
    if variant == "mle":
        fit, ref, prior = fit_mle(x), upstream_fit(x), None
    else:
        fit, ref, prior = fit_map(x, pm, ps), upstream_fit(x, pm, ps), (pm, ps)
    assert np.all(np.isfinite(fit.mu))
    assert np.all(np.isfinite(fit.sigma))
    assert np.all(fit.sigma >= SIGMA_FLOOR)
    ours = neg_log_likelihood(x, fit.mu, fit.sigma, prior)
    theirs = neg_log_likelihood(x, ref[0], np.maximum(ref[1], SIGMA_FLOOR), prior)
    assert np.all(np.isfinite(ours))
    assert np.sum(ours > theirs + 1e-6) <= 1  # the bench checks >= 99.9% on 10,000 rows


def test_degenerate_rows_get_the_documented_answer() -> None:
    x = np.array([[0.7, 0.7, 0.7], [1.0, 1.0, 1.0], [0.4, np.nan, np.nan], [0.0, 0.0, np.nan]])
    fit = fit_mle(x)
    np.testing.assert_array_equal(fit.status, FitStatus.DEGENERATE)
    np.testing.assert_allclose(fit.mu, [0.7, 1.0, 0.4, 0.0])
    np.testing.assert_allclose(fit.sigma, SIGMA_FLOOR)
    # For a score inside (0, 1) that answer is the optimum under the bound sigma >= 1e-6.
    ref = upstream_fit(x[:1])
    assert neg_log_likelihood(x[:1], fit.mu[:1], fit.sigma[:1])[0] <= (
        neg_log_likelihood(x[:1], ref[0], np.maximum(ref[1], SIGMA_FLOOR))[0] + 1e-9
    )
    mapped = fit_map(x, 0.5, 0.2)
    assert np.all(np.isfinite(mapped.mu))
    assert np.all(np.isfinite(mapped.sigma))


def test_scores_piled_at_one_run_off_but_stay_finite(rng: np.random.Generator) -> None:
    # Scores a hair below 1: many rows have no finite MLE (the histogram keeps rising to 1).
    x = 1.0 - rng.exponential(0.01, size=(50, 10)).clip(0, 1)
    fit = fit_mle(x)
    unbounded = fit.status == FitStatus.UNBOUNDED
    assert np.all((fit.status == FitStatus.OK) | unbounded)
    assert unbounded.sum() >= 5
    np.testing.assert_allclose(fit.sigma[unbounded], RIDGE_SIGMA)
    assert np.all(fit.mu[unbounded] > 1)
    assert np.all(np.isfinite(fit.mu))
    ref = upstream_fit(x)
    ours = neg_log_likelihood(x, fit.mu, fit.sigma)
    assert np.all(ours <= neg_log_likelihood(x, ref[0], np.maximum(ref[1], SIGMA_FLOOR)) + 1e-6)


def test_padding_is_ignored(rng: np.random.Generator) -> None:
    x = draw(rng, 30, 5)
    padded = np.concatenate([x, np.full((30, 3), np.nan)], axis=1)
    for fit in (fit_mle, lambda s: fit_map(s, 0.8, 0.1)):
        a, b = fit(x), fit(padded)
        np.testing.assert_allclose(a.mu, b.mu, rtol=1e-7)
        np.testing.assert_allclose(a.sigma, b.sigma, rtol=1e-7)


def test_each_row_fits_as_it_would_alone(rng: np.random.Generator) -> None:
    # Callers fit a batch once and keep some of its rows: a row's fit must not depend on which
    # rows come with it, bit for bit, whether it settles, runs off, is degenerate or padded.
    x = draw(rng, 24, 4)
    x[:4] = 1.0 - rng.exponential(0.01, size=(4, 4)).clip(0, 1)  # some run off
    x[4:8] = np.round(x[4:8, :1], 1)  # equal scores
    x[8:12, 2:] = np.nan
    fit = fit_mle(x)
    assert {FitStatus.UNBOUNDED, FitStatus.DEGENERATE, FitStatus.OK} <= set(fit.status.tolist())
    alone = [fit_mle(x[p : p + 1]) for p in range(x.shape[0])]
    np.testing.assert_array_equal(fit.mu, [f.mu[0] for f in alone])
    np.testing.assert_array_equal(fit.sigma, [f.sigma[0] for f in alone])
    np.testing.assert_array_equal(fit.status, [f.status[0] for f in alone])
    keep = rng.random(x.shape[0]) < 0.5
    part = fit_mle(x[keep])
    np.testing.assert_array_equal(part.mu, fit.mu[keep])
    np.testing.assert_array_equal(part.sigma, fit.sigma[keep])


def test_negative_prior_sigma_is_allowed() -> None:
    # Published predictor priors have sigma < 0 at times: it pulls sigma to the floor.
    fit = fit_map(np.array([[0.9, 0.95, 0.97]]), 0.7, -0.05)
    assert np.isfinite(fit.mu[0])
    assert fit.sigma[0] >= SIGMA_FLOOR


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        (np.array([[0.5, np.nan, 0.6]]), "NaN before a score in row 0"),
        (np.array([[0.5, 0.6], [np.nan, np.nan]]), "row 1 has no score"),
        (np.array([[0.5, 1.2]]), r"\[0, 1\]"),
        (np.array([0.5, 0.6]), "2-D"),
        (np.zeros((2, 0)), "2-D"),
    ],
)
def test_bad_scores(scores: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fit_mle(scores)
    with pytest.raises(ValueError, match=message):
        fit_map(scores, 0.5, 0.1)


def test_bad_priors() -> None:
    x = np.full((3, 2), 0.5)
    with pytest.raises(ValueError, match="prior_mu"):
        fit_map(x, np.zeros(2), 0.1)
    with pytest.raises(ValueError, match="prior_mu"):
        fit_map(x, np.nan, 0.1)
    with pytest.raises(ValueError, match="prior_sigma_std"):
        fit_map(x, 0.5, 0.1, prior_sigma_std=0.0)


def test_upstream_objectives_equal_the_scipy_stats_form_bit_for_bit(
    rng: np.random.Generator,
) -> None:
    # paper mode evaluates upstream's objective through special.ndtr and the logpdf expression
    # that scipy.stats.norm evaluates inside; any drift would move L-BFGS-B off upstream's path
    from optscale_math._upstream import upstream_neg_log_posterior, upstream_nll

    for _ in range(300):
        data = np.clip(rng.normal(rng.uniform(0, 1.2), rng.uniform(0.01, 0.3), 5), 0, 1)
        params = np.array([rng.uniform(-2, 25), 10 ** rng.uniform(-6, 0.5)])
        prior = rng.uniform(0, 1), rng.uniform(0.01, 0.5)
        expected = as_written.nll(params, data)
        assert upstream_nll(params, data) == expected  # inf == inf where the mass underflows
        expected_map = as_written.neg_log_posterior(params, data, *prior)
        assert upstream_neg_log_posterior(params, data, *prior) == expected_map


def test_upstream_fit_follows_the_original_path(rng: np.random.Generator) -> None:
    x = draw(rng, 40, 5)
    pm, ps = rng.uniform(0.3, 1.0, 40), rng.uniform(0.02, 0.3, 40)
    for prior in [(None, None), (pm, ps)]:
        ours = upstream_fit(x, *prior) if prior[0] is not None else upstream_fit(x)
        np.testing.assert_array_equal(np.stack(ours), np.stack(as_written.fit(x, *prior)))
