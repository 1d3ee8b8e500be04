"""Hostile views for every exported policy: valid decisions or a one-line ValueError, nothing else.

Each policy class in ``optscale_baselines.__all__`` is built with every setting of its ``grid()``
and run on views no honest pool produces: NaN and infinite scores and priors, no answer anywhere,
all scores equal, one sample per problem, no problems at all, token counts near 2^62.
"""

import inspect

import numpy as np
import optscale_baselines as ob
from baselines_oracles import View
from hypothesis import given, settings
from hypothesis import strategies as st
from optscale_baselines import make_live_rule
from optscale_baselines._factory import LIVE_METHODS

BUDGET_FIELDS = ("n", "max_n", "max_sample_size", "bon_n")
POLICY_CLASSES = [
    cls for name in ob.__all__ if hasattr(cls := getattr(ob, name), "grid") and hasattr(cls, "run")
]
NASTY_FLOATS = [np.nan, np.inf, -np.inf, 0.0, 0.5, 1.0, -1.0, 1e308, -1e308, 5e-324]
NASTY_TOKENS = [0, 1, 2**62 - 1, 2**62, 2**62 + 12345, 2**63 - 1]


def build(cls, setting, budget, mode):
    """Instantiate ``cls`` with ``setting`` from its grid, the sample budget and (if any) mode."""
    names = set(inspect.signature(cls).parameters)
    budgets = {key: budget for key in names.intersection(BUDGET_FIELDS)}
    assert budgets, f"{cls.__name__}: no known budget parameter in {sorted(names)}"
    modes = {"mode": mode} if "mode" in names else {}
    return cls(**setting, **budgets, **modes)


@st.composite
def hostile_views(draw):
    p = draw(st.integers(0, 4))
    k = draw(st.integers(1, 6))
    shape = (p, k)

    def grid(elements):
        values = draw(st.lists(elements, min_size=p * k, max_size=p * k))
        return np.array(values).reshape(shape)

    floats = st.sampled_from(NASTY_FLOATS)
    scores = np.full(shape, draw(floats)) if draw(st.booleans()) else grid(floats).astype(float)
    no_answers = draw(st.booleans())
    ids = np.full(shape, -1) if no_answers else grid(st.integers(-1, 3))
    return View(
        scores=scores,
        last_scores=grid(floats).astype(float),
        answer_ids=ids.astype(np.int64),
        tokens=grid(st.sampled_from(NASTY_TOKENS)).astype(np.int64),
        empty=grid(st.booleans()).astype(bool),
        prior_mu=np.array(draw(st.lists(floats, min_size=p, max_size=p)), dtype=float),
        prior_sigma=np.array(draw(st.lists(floats, min_size=p, max_size=p)), dtype=float),
    )


def test_every_exported_policy_is_covered():
    assert len(POLICY_CLASSES) >= 7
    for cls in POLICY_CLASSES:
        for setting in cls.grid():
            build(cls, setting, 1, "fair")


@settings(max_examples=80, deadline=None)
@given(hostile_views(), st.sampled_from(["paper", "fair"]), st.data())
def test_hostile_views_give_valid_decisions_or_a_value_error(view, mode, data):
    p, k = view.answer_ids.shape
    budget = data.draw(st.integers(1, k + 1), label="budget")
    for cls in POLICY_CLASSES:
        for setting in cls.grid():
            policy = build(cls, setting, budget, mode)
            try:
                decisions = policy.run(view)
            except ValueError as error:
                message = str(error)
                assert message, policy.name
                assert "\n" not in message, policy.name
                continue
            n_used = np.asarray(decisions.n_used)
            pick = np.asarray(decisions.pick)
            assert n_used.shape == pick.shape == (p,), policy.name
            assert ((n_used >= 1) & (n_used <= k)).all(), policy.name
            assert ((pick >= -1) & (pick < n_used)).all(), policy.name
            assert decisions.extra_tokens >= 0, policy.name


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(sorted(LIVE_METHODS)),
    st.integers(1, 6),
    st.lists(st.tuples(st.sampled_from(NASTY_FLOATS), st.integers(-5, 3)), max_size=8),
)
def test_live_rules_take_hostile_samples_or_refuse_them(method, max_n, samples):
    rule = make_live_rule(method, max_n)
    refused = 0
    for score, answer_id in samples:
        if rule.stop:
            break
        before = rule.n_seen
        try:
            rule.observe(score, answer_id)
        except ValueError as error:
            message = str(error)
            assert message, method
            assert "\n" not in message, method
            assert rule.n_seen == before, method  # a refused sample is not counted
            refused += 1
        assert 0 <= rule.n_seen <= max_n, method
        assert -1 <= rule.choice() < max(rule.n_seen, 1), method
        planned = rule.planned_n
        assert planned is None or 1 <= planned <= max_n, method
    if len(samples) - refused >= max_n:
        assert rule.stop, method  # max_n accepted samples always end the rule
