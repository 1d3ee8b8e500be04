"""Paper mode: every method replayed in pool order with upstream's rules, grids and selection."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from tqdm import tqdm

from optscale_apps.loaded import LoadedPools, evaluate, oracle_curve
from optscale_apps.published import Published
from optscale_apps.records import OPTSCALE_VARIANTS, CurvePoint, OptScaleCell

DSC_DEFAULT = "dsc_default"
"""Setting name of upstream's default DSC run in ``curves.csv`` (its JSON key)."""


@dataclass(frozen=True)
class PaperResult:
    """Everything paper mode computed on one pool."""

    curves: list[CurvePoint]
    cells: list[OptScaleCell]
    oracle: list[CurvePoint]
    dsc_default: CurvePoint
    """Upstream's ``dsc_default`` run (max_sample_size = K, overhead over the first 5 token
    counts, first on the random stream); written to ``curves.csv`` only, under the setting
    `DSC_DEFAULT`."""


@dataclass(frozen=True)
class _Fixed:
    """A policy that replays decisions already made (DSC's sweep shares one random stream)."""

    name: str
    decisions: Any
    rows_independent: ClassVar[bool] = False
    verify_order: ClassVar[str] = "gold_pred"

    @classmethod
    def grid(cls) -> list[dict[str, object]]:
        return [{}]

    def run(self, view: Any) -> Any:
        return self.decisions


def _curve(
    loaded: LoadedPools,
    method: str,
    setting: str,
    make: Callable[[int], Any],
    sequential: bool = False,
) -> list[CurvePoint]:
    points = []
    for n in curve_ns(loaded):
        result = evaluate(loaded, make(n), sequential=sequential)
        points.append(CurvePoint(method, setting, n, result.accuracy, result.mean_tokens))
    return points


def curve_ns(loaded: LoadedPools) -> range:
    """Budgets of the curves: every N in 1..K (1..64 for the paper's pools)."""
    return range(1, loaded.view.n_samples + 1)


def baseline_curves(loaded: LoadedPools) -> tuple[list[CurvePoint], CurvePoint]:
    """BoN, SC, ESC, ASC, DSC (upstream's ``max_sample_size`` sweep) and MR-Thinking, N = 1..64.

    Also returns upstream's default DSC run, which comes first on DSC's random stream.
    """
    from optscale_baselines import (
        AdaptiveSC,
        BestOfN,
        DifficultyAdaptiveSC,
        EarlyStoppingSC,
        MRThinking,
        SelfConsistency,
    )

    curves = _curve(loaded, "BoN", "", lambda n: BestOfN(n, mode="paper"))
    curves += _curve(loaded, "SC", "", lambda n: SelfConsistency(n, mode="paper"))
    curves += _curve(
        loaded, "ESC", "window=5", lambda n: EarlyStoppingSC(window=5, max_n=n, mode="paper")
    )
    curves += _curve(
        loaded, "ASC", "threshold=0.95", lambda n: AdaptiveSC(threshold=0.95, max_n=n, mode="paper")
    )
    sizes = curve_ns(loaded)
    default, sweep = DifficultyAdaptiveSC.paper_sweep(
        loaded.view, sizes=sizes, default_size=sizes[-1], problems=loaded.problems or None
    )
    for n, decisions in zip(sizes, sweep, strict=True):
        result = evaluate(loaded, _Fixed(f"dsc@{n}", decisions))
        curves.append(CurvePoint("DSC", "", n, result.accuracy, result.mean_tokens))
    result = evaluate(loaded, _Fixed(DSC_DEFAULT, default))
    dsc_default = CurvePoint("DSC", DSC_DEFAULT, sizes[-1], result.accuracy, result.mean_tokens)
    if loaded.seq_view is not None:
        curves += _curve(
            loaded, "MR-Thinking", "", lambda n: MRThinking(n, mode="paper"), sequential=True
        )
    return curves, dsc_default


def optscale_cells(
    loaded: LoadedPools, published: Published, progress: bool = True
) -> list[OptScaleCell]:
    """Every OptScale grid cell of every panel upstream evaluated, for both variants.

    The panels (``max_N`` with its peek) and the target and percentile grids are read from
    upstream's notebook output, so each dataset gets the grid upstream actually used. Panels
    whose max_N exceeds the pool's K are left out.
    """
    from optscale_math import OptScalePolicy

    settings: list[tuple[str, int, int, float, float]] = [
        (variant, max_n, peek, target, percentile)
        for variant in OPTSCALE_VARIANTS.values()
        for max_n, peek in published.panels
        if max_n <= loaded.view.n_samples
        for target in published.targets
        for percentile in published.percentiles
    ]
    cells = []
    bar: Iterable[tuple[str, int, int, float, float]] = tqdm(
        settings, desc="OptScale grid", unit="cell", disable=not progress, leave=False
    )
    for variant, max_n, peek, target, percentile in bar:
        policy = OptScalePolicy(
            variant="mle" if variant == "MLE" else "map",
            peek=peek,
            max_n=max_n,
            target=target,
            percentile=percentile,
            mode="paper",
        )
        result = evaluate(loaded, policy)
        cells.append(
            OptScaleCell(
                variant,
                max_n,
                peek,
                target,
                percentile,
                result.accuracy,
                result.mean_tokens,
                tuple(int(n) for n in np.asarray(result.n_used)[0]),
            )
        )
    return cells


def run_paper(loaded: LoadedPools, published: Published) -> PaperResult:
    """Paper mode on one loaded pool: curves, OptScale grid and the oracle bound."""
    curves, dsc_default = baseline_curves(loaded)
    return PaperResult(
        curves=curves,
        cells=optscale_cells(loaded, published),
        oracle=oracle_curve(loaded),
        dsc_default=dsc_default,
    )
