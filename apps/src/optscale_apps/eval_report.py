"""What ``optscale-eval`` writes: curves, settings, per-problem outcomes and the summary.

CSV floats are written with ``repr`` (shortest text that reads back to the same float);
accuracies are percentages, like the tables. Every row names the pool and says REAL or
SIMULATED.
"""

from __future__ import annotations

from optscale_pools import CurvePoint, Estimate, Evaluation, Headline

from optscale_apps.tables import Cell

CURVE_COLUMNS = (
    "pool", "pool_kind", "selection", "method", "n", "accuracy_pct", "accuracy_low_pct",
    "accuracy_high_pct", "mean_samples", "samples_low", "samples_high", "mean_tokens",
    "tokens_low", "tokens_high", "rule", "settings", "accuracy",
)  # fmt: skip
"""Columns of every ``curves.csv`` (optscale-eval, and optscale-reproduce in both modes)."""
SETTING_COLUMNS = (
    "pool", "pool_kind", "method", "n", "index", "setting", "accuracy_pct", "mean_samples",
    "mean_tokens", "chosen",
)  # fmt: skip
PROBLEM_COLUMNS = (
    "pool", "pool_kind", "method", "n", "problem_id", "samples", "tokens", "correct",
)  # fmt: skip
SUMMARY_COLUMNS = (
    "pool", "pool_kind", "method", "reference", "reference_accuracy_pct",
    "reference_accuracy_low_pct", "reference_accuracy_high_pct", "reference_tokens",
    "reference_tokens_low", "reference_tokens_high", "ratio_match_reference",
    "ratio_match_reference_low", "ratio_match_reference_high", "majority",
    "majority_accuracy_pct", "majority_accuracy_low_pct", "majority_accuracy_high_pct",
    "ratio_match_majority", "ratio_match_majority_low", "ratio_match_majority_high",
    "accuracy_at_reference_tokens_pct", "accuracy_at_reference_tokens_low_pct",
    "accuracy_at_reference_tokens_high_pct",
)  # fmt: skip
ACCURACY_COLUMNS = (
    "pool", "pool_kind", "method", "reference", "n", "reference_tokens", "accuracy_pct",
    "accuracy_low_pct", "accuracy_high_pct",
)  # fmt: skip


def kind(evaluation: Evaluation) -> str:
    """Return ``"SIMULATED"`` or ``"REAL"`` for the evaluated pool."""
    return "SIMULATED" if evaluation.simulated else "REAL"


def is_oracle(point: CurvePoint) -> bool:
    """Tell the engine's bound curves (oracle bound, oracle stops, hindsight) from a method's."""
    return point.selected.rule == "oracle"


def curve_rows(evaluation: Evaluation, *, oracle: bool = True) -> list[list[Cell]]:
    """Rows of ``curves.csv``: one per method and budget, and per oracle curve unless ``oracle``.

    Accuracy in percent with its interval, like the tables; the last column is the fraction
    itself, exactly as computed, for comparing with another tool's numbers float for float.
    """
    rows: list[list[Cell]] = []
    for point in evaluation.curves:
        if not oracle and is_oracle(point):
            continue
        s = point.selected
        rows.append(
            [
                evaluation.pool, kind(evaluation), evaluation.selection, point.method, point.n,
                100 * s.accuracy, 100 * s.accuracy_ci[0], 100 * s.accuracy_ci[1],
                s.mean_samples, *s.samples_ci, s.mean_tokens, *s.tokens_ci, s.rule,
                " | ".join(point.settings), s.accuracy,
            ]
        )  # fmt: skip
    return rows


def setting_rows(evaluation: Evaluation) -> list[list[Cell]]:
    """One row per method, budget and setting; ``chosen`` marks the selected one(s)."""
    chosen = {(p.method, p.n): set(p.selected.chosen) for p in evaluation.curves}
    return [
        [
            evaluation.pool,
            kind(evaluation),
            s.method,
            s.n,
            s.index,
            s.setting,
            100 * s.accuracy,
            s.mean_samples,
            s.mean_tokens,
            str(s.index in chosen.get((s.method, s.n), set())).lower(),
        ]
        for s in evaluation.settings
    ]


def problem_rows(evaluation: Evaluation) -> list[list[Cell]]:
    """One row per method, budget and problem: samples, tokens and correctness (mean of orders)."""
    rows: list[list[Cell]] = []
    for point in evaluation.curves:
        s = point.selected
        for index, problem in enumerate(evaluation.problem_ids):
            rows.append(
                [
                    evaluation.pool, kind(evaluation), point.method, point.n, problem,
                    float(s.per_problem_samples[index]), float(s.per_problem_tokens[index]),
                    float(s.per_problem_correct[index]),
                ]
            )  # fmt: skip
    return rows


def _bounds(estimate: Estimate | None, scale: float = 1.0) -> list[Cell]:
    """Point, low and high of ``estimate`` times ``scale`` (empty cells when absent)."""
    if estimate is None:
        return ["", "", ""]
    return [scale * estimate.point, scale * estimate.low, scale * estimate.high]


def summary_rows(evaluation: Evaluation, head: Headline) -> list[list[Cell]]:
    """Rows of ``summary.csv``: one per method (see ``SUMMARY_COLUMNS``)."""
    majority = "" if head.majority is None else f"{head.majority}@{head.k}"
    return [
        [
            evaluation.pool, kind(evaluation), row.method, f"{head.reference}@{head.k}",
            *_bounds(head.reference_accuracy, 100), *_bounds(head.reference_tokens),
            *_bounds(row.match_reference), majority,
            *_bounds(head.majority_accuracy, 100), *_bounds(row.match_majority),
            *_bounds(row.accuracy_at[-1], 100),
        ]
        for row in head.rows
    ]  # fmt: skip


def accuracy_rows(evaluation: Evaluation, head: Headline) -> list[list[Cell]]:
    """Rows of ``accuracy_at_tokens.csv``: one per method and budget (see ``ACCURACY_COLUMNS``)."""
    return [
        [
            evaluation.pool, kind(evaluation), row.method, head.reference, n,
            head.reference_tokens_at[index].point, *_bounds(row.accuracy_at[index], 100),
        ]
        for row in head.rows
        for index, n in enumerate(head.budgets)
    ]  # fmt: skip
