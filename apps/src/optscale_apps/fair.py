"""Fair mode: fair variants over R random sample orders, hyperparameters cross-fitted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from optscale_apps.datasets import PAPER_NS
from optscale_apps.loaded import LoadedPools, evaluate, oracle_curve
from optscale_apps.published import Published
from optscale_apps.records import OPTSCALE_VARIANTS, CurvePoint, FairPoint, Interval

if TYPE_CHECKING:
    from optscale_pools import SampleOrders


@dataclass(frozen=True)
class FairResult:
    """Everything fair mode computed on one pool."""

    points: list[FairPoint]
    oracle: list[CurvePoint]


@dataclass(frozen=True)
class MethodGrid:
    """One method of the table: how to build its fair policy at budget N for each grid setting."""

    method: str
    make: Callable[[int, dict[str, Any]], Any]
    grid: Sequence[dict[str, Any]]
    sequential: bool = False


def _setting_text(setting: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in setting.items())


def baseline_grids() -> list[MethodGrid]:
    """BoN, SC, ESC, ASC, DSC and MR-Thinking in fair mode, each with its own declared grid."""
    from optscale_baselines import (
        AdaptiveSC,
        BestOfN,
        DifficultyAdaptiveSC,
        EarlyStoppingSC,
        MRThinking,
        SelfConsistency,
    )

    return [
        MethodGrid("BoN", lambda n, s: BestOfN(n, mode="fair", **s), BestOfN.grid()),
        MethodGrid("SC", lambda n, s: SelfConsistency(n, mode="fair", **s), SelfConsistency.grid()),
        MethodGrid(
            "MR-Thinking",
            lambda n, s: MRThinking(n, mode="fair", **s),
            MRThinking.grid(),
            sequential=True,
        ),
        MethodGrid(
            "ESC",
            lambda n, s: EarlyStoppingSC(max_n=n, mode="fair", **s),
            EarlyStoppingSC.grid(),
        ),
        MethodGrid("ASC", lambda n, s: AdaptiveSC(max_n=n, mode="fair", **s), AdaptiveSC.grid()),
        MethodGrid(
            "DSC",
            lambda n, s: DifficultyAdaptiveSC(max_sample_size=n, mode="fair", **s),
            DifficultyAdaptiveSC.grid(),
        ),
    ]


def optscale_grids(published: Published) -> list[MethodGrid]:
    """OptScale^0 and OptScale^t in fair mode over the dataset's target x percentile grid.

    Each budget N keeps upstream's peek for that panel (3, 5, 10, 20 for N = 8, 16, 32, 64).
    OptScale decides every problem on its own, so the R orders are replayed stacked, and the
    per-panel fits are shared by all grid cells.
    """
    from optscale_math import OptScalePolicy

    peek_of = dict(published.panels)
    targets, percentiles = published.target_scores, published.percentiles
    grid = [{"target_score": t, "percentile": p} for t in targets for p in percentiles]

    def maker(variant: str) -> Callable[[int, dict[str, Any]], Any]:
        return lambda n, s: OptScalePolicy(variant, peek_of[n], n, mode="fair", **s)

    return [
        MethodGrid(method, maker(variant.lower()), grid)
        for method, variant in OPTSCALE_VARIANTS.items()
    ]


def fair_point(
    loaded: LoadedPools, grid: MethodGrid, n: int, *, orders: int | SampleOrders, seed: int
) -> FairPoint:
    """One method at budget ``n``: replay every grid setting over the same orders, cross-fit.

    The value is the two-fold cross-fitted estimate of ``optscale_pools.cross_fit`` (setting
    chosen on one half of the problems, measured on the other, swapped, averaged). Its interval
    is that function's 95% bootstrap interval, which resamples the problems of each half and
    redoes the selection in every replicate, so the uncertainty of the selection is included.
    A method with a single setting keeps replay's interval (problems and orders resampled). A
    sequential pool keeps its order (round j answers round j - 1), so MR-Thinking is replayed in
    pool order and its interval covers problems only.
    """
    from optscale_pools import cross_fit

    replay_orders = None if grid.sequential else orders
    results = [
        evaluate(
            loaded,
            grid.make(n, setting),
            sequential=grid.sequential,
            orders=replay_orders,
            seed=seed,
        )
        for setting in grid.grid
    ]
    if len(results) == 1:
        only = results[0]
        return FairPoint(
            grid.method,
            n,
            Interval(only.accuracy, *only.accuracy_ci),
            Interval(only.mean_tokens, *only.tokens_ci),
            _setting_text(grid.grid[0]),
        )
    fitted = cross_fit(results, seed=seed)
    chosen = sorted(set(fitted.chosen))
    settings = " | ".join(_setting_text(grid.grid[i]) for i in chosen)
    return FairPoint(
        grid.method,
        n,
        Interval(fitted.accuracy, *fitted.accuracy_ci),
        Interval(fitted.mean_tokens, *fitted.tokens_ci),
        f"cross-fitted: {settings}",
    )


def run_fair(loaded: LoadedPools, published: Published, *, orders: int, seed: int) -> FairResult:
    """Fair mode on one loaded pool: every method at N = 8..64, and the oracle bound."""
    grids = [g for g in baseline_grids() if not g.sequential or loaded.seq_view is not None]
    grids += optscale_grids(published)
    budgets = [n for n in PAPER_NS if n <= loaded.view.n_samples and n in dict(published.panels)]
    jobs = [(grid, n) for grid in grids for n in budgets]
    from optscale_pools import draw_orders

    prepared = draw_orders(loaded.view, orders, seed)  # drawn once, replayed by every setting
    points = [
        fair_point(loaded, grid, n, orders=prepared, seed=seed)
        for grid, n in tqdm(jobs, desc="fair mode", unit="method", leave=False)
    ]
    return FairResult(points=points, oracle=oracle_curve(loaded, orders=orders, seed=seed))
