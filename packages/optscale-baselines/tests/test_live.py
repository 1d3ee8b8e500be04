import math

import numpy as np
import pytest
from baselines_oracles import random_view
from optscale_baselines import (
    BestOfN,
    LiveRule,
    SelfConsistency,
    improvement_probability,
    make_live_rule,
    overtake_probability,
)
from optscale_math import OptScalePolicy, TruncatedNormal01

METHODS = [
    "bon",
    "sc",
    "optscale",
    "threshold",
    "sequential",
    "deepconf",
    "deepconf-offline",
    "hybrid",
]


def drive(rule, scores, ids):
    """Feed samples until the rule stops; return (n_seen, choice)."""
    while not rule.stop:
        rule.observe(scores[rule.n_seen], ids[rule.n_seen])
    return rule.n_seen, rule.choice()


@pytest.mark.parametrize("method", METHODS)
def test_factory_makes_live_rules_that_stop_within_max_n(method):
    rng = np.random.default_rng(0)
    for _ in range(5):
        scores, ids = rng.random(8), rng.integers(-1, 3, 8)
        rule = make_live_rule(method, 8)
        assert isinstance(rule, LiveRule)
        assert (rule.n_seen, rule.choice(), rule.stop) == (0, -1, False)
        n, choice = drive(rule, scores, ids)
        assert 1 <= n <= 8
        assert -1 <= choice < n
        with pytest.raises(RuntimeError, match="stopped after"):
            rule.observe(0.5, 0)


def test_fixed_live_rules_equal_the_fair_replays():
    rng = np.random.default_rng(1)
    view = random_view(rng, 50, 8)
    bon = BestOfN(8, "fair").run(view)
    sc = SelfConsistency(8, "fair").run(view)
    for p in range(50):
        scores = np.where(view.empty[p], np.nan, view.scores[p])
        for method, expected in (("bon", bon), ("sc", sc)):
            rule = make_live_rule(method, 8)
            assert rule.planned_n == 8
            assert drive(rule, scores, view.answer_ids[p]) == (8, expected.pick[p])


def test_optscale_live_rule_follows_the_allocator_plan():
    rng = np.random.default_rng(2)
    scores = np.clip(rng.beta(5, 2, (40, 16)), 0, 1)
    view = random_view(rng, 40, 16)
    view = type(view)(**{**view.__dict__, "scores": scores, "empty": np.zeros((40, 16), bool)})
    policy = OptScalePolicy("mle", peek=3, max_n=16, target=0.9, percentile=0.1)
    d = policy.run(view)
    for p in range(40):
        rule = make_live_rule("optscale", 16, target=0.9, percentile=0.1, peek=3)
        assert drive(rule, scores[p], view.answer_ids[p]) == (d.n_used[p], d.pick[p])
        assert rule.planned_n == d.n_used[p]


@pytest.mark.parametrize(
    ("method", "settings", "message"),
    [
        ("majority", {}, "unknown method 'majority'"),
        ("bon", {"tau": 0.5}, "method 'bon'"),
        ("threshold", {"level": 0.5}, "method 'threshold'"),
        ("hybrid", {"delta": 2.0}, "delta must lie in"),
    ],
)
def test_factory_rejects_unknown_methods_and_settings(method, settings, message):
    with pytest.raises(ValueError, match=message):
        make_live_rule(method, 8, **settings)


def test_sequential_live_rule_takes_a_prior():
    # Tightly bunched low scores: alone they promise nothing better; a prior of wide, high
    # scores keeps the rule sampling.
    scores = [0.3, 0.32, 0.35, 0.3, 0.31, 0.33, 0.3, 0.32]
    plain = make_live_rule("sequential", 8, delta=0.2)
    hopeful = make_live_rule("sequential", 8, delta=0.2, fit="map", prior_mu=0.9, prior_sigma=0.5)
    assert drive(plain, scores, [0] * 8)[0] < drive(hopeful, scores, [0] * 8)[0]


@pytest.mark.parametrize(
    ("mu", "sigma", "best", "eps", "m"),
    [(0.7, 0.1, 0.85, 0.0, 5), (0.5, 0.3, 0.9, 0.02, 20), (1.2, 0.2, 0.97, 0.01, 3)],
)
def test_improvement_probability_matches_monte_carlo(mu, sigma, best, eps, m):
    rng = np.random.default_rng(3)
    law = TruncatedNormal01(mu, sigma)
    draws = law.rvs((200_000, m), rng)
    simulated = float((draws.max(axis=1) > best + eps).mean())
    closed = float(improvement_probability(mu, sigma, best, eps, m))
    assert abs(closed - simulated) < 4 * math.sqrt(closed * (1 - closed) / 200_000) + 1e-3
    assert float(improvement_probability(mu, sigma, 1.0, 0.0, m)) == 0.0
    assert float(improvement_probability(mu, sigma, best, eps, 0)) == 0.0


def polya_overtake(lead, rival, others, alpha, m, rng, runs=20_000):
    """Monte Carlo of the hybrid's model: does ``rival``'s weight end above ``lead``'s?

    ``lead``, ``rival``, ``others``: the scores of each cluster's votes so far. A Polya urn
    (the Dirichlet-process predictive) picks each future sample's cluster, runs in parallel;
    its weight is a draw from that cluster's observed scores (a new cluster: from all scores).
    """
    clusters = [np.array(lead), np.array(rival), np.array(others)]
    pooled = np.concatenate(clusters)
    counts = np.tile([len(lead), len(rival), len(others), alpha], (runs, 1)).astype(float)
    w = np.tile([sum(lead), sum(rival)], (runs, 1))
    for _ in range(m):
        cum = np.cumsum(counts, axis=1)
        j = (rng.random((runs, 1)) * cum[:, -1:] >= cum).sum(axis=1)
        drawn = [c[rng.integers(len(c), size=runs)] for c in (*clusters, pooled)]
        s = np.choose(j, drawn)
        w[:, 0] += np.where(j == 0, s, 0.0)
        w[:, 1] += np.where(j == 1, s, 0.0)
        counts[np.arange(runs), j] += 1
    return float((w[:, 1] > w[:, 0]).mean())


@pytest.mark.parametrize(
    ("lead", "rival", "m"),
    [([0.9, 0.8, 0.85, 0.9], [0.6, 0.7], 30), ([0.9] * 6 + [0.4] * 2, [0.95] * 5, 40)],
)
def test_overtake_probability_approximates_the_urn(lead, rival, m):
    rng = np.random.default_rng(4)
    others = [0.3, 0.5]
    alpha = 1.0
    n = len(lead) + len(rival) + len(others)
    conc = n + alpha
    w_l, w_c = sum(lead), sum(rival)
    q = sum(s * s for s in lead) + sum(s * s for s in rival)
    closed = float(overtake_probability(w_l - w_c, (w_l - w_c) / conc, q / conc, m, conc))
    simulated = polya_overtake(lead, rival, others, alpha, m, rng)
    # A normal approximation of an urn: agreement to a few points, not to Monte Carlo noise.
    assert abs(closed - simulated) < 0.04
