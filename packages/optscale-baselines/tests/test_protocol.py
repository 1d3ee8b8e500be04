import dataclasses

import numpy as np
import optscale_baselines as ob
import pytest
from baselines_oracles import View, make_view, random_view
from hypothesis import given, settings
from hypothesis import strategies as st
from optscale_baselines import (
    AdaptiveSC,
    BestOfN,
    DifficultyAdaptiveSC,
    EarlyStoppingSC,
    MRThinking,
    SelfConsistency,
    WeightedSelfConsistency,
)
from optscale_math import Policy


def policies(n, mode):
    return [
        BestOfN(n, mode),
        BestOfN(n, mode, "last"),
        SelfConsistency(n, mode),
        WeightedSelfConsistency(n, "sum", mode),
        WeightedSelfConsistency(n, "max", mode),
        EarlyStoppingSC(3, n, mode),
        AdaptiveSC(0.9, n, mode),
        DifficultyAdaptiveSC(n, mode),
        MRThinking(n, mode),
    ]


@st.composite
def pools(draw):
    p = draw(st.integers(1, 6))
    k = draw(st.integers(1, 12))
    ids = draw(st.lists(st.integers(-1, 3), min_size=p * k, max_size=p * k))
    scores = draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=p * k, max_size=p * k))
    ids_arr = np.array(ids).reshape(p, k)
    empty = (ids_arr == -1) & (np.array(scores).reshape(p, k) < 0.5)
    view = make_view(ids_arr, np.array(scores).reshape(p, k), empty=empty)
    return view, draw(st.integers(1, k))


@settings(max_examples=60, deadline=None)
@given(pools(), st.sampled_from(["paper", "fair"]))
def test_decisions_are_well_formed(pool, mode):
    view, n = pool
    k = view.answer_ids.shape[1]
    for policy in policies(n, mode):
        d = policy.run(view)
        assert d.n_used.shape == d.pick.shape == (view.answer_ids.shape[0],)
        assert ((d.n_used >= 1) & (d.n_used <= k)).all(), policy.name
        assert ((d.pick >= -1) & (d.pick < d.n_used)).all(), policy.name
        if mode == "paper":
            assert (d.pick >= 0).all(), policy.name
        assert d.extra_tokens >= 0


def perturb_unpaid(view, n_used, rng):
    """Scramble every sample a policy did not pay for."""
    k = view.answer_ids.shape[1]
    unpaid = np.arange(k)[None, :] >= n_used[:, None]
    fields = {}
    for name in ("scores", "last_scores", "answer_ids", "tokens", "empty"):
        value = getattr(view, name)
        fresh = rng.permutation(value.ravel()).reshape(value.shape)
        fields[name] = np.where(unpaid, fresh, value)
    return dataclasses.replace(view, **fields)


@pytest.mark.parametrize("mode", ["paper", "fair"])
def test_online_policies_only_read_paid_samples(mode):
    rng = np.random.default_rng(3)
    view = random_view(rng, 40, 16)
    for n in (1, 5, 9, 16):
        online = [
            p for p in policies(n, mode) if not (mode == "paper" and p.name.startswith("dsc"))
        ]
        online.append(DifficultyAdaptiveSC(n, "fair", difficulty="prior"))
        for policy in online:
            d = policy.run(view)
            for _ in range(3):
                again = policy.run(perturb_unpaid(view, d.n_used, rng))
                assert again.n_used.tolist() == d.n_used.tolist(), policy.name
                assert again.pick.tolist() == d.pick.tolist(), policy.name


@pytest.mark.parametrize("mode", ["paper", "fair"])
def test_budget_beyond_the_pool_is_rejected(mode):
    view = make_view([[1, 2, 3]])
    for policy in policies(4, mode):
        with pytest.raises(ValueError, match="exceeds the view's 3 samples"):
            policy.run(view)


@pytest.mark.parametrize("bad", [0, -2, 2.5, True])
def test_non_positive_budget_is_rejected(bad):
    for cls in (BestOfN, SelfConsistency, WeightedSelfConsistency, MRThinking):
        with pytest.raises(ValueError, match="n must be a positive integer"):
            cls(bad)
    with pytest.raises(ValueError, match="max_n must be"):
        EarlyStoppingSC(5, bad)
    with pytest.raises(ValueError, match="max_n must be"):
        AdaptiveSC(0.95, bad)
    with pytest.raises(ValueError, match="max_sample_size must be"):
        DifficultyAdaptiveSC(bad)


def test_unknown_mode_is_rejected():
    for make in (
        lambda: BestOfN(2, "exact"),
        lambda: SelfConsistency(2, "exact"),
        lambda: EarlyStoppingSC(5, 8, "exact"),
        lambda: DifficultyAdaptiveSC(8, "exact"),
    ):
        with pytest.raises(ValueError, match="mode must be 'paper' or 'fair'"):
            make()


def test_mismatched_view_shapes_are_rejected():
    good = make_view([[1, 2], [3, 4]])
    bad = dataclasses.replace(good, tokens=np.ones((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match=r"view\.tokens has shape \(2, 3\)"):
        SelfConsistency(2).run(bad)
    flat = View(*(np.ravel(getattr(good, f.name)) for f in dataclasses.fields(good)))
    with pytest.raises(ValueError, match=r"must have shape \[P, K\]"):
        BestOfN(1).run(flat)


def test_public_api():
    assert set(ob.__all__) >= {
        "BestOfN",
        "SelfConsistency",
        "WeightedSelfConsistency",
        "EarlyStoppingSC",
        "AdaptiveSC",
        "DifficultyAdaptiveSC",
        "MRThinking",
    }
    for cls in policies(1, "paper"):
        assert isinstance(cls, Policy)
        # every member of the contract is declared by the class itself, none left to a default
        declared = {name for klass in type(cls).__mro__[:-1] for name in vars(klass)}
        declared |= {f.name for f in dataclasses.fields(cls)}
        assert {"name", "rows_independent", "verify_order", "grid", "run"} <= declared
        assert isinstance(type(cls).grid(), list)
        assert cls.verify_order in ("gold_pred", "pred_gold")
        assert cls.mode == "paper"


@pytest.mark.parametrize("mode", ["paper", "fair"])
def test_rows_independent_policies_decide_each_row_alone(mode):
    # replay stacks sample orders into one call for policies that declare rows_independent:
    # that is only sound if a row's decision does not depend on the other rows.
    view = random_view(np.random.default_rng(7), 12, 16)
    for policy in policies(10, mode):
        if not policy.rows_independent:
            continue
        whole = policy.run(view)
        for row in range(view.scores.shape[0]):
            alone = policy.run(
                View(
                    **{
                        f.name: getattr(view, f.name)[row : row + 1]
                        for f in dataclasses.fields(view)
                    }
                )
            )
            assert alone.n_used[0] == whole.n_used[row], (policy.name, row)
            assert alone.pick[0] == whole.pick[row], (policy.name, row)
    assert not DifficultyAdaptiveSC(10, mode).rows_independent
