"""Write every output of ``optscale-eval`` into a folder at once.

The files are built in a fresh folder beside ``--out``, then swapped in by renames
([`atomic_folder`][optscale_pools.atomic_folder]): a failed run leaves the previous set intact,
and the folder never holds a mix of two runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from optscale_pools import Estimate, Evaluation, Headline, atomic_folder, headline

from optscale_apps.eval_plots import ACCURACY_PLOT, SAMPLES_PLOT, plot_accuracy, plot_samples
from optscale_apps.eval_report import (
    ACCURACY_COLUMNS,
    CURVE_COLUMNS,
    PROBLEM_COLUMNS,
    SETTING_COLUMNS,
    SUMMARY_COLUMNS,
    accuracy_rows,
    curve_rows,
    kind,
    problem_rows,
    setting_rows,
    summary_rows,
)
from optscale_apps.tables import write_rows_csv

FILES = (
    "curves.csv",
    "settings.csv",
    "per_problem.csv",
    "summary.csv",
    "summary.md",
    "accuracy_at_tokens.csv",
    ACCURACY_PLOT,
    SAMPLES_PLOT,
)
"""Every file ``optscale-eval`` writes."""


MARKDOWN_BUDGETS = 12
"""Budgets beyond which summary.md shows only N = 1, the powers of two and K (the CSV has all)."""


def _ratio(estimate: Estimate | None) -> str:
    """Format a ratio and its interval; ``inf`` reads "not reached" (alone: point and low)."""
    if estimate is None:
        return "n/a"
    if math.isinf(estimate.point) and math.isinf(estimate.low):
        return "not reached"
    point, low, high = (
        "not reached" if math.isinf(v) else f"{v:.2f}"
        for v in (estimate.point, estimate.low, estimate.high)
    )
    return f"{point} [{low}, {high}]"


def _percent(estimate: Estimate | None) -> str:
    """Format an accuracy in percent with its interval; ``nan``: "n/a" (nothing affordable)."""
    if estimate is None or math.isnan(estimate.point):
        return "n/a"
    low = "n/a" if math.isnan(estimate.low) else f"{100 * estimate.low:.1f}"
    return f"{100 * estimate.point:.1f} [{low}, {100 * estimate.high:.1f}]"


def headline_lines(evaluation: Evaluation, head: Headline | None) -> list[str]:
    """Return the headline as text lines (printed at the end of a run)."""
    if head is None:
        return ["no headline: neither BoN nor SC was evaluated"]
    ref = f"{head.reference}@{head.k}"
    majority = "" if head.majority_accuracy is None else (
        f" and {head.majority}@{head.k} ({_percent(head.majority_accuracy)}%)"
    )  # fmt: skip
    lines = [
        f"{evaluation.pool} ({kind(evaluation)} pool): tokens to match {ref} "
        f"({_percent(head.reference_accuracy)}%, {head.reference_tokens.point:.0f} tokens)"
        f"{majority}, as a ratio to {ref}'s tokens [95% CI]; accuracy at {ref}'s tokens",
    ]
    for row in head.rows:
        lines.append(
            f"  {row.method:<16} match {ref}: {_ratio(row.match_reference):<24} "
            f"match majority: {_ratio(row.match_majority):<24} "
            f"accuracy: {_percent(row.accuracy_at[-1])}%"
        )
    return lines


def _shown_budgets(budgets: Sequence[int]) -> list[int]:
    """Return the indices of the budgets summary.md shows (all of them when few)."""
    if len(budgets) <= MARKDOWN_BUDGETS:
        return list(range(len(budgets)))
    keep = {0, len(budgets) - 1}
    keep |= {i for i, n in enumerate(budgets) if n & (n - 1) == 0}
    return sorted(keep)


def _headline_markdown(head: Headline) -> list[str]:
    ref = f"{head.reference}@{head.k}"
    majority = "majority" if head.majority is None else f"{head.majority}@{head.k}"
    out = [
        "## Headline",
        "",
        f"| method | tokens to match {ref} (ratio) | tokens to match {majority} (ratio) "
        f"| accuracy at {ref}'s tokens (%) |",
        "|---|---|---|---|",
    ]
    out += [
        f"| {row.method} | {_ratio(row.match_reference)} | {_ratio(row.match_majority)} "
        f"| {_percent(row.accuracy_at[-1])} |"
        for row in head.rows
    ]
    vote = (
        ""
        if head.majority_accuracy is None
        else f"; {majority}: {_percent(head.majority_accuracy)}%"
    )
    out += [
        "",
        f"Reference: {ref} ({_percent(head.reference_accuracy)}% at "
        f"{head.reference_tokens.point:.0f} mean tokens{vote}). A ratio is the fewest mean "
        f"tokens with which the method's curve reaches the target accuracy, over {ref}'s "
        "tokens; 'not reached': never within the budgets (as an upper bound: in more than "
        "2.5% of the bootstrap replicates). Brackets: 95% bootstrap intervals over problems, "
        "every curve resampled with the same draws and the choice of setting redone in each "
        "replicate. Oracle rows know correctness and are bounds.",
        "",
        f"## Accuracy at {head.reference}@N's tokens",
        "",
    ]
    shown = _shown_budgets(head.budgets)
    out += [
        "| method | "
        + " | ".join(
            f"N={head.budgets[i]} ({head.reference_tokens_at[i].point:.0f})" for i in shown
        )
        + " |",
        "|---|" + "---|" * len(shown),
    ]
    out += [
        f"| {row.method} | " + " | ".join(_percent(row.accuracy_at[i]) for i in shown) + " |"
        for row in head.rows
    ]
    out += [
        "",
        f"Accuracy (%) of the method's best budget whose mean tokens do not exceed "
        f"{head.reference}@N's (in brackets in the header); 'n/a': even its smallest budget "
        "costs more. `accuracy_at_tokens.csv` holds every budget.",
    ]
    return out


def _markdown(evaluation: Evaluation, head: Headline | None, notices: Sequence[str]) -> str:
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
    ]
    out += headline_lines(evaluation, None) if head is None else _headline_markdown(head)
    if notices:
        out += ["", "## Notices", "", *[f"- {line}" for line in notices]]
    out += ["", "## Files", "", *[f"- `{name}`" for name in FILES], ""]
    return "\n".join(out)


def write_outputs(evaluation: Evaluation, out_dir: Path, notices: Sequence[str]) -> list[str]:
    """Write every file into ``out_dir`` at once; return the headline lines."""
    head = headline(evaluation)
    with atomic_folder(out_dir) as staging:
        write_rows_csv(staging / "curves.csv", CURVE_COLUMNS, curve_rows(evaluation))
        write_rows_csv(staging / "settings.csv", SETTING_COLUMNS, setting_rows(evaluation))
        write_rows_csv(staging / "per_problem.csv", PROBLEM_COLUMNS, problem_rows(evaluation))
        summary = [] if head is None else summary_rows(evaluation, head)
        write_rows_csv(staging / "summary.csv", SUMMARY_COLUMNS, summary)
        accuracy = [] if head is None else accuracy_rows(evaluation, head)
        write_rows_csv(staging / "accuracy_at_tokens.csv", ACCURACY_COLUMNS, accuracy)
        (staging / "summary.md").write_text(_markdown(evaluation, head, notices), "utf-8")
        plot_accuracy(evaluation, staging / ACCURACY_PLOT)
        plot_samples(evaluation, staging / SAMPLES_PLOT)
    return headline_lines(evaluation, head)
