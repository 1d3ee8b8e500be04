from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from optscale_math import (
    OPTSCALE_GRID,
    PANELS,
    PEEKS,
    OptScalePolicy,
    best_of_first,
    fit_map,
    fit_mle,
    min_samples,
    upstream_fit,
    upstream_min_samples,
)


@dataclass(frozen=True)
class View:
    """The attributes of optscale_pools.protocol.PoolView that OptScale reads."""

    scores: np.ndarray
    empty: np.ndarray
    prior_mu: np.ndarray
    prior_sigma: np.ndarray


def make_view(rng: np.random.Generator, size: int = 40, k: int = 16) -> View:
    scores = np.clip(rng.normal(rng.uniform(0.5, 1.1, (size, 1)), 0.1, (size, k)), 0, 1)
    return View(
        scores,
        rng.random((size, k)) < 0.05,
        rng.uniform(0.4, 0.9, size),
        rng.uniform(0.05, 0.3, size),
    )


@pytest.mark.parametrize("variant", ["mle", "map"])
def test_fair_mode_is_fit_then_closed_form_then_best_of_n(
    rng: np.random.Generator, variant: str
) -> None:
    view = make_view(rng)
    policy = OptScalePolicy(variant, peek=3, max_n=16, target=0.9, percentile=0.05)
    out = policy.run(view)
    peeks = view.scores[:, :3]
    fit = fit_mle(peeks) if variant == "mle" else fit_map(peeks, view.prior_mu, view.prior_sigma)
    n = np.maximum(min_samples(fit.mu, fit.sigma, 0.9, 0.05, max_n=16), 3)
    np.testing.assert_array_equal(out.n_used, n)
    assert np.all(out.pick < out.n_used)
    assert out.extra_tokens == 0.0
    np.testing.assert_array_equal(out.pick, best_of_first(view.scores, view.empty, n))


@pytest.mark.parametrize("variant", ["mle", "map"])
def test_paper_mode_uses_upstream_numerics(rng: np.random.Generator, variant: str) -> None:
    view = make_view(rng, size=15)
    out = OptScalePolicy(variant, 5, 16, 0.95, 0.1, mode="paper").run(view)
    peeks = view.scores[:, :5]
    mu, sigma = (
        upstream_fit(peeks)
        if variant == "mle"
        else upstream_fit(peeks, view.prior_mu, view.prior_sigma)
    )
    n = np.maximum(upstream_min_samples(mu, sigma, 0.95, 0.1, max_n=16), 5)
    np.testing.assert_array_equal(out.n_used, n)


@pytest.mark.parametrize("mode", ["paper", "fair"])
def test_rows_are_decided_alone(rng: np.random.Generator, mode: str) -> None:
    # replay stacks sample orders into one call because the policy declares rows_independent
    assert OptScalePolicy.rows_independent
    view = make_view(rng, size=12)
    policy = OptScalePolicy("map", 3, 16, 0.9, 0.05, mode=mode)  # type: ignore[arg-type]
    whole = policy.run(view)
    for lo, hi in [(0, 5), (5, 12)]:
        part = View(*(np.asarray(a)[lo:hi] for a in vars(view).values()))
        alone = policy.run(part)
        np.testing.assert_array_equal(alone.n_used, whole.n_used[lo:hi])
        np.testing.assert_array_equal(alone.pick, whole.pick[lo:hi])


def test_best_of_first_upstream_empty_rule() -> None:
    scores = np.array([[0.2, 0.9, 0.8, 0.95], [0.3, 0.9, 0.0, 0.1], [0.0, 0.5, 0.5, 0.9]])
    empty = np.array(
        [[False, True, False, False], [True, True, False, False], [False, True, True, False]]
    )
    pick = best_of_first(scores, empty, np.array([3, 3, 3]))
    # row 0: 0.9 is empty -> 0.8; row 1: both non-zero ones empty, max then 0 -> keep the
    # last (empty) pick; row 2: ties go to the first index, 0.5 (empty) -> 0.5 (empty) -> stop.
    np.testing.assert_array_equal(pick, [2, 0, 2])
    assert best_of_first(np.array([[0.5, 0.5]]), np.zeros((1, 2), bool), np.array([2]))[0] == 0


def test_grid_and_constants() -> None:
    assert PEEKS == (3, 5, 10, 20)
    assert PANELS == (8, 16, 32, 64)
    cells = OptScalePolicy.grid()
    assert len(cells) == 48 == len(OPTSCALE_GRID)
    assert cells[0] == {"target": 0.7, "percentile": 0.01}
    assert len(OptScalePolicy.grid("gsm8k")) == 42
    assert OptScalePolicy.verify_order == "gold_pred"
    assert OptScalePolicy("map").name == "OptScale^t"
    assert OptScalePolicy().name == "OptScale^0"


def test_bad_arguments(rng: np.random.Generator) -> None:
    with pytest.raises(ValueError, match="variant"):
        OptScalePolicy("bayes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mode"):
        OptScalePolicy(mode="fast")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_n"):
        OptScalePolicy(peek=10, max_n=8)
    with pytest.raises(ValueError, match="percentile"):
        OptScalePolicy(percentile=0.0)
    view = make_view(rng, size=4)
    no_prior = View(view.scores, view.empty, np.full(4, np.nan), np.full(4, np.nan))
    with pytest.raises(ValueError, match="prior"):
        OptScalePolicy("map").run(no_prior)


def test_grid_quantile_table_equals_one_percentile_at_a_time(rng: np.random.Generator) -> None:
    # paper mode computes a grid row's percentiles in one pass; it must not change a single bit
    from optscale_math._upstream import upstream_grid_quantile_table, upstream_grid_quantiles

    mu, sigma = rng.uniform(-0.5, 3.0, 70), 10 ** rng.uniform(-3, 0.3, 70)
    table = upstream_grid_quantile_table(mu, sigma, (0.01, 0.05, 0.3), max_n=16)
    assert table.shape == (3, 70, 16)
    for row, p in zip(table, (0.01, 0.05, 0.3), strict=True):
        np.testing.assert_array_equal(row, upstream_grid_quantiles(mu, sigma, p, max_n=16))
