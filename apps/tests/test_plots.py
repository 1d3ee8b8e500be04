from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from optscale_apps.plots import pareto_front, plot_fair, plot_paper
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
