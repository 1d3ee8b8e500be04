"""Table replays decide exactly as the stepped replay: one core fed column by column, rows
stopped as they decide (the live form's driver), which is the reference here."""

import dataclasses

import numpy as np
from baselines_oracles import random_view
from hypothesis import given, settings
from hypothesis import strategies as st
from optscale_baselines import AgreementHybrid, SequentialOptScale, flip_probability
from optscale_baselines._hybrid import cast_votes
from optscale_baselines._live import replay_core, replay_inputs
from optscale_baselines._tally import Tally
from scipy.special import ndtr


def hostile_view(seed, problems, k):
    """A random pool with many answers, unusable and huge scores, no-answers and empties."""
    rng = np.random.default_rng(seed)
    view = random_view(rng, problems, k)
    many = rng.random((problems, k)) < 0.3
    ids = np.where(
        many & (view.answer_ids >= 0), rng.integers(0, 40, (problems, k)), view.answer_ids
    )
    scores = view.scores.copy()
    scores[rng.random((problems, k)) < 0.1] = np.nan
    scores[rng.random((problems, k)) < 0.03] = np.inf
    scores[rng.random((problems, k)) < 0.03] = 1e200
    scores[rng.random((problems, k)) < 0.03] = -0.5
    scores[0] = np.nan  # a problem without any usable score
    has_prior = rng.random(problems) < 0.5
    return dataclasses.replace(
        view,
        answer_ids=ids,
        scores=scores,
        prior_mu=np.where(has_prior, view.prior_mu, np.nan),
        prior_sigma=np.where(has_prior, view.prior_sigma, np.nan),
    )


def same(a, b):
    return np.array_equal(a.n_used, b.n_used) and np.array_equal(a.pick, b.pick)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), problems=st.integers(1, 12), k=st.integers(1, 20))
def test_hybrid_table_replay_equals_stepped_replay(seed, problems, k):
    view = hostile_view(seed, problems, k)
    extra = [{"min_n": 1, "alpha": 0.0, "delta": 0.5}, {"min_n": 30, "alpha": 3, "delta": 0.2}]
    for max_n in sorted({1, max(1, k // 2), k}):
        for setting in AgreementHybrid.grid() + extra:
            policy = AgreementHybrid(max_n=max_n, **setting)
            assert same(policy.run(view), replay_core(policy, view)), (setting, max_n)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), problems=st.integers(1, 6), k=st.integers(1, 9))
def test_sequential_table_replay_equals_stepped_replay_with_direct_fits(seed, problems, k):
    view = hostile_view(seed, problems, k)
    grid = [*SequentialOptScale.grid()[::5], {"peek": 1, "wave": 3, "epsilon": 0.01, "delta": 0.3}]
    for max_n in sorted({1, max(1, k // 2), k}):
        for fit in ("mle", "map"):
            for setting in grid:
                policy = SequentialOptScale(max_n=max_n, fit=fit, **setting)
                assert same(policy.run(view), replay_core(policy, view)), (setting, fit, max_n)


def reference_flip(tally, rows, seen, remaining, alpha):
    """The flip bound evaluated for every cluster slot, then masked to the rivals."""
    lead = tally.leader[rows]
    voted = lead >= 0
    safe = np.where(voted, lead, 0)
    weight, count, square = (x[rows] for x in (tally.weight, tally.count, tally.square))
    at = (np.arange(rows.size), safe)
    w_l, q_l = weight[at], square[at]
    conc = seen + alpha
    rivals = (count > 0) & (np.arange(weight.shape[1]) != safe[:, None])

    def overtake(d, mu, second):
        var = np.maximum(second - mu * mu, 0.0)
        drift = d + remaining * mu
        with np.errstate(invalid="ignore", divide="ignore"):
            z = drift / np.sqrt(remaining * var * (conc + remaining) / (conc + 1.0))
        certain = (drift <= 0).astype(np.float64)
        return np.where(remaining > 0, np.where(var > 0, ndtr(-z), certain), 0.0)

    gap = w_l[:, None] - weight
    each = overtake(gap, gap / conc, (q_l[:, None] + square) / conc)
    total = np.where(rivals, each, 0.0).sum(axis=1)
    if alpha > 0:
        votes = np.maximum(tally.votes[rows], 1.0)
        new_w = alpha * tally.total[rows] / votes
        new_q = alpha * square.sum(axis=1) / votes
        total += overtake(w_l, (w_l - new_w) / conc, (q_l + new_q) / conc)
    return np.where(voted, np.minimum(total, 1.0), 1.0)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), alpha=st.sampled_from([0.0, 0.5, 2.0]))
def test_flip_probability_equals_full_width_evaluation_bit_for_bit(seed, alpha):
    view = hostile_view(seed, 40, 24)
    scores, labels = replay_inputs(view, 24)
    tally = Tally(40, 24)
    rows = np.arange(40)
    for k in range(24):
        cast_votes(tally, rows, scores[:, k], labels[:, k])
        subset = rows[np.random.default_rng(seed + k).random(40) < 0.6]
        got = flip_probability(tally, subset, k + 1, 24 - k - 1, alpha)
        np.testing.assert_array_equal(got, reference_flip(tally, subset, k + 1, 24 - k - 1, alpha))
