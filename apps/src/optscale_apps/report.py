"""Turn this run's numbers and the published ones into tables and CSV rows (formatting only)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from optscale_pools import Evaluation, best_setting

from optscale_apps.datasets import PAPER_NS, DatasetSpec
from optscale_apps.published import Published
from optscale_apps.records import (
    METHODS,
    OPTSCALE_VARIANTS,
    CurvePoint,
    FairPoint,
    OptScaleCell,
)
from optscale_apps.tables import Cell, Table

PAPER_COLUMNS = (
    "method",
    "N",
    "accuracy (%)",
    "published (%)",
    "diff (pts)",
    "mean tokens",
    "published tokens",
    "diff tokens (%)",
    "setting",
    "published setting",
)
FAIR_COLUMNS = ("method", "N", "accuracy (%)", "95% CI (%)", "mean tokens", "95% CI", "setting")
CELL_COLUMNS = (
    "pool",
    "pool_kind",
    "variant",
    "max_N",
    "peek",
    "target",
    "percentile",
    "accuracy",
    "accuracy_pct",
    "mean_tokens",
    "n_per_problem",
)
FAIR_CELL_COLUMNS = (
    "pool",
    "pool_kind",
    "variant",
    "max_N",
    "setting",
    "accuracy_pct",
    "mean_samples",
    "mean_tokens",
    "chosen",
)


def caption(spec: DatasetSpec, mode: str, simulated: bool, extra: str = "") -> str:
    """Caption naming the dataset, the mode and, first, whether the pool is REAL or SIMULATED."""
    kind = "SIMULATED pool" if simulated else "REAL pool"
    text = f"{kind}: {spec.upstream}, {mode} mode"
    return f"{text}; {extra}" if extra else text


def setting_text(peek: int, target: float, percentile: float) -> str:
    """Short text of an OptScale setting in the paper's tables."""
    return f"peek={peek}, target={target:g}, pct={percentile:g}"


def selected_points(cells: Sequence[OptScaleCell]) -> list[CurvePoint]:
    """List the cell the paper reports per variant and panel of a reported grid, as points.

    For reported grids (the published cells): the paper's rule picks from their numbers
    ([`best_setting`][optscale_pools.best_setting]). This run's choice comes from the engine.
    """
    points = []
    for method, variant in OPTSCALE_VARIANTS.items():
        for max_n in sorted({c.max_n for c in cells if c.variant == variant}):
            panel = [c for c in cells if c.variant == variant and c.max_n == max_n]
            cell = panel[best_setting([c.accuracy for c in panel], [c.mean_tokens for c in panel])]
            setting = setting_text(cell.peek, cell.target, cell.percentile)
            points.append(CurvePoint(method, setting, max_n, cell.accuracy, cell.mean_tokens))
    return points


def _at(points: Sequence[CurvePoint], method: str, n: int) -> CurvePoint | None:
    return next((p for p in points if p.method == method and p.n == n), None)


def paper_table(
    spec: DatasetSpec,
    simulated: bool,
    ours: Sequence[CurvePoint],
    published: Published,
    budgets: Sequence[int] = PAPER_NS,
) -> Table:
    """Paper mode: every method at the ``budgets``, next to the published number and the difference.

    ``ours`` holds this run's points: the baselines' curves and OptScale's setting chosen by the
    paper's rule on the test set, per panel. Methods this run did not produce are left out.
    """
    theirs = selected_points(published.cells)
    rows: list[list[Cell]] = []
    for n in budgets:
        for method in METHODS:
            point = _at(ours, method, n)
            if point is None:
                continue
            acc, tokens = 100 * point.accuracy, point.mean_tokens
            row: list[Cell] = [method, n, f"{acc:.1f}"]
            pub = published.table.get((method, n))
            if pub is None:
                row += [None, None, f"{tokens:.0f}", None, None]
            else:
                pub_acc, pub_tokens = 100 * pub[0], pub[1]
                row += [
                    f"{pub_acc:.1f}",
                    _signed(acc - pub_acc),
                    f"{tokens:.0f}",
                    f"{pub_tokens:.0f}",
                    _signed(100 * (tokens - pub_tokens) / pub_tokens),
                ]
            pub_point = _at(theirs, method, n)
            row += [point.setting, pub_point.setting if pub_point else None]
            rows.append(row)
    note = "published = results/results_table.csv of the paper (its real pool)"
    return Table(caption(spec, "paper", simulated, note), _kind(simulated), PAPER_COLUMNS, rows)


def fair_table(
    spec: DatasetSpec,
    simulated: bool,
    points: Sequence[FairPoint],
    orders: int,
    budgets: Sequence[int] = PAPER_NS,
) -> Table:
    """Fair mode: every method at the ``budgets`` with 95% intervals over random sample orders."""
    rows: list[list[Cell]] = []
    for n in budgets:
        for method in METHODS:
            point = next((p for p in points if p.method == method and p.n == n), None)
            if point is None:
                continue
            acc, tok = point.accuracy, point.mean_tokens
            rows.append(
                [
                    method,
                    n,
                    f"{100 * acc.value:.1f}",
                    f"[{100 * acc.low:.1f}, {100 * acc.high:.1f}]",
                    f"{tok.value:.0f}",
                    f"[{tok.low:.0f}, {tok.high:.0f}]",
                    point.setting,
                ]
            )
    note = f"{orders} random sample orders, hyperparameters cross-fitted"
    return Table(caption(spec, "fair", simulated, note), _kind(simulated), FAIR_COLUMNS, rows)


def cell_rows(cells: Sequence[OptScaleCell], pool: str, simulated: bool) -> list[list[Cell]]:
    """Rows of ``optscale_cells.csv``; the per-problem N is a JSON list."""
    return [
        [
            pool,
            _kind(simulated),
            c.variant,
            c.max_n,
            c.peek,
            c.target,
            c.percentile,
            c.accuracy,
            100 * c.accuracy,
            c.mean_tokens,
            json.dumps(list(c.n_per_problem)),
        ]
        for c in cells
    ]


def _signed(value: float) -> str:
    """``value`` with a sign and one decimal, never ``-0.0``."""
    text = f"{value:+.1f}"
    return "+0.0" if text == "-0.0" else text


def _kind(simulated: bool) -> str:
    return "SIMULATED" if simulated else "REAL"


def fair_cell_rows(evaluation: Evaluation) -> list[list[Cell]]:
    """Rows of fair mode's ``optscale_cells.csv``: every OptScale setting at every budget."""
    chosen = {(p.method, p.n): set(p.selected.chosen) for p in evaluation.curves}
    kind = "SIMULATED" if evaluation.simulated else "REAL"
    return [
        [
            evaluation.pool,
            kind,
            OPTSCALE_VARIANTS[s.method],
            s.n,
            s.setting,
            100 * s.accuracy,
            s.mean_samples,
            s.mean_tokens,
            str(s.index in chosen[(s.method, s.n)]).lower(),
        ]
        for s in evaluation.settings
        if s.method in OPTSCALE_VARIANTS
    ]
