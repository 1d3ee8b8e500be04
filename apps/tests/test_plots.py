from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.figure import Figure
from optscale_apps.plots import (
    UNJOINED,
    _fair_figure,
    _paper_figure,
    pareto_front,
    plot_fair,
    plot_paper,
)
from optscale_apps.records import CurvePoint, FairPoint, Interval, OptScaleCell

finite = st.floats(min_value=0, max_value=1e6, allow_nan=False)


@given(st.lists(st.tuples(finite, st.floats(0, 1)), max_size=30))
def test_pareto_front_matches_brute_force(points: list[tuple[float, float]]) -> None:
    def dominated(p: tuple[float, float]) -> bool:
        return any(q[0] <= p[0] and q[1] >= p[1] and (q[0] < p[0] or q[1] > p[1]) for q in points)

    expected = sorted({p for p in points if not dominated(p)})
    assert pareto_front(points) == expected


def _png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plots_are_written(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    curves = [
        CurvePoint(m, "", n, float(rng.uniform()), 1000.0 * n)
        for m in ("BoN", "SC")
        for n in range(1, 65)
    ]
    cells = [OptScaleCell(v, 8, 3, 0.8, 0.1, 0.5, 5000.0) for v in ("MLE", "MAP")]
    selected = [CurvePoint("OptScale^0", "", 8, 0.5, 5000.0)]
    plot_paper(
        tmp_path / "paper.png",
        title="SIMULATED",
        ours=(curves, cells, selected),
        published=(curves, cells, selected),
        oracle=curves[:3],
        ours_label="this run (SIMULATED pool)",
    )
    interval = Interval(0.5, 0.4, 0.6)
    points = [FairPoint("BoN", n, interval, Interval(n, n - 1, n + 1), "") for n in (8, 16)]
    plot_fair(tmp_path / "fair.png", title="SIMULATED", points=points, oracle=[])
    assert _png(tmp_path / "paper.png")
    assert _png(tmp_path / "fair.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fair.png", "paper.png"]


def _legend_texts(fig: Figure) -> list[str]:
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
    return [t.get_text() for legend in legends for t in legend.get_texts()]


def test_paper_legend_explains_every_mark() -> None:
    curves = [
        CurvePoint(m, "", n, 0.5 + 0.01 * (n % 3), 1000.0 * n)
        for m in ("BoN", "MR-Thinking")
        for n in range(1, 9)
    ]
    # SC's tokens drop from N = 2 to N = 3: not monotone, so it must be drawn unjoined too.
    curves += [CurvePoint("SC", "", n, 0.5, t) for n, t in ((1, 100.0), (2, 300.0), (3, 200.0))]
    cells = [OptScaleCell(v, 8, 3, 0.8, 0.1, 0.5, 5000.0) for v in ("MLE", "MAP")]
    selected = [CurvePoint("OptScale^0", "", 8, 0.5, 5000.0)]
    panel = (curves, cells, selected)
    fig = _paper_figure("t", panel, panel, curves[:3], "this run")
    texts = _legend_texts(fig)
    assert "MR-Thinking" in UNJOINED
    assert "BoN" in texts
    assert "MR-Thinking (one circle per N)" in texts
    assert "SC (one circle per N)" in texts
    for name in ("OptScale$^0$ (MLE)", "OptScale$^t$ (MAP)"):
        assert f"{name}: every grid setting" in texts
        assert f"{name}: setting selected at N = 8, 16, 32, 64" in texts
    assert {"Pareto front", "oracle bound"} <= set(texts)
    assert len(texts) == len(set(texts)), "each mark is explained once"
    caption = " ".join(t.get_text() for t in fig.texts)
    for mark in ("Faint dots", "Stars", "Open circles", "Pareto front", "Oracle bound"):
        assert mark in caption
    unjoined = [
        line
        for ax in fig.axes
        for line in ax.get_lines()
        if line.get_label() in {"MR-Thinking (one circle per N)", "SC (one circle per N)"}
    ]
    assert len(unjoined) == 4  # two methods, two panels
    assert all(line.get_linestyle() == "None" for line in unjoined)
    plt.close(fig)


def test_fair_budget_labels_do_not_collide() -> None:
    interval = Interval(0.5, 0.4, 0.6)
    # Two methods at identical points: their N labels would print on top of each other.
    points = [
        FairPoint(m, n, interval, Interval(1000.0 * n, 900.0 * n, 1100.0 * n), "")
        for m in ("BoN", "SC")
        for n in (8, 16, 32, 64)
    ]
    fig = _fair_figure(title="t", points=points, oracle=[])
    ax = fig.axes[0]
    labels = [t for t in ax.texts if t.get_text().isdigit()]
    assert sorted(t.get_text() for t in labels) == ["16", "32", "64", "8"]
    anchors = [ax.transData.transform(t.xy) for t in labels]
    for i, a in enumerate(anchors):
        for b in anchors[i + 1 :]:
            assert abs(a[0] - b[0]) >= 20 or abs(a[1] - b[1]) >= 11
    assert any("N samples per problem" in t for t in _legend_texts(fig))
    plt.close(fig)
