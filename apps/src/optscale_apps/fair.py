"""Fair mode: the paper's methods through the evaluation engine of optscale-pools.

Fair variants over R random sample orders, hyperparameters cross-fitted, at the table's
budgets (the paper's N up to K, and K itself). MR-Thinking runs on the sequential pool in pool
order (round j answers round j - 1, so its samples cannot be shuffled). This module only builds
the engine's inputs and turns its output into the table's records.
"""

from __future__ import annotations

from dataclasses import dataclass

from optscale_pools import CurvePoint as EngineCurve
from optscale_pools import Evaluation, Method, evaluate

from optscale_apps.datasets import table_budgets
from optscale_apps.eval_report import is_oracle
from optscale_apps.loaded import LoadedPools, oracle_curve
from optscale_apps.methods import catalogue, resolve
from optscale_apps.published import Published
from optscale_apps.records import METHODS, CurvePoint, FairPoint, Interval

TABLE_METHODS = [m for m in METHODS if m != "MR-Thinking"]
"""Methods of the table replayed over random orders (MR-Thinking keeps pool order)."""


@dataclass(frozen=True)
class FairResult:
    """Everything fair mode computed on one pool."""

    points: list[FairPoint]
    oracle: list[CurvePoint]
    evaluations: list[Evaluation]


def _mr_thinking() -> Method:
    from optscale_baselines import MRThinking

    return Method("MR-Thinking", lambda n, s: MRThinking(n, mode="fair"), ({},), uses_scores=False)


def fair_point(point: EngineCurve) -> FairPoint:
    """Return the table's record of one engine point (value and 95% interval)."""
    s = point.selected
    if s.rule == "crossfit":
        setting = "cross-fitted: " + " | ".join(dict.fromkeys(point.settings))
    else:
        setting = point.settings[0] if point.settings else ""
    return FairPoint(
        point.method,
        point.n,
        Interval(s.accuracy, *s.accuracy_ci),
        Interval(s.mean_tokens, *s.tokens_ci),
        setting,
    )


def run_fair(
    loaded: LoadedPools,
    published: Published,
    *,
    name: str,
    orders: int,
    seed: int,
    progress: bool = True,
) -> FairResult:
    """Fair mode on one loaded pool: every method at the table's budgets, and the oracle bound."""
    budgets = table_budgets(loaded.view.n_samples)
    grid = [
        {"target": t, "percentile": p} for t in published.targets for p in published.percentiles
    ]
    specs = catalogue(grid, dict(published.panels))
    has_priors = bool((loaded.view.prior_mu == loaded.view.prior_mu).all())
    methods, _ = resolve(TABLE_METHODS, specs, has_priors=has_priors)
    pool = loaded.eval_pool(name)
    evaluations = [
        evaluate(pool, methods, budgets=budgets, orders=orders, seed=seed, progress=progress)
    ]
    if loaded.seq_view is not None:
        seq = loaded.eval_pool(name, sequential=True)
        seq_budgets = [n for n in budgets if n <= seq.max_k]
        evaluations.append(evaluate(seq, [_mr_thinking()], budgets=seq_budgets, orders=None))
    points = [fair_point(p) for e in evaluations for p in e.curves if not is_oracle(p)]
    return FairResult(points, oracle_curve(loaded, orders=orders, seed=seed), evaluations)
