from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from optscale_apps.datasets import DATASETS, PAPER_NS
from optscale_apps.published import load_published, read_table
from optscale_apps.records import METHODS, OptScaleCell
from optscale_apps.report import paper_table, selected_points

Locate = Callable[[str], Path]


@pytest.mark.parametrize("key", sorted(DATASETS))
def test_published_curves_and_cells_rebuild_the_published_table(key: str, locate: Locate) -> None:
    """The per-N files and the notebook grids, with the paper's selection rule, give its table."""
    spec = DATASETS[key]
    published = load_published(spec, locate)
    ours = [*published.curves, *selected_points(published.cells)]
    table = paper_table(spec, False, ours, published)
    assert len(table.rows) == len(METHODS) * len(PAPER_NS)
    for row in table.rows:
        assert row[4] == "+0.0", row
        assert row[7] == "+0.0", row
        if str(row[0]).startswith("OptScale"):
            assert row[8] == row[9]


def test_upstream_grid_pairs_one_peek_with_each_panel(locate: Locate) -> None:
    published = load_published(DATASETS["aime24"], locate)
    assert published.panels == ((8, 3), (16, 5), (32, 10), (64, 20))
    assert len(published.targets) * len(published.percentiles) == 48
    assert published.priors.shape == (30, 2)


def test_without_the_notebook_figures_the_grid_is_upstreams_and_no_cells_are_published(
    locate: Locate, capsys: pytest.CaptureFixture[str]
) -> None:
    # notebook_figures/* have no public URL: without a mirror, fetching one raises as below
    from optscale_math import PANELS, PEEKS, PERCENTILES, UPSTREAM_TARGETS
    from optscale_pools.fetch import ManifestEntry, source_url

    def no_mirror(relpath: str) -> Path:
        if relpath.startswith("notebook_figures/"):
            source_url(ManifestEntry(relpath, None, "0" * 64, 0), mirror="")  # no mirror
        return locate(relpath)

    for key in ("aime24", "math500"):
        published = load_published(DATASETS[key], no_mirror)
        assert published.cells == []
        assert published.targets == UPSTREAM_TARGETS[DATASETS[key].upstream]
        assert published.percentiles == PERCENTILES
        assert published.panels == tuple(zip(PANELS, PEEKS, strict=True))
        table = paper_table(DATASETS[key], True, published.curves, published)
        assert all(row[9] is None for row in table.rows)  # no published setting to show
    assert "no published OptScale grid cells" in capsys.readouterr().err


def test_any_other_failure_to_read_the_notebook_figures_is_an_error(locate: Locate) -> None:
    def missing(relpath: str) -> Path:
        if relpath.startswith("notebook_figures/"):
            raise FileNotFoundError(relpath)  # e.g. a mirror that lacks the file
        return locate(relpath)

    with pytest.raises(FileNotFoundError):
        load_published(DATASETS["aime24"], missing)


def test_published_selection_prefers_accuracy_then_fewer_tokens_then_the_first() -> None:
    def cell(acc: float, tokens: float, target: float, max_n: int = 8) -> OptScaleCell:
        return OptScaleCell("MLE", max_n, 3, target, 0.1, acc, tokens)

    cells = [cell(0.5, 10, 0.7), cell(0.6, 30, 0.75), cell(0.6, 20, 0.8), cell(0.6, 20, 0.85)]
    cells.append(cell(0.1, 5, 0.9, max_n=16))
    points = selected_points(cells)
    assert [(p.method, p.n, p.setting, p.accuracy, p.mean_tokens) for p in points] == [
        ("OptScale^0", 8, "peek=3, target=0.8, pct=0.1", 0.6, 20),
        ("OptScale^0", 16, "peek=3, target=0.9, pct=0.1", 0.1, 5),
    ]
    assert selected_points([]) == []


def test_unknown_table_row_is_named(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    (tmp_path / "results/results_table.csv").write_text(
        "Baseline,AIME24 acc.,AIME24 token.\n"
        "Best-of-N (BoN) ($N=8$),70.0,79367\nMystery ($N=8$),1,2\n"
    )
    with pytest.raises(ValueError, match=r"results_table.csv: record 1: unknown method 'Mystery"):
        read_table(lambda rel: tmp_path / rel, DATASETS["aime24"])


def test_non_numeric_field_is_named(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    (tmp_path / "results/results_table.csv").write_text(
        "Baseline,AIME24 acc.,AIME24 token.\nBest-of-N (BoN) ($N=8$),seventy,79367\n"
    )
    with pytest.raises(ValueError, match=r"record 0: field 'AIME24 acc.'"):
        read_table(lambda rel: tmp_path / rel, DATASETS["aime24"])


def test_truncated_json_is_named(tmp_path: Path) -> None:
    from optscale_apps.published import read_published_priors

    (tmp_path / "BoN_OptScale").mkdir()
    path = tmp_path / "BoN_OptScale/AIME24_train_mu_sigma.json"
    path.write_text(json.dumps([[0.5, 0.1]])[:-3])
    with pytest.raises(ValueError, match=r"AIME24_train_mu_sigma\.json: not valid JSON"):
        read_published_priors(lambda rel: tmp_path / rel, DATASETS["aime24"])
