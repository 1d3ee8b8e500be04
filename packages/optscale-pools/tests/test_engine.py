"""The evaluation engine: selection, oracle stops, budgets, ragged pools, against plain loops."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optscale_math import NO_ANSWER, Decisions, OptScalePolicy
from optscale_pools import (
    EvalPool,
    Method,
    PoolView,
    best_setting,
    check_budgets,
    cross_fit,
    evaluate,
    first_correct_prefix,
    hindsight_stop,
    replay,
    running_best,
    running_majority,
    select_setting,
)


@dataclass(frozen=True)
class FirstAbove:
    """Pays until a score reaches ``threshold`` (at most ``n``), picks the best so far."""

    n: int
    threshold: float = 0.8
    name: str = "first-above"
    rows_independent: bool = True
    verify_order: str = "gold_pred"

    @classmethod
    def grid(cls) -> list[dict[str, object]]:
        return [{"threshold": t} for t in (0.5, 0.8, 0.95)]

    def run(self, view: PoolView) -> Decisions:
        scores = view.scores[:, : self.n]
        hit = scores >= self.threshold
        n_used = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, self.n).astype(np.int64)
        masked = np.where(np.arange(self.n) < n_used[:, None], scores, -np.inf)
        return Decisions(n_used=n_used, pick=masked.argmax(axis=1).astype(np.int64))


def make(n: int, setting: Mapping[str, object]) -> FirstAbove:
    return FirstAbove(n, float(setting["threshold"]))  # type: ignore[arg-type]


def pool_of(rng: np.random.Generator, n_problems: int, k: int) -> EvalPool:
    shape = (n_problems, k)
    correct = rng.random(shape) < rng.random((n_problems, 1))
    scores = np.clip(np.where(correct, 0.7, 0.5) + 0.2 * rng.normal(size=shape), 0, 1)
    view = PoolView(
        scores=scores,
        last_scores=scores,
        answer_ids=np.where(correct, 0, rng.integers(1, 3, shape)).astype(np.int64),
        tokens=rng.integers(10, 100, shape),
        empty=np.zeros(shape, dtype=bool),
        prior_mu=np.full(n_problems, np.nan),
        prior_sigma=np.full(n_problems, np.nan),
    )
    return EvalPool("test", view, correct)


METHOD = Method("first-above", make, FirstAbove.grid())


def test_default_budgets_are_every_n_and_bad_budgets_are_refused() -> None:
    assert check_budgets(None, 4) == (1, 2, 3, 4)
    assert check_budgets([3, 1, 3], 4) == (1, 3)
    for bad in ([0], [5], [], [1.5]):
        with pytest.raises(ValueError, match="budget"):
            check_budgets(bad, 4)  # type: ignore[arg-type]


def test_crossfit_point_estimates_equal_cross_fit() -> None:
    rng = np.random.default_rng(1)
    pool = pool_of(rng, 30, 8)
    results = [replay(make(8, s), pool.view, pool.correct, orders=4) for s in METHOD.grid]
    chosen = select_setting(results, "crossfit", seed=3)
    reference = cross_fit(results, seed=3)
    assert chosen.chosen == reference.chosen
    assert chosen.accuracy == pytest.approx(reference.accuracy)
    assert chosen.mean_tokens == pytest.approx(reference.mean_tokens)
    assert chosen.rule == "crossfit"


def test_test_set_rule_reports_the_best_setting_on_all_problems() -> None:
    rng = np.random.default_rng(2)
    pool = pool_of(rng, 20, 6)
    results = [replay(make(6, s), pool.view, pool.correct) for s in METHOD.grid]
    chosen = select_setting(results, "test-set", seed=0, n_resamples=50)
    best = max(range(3), key=lambda i: (results[i].accuracy, -results[i].mean_tokens))
    assert chosen.chosen == (best,)
    assert chosen.accuracy == pytest.approx(results[best].accuracy)
    assert chosen.accuracy_ci[0] <= chosen.accuracy_ci[1]


def test_kept_per_problem_samples_are_each_settings_own() -> None:
    rng = np.random.default_rng(4)
    pool = pool_of(rng, 12, 6)
    plain = evaluate(pool, [METHOD], budgets=[6], orders=3, seed=1, n_resamples=20)
    assert all(s.per_problem_samples is None for s in plain.settings)
    kept = evaluate(
        pool, [METHOD], budgets=[6], orders=3, seed=1, n_resamples=20, keep_per_problem=True
    )
    assert [(s.accuracy, s.mean_tokens) for s in kept.settings] == [
        (s.accuracy, s.mean_tokens) for s in plain.settings
    ]
    for point, setting in zip(kept.settings, METHOD.grid, strict=True):
        alone = replay(make(6, setting), pool.view, pool.correct, orders=3, seed=1)
        assert point.per_problem_samples is not None
        np.testing.assert_array_equal(point.per_problem_samples, alone.n_used.mean(axis=0))


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=12))
def test_best_setting_is_the_first_most_accurate_cheapest(cells: list[tuple[int, int]]) -> None:
    accuracy = [a / 4 for a, _ in cells]
    tokens = [10.0 * t for _, t in cells]
    want = min(range(len(cells)), key=lambda i: (-accuracy[i], tokens[i], i))
    assert best_setting(accuracy, tokens) == want


def test_best_setting_refuses_mismatched_numbers() -> None:
    with pytest.raises(ValueError, match="non-empty 1-D"):
        best_setting([0.5, 0.6], [10.0])
    with pytest.raises(ValueError, match="non-empty 1-D"):
        best_setting([], [])


@dataclass(frozen=True)
class WithOverhead:
    """Pays ``n`` samples, picks the first, and charges ``extra`` tokens for the whole pool."""

    n: int
    extra: float
    name: str = "overhead"
    rows_independent: bool = False
    verify_order: str = "gold_pred"

    @classmethod
    def grid(cls) -> list[dict[str, object]]:
        return [{"extra": 1.0}, {"extra": 2.0}]

    def run(self, view: PoolView) -> Decisions:
        rows = view.scores.shape[0]
        n_used = np.full(rows, self.n, dtype=np.int64)
        return Decisions(
            n_used=n_used, pick=np.zeros(rows, dtype=np.int64), extra_tokens=self.extra
        )


@pytest.mark.parametrize("selection", ["test-set", "crossfit"])
def test_extra_tokens_are_added_to_the_total_and_averaged_once(selection: str) -> None:
    rng = np.random.default_rng(5)
    pool = pool_of(rng, 30, 4)
    for grid in ([{"extra": 1.0}], WithOverhead.grid()):
        method = Method("overhead", lambda n, s: WithOverhead(n, float(s["extra"])), grid)  # type: ignore[arg-type]
        result = evaluate(pool, [method], budgets=[3], orders=None, selection=selection)  # type: ignore[arg-type]
        (point,) = [p for p in result.curves if p.method == "overhead"]
        if point.selected.rule == "crossfit":
            continue  # two halves: no single replay's total to report
        extra = float(grid[point.selected.chosen[0]]["extra"])  # type: ignore[arg-type]
        total = int(pool.view.tokens[:, :3].sum())
        upstream = (total + extra) / 30  # upstream: one sum, one division
        assert point.selected.mean_tokens == upstream
    spread = float(np.mean(pool.view.tokens[:, :3].sum(axis=1) + 1.0 / 30))
    assert spread != (int(pool.view.tokens[:, :3].sum()) + 1.0) / 30  # the order matters here


def test_evaluate_covers_every_budget_and_stays_within_it() -> None:
    rng = np.random.default_rng(3)
    pool = pool_of(rng, 16, 5)
    result = evaluate(pool, [METHOD], orders=3, seed=0, n_resamples=50)
    methods = {p.method for p in result.curves}
    bounds = {"oracle", "oracle-stop BoN", "oracle-stop SC", "hindsight BoN"}
    assert methods == {"first-above", *bounds}
    for point in result.curves:
        assert point.selected.mean_samples <= point.n + 1e-12
        assert point.selected.per_problem_samples.shape == (16,)
    assert len(result.settings) == 3 * 5


def test_ragged_pool_matches_evaluating_each_group_alone() -> None:
    rng = np.random.default_rng(4)
    pool = pool_of(rng, 12, 6)
    counts = np.array([6] * 8 + [3] * 4)
    ragged = EvalPool("ragged", pool.view, pool.correct, n_samples=counts)
    whole = evaluate(ragged, [METHOD], budgets=[5], orders=None, selection="test-set")
    small = whole.curves[0].selected.per_problem_samples[8:]
    assert (small <= 3).all()
    alone = replay(make(3, METHOD.grid[whole.curves[0].selected.chosen[0]]),
                   _rows(pool.view, slice(8, 12), 3), pool.correct[8:, :3])  # fmt: skip
    np.testing.assert_array_equal(small, alone.n_used[0])


def _rows(view: PoolView, rows: slice, k: int) -> PoolView:
    return PoolView(
        view.scores[rows, :k], view.last_scores[rows, :k], view.answer_ids[rows, :k],
        view.tokens[rows, :k], view.empty[rows, :k], view.prior_mu[rows], view.prior_sigma[rows],
    )  # fmt: skip


def test_scoreless_pool_skips_score_methods_with_a_notice() -> None:
    rng = np.random.default_rng(5)
    pool = pool_of(rng, 6, 4)
    scoreless = EvalPool("votes", pool.view, pool.correct, has_scores=False)
    result = evaluate(scoreless, [METHOD], orders=2, n_resamples=20)
    assert result.notices == [
        "first-above: skipped, the pool has no scores (it ranks samples by score)"
    ]
    assert {p.method for p in result.curves} == {"oracle", "oracle-stop SC"}


def test_optscale_runs_through_the_engine_at_any_budget() -> None:
    rng = np.random.default_rng(6)
    pool = pool_of(rng, 10, 4)
    grid = OptScalePolicy.grid()[:2]
    method = Method(
        "OptScale",
        lambda n, s: OptScalePolicy("mle", 1, n, mode="fair", **s),  # type: ignore[arg-type]
        grid,
    )
    result = evaluate(pool, [method], orders=2, n_resamples=20)
    assert [p.n for p in result.curves if p.method == "OptScale"] == [1, 2, 3, 4]


ids_strategy = st.lists(st.integers(NO_ANSWER, 3), min_size=1, max_size=9)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(ids_strategy, min_size=1, max_size=4).filter(lambda r: len({len(x) for x in r}) == 1)
)
def test_running_majority_matches_a_loop(rows: list[list[int]]) -> None:
    ids = np.array(rows, dtype=np.int64)
    got = running_majority(ids)
    for p, row in enumerate(rows):
        for j in range(len(row)):
            counts: dict[int, int] = {}
            first: dict[int, int] = {}
            for i, answer in enumerate(row[: j + 1]):
                if answer != NO_ANSWER:
                    counts[answer] = counts.get(answer, 0) + 1
                    first.setdefault(answer, i)
            if not counts:
                assert got[p, j] == -1
                continue
            best = max(counts, key=lambda a: (counts[a], -first[a]))
            assert got[p, j] == first[best]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=9), st.data())
def test_running_best_and_first_correct_prefix_match_loops(
    scores: list[float], data: st.DataObject
) -> None:
    k = len(scores)
    empty = data.draw(st.lists(st.booleans(), min_size=k, max_size=k))
    correct = data.draw(st.lists(st.booleans(), min_size=k, max_size=k))
    picks = running_best(np.array([scores]), np.array([empty]))[0]
    for j in range(k):
        usable = [i for i in range(j + 1) if not empty[i]]
        expected = max(usable, key=lambda i: (scores[i], -i)) if usable else -1
        assert picks[j] == expected
    first = first_correct_prefix(picks[np.newaxis], np.array([correct]))[0]
    hits = [j for j in range(k) if picks[j] >= 0 and correct[picks[j]]]
    assert first == (hits[0] if hits else k)


def _bon_pick(scores: list[float], empty: list[bool]) -> int:
    """Fair Best-of-N by a plain loop: first usable sample with the highest score, -1 if none."""
    best, pick = -np.inf, -1
    for j, (s, e) in enumerate(zip(scores, empty, strict=True)):
        if not e and np.isfinite(s) and s > best:
            best, pick = s, j
    return pick


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([0.1, 0.5, 0.9, np.nan]), st.booleans()), min_size=1, max_size=8
    ),
    st.integers(1, 8),
)
def test_hindsight_stop_matches_a_loop(samples: list[tuple[float, bool]], n: int) -> None:
    n = min(n, len(samples))
    scores, empty = [s for s, _ in samples], [e for _, e in samples]
    final = _bon_pick(scores[:n], empty[:n])
    expected = next(j + 1 for j in range(n) if _bon_pick(scores[: j + 1], empty[: j + 1]) == final)
    picks = running_best(np.array([scores]), np.array([empty]))
    assert hindsight_stop(picks, n)[0] == expected


def test_hindsight_curve_has_best_of_n_accuracy_for_fewer_samples() -> None:
    rng = np.random.default_rng(11)
    pool: EvalPool = pool_of(rng, 40, 6)

    def bon(n: int, setting: Mapping[str, object]) -> FirstAbove:
        return FirstAbove(n, threshold=2.0)  # never reached: pays n, picks the best score

    result = evaluate(pool, [Method("BoN", bon, [{}])], orders=5, seed=0, n_resamples=20)
    by = {(p.method, p.n): p.selected for p in result.curves}
    for n in range(1, 7):
        bon_n, hind = by[("BoN", n)], by[("hindsight BoN", n)]
        np.testing.assert_allclose(hind.per_problem_correct, bon_n.per_problem_correct)
        assert np.all(hind.per_problem_samples <= bon_n.per_problem_samples + 1e-12)
        assert hind.mean_tokens <= bon_n.mean_tokens
    # With more than one sample, the best is often not the first: the stop saves samples.
    assert by[("hindsight BoN", 6)].mean_samples < 6


def test_hindsight_curve_pays_up_to_the_pick_on_a_ragged_pool_with_empty_samples() -> None:
    rng = np.random.default_rng(12)
    pool = pool_of(rng, 30, 7)
    empty = rng.random((30, 7)) < 0.3
    view = replace(pool.view, empty=empty)
    counts = np.array([7] * 20 + [4] * 10)
    ragged = EvalPool("ragged", view, pool.correct, n_samples=counts)
    result = evaluate(ragged, [METHOD], orders=None, selection="test-set", n_resamples=10)
    by = {(p.method, p.n): p.selected for p in result.curves}
    for n in range(1, 8):
        samples, tokens, right = np.zeros(30), np.zeros(30), np.zeros(30)
        for p in range(30):  # a loop over problems, each cut to its own sample count
            k = min(n, counts[p])
            picks = running_best(view.scores[p : p + 1, :k], empty[p : p + 1, :k])
            used = int(hindsight_stop(picks, k)[0])
            pick = int(picks[0, k - 1])
            samples[p], tokens[p] = used, view.tokens[p, :used].sum()
            right[p] = pick >= 0 and pool.correct[p, pick]
        hind = by[("hindsight BoN", n)]
        np.testing.assert_array_equal(hind.per_problem_samples, samples)
        np.testing.assert_array_equal(hind.per_problem_tokens, tokens)
        np.testing.assert_array_equal(hind.per_problem_correct, right)
