"""What ``optscale-eval`` writes: curves, settings, per-problem outcomes and the summary.

CSV floats are written with ``repr`` (shortest text that reads back to the same float);
accuracies are percentages, like the tables. Every row names the pool and says REAL or
SIMULATED.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from optscale_pools import CurvePoint, Evaluation
from optscale_pools.bootstrap import N_RESAMPLES, resample_counts

Cell = str | int | float
FloatArray = npt.NDArray[np.float64]

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
    "pool", "pool_kind", "method", "reference", "reference_accuracy_pct", "reference_tokens",
    "ratio_match_reference", "ratio_match_reference_low", "ratio_match_reference_high",
    "majority_accuracy_pct", "ratio_match_majority", "ratio_match_majority_low",
    "ratio_match_majority_high", "accuracy_at_reference_tokens_pct",
)  # fmt: skip


def kind(evaluation: Evaluation) -> str:
    """Return ``"SIMULATED"`` or ``"REAL"`` for the evaluated pool."""
    return "SIMULATED" if evaluation.simulated else "REAL"


def _cell(value: Cell) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[Sequence[Cell]]) -> None:
    """Write ``rows`` under ``columns`` (floats as ``repr``, which reads back exactly)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_cell(v) for v in row] for row in rows)


def is_oracle(point: CurvePoint) -> bool:
    """Tell the engine's oracle curves (the bound and the oracle stops) from a method's."""
    return point.method.startswith("oracle")


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


@dataclass(frozen=True)
class Headline:
    """A method's headline numbers against the reference (BoN@K, or majority@K without scores).

    Ratios are the method's fewest mean tokens reaching the target accuracy, divided by the
    reference's tokens at ``K``; NaN when the method never reaches it (``high`` is then inf).
    """

    method: str
    reference: str
    reference_accuracy: float
    reference_tokens: float
    match_reference: tuple[float, float, float]
    majority_accuracy: float
    match_majority: tuple[float, float, float]
    accuracy_at_reference_tokens: float


def _curve(evaluation: Evaluation, method: str) -> list[CurvePoint]:
    return sorted((p for p in evaluation.curves if p.method == method), key=lambda p: p.n)


def _ratio(
    correct: FloatArray, tokens: FloatArray, target: FloatArray, base: FloatArray
) -> FloatArray:
    """Per replicate row: fewest tokens with accuracy >= target, over base tokens (NaN: never)."""
    reached = correct >= target[:, np.newaxis] - 1e-12
    cost = np.where(reached, tokens, np.inf).min(axis=1)
    ratio: FloatArray = np.where(np.isfinite(cost), cost / base, np.nan)
    return ratio


def _with_interval(point: float, replicates: FloatArray) -> tuple[float, float, float]:
    if np.isnan(point):
        return (point, point, point)
    missing = np.isnan(replicates).mean()
    finite = replicates[~np.isnan(replicates)]
    low = float(np.percentile(finite, 2.5)) if finite.size else np.nan
    high = float(np.percentile(finite, 97.5)) if missing <= 0.025 else np.inf
    return (point, low, high)


def headlines(
    evaluation: Evaluation, seed: int = 0, n_resamples: int = N_RESAMPLES
) -> list[Headline]:
    """Headline of every method; intervals resample problems, the same draws for every curve."""
    methods = list(dict.fromkeys(p.method for p in evaluation.curves))
    reference = "BoN" if "BoN" in methods else "SC"
    if reference not in methods:
        return []
    k = max(evaluation.budgets)
    ref = _curve(evaluation, reference)[-1]
    majority = _curve(evaluation, "SC")[-1] if "SC" in methods else ref
    counts = resample_counts(np.random.default_rng(seed), len(evaluation.problem_ids), n_resamples)
    counts /= counts.sum(axis=1, keepdims=True)

    def boot(values: FloatArray) -> FloatArray:
        return counts @ values  # [B] or [B, N] from [P] or [P, N]

    out = []
    for method in methods:
        curve = _curve(evaluation, method)
        correct = np.stack([p.selected.per_problem_correct for p in curve], axis=1)  # [P, N]
        tokens = np.stack([p.selected.per_problem_tokens for p in curve], axis=1)
        point_c, point_t = correct.mean(axis=0), tokens.mean(axis=0)
        ref_c, ref_t = ref.selected.per_problem_correct, ref.selected.per_problem_tokens
        maj_c = majority.selected.per_problem_correct
        rows = (boot(correct), boot(tokens))
        match_ref = _with_interval(
            float(_ratio(point_c[None], point_t[None], np.array([ref_c.mean()]), ref_t.mean())[0]),
            _ratio(*rows, boot(ref_c), boot(ref_t)),
        )
        match_maj = _with_interval(
            float(_ratio(point_c[None], point_t[None], np.array([maj_c.mean()]), ref_t.mean())[0]),
            _ratio(*rows, boot(maj_c), boot(ref_t)),
        )
        affordable = point_t <= ref_t.mean() + 1e-9
        at_ref = float(point_c[affordable].max()) if affordable.any() else float("nan")
        out.append(
            Headline(
                method, f"{reference}@{k}", float(ref_c.mean()), float(ref_t.mean()),
                match_ref, float(maj_c.mean()), match_maj, at_ref,
            )
        )  # fmt: skip
    return out


def summary_rows(evaluation: Evaluation, heads: Sequence[Headline]) -> list[list[Cell]]:
    """Rows of ``summary.csv``."""
    return [
        [
            evaluation.pool,
            kind(evaluation),
            h.method,
            h.reference,
            100 * h.reference_accuracy,
            h.reference_tokens,
            *h.match_reference,
            100 * h.majority_accuracy,
            *h.match_majority,
            100 * h.accuracy_at_reference_tokens,
        ]
        for h in heads
    ]
