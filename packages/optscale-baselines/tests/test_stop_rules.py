import dataclasses
import math

import numpy as np
import pytest
import stop_oracles as oracle
from baselines_oracles import make_view, random_view
from hypothesis import given, settings
from hypothesis import strategies as st
from optscale_baselines import (
    AgreementHybrid,
    BatchBudget,
    BestOfN,
    BestScoreThreshold,
    DeepConfOffline,
    DeepConfOnline,
    SelfConsistency,
    SequentialOptScale,
    SteppedRule,
    WeightedSelfConsistency,
    bon_token_budget,
)


def sequential_rules(max_n):
    """Two settings of sequential OptScale (slow: a fit costs Newton iterations, not rows)."""
    return [
        SequentialOptScale(peek=2, wave=1, epsilon=0.0, delta=0.2, max_n=max_n),
        SequentialOptScale(peek=3, wave=2, epsilon=0.05, delta=0.05, fit="map", max_n=max_n),
    ]


def rules(max_n):
    """One or two settings of every other row-wise rule, with ``max_n`` samples at most."""
    return [
        BestScoreThreshold(0.7, 1, max_n),
        BestScoreThreshold(0.9, 3, max_n),
        DeepConfOnline(2, 50.0, 0.6, max_n),
        DeepConfOnline(3, 90.0, 0.8, max_n),
        DeepConfOffline(max_n, 50.0),
        AgreementHybrid(2, 1.0, 0.2, max_n),
        AgreementHybrid(3, 0.0, 0.05, max_n),
    ]


@st.composite
def pools(draw):
    """Small pools rich in ties, NaN scores, missing answers and empty completions."""
    p = draw(st.integers(1, 5))
    k = draw(st.integers(1, 10))
    cells = p * k
    ids = np.array(draw(st.lists(st.integers(-1, 3), min_size=cells, max_size=cells)))
    levels = st.sampled_from([0.0, 0.3, 0.5, 0.8, 0.95, 1.0, math.nan])
    scores = np.array(draw(st.lists(levels, min_size=cells, max_size=cells)))
    empty = np.array(draw(st.lists(st.booleans(), min_size=cells, max_size=cells))) & (ids < 0)
    prior = draw(st.lists(st.sampled_from([0.6, 0.9, math.nan]), min_size=p, max_size=p))
    view = make_view(
        ids.reshape(p, k),
        scores.reshape(p, k),
        empty=empty.reshape(p, k),
        prior_mu=prior,
    )
    view = dataclasses.replace(view, prior_sigma=np.where(np.isnan(view.prior_mu), np.nan, 0.2))
    return view, draw(st.integers(1, k))


def live_decisions(policy, view):
    """Run the live form of ``policy`` on every row of ``view``: (n_seen, choice) per row."""
    out = []
    for p in range(view.scores.shape[0]):
        rule = SteppedRule(policy, view.prior_mu[p], view.prior_sigma[p])
        while not rule.stop:
            i = rule.n_seen
            score = math.nan if view.empty[p, i] else view.scores[p, i]
            rule.observe(score, view.answer_ids[p, i])
        out.append((rule.n_seen, rule.choice()))
    return out


def assert_live_agrees(policies, view):
    for policy in policies:
        d = policy.run(view)
        assert live_decisions(policy, view) == list(zip(d.n_used, d.pick, strict=True)), policy


@settings(max_examples=40, deadline=None)
@given(pools())
def test_live_and_replay_agree_sample_for_sample(pool):
    view, max_n = pool
    assert_live_agrees(rules(max_n), view)


@settings(max_examples=8, deadline=None)
@given(pools())
def test_sequential_live_and_replay_agree_sample_for_sample(pool):
    view, max_n = pool
    assert_live_agrees(sequential_rules(max_n), view)


def perturb_unpaid(view, n_used, rng):
    """Replace every sample at index >= n_used with garbage."""
    unpaid = np.arange(view.scores.shape[1])[None, :] >= n_used[:, None]
    garbage = {
        "scores": rng.choice([0.0, 1.0, 0.99, math.nan], size=view.scores.shape),
        "last_scores": rng.random(view.scores.shape),
        "answer_ids": rng.integers(-1, 50, size=view.scores.shape),
        "tokens": rng.integers(1, 10**6, size=view.scores.shape),
        "empty": rng.random(view.scores.shape) < 0.5,
    }
    fields = {name: np.where(unpaid, g, getattr(view, name)) for name, g in garbage.items()}
    return dataclasses.replace(view, **fields)


@settings(max_examples=40, deadline=None)
@given(pools(), st.integers(0, 2**32 - 1))
def test_decisions_depend_only_on_paid_samples(pool, seed):
    view, max_n = pool
    rng = np.random.default_rng(seed)
    budgets = [bon_token_budget(view, n) for n in (1, max_n)]
    batch = [BatchBudget(b, peek=peek, target=0.9, max_n=max_n) for b in budgets for peek in (1, 2)]
    batch.append(BatchBudget(peek=1, target=0.9, max_n=max_n))
    for policy in [*rules(max_n), *sequential_rules(max_n), *batch]:
        d = policy.run(view)
        assert ((d.n_used >= 1) & (d.n_used <= max_n)).all(), policy
        assert ((d.pick >= -1) & (d.pick < d.n_used)).all(), policy
        again = policy.run(perturb_unpaid(view, d.n_used, rng))
        assert again.n_used.tolist() == d.n_used.tolist(), policy
        assert again.pick.tolist() == d.pick.tolist(), policy


def oracle_decisions(policy, view):
    """The slow per-row oracle of ``policy`` on every row."""
    out = []
    for p in range(view.scores.shape[0]):
        row = oracle.row_of(view, p)
        match policy:
            case BestScoreThreshold():
                out.append(oracle.threshold(row, policy.tau, policy.min_n, policy.max_n))
            case SequentialOptScale():
                prior = (view.prior_mu[p], view.prior_sigma[p])
                args = (policy.peek, policy.wave, policy.epsilon, policy.delta, policy.fit)
                out.append(oracle.sequential(row, *args, policy.max_n, prior))
            case DeepConfOnline():
                args = (policy.warmup, policy.eta, policy.tau, policy.max_n)
                out.append(oracle.deepconf(row, *args))
            case DeepConfOffline():
                out.append(oracle.deepconf(row, policy.n, policy.eta, math.inf, policy.n))
            case AgreementHybrid():
                args = (policy.min_n, policy.alpha, policy.delta, policy.max_n)
                out.append(oracle.hybrid(row, *args))
    return out


def assert_oracles_agree(policies, view):
    for policy in policies:
        d = policy.run(view)
        assert oracle_decisions(policy, view) == list(zip(d.n_used, d.pick, strict=True)), policy


@settings(max_examples=40, deadline=None)
@given(pools())
def test_rules_match_their_oracles_on_small_pools(pool):
    view, max_n = pool
    assert_oracles_agree(rules(max_n), view)


@settings(max_examples=8, deadline=None)
@given(pools())
def test_sequential_matches_its_oracle_on_small_pools(pool):
    view, max_n = pool
    assert_oracles_agree(sequential_rules(max_n), view)


@pytest.mark.parametrize("seed", [0, 1])
def test_rules_match_their_oracles_on_random_pools(seed):
    rng = np.random.default_rng(seed)
    view = random_view(rng, 60, 16)
    noise = rng.normal(0, 0.02, (60, 16))
    view = dataclasses.replace(view, scores=np.clip(view.scores + noise, 0, 1))
    assert_oracles_agree(rules(16), view)
    first = {f.name: getattr(view, f.name)[:15] for f in dataclasses.fields(view)}
    assert_oracles_agree(sequential_rules(10), dataclasses.replace(view, **first))


@pytest.mark.parametrize("seed", [0, 1])
def test_batch_budget_matches_its_greedy_oracle(seed):
    rng = np.random.default_rng(seed)
    view = random_view(rng, 30, 12)
    view = dataclasses.replace(view, scores=np.clip(rng.beta(4, 2, (30, 12)), 0, 1))
    for n in (2, 8):
        for peek, target in ((1, 0.8), (2, 0.9), (4, 0.95)):
            budget = bon_token_budget(view, n)
            policy = BatchBudget(budget, peek=peek, target=target, max_n=12)
            expected = oracle.batch(view, budget, peek, target, 12)
            assert policy.plan(view).tolist() == expected
            by_n = BatchBudget(bon_n=n, peek=peek, target=target, max_n=12)
            estimate = n * np.maximum(view.tokens[:, :peek].mean(axis=1), 1.0).sum()
            assert by_n.plan(view).tolist() == oracle.batch(view, estimate, peek, target, 12)
            d = policy.run(view)
            for p in range(30):
                assert d.pick[p] == oracle.best_so_far(oracle.row_of(view, p)[0], d.n_used[p])[1]


def test_batch_budget_spends_about_the_budget_and_more_budget_buys_samples():
    rng = np.random.default_rng(5)
    view = random_view(rng, 200, 32)
    view = dataclasses.replace(
        view, scores=rng.beta(4, 2, (200, 32)), tokens=np.full((200, 32), 100)
    )
    spent = []
    for n in (2, 4, 8, 16):
        budget = bon_token_budget(view, n)
        used = BatchBudget(budget, peek=2, target=0.95, max_n=32).plan(view)
        spent.append(int(used.sum()))
        assert used.sum() * 100 <= budget  # equal costs: the estimate is exact
    assert spent == sorted(spent)


@settings(max_examples=30, deadline=None)
@given(pools())
def test_limits_reduce_to_fixed_budget_baselines(pool):
    view, n = pool
    bon = BestOfN(n, "fair").run(view)
    never = BestScoreThreshold(math.inf, 1, n).run(view)
    assert never.n_used.tolist() == [n] * view.scores.shape[0]
    assert never.pick.tolist() == bon.pick.tolist()
    finite = dataclasses.replace(view, scores=np.nan_to_num(view.scores, nan=0.5))
    finite = dataclasses.replace(finite, empty=np.zeros_like(view.empty))
    keep_all = DeepConfOffline(n, 100.0).run(finite)
    wsc = WeightedSelfConsistency(n, "sum", "fair").run(finite)
    assert keep_all.pick.tolist() == wsc.pick.tolist()
    assert SelfConsistency(n, "fair").run(view).n_used.tolist() == keep_all.n_used.tolist()


def test_deepconf_filters_low_confidence_votes():
    # Warm-up of 4: level = 50th percentile of (0.9, 0.2, 0.3, 0.95) = 0.6. Answer 1 has three
    # low-confidence votes and loses to answer 2's two confident ones.
    view = make_view([[2, 1, 1, 2, 1]], [[0.9, 0.2, 0.3, 0.95, 0.25]])
    d = DeepConfOnline(4, 50.0, 2.0, 5).run(view)
    assert (d.n_used[0], d.pick[0]) == (5, 0)
    assert SelfConsistency(5, "fair").run(view).pick[0] == 1


def test_threshold_stops_at_first_level_crossing_after_min_n():
    view = make_view([[0, 1, 2, 3]], [[0.95, 0.5, 0.97, 0.1]])
    assert BestScoreThreshold(0.9, 1, 4).run(view).n_used[0] == 1
    d = BestScoreThreshold(0.96, 2, 4).run(view)
    assert (d.n_used[0], d.pick[0]) == (3, 2)


def test_hybrid_stops_sooner_on_agreement_than_on_disagreement():
    agree = make_view([[0] * 16], [[0.9] * 16])
    split = make_view([[0, 1] * 8], [[0.9] * 16])
    hybrid = AgreementHybrid(2, 1.0, 0.1, 16)
    assert hybrid.run(agree).n_used[0] < hybrid.run(split).n_used[0] == 16


def test_sequential_with_prior_uses_it():
    rng = np.random.default_rng(2)
    scores = np.clip(rng.normal(0.6, 0.1, (200, 32)), 0, 1)
    view = make_view(np.zeros((200, 32), dtype=int), scores, prior_mu=np.full(200, 0.9))
    view = dataclasses.replace(view, prior_sigma=np.full(200, 0.05))
    mle = SequentialOptScale(2, 1, 0.0, 0.1, "mle", 32).run(view)
    map_ = SequentialOptScale(2, 1, 0.0, 0.1, "map", 32).run(view)
    # A prior of higher scores promises improvements the data does not: MAP samples longer.
    assert map_.n_used.mean() > mle.n_used.mean()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: BestScoreThreshold(math.nan), "tau must be a number"),
        (lambda: BestScoreThreshold(True), "tau must be a number"),
        (lambda: DeepConfOnline(tau=math.nan), "tau must be a number"),
        (lambda: BestScoreThreshold(0.9, 0), "min_n must be a positive integer"),
        (lambda: SequentialOptScale(delta=0.0), "delta must lie in"),
        (lambda: SequentialOptScale(epsilon=1.0), "epsilon must lie in"),
        (lambda: SequentialOptScale(fit="bayes"), "fit must be 'mle' or 'map'"),
        (lambda: SequentialOptScale(wave=0), "wave must be a positive integer"),
        (lambda: DeepConfOnline(eta=0.0), "eta must be a percentage"),
        (lambda: DeepConfOffline(4, 101.0), "eta must be a percentage"),
        (lambda: AgreementHybrid(alpha=-1.0), "alpha must be >= 0"),
        (lambda: AgreementHybrid(delta=1.0), "delta must lie in"),
        (lambda: BatchBudget(-1.0), "budget must be >= 0"),
        (lambda: BatchBudget(math.inf), "budget must be a finite number"),
        (lambda: BatchBudget(10.0, target=1.0), "target must lie in"),
        (lambda: BatchBudget(10.0, bon_n=4), "at most one of budget and bon_n"),
        (lambda: BatchBudget(bon_n=0), "bon_n must be a positive integer"),
    ],
)
def test_bad_settings_are_rejected(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_max_n_beyond_the_view_is_rejected():
    view = make_view([[1, 2, 3]])
    for policy in [*rules(4), *sequential_rules(4), BatchBudget(100.0, max_n=4)]:
        with pytest.raises(ValueError, match="max_n=4 exceeds the view's 3 samples"):
            policy.run(view)


def test_every_rule_declares_the_contract():
    fixed = {BatchBudget: {"budget": 1.0}, DeepConfOffline: {"n": 8}}
    for policy in [*rules(8), *sequential_rules(8), BatchBudget(10.0, max_n=8)]:
        cls = type(policy)
        assert isinstance(policy.name, str)
        assert policy.verify_order == "gold_pred"
        assert cls.rows_independent is (cls is not BatchBudget)
        grid = cls.grid()
        assert grid
        for cell in grid:
            cls(**fixed.get(cls, {}), **cell)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batch_budget_memoised_fit_gives_the_fresh_plan_at_every_budget(seed):
    from optscale_baselines._budget import _peek_fit

    rng = np.random.default_rng(seed)
    view = random_view(rng, 25, 10)
    view = dataclasses.replace(view, scores=np.clip(rng.beta(4, 2, (25, 10)), 0, 1))
    cells = [(n, peek, t) for n in range(1, 11) for peek in (1, 2, 4) for t in (0.5, 0.9)]
    fresh = []
    for n, peek, t in cells:
        _peek_fit.cache_clear()
        fresh.append(BatchBudget(peek=peek, target=t, max_n=n).run(view))
    _peek_fit.cache_clear()
    shared = [BatchBudget(peek=peek, target=t, max_n=n).run(view) for n, peek, t in cells]
    assert _peek_fit.cache_info().hits > 0
    for a, b in zip(fresh, shared, strict=True):
        np.testing.assert_array_equal(a.n_used, b.n_used)
        np.testing.assert_array_equal(a.pick, b.pick)


@pytest.mark.parametrize("seed", [0, 1])
def test_sequential_tables_shared_across_budgets_give_the_fresh_decisions(seed):
    from optscale_baselines._sequential import TableFits

    rng = np.random.default_rng(seed)
    view = random_view(rng, 25, 10)
    view = dataclasses.replace(view, scores=np.clip(rng.beta(4, 2, (25, 10)), 0, 1))
    cells = [(n, d) for n in (10, 3, 6, 1, 8) for d in (0.05, 0.4)]
    fresh = []
    for n, d in cells:
        TableFits._cache.clear()
        fresh.append(SequentialOptScale(peek=2, delta=d, max_n=n).run(view))
    TableFits._cache.clear()
    shared = [SequentialOptScale(peek=2, delta=d, max_n=n).run(view) for n, d in cells]
    assert len(TableFits._cache) == 1  # one table for every budget
    for a, b in zip(fresh, shared, strict=True):
        np.testing.assert_array_equal(a.n_used, b.n_used)
        np.testing.assert_array_equal(a.pick, b.pick)
