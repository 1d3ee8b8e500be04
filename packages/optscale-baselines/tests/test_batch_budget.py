"""BatchBudget's shared peek fit decides exactly as fitting the open problems afresh does."""

import dataclasses

import numpy as np
import pytest
from baselines_oracles import random_view
from hypothesis import given, settings
from hypothesis import strategies as st
from optscale_baselines import BatchBudget, bon_token_budget
from optscale_baselines._bestofn import fair_bon_pick
from optscale_baselines._budget import _peek_fit
from optscale_math import allocate_budget, fit_mle


def fresh_plan(policy, view):
    """The plan as first written: one fit of the open problems' peeks per call, no sharing."""
    peek = min(policy.peek, policy.max_n)
    empty = np.asarray(view.empty, dtype=bool)[:, :peek]
    raw = np.asarray(view.scores, dtype=np.float64)[:, :peek]
    scores = np.where(~empty & np.isfinite(raw), raw, np.nan)
    tokens = np.asarray(view.tokens, dtype=np.float64)[:, :peek]
    n_used = np.full(scores.shape[0], peek, dtype=np.int64)
    cost = np.maximum(tokens.mean(axis=1), 1.0)
    total = policy.budget if policy.budget is not None else policy.spend_like * cost.sum()
    left = float(total) - float(tokens.sum())
    order = np.argsort(np.isnan(scores), axis=1, kind="stable")
    x = np.clip(np.take_along_axis(scores, order, axis=1), 0.0, 1.0)
    some = ~np.isnan(x[:, 0])
    best = np.array([np.nanmax(row) if s else -np.inf for row, s in zip(x, some, strict=True)])
    open_ = some & (best < policy.target)
    if left <= 0 or not open_.any() or peek == policy.max_n:
        return n_used
    fit = fit_mle(x[open_])
    extra = allocate_budget(
        fit.mu, fit.sigma, policy.target, cost[open_], left, max_n=policy.max_n - peek
    )
    n_used[open_] += extra
    return n_used


def fresh_decisions(policy, view):
    """(n_used, pick) of the fresh plan: the best usable sample among those paid for."""
    n_used = fresh_plan(policy, view)
    scores = np.asarray(view.scores, dtype=np.float64)[:, : policy.max_n]
    empty = np.asarray(view.empty, dtype=bool)[:, : policy.max_n]
    unpaid = np.arange(scores.shape[1]) >= n_used[:, None]
    return n_used, fair_bon_pick(np.where(unpaid, np.nan, scores), empty | unpaid)


def hostile_view(rng, problems, k):
    """A random view with beta scores, NaN and infinite scores, empties and empty rows."""
    view = random_view(rng, problems, k)
    scores = np.clip(rng.beta(4, 2, (problems, k)), 0, 1)
    scores = np.where(rng.random((problems, k)) < 0.2, np.round(scores, 1), scores)
    scores[rng.random((problems, k)) < 0.1] = np.nan
    scores[rng.random((problems, k)) < 0.03] = np.inf
    empty = view.empty | (rng.random((problems, k)) < 0.1)
    empty[rng.random(problems) < 0.1] = True
    return dataclasses.replace(view, scores=scores, empty=empty)


def assert_same(policy, view):
    n_used, pick = fresh_decisions(policy, view)
    got = policy.run(view)
    np.testing.assert_array_equal(got.n_used, n_used)
    np.testing.assert_array_equal(got.pick, pick)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_setting_and_budget_decides_as_a_fresh_fit(seed):
    rng = np.random.default_rng(seed)
    view = hostile_view(rng, 29, 16)
    _peek_fit.cache_clear()
    for max_n in (1, 3, 8, 16):
        for cell in BatchBudget.grid():
            # bon_n below max_n: the budget runs out before every open problem reaches max_n.
            for bon_n in sorted({1, 2, max(1, max_n // 3), max_n}):
                assert_same(BatchBudget(bon_n=bon_n, max_n=max_n, **cell), view)
        for budget in (0.0, bon_token_budget(view, 2), bon_token_budget(view, max_n)):
            assert_same(BatchBudget(budget, peek=2, target=0.9, max_n=max_n), view)
    # Settings of one peek share its fit: one miss per peek length (1, 2 and 4) at most.
    assert _peek_fit.cache_info().misses <= 3


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 6),
    st.integers(1, 8),
    st.sampled_from(BatchBudget.grid()),
)
def test_small_pools_decide_as_a_fresh_fit(seed, problems, k, cell):
    view = hostile_view(np.random.default_rng(seed), problems, k)
    for max_n in range(1, k + 1):
        for bon_n in sorted({1, max(1, max_n // 2), max_n}):
            assert_same(BatchBudget(bon_n=bon_n, max_n=max_n, **cell), view)
