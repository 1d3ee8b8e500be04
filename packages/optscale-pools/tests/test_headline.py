"""Shared bootstrap draws, intervals that redo the selection, and the summary headline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optscale_math import Decisions, ViewLike
from optscale_pools import (
    EvalPool,
    Method,
    PoolView,
    ReplayResult,
    Resampling,
    draw_resampling,
    evaluate,
    headline,
    replay,
    select_setting,
)
from optscale_pools.bootstrap import percentile_interval
from optscale_pools.summary import tail_interval

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Paying:
    """Pays ``n`` samples (or one, when the first scores at least ``stop_at``) and picks.

    ``pick``: ``"best"`` (highest score paid for), ``"vote"`` (most frequent answer, ties to
    the one seen first) or a sample index (modulo the samples paid).
    """

    n: int
    pick: str = "best"
    stop_at: float = 2.0
    name: str = "paying"
    rows_independent: bool = True
    verify_order: Literal["gold_pred", "pred_gold"] = "gold_pred"

    @classmethod
    def grid(cls) -> list[dict[str, object]]:
        return [{}]

    def run(self, view: ViewLike) -> Decisions:
        scores, ids = view.scores[:, : self.n], view.answer_ids[:, : self.n]
        n_used = np.where(scores[:, 0] >= self.stop_at, 1, self.n).astype(np.int64)
        picks = []
        for row, used in enumerate(n_used):
            if self.pick == "best":
                picks.append(int(np.argmax(scores[row, :used])))
            elif self.pick == "vote":
                seen = list(ids[row, :used])
                picks.append(max(range(used), key=lambda j: (seen.count(seen[j]), -j)))
            else:
                picks.append(int(self.pick) % int(used))
        return Decisions(n_used=n_used, pick=np.array(picks, dtype=np.int64))


def method(name: str, **fixed: object) -> Method:
    def make(n: int, setting: Mapping[str, object]) -> Paying:
        return Paying(n, **{**fixed, **setting})  # type: ignore[arg-type]

    return Method(name, make)


def view_of(
    scores: FloatArray, ids: npt.NDArray[np.int64], tokens: npt.NDArray[np.int64]
) -> PoolView:
    p = scores.shape[0]
    return PoolView(
        scores=scores,
        last_scores=scores,
        answer_ids=ids,
        tokens=tokens,
        empty=np.zeros(scores.shape, dtype=bool),
        prior_mu=np.full(p, np.nan),
        prior_sigma=np.full(p, np.nan),
    )


def noise_pool(seed: int, n_problems: int, k: int) -> EvalPool:
    """Correctness is a fair coin per sample, independent of scores: settings differ by luck."""
    rng = np.random.default_rng(seed)
    shape = (n_problems, k)
    correct = rng.random(shape) < 0.5
    view = view_of(rng.random(shape), rng.integers(0, 3, shape), rng.integers(10, 100, shape))
    return EvalPool("noise", view, correct)


def grid_results(pool: EvalPool, n: int) -> list[ReplayResult]:
    """Replays of one setting per sample index: equally good, different by chance."""
    return [
        replay(Paying(n, pick=str(j)), pool.view, pool.correct, orders=2, seed=1) for j in range(n)
    ]


def loop_replicates(results: list[ReplayResult], draws: Resampling, rule: str) -> FloatArray:
    """Accuracy replicates with the selection redone, by plain loops over replicates."""
    hits = np.array([r.correct.sum(axis=0) for r in results], dtype=np.float64)  # [C, P]
    spent = np.array([r.tokens.sum(axis=0) for r in results])
    n_orders = results[0].correct.shape[0]
    out = []
    for b in range(draws.n_resamples):
        weights = [np.zeros(draws.n_problems) for _ in draws.strata]
        for w, stratum, counts in zip(weights, draws.strata, draws.counts, strict=True):
            w[stratum] = counts[b]

        def best(w: FloatArray) -> int:
            keyed = [(-(hits[c] @ w), spent[c] @ w, c) for c in range(len(results))]
            return min(keyed)[2]

        if rule == "test-set":
            whole = np.sum(weights, axis=0)
            out.append(hits[best(whole)] @ whole / (whole.sum() * n_orders))
        else:
            a, b_ = weights
            out.append(
                (
                    hits[best(a)] @ b_ / (b_.sum() * n_orders)
                    + hits[best(b_)] @ a / (a.sum() * n_orders)
                )
                / 2
            )
    return np.array(out)


@pytest.mark.parametrize("halves", [True, False])
def test_draws_resample_each_stratum_within_itself(halves: bool) -> None:
    draws = draw_resampling(11, seed=3, n_resamples=40, halves=halves)
    assert len(draws.strata) == (2 if halves else 1)
    np.testing.assert_array_equal(np.sort(np.concatenate(draws.strata)), np.arange(11))
    for stratum, counts in zip(draws.strata, draws.counts, strict=True):
        assert counts.shape == (40, stratum.size)
        np.testing.assert_array_equal(counts.sum(axis=1), stratum.size)
    values = np.random.default_rng(0).random((2, 11))
    weights = np.zeros((40, 11))
    for stratum, counts in zip(draws.strata, draws.counts, strict=True):
        weights[:, stratum] = counts
    np.testing.assert_allclose(draws.means(values), values @ weights.T / 11)


@pytest.mark.parametrize("rule", ["test-set", "crossfit"])
def test_replicates_redo_the_selection_like_a_loop(rule: str) -> None:
    pool = noise_pool(0, 30, 6)
    results = grid_results(pool, 6)
    draws = draw_resampling(30, seed=5, n_resamples=80, halves=rule == "crossfit")
    chosen = select_setting(results, rule, draws=draws)  # type: ignore[arg-type]
    assert chosen.replicates.shape == (3, 80)
    np.testing.assert_allclose(chosen.replicates[0], loop_replicates(results, draws, rule))


def test_redone_selection_is_never_below_the_fixed_one_on_the_test_set() -> None:
    # the replicate maximum over settings includes the setting chosen once on all problems
    pool = noise_pool(1, 40, 8)
    results = grid_results(pool, 8)
    draws = draw_resampling(40, seed=2, n_resamples=200, halves=False)
    redone = select_setting(results, "test-set", draws=draws)
    fixed = draws.means(redone.per_problem_correct[np.newaxis])[0]
    assert (redone.replicates[0] >= fixed - 1e-12).all()
    assert (redone.replicates[0] > fixed + 1e-12).mean() > 0.1  # another setting won
    assert redone.replicates[0].mean() > fixed.mean()
    assert redone.accuracy_ci != percentile_interval(fixed)


def test_crossfit_interval_with_the_selection_redone_is_wider_than_fixed() -> None:
    pool = noise_pool(2, 40, 8)
    results = grid_results(pool, 8)
    draws = draw_resampling(40, seed=4, n_resamples=400, halves=True)
    redone = select_setting(results, "crossfit", draws=draws)
    # the same draws, the settings chosen once: resample the cross-fitted per-problem outcomes
    strata = zip(draws.strata, draws.counts, strict=True)
    halves = [redone.per_problem_correct[s] @ c.T / s.size for s, c in strata]
    fixed = (halves[0] + halves[1]) / 2
    width = np.subtract(*np.percentile(fixed, [97.5, 2.5]))
    assert redone.accuracy_ci[1] - redone.accuracy_ci[0] > width


def test_select_setting_refuses_draws_of_another_shape() -> None:
    pool = noise_pool(3, 10, 4)
    results = grid_results(pool, 4)
    with pytest.raises(ValueError, match="resample 12 problems"):
        select_setting(results, draws=draw_resampling(12, n_resamples=5))
    with pytest.raises(ValueError, match="two halves"):
        select_setting(results, "crossfit", draws=draw_resampling(10, halves=False))


def test_every_point_of_an_evaluation_resamples_the_same_problems() -> None:
    pool = noise_pool(4, 25, 5)
    methods = [method("BoN"), method("BoN copy"), method("first", pick="0")]
    result = evaluate(pool, methods, orders=3, seed=7, n_resamples=60)
    draws = draw_resampling(25, seed=7, n_resamples=60, halves=True)
    by_key = {(p.method, p.n): p.selected for p in result.curves}
    for point in result.curves:  # single settings and oracles: means of the shared draws
        s = point.selected
        per_problem = np.stack([s.per_problem_correct, s.per_problem_tokens])
        np.testing.assert_allclose(s.replicates[:2], draws.means(per_problem))
        if point.method == "BoN":
            np.testing.assert_array_equal(s.replicates, by_key["BoN copy", point.n].replicates)


def test_headline_of_a_tiny_pool_is_the_arithmetic_by_hand() -> None:
    # problem 0: sample 0 right and best-scored; problem 1: sample 1 right and best-scored
    scores = np.array([[0.9, 0.1], [0.2, 0.8]])
    tokens = np.array([[100, 300], [50, 70]])
    ids = np.array([[0, 1], [0, 1]])
    correct = np.array([[True, False], [False, True]])
    pool = EvalPool("tiny", view_of(scores, ids, tokens), correct)
    methods = [method("BoN"), method("SC", pick="vote"), method("stop", stop_at=0.5)]
    result = evaluate(pool, methods, orders=None, selection="test-set", n_resamples=50)
    head = headline(result)
    assert head is not None
    assert (head.reference, head.majority, head.k, head.budgets) == ("BoN", "SC", 2, (1, 2))
    bon_k = (100 + 300 + 50 + 70) / 2  # BoN@2 pays both samples: 260 tokens, both right
    bon_1 = (100 + 50) / 2  # BoN@1: 75 tokens, problem 0 right only
    assert head.reference_accuracy.point == 1.0
    assert head.reference_tokens.point == bon_k
    assert head.majority_accuracy is not None
    assert head.majority_accuracy.point == 0.5  # a 1-1 tie on each goes to sample 0
    assert [e.point for e in head.reference_tokens_at] == [bon_1, bon_k]
    rows = {row.method: row for row in head.rows}
    # "stop" pays 1 sample on problem 0 (score 0.9), 2 on problem 1: both right
    stop_tokens = (100 + 50 + 70) / 2
    assert rows["stop"].match_reference.point == pytest.approx(stop_tokens / bon_k)
    assert rows["stop"].match_majority is not None
    assert rows["stop"].match_majority.point == pytest.approx(bon_1 / bon_k)  # N=1 gets 0.5
    assert [e.point for e in rows["stop"].accuracy_at] == [0.5, 1.0]
    assert rows["BoN"].match_reference.point == 1.0
    assert np.isinf(rows["SC"].match_reference.point)  # SC never reaches 100%
    assert rows["oracle"].match_reference.point == pytest.approx(stop_tokens / bon_k)


def test_bon_against_itself_is_exactly_one_in_every_replicate() -> None:
    pool = noise_pool(5, 30, 6)
    result = evaluate(pool, [method("BoN"), method("BoN copy")], budgets=[6], orders=4,
                      n_resamples=300)  # fmt: skip
    head = headline(result)
    assert head is not None
    for row in head.rows[:2]:
        assert (row.match_reference.point, row.match_reference.low) == (1.0, 1.0)
        assert row.match_reference.high == 1.0
        assert row.accuracy_at[0] == head.reference_accuracy


def test_headline_intervals_come_from_the_curves_replicates() -> None:
    pool = noise_pool(6, 24, 5)
    grid = [{"pick": str(j)} for j in range(3)]
    methods = [method("BoN"), method("SC", pick="vote"), Method("picky", method("x").make, grid)]
    result = evaluate(pool, methods, orders=3, seed=2, n_resamples=120)
    head = headline(result)
    assert head is not None
    points = {(p.method, p.n): p.selected.replicates for p in result.curves}
    budgets = result.budgets
    ref = np.array([points["BoN", n] for n in budgets])  # [N, 3, B]
    vote = points["SC", budgets[-1]][0]
    for row in head.rows:
        curve = np.array([points[row.method, n] for n in budgets])
        ratios, majority = [], []
        at_tokens = np.empty((len(budgets), 120))
        for b in range(120):
            acc, tok = curve[:, 0, b], curve[:, 1, b]
            reached = [t for a, t in zip(acc, tok, strict=True) if a >= ref[-1, 0, b] - 1e-12]
            ratios.append(min(reached, default=np.inf) / ref[-1, 1, b])
            matched = [t for a, t in zip(acc, tok, strict=True) if a >= vote[b] - 1e-12]
            majority.append(min(matched, default=np.inf) / ref[-1, 1, b])
            for n in range(len(budgets)):
                cheap = [a for a, t in zip(acc, tok, strict=True) if t <= ref[n, 1, b] + 1e-9]
                at_tokens[n, b] = max(cheap, default=-np.inf)
        assert (row.match_reference.low, row.match_reference.high) == tail_interval(
            np.array(ratios)
        )
        assert row.match_majority is not None
        assert (row.match_majority.low, row.match_majority.high) == tail_interval(
            np.array(majority)
        )
        for n, estimate in enumerate(row.accuracy_at):
            expected = [v if np.isfinite(v) else np.nan for v in tail_interval(at_tokens[n])]
            np.testing.assert_equal([estimate.low, estimate.high], expected)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60), st.integers(0, 60))
def test_tail_interval_is_the_percentile_with_infinities_ranked_last(
    finite: list[float], n_inf: int
) -> None:
    values = np.array(finite + [np.inf] * n_inf)
    low, high = tail_interval(values)
    if n_inf == 0:
        assert (low, high) == percentile_interval(values)
        return
    # infinity replaced by a value far above every finite one: the bounds agree where finite
    # (interpolating towards the stand-in moves a bound by at least 2.5% of 1e9)
    stand_in = np.where(np.isinf(values), 1e9, values)
    for got, ref in zip((low, high), percentile_interval(stand_in), strict=True):
        if ref > 1e6:
            assert got == np.inf
        else:
            assert got == pytest.approx(ref, rel=1e-9, abs=1e-5)


def test_headline_needs_a_reference_and_whole_curves() -> None:
    pool = noise_pool(7, 10, 3)
    result = evaluate(pool, [method("BoN"), method("other")], orders=2, n_resamples=20)
    assert headline(result, reference="SC") is None
    head = headline(result)
    assert head is not None
    assert (head.reference, head.majority) == ("BoN", None)
    assert all(row.match_majority is None for row in head.rows)
    with pytest.raises(ValueError, match="covers budgets"):
        headline(replace(result, curves=result.curves[1:]))
