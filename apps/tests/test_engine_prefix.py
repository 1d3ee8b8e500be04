"""The engine's one-run path for ``PrefixPolicy`` methods gives the numbers of a replay per budget.

The oracle is the same method with the capability hidden (a wrapper that only forwards the
``Policy`` members), which the engine replays budget by budget. Every output must be equal:
curves with their intervals and per-problem outcomes, and every setting's point, on a pool of
equal rows and on a ragged one, in random orders and in pool order, under both selection rules.
A method whose policy declares the capability wrongly gives different numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pytest
from optscale_apps.methods import catalogue, resolve
from optscale_baselines import DeepConfOnline
from optscale_baselines._live import replay_core_prefixes
from optscale_math import Decisions, Policy, PrefixDecisions, PrefixPolicy, VerifyOrder, ViewLike
from optscale_pools import EvalPool, Evaluation, Method, PoolView, evaluate

CAPABLE = ["BoN", "SC", "ESC", "Threshold"]


@dataclass(frozen=True)
class Hidden:
    """A policy with every ``Policy`` member forwarded and ``run_prefixes`` hidden."""

    inner: Policy

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def rows_independent(self) -> bool:
        return self.inner.rows_independent

    @property
    def verify_order(self) -> VerifyOrder:
        return self.inner.verify_order

    def run(self, view: ViewLike) -> Decisions:
        return self.inner.run(view)

    @classmethod
    def grid(cls) -> list[dict[str, object]]:
        return [{}]


def hidden(method: Method) -> Method:
    return replace(method, make=lambda n, s: Hidden(method.make(n, s)))


def simulated(seed: int, problems: int = 24, k: int = 9) -> EvalPool:
    rng = np.random.default_rng(seed)
    shape = (problems, k)
    correct = rng.random(shape) < rng.beta(2, 1.5, size=(problems, 1))
    scores = np.round(np.clip(np.where(correct, 0.7, 0.5) + 0.2 * rng.normal(size=shape), 0, 1), 1)
    answers = np.where(correct, 0, rng.integers(1, 3, size=shape))
    view = PoolView(
        scores=np.where(rng.random(shape) < 0.05, np.nan, scores),
        last_scores=scores,
        answer_ids=np.where(rng.random(shape) < 0.1, -1, answers).astype(np.int64),
        tokens=rng.integers(10, 400, size=shape),
        empty=rng.random(shape) < 0.05,
        prior_mu=np.full(problems, 0.6),
        prior_sigma=np.full(problems, 0.2),
    )
    return EvalPool("sim", view, correct, simulated=True)


def outputs(evaluation: Evaluation) -> list[Any]:
    rows: list[Any] = []
    for curve in evaluation.curves:
        s = curve.selected
        point = (curve.method, curve.n, curve.settings, s.rule, s.chosen, s.accuracy)
        spread = (s.mean_tokens, s.mean_samples, s.accuracy_ci, s.tokens_ci, s.samples_ci)
        problems = (s.per_problem_correct, s.per_problem_tokens, s.per_problem_samples)
        rows.append((*point, *spread, *(values.tolist() for values in problems)))
    return rows + list(evaluation.settings)


@pytest.mark.parametrize("ragged", [False, True])
@pytest.mark.parametrize("orders", [3, None])
@pytest.mark.parametrize("selection", ["crossfit", "test-set"])
def test_one_run_gives_the_replay_per_budget(
    ragged: bool, orders: int | None, selection: Any
) -> None:
    pool = simulated(seed=4 if ragged else 5)
    if ragged:
        counts = np.where(np.arange(pool.n_problems) % 3 == 0, 5, pool.max_k)
        pool = replace(pool, n_samples=counts)
    methods, _ = resolve(CAPABLE, catalogue(), has_priors=True)
    assert all(isinstance(m.make(pool.max_k, m.grid[0]), PrefixPolicy) for m in methods)
    kwargs: dict[str, Any] = {
        "orders": orders,
        "seed": 2,
        "selection": selection,
        "n_resamples": 50,
    }
    fast = evaluate(pool, methods, **kwargs)
    slow = evaluate(pool, [hidden(m) for m in methods], **kwargs)
    assert outputs(fast) == outputs(slow)


@dataclass(frozen=True)
class CapReadingDeepConf(DeepConfOnline):
    """Online DeepConf claiming the capability although its warm-up reads the cap."""

    def run_prefixes(self, view: ViewLike) -> PrefixDecisions:
        return replay_core_prefixes(self, view)


def test_a_wrong_declaration_changes_the_numbers() -> None:
    pool = simulated(seed=6)
    wrong = Method("wrong", lambda n, s: CapReadingDeepConf(max_n=n, warmup=4), ({},))
    fast = evaluate(pool, [wrong], orders=3, n_resamples=20)
    slow = evaluate(pool, [hidden(wrong)], orders=3, n_resamples=20)
    assert outputs(fast) != outputs(slow)
