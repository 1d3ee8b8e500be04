"""Figures of ``optscale-eval``: accuracy against tokens, and how many samples problems got.

Every title names the pool (its ``--name``) and says REAL or SIMULATED; every legend explains
each mark. Drawn with matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from optscale_pools import Evaluation

from optscale_apps.eval_report import kind
from optscale_apps.plots import pareto_front

ORACLES: dict[str, str | tuple[int, tuple[int, ...]]] = {
    "oracle": "-",
    "oracle-stop BoN": ":",
    "oracle-stop SC": "-.",
    "hindsight BoN": (0, (6, 2, 1, 2, 1, 2)),  # dash-dot-dot: unlike the front's dashes
}
"""Line style of each bound (the oracles know correctness; the hindsight stop knows scores)."""
ACCURACY_PLOT = "accuracy_vs_tokens.png"
SAMPLES_PLOT = "samples_per_problem.png"


def _title(evaluation: Evaluation, what: str) -> str:
    orders = "pool order" if evaluation.orders is None else f"{evaluation.orders} orders"
    rule = "cross-fitted" if evaluation.selection == "crossfit" else "selected on the test set"
    return f"{evaluation.pool} ({kind(evaluation)} pool): {what}\n{orders}, settings {rule}"


def plot_accuracy(evaluation: Evaluation, path: Path) -> None:
    """Accuracy (%) against mean tokens: methods with 95% bands, Pareto front, oracles."""
    fig, ax = plt.subplots(figsize=(8, 5.5))
    methods = list(dict.fromkeys(p.method for p in evaluation.curves))
    front_points = []
    for method in methods:
        curve = sorted((p for p in evaluation.curves if p.method == method), key=lambda p: p.n)
        tokens = np.array([p.selected.mean_tokens for p in curve])
        acc = np.array([100 * p.selected.accuracy for p in curve])
        if method in ORACLES:
            style, label = ORACLES[method], f"{method} (bound)"
            ax.plot(tokens, acc, linestyle=style, color="0.35", lw=1.2, label=label)
            continue
        low = np.array([100 * p.selected.accuracy_ci[0] for p in curve])
        high = np.array([100 * p.selected.accuracy_ci[1] for p in curve])
        (line,) = ax.plot(tokens, acc, "o-", ms=3, lw=1.2, label=method)
        ax.fill_between(tokens, low, high, color=line.get_color(), alpha=0.15, lw=0)
        front_points += list(zip(tokens.tolist(), acc.tolist(), strict=True))
    front = pareto_front(front_points)
    if front:
        xs, ys = zip(*front, strict=True)
        ax.plot(xs, ys, "k--", lw=1.0, label="Pareto front of the methods")
    ax.fill_between([], [], [], color="0.6", alpha=0.3, label="shaded: 95% bootstrap interval")
    ax.set_xscale("log")
    ax.set_xlabel("mean tokens per problem (log scale); one mark per budget N")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(_title(evaluation, "accuracy vs tokens"), fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    _save(fig, path)


def plot_samples(evaluation: Evaluation, path: Path) -> None:
    """Histogram of per-problem samples used at the largest budget, one outline per method."""
    k = max(evaluation.budgets)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    bins = np.arange(0.5, k + 1.5, max(1, k // 32)).tolist()
    for point in evaluation.curves:
        if point.n == k and point.method not in ORACLES:
            ax.hist(
                point.selected.per_problem_samples,
                bins=bins,
                histtype="step",
                lw=1.3,
                label=f"{point.method} (mean {point.selected.mean_samples:.2f})",
            )
    ax.set_xlabel(f"samples used per problem at budget N = {k} (mean over orders)")
    ax.set_ylabel("problems")
    ax.set_title(_title(evaluation, "distribution of per-problem N"), fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    _save(fig, path)


def _save(fig: Figure, path: Path) -> None:
    try:
        fig.savefig(path, format="png", dpi=110, bbox_inches="tight")
    finally:
        plt.close(fig)
