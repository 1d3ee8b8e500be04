"""Every policy of every package pays for what it reads: unpaid samples never change a decision.

Policies are enumerated from the packages' ``__all__`` (anything with ``run``, ``grid`` and
``verify_order`` that is not a protocol), so a new policy is checked without editing this file.
Each is built at several budgets for the settings of its grid (a long grid: a spread of them),
run on a view as the evaluation engine builds it (a real pool read and graded by optscale-pools,
and a synthetic one, each also in a random sample order drawn by the engine), and run again
after every sample at or beyond its ``n_used`` was replaced by garbage. Nothing may move.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from optscale_math import NO_ANSWER, Decisions
from optscale_pools import PoolView, draw_orders
from threadpoolctl import threadpool_limits

REPO = Path(__file__).resolve().parents[2]
REAL = REPO.parent / "shared" / "data" / "real" / "qwen25math-math100"
PACKAGES = ("optscale_math", "optscale_baselines")
BUDGET_NAMES = ("n", "max_n", "max_sample_size")
BUDGETS = (1, 3, 8)


def policy_classes() -> list[type]:
    """Every exported policy class of every package that writes policies."""
    found = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            obj = getattr(module, name)
            if (
                inspect.isclass(obj)
                and not getattr(obj, "_is_protocol", False)
                and callable(getattr(obj, "run", None))
                and callable(getattr(obj, "grid", None))
                and hasattr(obj, "verify_order")
            ):
                found.append(obj)
    return found


def configurations(cls: type, budget: int) -> Iterator[Any]:
    """The class at ``budget`` for every setting of its grid, in every mode it has."""
    params = inspect.signature(cls).parameters
    base: dict[str, Any] = {name: budget for name in BUDGET_NAMES if name in params}
    assert base, f"{cls.__name__}: no budget parameter among {BUDGET_NAMES}; extend this test"
    modes = ("paper", "fair") if "mode" in params else (None,)
    variants = ("mle", "map") if "variant" in params else (None,)
    grid = cls.grid()  # type: ignore[attr-defined]
    # A long grid (OptScale's 48 cells) is checked at its corners and a few cells between.
    step = max(1, len(grid) // 4)
    for setting in [*grid[::step], grid[-1]]:
        for mode in modes:
            for variant in variants:
                kwargs = {**base, **setting}
                if mode is not None:
                    kwargs["mode"] = mode
                if variant is not None:
                    kwargs["variant"] = variant
                if "peek" in params:
                    kwargs["peek"] = max(1, (3 * budget + 9) // 10)
                yield cls(**kwargs)


# Paper-mode DSC reproduces upstream, which ranks problems by the mean of ALL their scores and
# charges a token overhead from unpaid samples: it reads what it did not pay for by design.
READS_UNPAID = {("DifficultyAdaptiveSC", "paper")}


def reads_unpaid_by_design(policy: Any) -> bool:
    return (type(policy).__name__, getattr(policy, "mode", None)) in READS_UNPAID


def with_garbage(view: PoolView, n_used: np.ndarray, rng: np.random.Generator) -> PoolView:
    """Replace every sample at index >= n_used of its row by random values."""
    rows, k = view.scores.shape
    unpaid = np.arange(k)[np.newaxis, :] >= n_used[:, np.newaxis]

    def spoil(values: np.ndarray, junk: np.ndarray) -> np.ndarray:
        return np.where(unpaid, junk, values)

    return PoolView(
        scores=spoil(view.scores, rng.random((rows, k))),
        last_scores=spoil(view.last_scores, rng.random((rows, k))),
        answer_ids=spoil(view.answer_ids, rng.choice([NO_ANSWER, 0, 1, 500], size=(rows, k))),
        tokens=spoil(view.tokens, rng.integers(0, 10**6, size=(rows, k))),
        empty=spoil(view.empty, rng.random((rows, k)) < 0.5),
        prior_mu=view.prior_mu,
        prior_sigma=view.prior_sigma,
    )


def assert_same(policy: Any, first: Decisions, second: Decisions) -> None:
    name = policy.name
    np.testing.assert_array_equal(first.n_used, second.n_used, err_msg=f"{name}: n_used moved")
    np.testing.assert_array_equal(first.pick, second.pick, err_msg=f"{name}: pick moved")
    assert first.extra_tokens == second.extra_tokens, f"{name}: extra_tokens moved"


def check_view(view: PoolView, seed: int) -> int:
    """Run every configuration on ``view``; return how many were checked."""
    rng = np.random.default_rng(seed)
    checked = 0
    # one BLAS thread: paper-mode OptScale runs small per-problem L-BFGS-B fits
    with threadpool_limits(limits=1):
        checked += _check_all(view, rng)
    return checked


def _check_all(view: PoolView, rng: np.random.Generator) -> int:
    checked = 0
    for cls in policy_classes():
        for budget in BUDGETS:
            if budget > view.scores.shape[1]:
                continue
            for policy in configurations(cls, budget):
                if reads_unpaid_by_design(policy):
                    continue
                decided = policy.run(view)
                spoiled = with_garbage(view, np.asarray(decided.n_used), rng)
                assert_same(policy, decided, policy.run(spoiled))
                checked += 1
    return checked


def with_priors(view: PoolView) -> PoolView:
    """The view with finite priors, so prior-based policies and settings run too."""
    n = view.scores.shape[0]
    return dataclasses.replace(view, prior_mu=np.full(n, 0.7), prior_sigma=np.full(n, 0.15))


def synthetic_view(rng: np.random.Generator, n_problems: int, n_samples: int) -> PoolView:
    scores = rng.beta(4, 2, size=(n_problems, n_samples))
    return PoolView(
        scores=scores,
        last_scores=np.clip(scores + rng.normal(0, 0.05, scores.shape), 0, 1),
        answer_ids=rng.choice([NO_ANSWER, 0, 1, 2], size=scores.shape, p=[0.1, 0.5, 0.3, 0.1]),
        tokens=rng.integers(50, 500, size=scores.shape),
        empty=rng.random(scores.shape) < 0.03,
        prior_mu=np.full(n_problems, np.nan),
        prior_sigma=np.full(n_problems, np.nan),
    )


def test_policies_are_found() -> None:
    names = {cls.__name__ for cls in policy_classes()}
    assert {"OptScalePolicy", "BestOfN", "SelfConsistency", "DifficultyAdaptiveSC"} <= names


def test_the_check_catches_a_policy_that_reads_unpaid_samples() -> None:
    # paper-mode DSC ranks problems by the mean of all their scores: garbage must move it
    from optscale_baselines import DifficultyAdaptiveSC

    rng = np.random.default_rng(4)
    view = synthetic_view(rng, 16, 8)
    policy = DifficultyAdaptiveSC(8, "paper")
    decided = policy.run(view)
    moved = False
    for _ in range(5):
        spoiled = with_garbage(view, np.asarray(decided.n_used), rng)
        try:
            assert_same(policy, decided, policy.run(spoiled))
        except AssertionError:
            moved = True
    assert moved


def test_unpaid_samples_change_no_decision_on_a_synthetic_pool() -> None:
    rng = np.random.default_rng(3)
    view = with_priors(synthetic_view(rng, 16, 8))
    order = draw_orders(view, 1, seed=5).order_view(0)
    assert check_view(view, 0) > 0
    assert check_view(order, 1) > 0


def test_unpaid_samples_change_no_decision_on_a_real_pool(tmp_path: Path) -> None:
    if not (REAL / "pool.json").is_file():
        pytest.skip(f"real pool absent: {REAL} (the shared development data)")
    from optscale_pools import EvalPool, grade_pool, read_prompts, read_upstream_pool

    pool = read_upstream_pool(
        REAL / "pool.json", read_prompts(REAL / "prompts.json"), keep_completions=False
    )
    grades = grade_pool(pool, cache=tmp_path / "grades", progress=False)
    evaluated = EvalPool.from_pool(pool, grades, name="qwen25math-math100")
    # 30 of its 100 problems keep paper-mode OptScale's per-problem fits quick
    view = with_priors(evaluated.view)
    view = PoolView(**{f.name: getattr(view, f.name)[:30] for f in dataclasses.fields(view)})
    order = draw_orders(view, 1, seed=2).order_view(0)
    assert check_view(view, 0) > 0
    assert check_view(order, 1) > 0
