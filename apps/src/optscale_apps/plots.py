"""Accuracy against mean tokens per problem: every method, Pareto fronts and the oracle bound.

Figures are drawn with matplotlib's Agg backend (no display needed) and saved atomically. Every
title says whether the pool behind it is REAL or SIMULATED.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from optscale_pools import atomic_output

from optscale_apps.records import METHODS, CurvePoint, FairPoint, OptScaleCell

COLORS = {
    "BoN": "#1f77b4",
    "SC": "#ff7f0e",
    "MR-Thinking": "#8c564b",
    "ESC": "#2ca02c",
    "ASC": "#9467bd",
    "DSC": "#e377c2",
    "OptScale^0": "#d62728",
    "OptScale^t": "#17becf",
}
LABELS = {"OptScale^0": "OptScale$^0$ (MLE)", "OptScale^t": "OptScale$^t$ (MAP)"}

UNJOINED = frozenset({"MR-Thinking", "DSC"})
"""Baselines drawn as unjoined markers: their per-N results are too jumpy for a line."""

Point = tuple[float, float]
Panel = tuple[Sequence[CurvePoint], Sequence[OptScaleCell], Sequence[CurvePoint]]
"""One paper-mode panel: per-N curves, OptScale grid cells, selected OptScale points."""


def pareto_front(points: Sequence[Point]) -> list[Point]:
    """Points ``(tokens, accuracy)`` that no other point beats on both (fewer tokens, higher acc).

    Returned sorted by tokens, so accuracy increases strictly along the front.
    """
    front: list[Point] = []
    for tokens, accuracy in sorted(points, key=lambda p: (p[0], -p[1])):
        if not front or accuracy > front[-1][1]:
            front.append((tokens, accuracy))
    return front


def _save(fig: Figure, path: Path) -> None:
    try:
        with atomic_output(path, binary=True) as out:
            fig.savefig(out, format="png", dpi=110, bbox_inches="tight")
    finally:
        plt.close(fig)


def _draw_front(ax: Axes, points: Sequence[Point]) -> None:
    front = pareto_front(points)
    if front:
        xs = [tokens for tokens, _ in front]
        ys = [100 * accuracy for _, accuracy in front]
        ax.step(xs, ys, where="post", color="black", lw=1.2, alpha=0.7, label="Pareto front")


def _draw_oracle(ax: Axes, oracle: Sequence[CurvePoint]) -> None:
    if oracle:
        ax.plot(
            [p.mean_tokens for p in oracle],
            [100 * p.accuracy for p in oracle],
            ls=":",
            color="grey",
            lw=1.5,
            label="oracle bound",
        )


def _monotone_in_n(points: Sequence[CurvePoint]) -> bool:
    """Whether mean tokens never drop as N grows (``points`` sorted by N)."""
    return all(a.mean_tokens <= b.mean_tokens for a, b in pairwise(points))


def _draw_curve(ax: Axes, method: str, points: Sequence[CurvePoint]) -> None:
    """One baseline's per-N results: a line where tokens grow with N, otherwise bare markers.

    MR-Thinking's and DSC's accuracy (and DSC's token use) jump between neighbouring N, so a
    line through their points in N order zigzags across the other curves, and one in token order
    would invent a trend between unrelated budgets; unjoined markers show each budget's result
    and nothing else. Any other baseline whose tokens are not monotone in N is drawn the same way.
    """
    xs = [p.mean_tokens for p in points]
    ys = [100 * p.accuracy for p in points]
    label = LABELS.get(method, method)
    if method not in UNJOINED and _monotone_in_n(points):
        ax.plot(xs, ys, color=COLORS[method], lw=1.3, alpha=0.85, label=label)
    else:
        ax.plot(
            xs,
            ys,
            ls="none",
            marker="o",
            ms=3.5,
            mfc="none",
            mew=0.9,
            color=COLORS[method],
            alpha=0.85,
            label=f"{label} (one circle per N)",
        )


def _draw_paper_panel(
    ax: Axes,
    curves: Sequence[CurvePoint],
    cells: Sequence[OptScaleCell],
    selected: Sequence[CurvePoint],
    oracle: Sequence[CurvePoint],
) -> None:
    for method in METHODS:
        points = sorted((p for p in curves if p.method == method), key=lambda p: p.n)
        if points:
            _draw_curve(ax, method, points)
    for method, variant in (("OptScale^0", "MLE"), ("OptScale^t", "MAP")):
        grid = [c for c in cells if c.variant == variant]
        ax.scatter(
            [c.mean_tokens for c in grid],
            [100 * c.accuracy for c in grid],
            s=6,
            color=COLORS[method],
            alpha=0.25,
            label=f"{LABELS[method]}: every grid setting",
        )
        chosen = sorted((p for p in selected if p.method == method), key=lambda p: p.n)
        ax.plot(
            [p.mean_tokens for p in chosen],
            [100 * p.accuracy for p in chosen],
            marker="*",
            ms=11,
            color=COLORS[method],
            lw=1.5,
            label=f"{LABELS[method]}: setting selected at N = 8, 16, 32, 64",
        )
    everything = [(p.mean_tokens, p.accuracy) for p in curves]
    everything += [(c.mean_tokens, c.accuracy) for c in cells]
    _draw_front(ax, everything)
    _draw_oracle(ax, oracle)
    ax.set_xscale("log")
    ax.set_xlabel("mean tokens per problem (log scale)")
    ax.grid(True, which="both", alpha=0.25)


PAPER_CAPTION = (
    "Lines: a baseline at N = 1..64 samples per problem.  Open circles: the same for a baseline "
    "whose results jump between neighbouring N (one circle per N, not joined).\n"
    "Faint dots: every OptScale hyperparameter setting tried.  Stars: the setting the paper's "
    "selection rule picks at N = 8, 16, 32, 64.\n"
    "Pareto front: the points no other point beats on both axes.  Oracle bound: stop at the "
    "first correct sample (it needs the gold answer; no method can beat it)."
)


def _paper_figure(
    title: str, ours: Panel, published: Panel, oracle: Sequence[CurvePoint], ours_label: str
) -> Figure:
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.8), sharey=True, sharex=True)
    _draw_paper_panel(axes[0], *ours, oracle)
    axes[0].set_title(ours_label)
    _draw_paper_panel(axes[1], *published, ())
    axes[1].set_title("published (paper's real pool)")
    axes[0].set_ylabel("accuracy (%)")
    handles: dict[str, Artist] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    fig.legend(
        list(handles.values()),
        list(handles.keys()),
        loc="upper center",
        bbox_to_anchor=(0.5, 0.02),
        ncol=3,
        fontsize=8.5,
    )
    fig.text(0.5, -0.165, PAPER_CAPTION, ha="center", va="top", fontsize=9, color="0.2")
    fig.suptitle(title, fontsize=13, weight="bold")
    return fig


def plot_paper(
    path: Path,
    *,
    title: str,
    ours: Panel,
    published: Panel,
    oracle: Sequence[CurvePoint],
    ours_label: str,
) -> None:
    """Paper mode: this run (left) beside the published numbers (right), same axes.

    ``ours`` and ``published`` are ``(curves, OptScale grid cells, selected OptScale points)``;
    lines are the per-N curves of the baselines (open circles for MR-Thinking, DSC and any
    baseline whose tokens are not monotone in N), faint dots every OptScale grid cell, stars the
    cells the paper's selection rule picks at N = 8, 16, 32, 64. The legend names every mark and a
    caption under the figure explains them, so the figure reads without the docs.
    """
    _save(_paper_figure(title, ours, published, oracle, ours_label), path)


def _label_budgets(ax: Axes, points: Sequence[FairPoint]) -> None:
    """Write N beside each point, in its method's colour, skipping labels that would collide.

    Pareto-front points are labelled first so they keep theirs; any other label whose anchor is
    within a label's size of one already written is dropped (the legend says so).
    """
    front = set(pareto_front([(p.mean_tokens.value, p.accuracy.value) for p in points]))
    ordered = sorted(points, key=lambda p: (p.mean_tokens.value, p.accuracy.value) not in front)
    ax.figure.canvas.draw()
    placed: list[tuple[float, float]] = []
    for p in ordered:
        x, y = ax.transData.transform((p.mean_tokens.value, 100 * p.accuracy.value))
        if any(abs(x - px) < 20 and abs(y - py) < 11 for px, py in placed):
            continue
        placed.append((x, y))
        ax.annotate(
            f"{p.n}",
            (p.mean_tokens.value, 100 * p.accuracy.value),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=7,
            color=COLORS[p.method],
            weight="bold",
        )


def plot_fair(
    path: Path,
    *,
    title: str,
    points: Sequence[FairPoint],
    oracle: Sequence[CurvePoint],
) -> None:
    """Fair mode: every method at N = 8..64 with 95% intervals, the Pareto front, the oracle."""
    _save(_fair_figure(title=title, points=points, oracle=oracle), path)


def _fair_figure(
    *, title: str, points: Sequence[FairPoint], oracle: Sequence[CurvePoint]
) -> Figure:
    fig, ax = plt.subplots(figsize=(10, 6))
    for method in METHODS:
        mine = sorted((p for p in points if p.method == method), key=lambda p: p.n)
        if not mine:
            continue
        xs = [p.mean_tokens.value for p in mine]
        ys = [100 * p.accuracy.value for p in mine]
        ax.errorbar(
            xs,
            ys,
            xerr=[
                [x - p.mean_tokens.low for x, p in zip(xs, mine, strict=True)],
                [p.mean_tokens.high - x for x, p in zip(xs, mine, strict=True)],
            ],
            yerr=[
                [y - 100 * p.accuracy.low for y, p in zip(ys, mine, strict=True)],
                [100 * p.accuracy.high - y for y, p in zip(ys, mine, strict=True)],
            ],
            marker="o",
            ms=5,
            capsize=2,
            elinewidth=0.8,
            alpha=0.85,
            color=COLORS[method],
            label=LABELS.get(method, method),
        )
    _draw_front(ax, [(p.mean_tokens.value, p.accuracy.value) for p in points])
    _draw_oracle(ax, oracle)
    ax.set_xscale("log")
    ax.set_xlabel("mean tokens per problem (log scale)")
    ax.set_ylabel("accuracy (%), 95% intervals")
    ax.grid(True, which="both", alpha=0.25)
    _label_budgets(ax, points)
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], ls="none", marker="$16$", ms=9, color="black"))
    labels.append("number: N samples per problem\n(hidden where labels would overlap)")
    ax.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9)
    ax.set_title(title, fontsize=12, weight="bold")
    return fig
