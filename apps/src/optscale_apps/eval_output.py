"""Write every output of ``optscale-eval`` into a folder at once.

The files are built in a fresh folder beside ``--out``, then swapped in by renames
([`atomic_folder`][optscale_pools.atomic_folder]): a failed run leaves the previous set intact,
and the folder never holds a mix of two runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from optscale_pools import Evaluation, atomic_folder

from optscale_apps.eval_plots import ACCURACY_PLOT, SAMPLES_PLOT, plot_accuracy, plot_samples
from optscale_apps.eval_report import (
    CURVE_COLUMNS,
    PROBLEM_COLUMNS,
    SETTING_COLUMNS,
    SUMMARY_COLUMNS,
    Headline,
    curve_rows,
    headlines,
    kind,
    problem_rows,
    setting_rows,
    summary_rows,
    write_csv,
)

FILES = (
    "curves.csv",
    "settings.csv",
    "per_problem.csv",
    "summary.csv",
    "summary.md",
    ACCURACY_PLOT,
    SAMPLES_PLOT,
)
"""Every file ``optscale-eval`` writes."""


def _interval(values: tuple[float, float, float]) -> str:
    point, low, high = values
    if math.isnan(point):
        return "not reached"
    top = "not reached" if math.isinf(high) else f"{high:.2f}"
    return f"{point:.2f} [{low:.2f}, {top}]"


def headline_lines(evaluation: Evaluation, heads: Sequence[Headline]) -> list[str]:
    """Return the headline as text lines (printed at the end of a run, and in the summary)."""
    if not heads:
        return ["no headline: neither BoN nor SC was evaluated"]
    ref = heads[0]
    lines = [
        f"{evaluation.pool} ({kind(evaluation)} pool): tokens to match {ref.reference} "
        f"({100 * ref.reference_accuracy:.1f}%, {ref.reference_tokens:.0f} tokens) and "
        f"majority@{max(evaluation.budgets)} ({100 * ref.majority_accuracy:.1f}%), as a ratio "
        f"to {ref.reference}'s tokens [95% CI]; accuracy at {ref.reference}'s tokens",
    ]
    for h in heads:
        lines.append(
            f"  {h.method:<16} match {ref.reference}: {_interval(h.match_reference):<24} "
            f"match majority: {_interval(h.match_majority):<24} "
            f"accuracy: {100 * h.accuracy_at_reference_tokens:.1f}%"
        )
    return lines


def _markdown(evaluation: Evaluation, heads: Sequence[Headline], notices: Sequence[str]) -> str:
    rule = (
        "cross-fitted (setting chosen on one half of the problems, reported on the other)"
        if evaluation.selection == "crossfit"
        else "chosen ON THE TEST SET (the paper's rule; optimistic)"
    )
    orders = "pool order" if evaluation.orders is None else f"{evaluation.orders} random orders"
    out = [
        f"# {evaluation.pool}: {kind(evaluation)} pool",
        "",
        f"{len(evaluation.problem_ids)} problems; budgets N = {min(evaluation.budgets)}.."
        f"{max(evaluation.budgets)}; {orders}, seed {evaluation.seed}; hyperparameters {rule}.",
        "",
        "## Headline",
        "",
        "| method | tokens to match the reference (ratio) | tokens to match majority (ratio) "
        "| accuracy at the reference's tokens |",
        "|---|---|---|---|",
    ]
    out += [
        f"| {h.method} | {_interval(h.match_reference)} | {_interval(h.match_majority)} "
        f"| {100 * h.accuracy_at_reference_tokens:.1f}% |"
        for h in heads
    ]
    if heads:
        out += [
            "",
            f"Reference: {heads[0].reference} ({100 * heads[0].reference_accuracy:.1f}% at "
            f"{heads[0].reference_tokens:.0f} mean tokens). A ratio is the fewest mean tokens "
            "with which the method reaches the target accuracy, over the reference's tokens; "
            "brackets: 95% bootstrap interval over problems; 'not reached': the method never "
            "reaches it within the budgets. Oracle rows know correctness and are bounds.",
        ]
    if notices:
        out += ["", "## Notices", "", *[f"- {line}" for line in notices]]
    out += ["", "## Files", "", *[f"- `{name}`" for name in FILES], ""]
    return "\n".join(out)


def write_outputs(
    evaluation: Evaluation, out_dir: Path, notices: Sequence[str], seed: int
) -> list[str]:
    """Write every file into ``out_dir`` at once; return the headline lines."""
    heads = headlines(evaluation, seed=seed)
    with atomic_folder(out_dir) as staging:
        write_csv(staging / "curves.csv", CURVE_COLUMNS, curve_rows(evaluation))
        write_csv(staging / "settings.csv", SETTING_COLUMNS, setting_rows(evaluation))
        write_csv(staging / "per_problem.csv", PROBLEM_COLUMNS, problem_rows(evaluation))
        write_csv(staging / "summary.csv", SUMMARY_COLUMNS, summary_rows(evaluation, heads))
        (staging / "summary.md").write_text(_markdown(evaluation, heads, notices), "utf-8")
        plot_accuracy(evaluation, staging / ACCURACY_PLOT)
        plot_samples(evaluation, staging / SAMPLES_PLOT)
    return headline_lines(evaluation, heads)
