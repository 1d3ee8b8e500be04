from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optscale_pools.bootstrap import bootstrap_means, percentile_interval, resample_counts
from optscale_pools.crossfit import cross_fit, select_cell
from optscale_pools.oracle import oracle_bound
from optscale_pools.protocol import Decisions, PoolView, VerifyOrder
from optscale_pools.replay import (
    ReplayResult,
    correctness_for,
    draw_orders,
    random_orders,
    replay,
)


def make_view(rng: np.random.Generator, n_problems: int, n_samples: int) -> PoolView:
    return PoolView(
        scores=rng.random((n_problems, n_samples)),
        last_scores=rng.random((n_problems, n_samples)),
        answer_ids=rng.integers(-1, 4, (n_problems, n_samples)),
        tokens=rng.integers(1, 1000, (n_problems, n_samples)),
        empty=np.zeros((n_problems, n_samples), dtype=bool),
        prior_mu=np.full(n_problems, np.nan),
        prior_sigma=np.full(n_problems, np.nan),
    )


@dataclass
class PrefixBest:
    """Pays for a score-dependent prefix, picks its best score (decides rows on their own)."""

    name: str = "prefix-best"
    rows_independent: bool = True
    verify_order: VerifyOrder = "gold_pred"
    extra: float = 0.0

    @classmethod
    def grid(cls) -> list[dict[str, object]]:
        return [{}]

    def run(self, view: PoolView) -> Decisions:
        k = view.n_samples
        n_used = 1 + (view.scores[:, 0] * k).astype(np.int64) % k
        masked = np.where(np.arange(k) < n_used[:, None], view.scores, -np.inf)
        return Decisions(n_used=n_used, pick=masked.argmax(axis=1), extra_tokens=self.extra)


@dataclass
class Fixed:
    """Returns the decisions it was given, whatever the view."""

    n_used: npt.NDArray[np.int64]
    pick: npt.NDArray[np.int64]
    extra_tokens: float = 0.0
    name: str = "fixed"

    def run(self, view: PoolView) -> Fixed:
        return self


def slow_replay(view: PoolView, correct: npt.NDArray[np.bool_], policy: PrefixBest) -> tuple:
    decisions = policy.run(view)
    hits, spent = [], []
    for p in range(view.n_problems):
        n, k = int(decisions.n_used[p]), int(decisions.pick[p])
        hits.append(k >= 0 and bool(correct[p, k]))
        spent.append(sum(int(t) for t in view.tokens[p, :n]) + policy.extra / view.n_problems)
    return float(np.mean(hits)), float(np.mean(spent))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def test_paper_mode_matches_a_loop(rng: np.random.Generator) -> None:
    view = make_view(rng, 40, 16)
    correct = rng.random((40, 16)) < 0.4
    policy = PrefixBest(extra=120.0)
    result = replay(policy, view, correct)
    accuracy, tokens = slow_replay(view, correct, policy)
    assert result.n_orders == 1
    assert result.accuracy == pytest.approx(accuracy)
    assert result.mean_tokens == pytest.approx(tokens)
    assert result.accuracy_ci[0] <= result.accuracy <= result.accuracy_ci[1]
    assert result.tokens_ci[0] <= result.mean_tokens <= result.tokens_ci[1]


@pytest.mark.parametrize("stack", [True, False])
def test_fair_mode_matches_a_loop_over_the_same_orders(
    rng: np.random.Generator, stack: bool
) -> None:
    view = make_view(rng, 25, 12)
    correct = rng.random((25, 12)) < 0.5
    policy = PrefixBest(extra=50.0)
    result = replay(policy, view, correct, orders=7, seed=3, stack_orders=stack)
    perms = random_orders(np.random.default_rng(3), 7, 25, 12)
    for r in range(7):
        rows = np.arange(25)[:, None]
        order_view = PoolView(
            scores=view.scores[rows, perms[r]],
            last_scores=view.last_scores[rows, perms[r]],
            answer_ids=view.answer_ids[rows, perms[r]],
            tokens=view.tokens[rows, perms[r]],
            empty=view.empty[rows, perms[r]],
            prior_mu=view.prior_mu,
            prior_sigma=view.prior_sigma,
        )
        accuracy, _ = slow_replay(order_view, correct[rows, perms[r]], PrefixBest())
        assert result.correct[r].mean() == pytest.approx(accuracy)
    expected_extra = 50.0 / (7 * 25) if stack else 50.0 / 25
    spent = result.tokens - expected_extra
    for r in range(7):
        n_used = result.n_used[r]
        paid = [view.tokens[p, perms[r, p, : n_used[p]]].sum() for p in range(25)]
        np.testing.assert_allclose(spent[r], paid)


@pytest.mark.parametrize("stack", [True, False])
def test_prepared_orders_give_the_same_result_and_are_reusable(
    rng: np.random.Generator, stack: bool
) -> None:
    view = make_view(rng, 20, 9)
    correct = rng.random((20, 9)) < 0.5
    prepared = draw_orders(view, 6, seed=11)
    for extra in (0.0, 30.0):  # two policies over the same prepared orders
        policy = PrefixBest(extra=extra)
        direct = replay(policy, view, correct, orders=6, seed=11, stack_orders=stack)
        reused = replay(policy, view, correct, orders=prepared, stack_orders=stack)
        assert reused.accuracy == direct.accuracy
        assert reused.mean_tokens == direct.mean_tokens
        assert reused.accuracy_ci == direct.accuracy_ci  # the bootstrap continues the same stream
        assert reused.tokens_ci == direct.tokens_ci
        np.testing.assert_array_equal(reused.n_used, direct.n_used)
    np.testing.assert_array_equal(
        prepared.perms, random_orders(np.random.default_rng(11), 6, 20, 9)
    )


def test_prepared_orders_are_checked(rng: np.random.Generator) -> None:
    view = make_view(rng, 5, 4)
    correct = np.zeros((5, 4), dtype=bool)
    prepared = draw_orders(view, 3, seed=2)
    with pytest.raises(ValueError, match="another view"):
        replay(PrefixBest(), make_view(rng, 5, 4), correct, orders=prepared)
    with pytest.raises(ValueError, match="seed=5 differs"):
        replay(PrefixBest(), view, correct, orders=prepared, seed=5)
    assert replay(PrefixBest(), view, correct, orders=prepared, seed=2).n_orders == 3
    with pytest.raises(ValueError, match="orders must be"):
        draw_orders(view, 0)


def test_order_free_policy_gives_the_same_answer_in_every_order(rng: np.random.Generator) -> None:
    view = make_view(rng, 30, 10)
    correct = rng.random((30, 10)) < 0.5

    class AllBest:
        name = "all-best"
        rows_independent = True
        verify_order = "gold_pred"

        @classmethod
        def grid(cls) -> list[dict[str, object]]:
            return [{}]

        def run(self, view: PoolView) -> Decisions:
            n = np.full(view.n_problems, view.n_samples, dtype=np.int64)
            return Decisions(n_used=n, pick=view.scores.argmax(axis=1))

    paper = replay(AllBest(), view, correct)
    fair = replay(AllBest(), view, correct, orders=5)
    np.testing.assert_array_equal(fair.correct, np.repeat(paper.correct, 5, axis=0))
    np.testing.assert_allclose(fair.tokens, np.repeat(paper.tokens, 5, axis=0))


def test_no_pick_counts_wrong(rng: np.random.Generator) -> None:
    view = make_view(rng, 4, 3)
    policy = Fixed(np.array([1, 2, 3, 1]), np.array([-1, 1, -1, 0]))
    result = replay(policy, view, np.ones((4, 3), dtype=bool))
    np.testing.assert_array_equal(result.correct[0], [False, True, False, True])


@pytest.mark.parametrize(
    ("n_used", "pick", "extra", "match"),
    [
        ([0, 1, 1], [0, 0, 0], 0.0, "problem 0: n_used=0 outside 1..3"),
        ([1, 4, 1], [0, 0, 0], 0.0, "problem 1: n_used=4"),
        ([1, 2, 2], [0, 0, 2], 0.0, "problem 2: pick=2"),
        ([1, 2, 2], [0, -2, 0], 0.0, "problem 1: pick=-2"),
        ([1, 1], [0, 0], 0.0, r"n_used must be an integer array of shape \(3,\)"),
        ([1.0, 1.0, 1.0], [0, 0, 0], 0.0, "n_used must be an integer array"),
        ([1, 1, 1], [0, 0, 0], -1.0, "extra_tokens=-1.0"),
        ([1, 1, 1], [0, 0, 0], float("nan"), "extra_tokens=nan"),
    ],
)
def test_invalid_decisions_are_rejected(
    rng: np.random.Generator, n_used: list, pick: list, extra: float, match: str
) -> None:
    view = make_view(rng, 3, 3)
    policy = Fixed(np.array(n_used), np.array(pick), extra)
    with pytest.raises(ValueError, match=match):
        replay(policy, view, np.ones((3, 3), dtype=bool))


def test_invalid_correctness_and_orders_are_rejected(rng: np.random.Generator) -> None:
    view = make_view(rng, 3, 3)
    with pytest.raises(ValueError, match="correct must be a bool array of shape"):
        replay(PrefixBest(), view, np.ones((3, 4), dtype=bool))
    with pytest.raises(ValueError, match="correct must be a bool array"):
        replay(PrefixBest(), view, np.ones((3, 3)))
    with pytest.raises(ValueError, match="orders must be None or an integer >= 1"):
        replay(PrefixBest(), view, np.ones((3, 3), dtype=bool), orders=0)


def test_correctness_follows_the_policy_verify_order() -> None:
    grades = SimpleNamespace(correct=np.zeros((1, 1), bool), correct_swapped=np.ones((1, 1), bool))
    assert correctness_for(SimpleNamespace(verify_order="gold_pred"), grades) is grades.correct
    assert (
        correctness_for(SimpleNamespace(verify_order="pred_gold"), grades) is grades.correct_swapped
    )
    with pytest.raises(ValueError, match="verify_order"):
        correctness_for(SimpleNamespace(verify_order="other"), grades)


def test_bootstrap_matches_an_explicit_resampling_loop() -> None:
    values = np.random.default_rng(0).random((3, 5))
    replicates = bootstrap_means(values, np.random.default_rng(9), n_resamples=50)
    rng = np.random.default_rng(9)
    orders = rng.integers(0, 3, size=(50, 3))
    problems = rng.integers(0, 5, size=(50, 5))
    for b in range(50):
        rows, cols = orders[b], problems[b]
        assert replicates[b] == pytest.approx(values[np.ix_(rows, cols)].mean())


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(1, 30), st.integers(0, 2**32 - 1))
def test_bootstrap_interval_brackets_constant_data(
    n_orders: int, n_problems: int, seed: int
) -> None:
    values = np.full((n_orders, n_problems), 0.25)
    low, high = percentile_interval(bootstrap_means(values, np.random.default_rng(seed), 20))
    assert low == pytest.approx(0.25)
    assert high == pytest.approx(0.25)


def result_of(correct: npt.ArrayLike, tokens: npt.ArrayLike, name: str = "cell") -> ReplayResult:
    hits = np.asarray(correct, dtype=bool).reshape(1, -1)
    spent = np.asarray(tokens, dtype=np.float64).reshape(1, -1)
    n_used = np.ones_like(hits, dtype=np.int64)
    return ReplayResult(name, hits.mean(), spent.mean(), (0, 0), (0, 0), hits, spent, n_used)


def test_select_cell_prefers_accuracy_then_fewest_tokens() -> None:
    cells = [
        result_of([1, 0, 1, 0], [5, 5, 5, 5]),
        result_of([1, 1, 0, 0], [4, 4, 4, 4]),
        result_of([1, 1, 0, 0], [4, 4, 4, 4]),
        result_of([0, 0, 0, 0], [1, 1, 1, 1]),
    ]
    assert select_cell(cells) == 1
    assert select_cell(cells, [0, 2]) == 0
    assert select_cell(cells, [3]) == 3


def test_cross_fit_matches_a_loop() -> None:
    rng = np.random.default_rng(5)
    cells = [result_of(rng.random(21) < q, rng.integers(1, 9, 21)) for q in (0.3, 0.5, 0.7)]
    fitted = cross_fit(cells, seed=11)
    order = np.random.default_rng(11).permutation(21)
    halves = (order[:10], order[10:])
    reported = []
    for choose, report in ((halves[0], halves[1]), (halves[1], halves[0])):
        best = max(
            range(3),
            key=lambda c: (
                cells[c].correct[0, choose].sum(),
                -cells[c].tokens[0, choose].mean(),
                -c,
            ),
        )
        reported.append(cells[best].correct[0, report].mean())
    assert fitted.accuracy == pytest.approx(np.mean(reported))
    assert fitted.fold_accuracy == pytest.approx(tuple(reported))


def test_cross_fit_intervals_redo_the_selection_in_every_replicate() -> None:
    # oracle: materialise each bootstrap replicate as resampled results, run the whole
    # cross-fit rule on them with select_cell, and take the percentile interval
    rng = np.random.default_rng(8)
    orders, problems = 3, 17
    cells = []
    for q in (0.4, 0.5, 0.55, 0.6):
        hits = rng.random((orders, problems)) < q
        spent = rng.integers(1, 50, (orders, problems)).astype(np.float64)
        n_used = np.ones_like(hits, dtype=np.int64)
        cells.append(
            ReplayResult("c", hits.mean(), spent.mean(), (0, 0), (0, 0), hits, spent, n_used)
        )
    fitted = cross_fit(cells, seed=4, n_resamples=60)
    draws = np.random.default_rng(4)
    order = draws.permutation(problems)
    halves = (np.sort(order[: problems // 2]), np.sort(order[problems // 2 :]))
    counts = [resample_counts(draws, h.size, 60) for h in halves]
    accuracy, tokens = [], []
    for b in range(60):
        picked = [np.repeat(h, c[b].astype(int)) for h, c in zip(halves, counts, strict=True)]
        folds = []
        for choose, report in ((picked[0], picked[1]), (picked[1], picked[0])):
            resampled = [
                ReplayResult(
                    "c", 0, 0, (0, 0), (0, 0), c.correct[:, choose], c.tokens[:, choose], c.n_used
                )
                for c in cells
            ]
            best = select_cell(resampled)
            folds.append(
                (cells[best].correct[:, report].mean(), cells[best].tokens[:, report].mean())
            )
        accuracy.append(np.mean([f[0] for f in folds]))
        tokens.append(np.mean([f[1] for f in folds]))
    assert fitted.accuracy_ci == pytest.approx(percentile_interval(np.array(accuracy)))
    assert fitted.tokens_ci == pytest.approx(percentile_interval(np.array(tokens)))
    assert fitted.accuracy_ci[0] < fitted.accuracy < fitted.accuracy_ci[1]


def test_cross_fit_rejects_mismatched_or_empty_grids() -> None:
    with pytest.raises(ValueError, match="at least one"):
        cross_fit([])
    with pytest.raises(ValueError, match=r"results\[1\] covers"):
        cross_fit([result_of([1, 0], [1, 1]), result_of([1, 0, 1], [1, 1, 1])])
    with pytest.raises(ValueError, match="at least 2 problems"):
        cross_fit([result_of([1], [1])])


def test_oracle_bound_matches_a_loop(rng: np.random.Generator) -> None:
    correct = rng.random((15, 8)) < 0.2
    tokens = rng.integers(1, 100, (15, 8))
    curve = oracle_bound(correct, tokens)
    for n in range(1, 9):
        hits, spent = [], []
        for p in range(15):
            first = next((j for j in range(n) if correct[p, j]), None)
            hits.append(first is not None)
            spent.append(tokens[p, : (first if first is not None else 0) + 1].sum())
        assert curve.accuracy[n - 1] == pytest.approx(np.mean(hits))
        assert curve.mean_tokens[n - 1] == pytest.approx(np.mean(spent))


def test_oracle_bound_dominates_every_policy(rng: np.random.Generator) -> None:
    view = make_view(rng, 30, 8)
    correct = rng.random((30, 8)) < 0.3
    result = replay(PrefixBest(), view, correct, orders=4, seed=2)
    bound = oracle_bound(correct, view.tokens, [8], orders=4, seed=2)
    assert bound.accuracy[0] >= result.accuracy
    with pytest.raises(ValueError, match="n_values must be budgets"):
        oracle_bound(correct, view.tokens, [0])
