"""One reproduction run: find or simulate the pools, compute one mode, write every output.

The mode's files are written into a staging folder beside ``OUT/<mode>/`` and swapped in at once
([`atomic_folder`][optscale_pools.atomic_folder]): a failed run leaves the previous set exactly as
it was, and the folder never mixes tables of one run with plots of another.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from optscale_pools import atomic_folder

from optscale_apps.datasets import DatasetSpec, table_budgets
from optscale_apps.eval_report import CURVE_COLUMNS, curve_rows
from optscale_apps.fair import run_fair
from optscale_apps.inputs import Priors, choose_priors, resolve_pools
from optscale_apps.loaded import LoadedPools, load_pools
from optscale_apps.paper import run_paper
from optscale_apps.plots import plot_fair, plot_paper
from optscale_apps.published import Published, load_published
from optscale_apps.report import (
    CELL_COLUMNS,
    FAIR_CELL_COLUMNS,
    cell_rows,
    fair_cell_rows,
    fair_table,
    paper_table,
    selected_points,
)
from optscale_apps.tables import write_rows_csv, write_table

PLOT_FILE = "accuracy_vs_tokens.png"


@dataclass(frozen=True)
class RunConfig:
    """Everything ``optscale-reproduce`` was asked to do (see its ``--help``)."""

    spec: DatasetSpec
    mode: str
    out_dir: Path
    pool: Path | None
    seq_pool: Path | None
    prompts: Path | None
    priors: Path | None
    published_priors: bool
    pools_dir: Path
    cache_dir: Path
    orders: int
    seed: int


def run(config: RunConfig) -> list[Path]:
    """Run one mode on one dataset and return the paths written."""
    inputs = resolve_pools(
        config.spec,
        pool=config.pool,
        seq_pool=config.seq_pool,
        prompts=config.prompts,
        pools_dir=config.pools_dir,
        cache_dir=config.cache_dir,
        seed=config.seed,
    )
    published = load_published(config.spec)

    def priors_for(problems: list[str]) -> Priors:
        return choose_priors(
            config.spec,
            problems,
            priors_file=config.priors,
            published=published if config.published_priors else None,
            cache_dir=config.cache_dir,
        )

    loaded = load_pools(inputs, config.mode, priors_for, config.cache_dir)
    write = _write_paper if config.mode == "paper" else _write_fair
    with atomic_folder(config.out_dir) as staging:
        written = write(config, loaded, published, staging)
    return [config.out_dir / path.relative_to(staging) for path in written]


def _check_k(loaded: LoadedPools, published: Published) -> int:
    """Return the pool's K; refuse one too small for OptScale's smallest peek in paper mode."""
    k = int(loaded.view.n_samples)
    smallest = min((peek for _, peek in published.panels), default=1)
    if k < smallest:
        raise ValueError(
            f"the pool has K = {k} samples per problem, fewer than paper mode's smallest "
            f"OptScale peek ({smallest}); use optscale-eval or fair mode for such a pool"
        )
    return k


def _write_paper(
    config: RunConfig, loaded: LoadedPools, published: Published, out: Path
) -> list[Path]:
    k = _check_k(loaded, published)
    result = run_paper(loaded, published, config.spec.upstream)
    ours = [*result.curves, *result.selected]
    table = paper_table(config.spec, loaded.simulated, ours, published, table_budgets(k))
    written = write_table(table, out)
    main, *others = result.evaluations  # the oracle curves of the parallel pool's curves only
    curves = curve_rows(main) + [row for e in others for row in curve_rows(e, oracle=False)]
    write_rows_csv(out / "curves.csv", CURVE_COLUMNS, curves)
    name, simulated = config.spec.upstream, loaded.simulated
    write_rows_csv(
        out / "optscale_cells.csv", CELL_COLUMNS, cell_rows(result.cells, name, simulated)
    )
    written += [out / "curves.csv", out / "optscale_cells.csv"]
    kind = "SIMULATED pool" if loaded.simulated else "REAL pool"
    plot_paper(
        out / PLOT_FILE,
        title=f"{config.spec.upstream}, paper mode: {kind}",
        ours=(result.curves, result.cells, result.selected),
        published=(published.curves, published.cells, selected_points(published.cells)),
        oracle=result.oracle,
        ours_label=f"this run ({kind})",
    )
    return [*written, out / PLOT_FILE]


def _write_fair(
    config: RunConfig, loaded: LoadedPools, published: Published, out: Path
) -> list[Path]:
    name = config.spec.upstream
    result = run_fair(loaded, published, name=name, orders=config.orders, seed=config.seed)
    budgets = table_budgets(int(loaded.view.n_samples))
    table = fair_table(config.spec, loaded.simulated, result.points, config.orders, budgets)
    written = write_table(table, out)
    main, *others = result.evaluations  # the oracle curves of the parallel pool only
    curves = curve_rows(main) + [row for e in others for row in curve_rows(e, oracle=False)]
    write_rows_csv(out / "curves.csv", CURVE_COLUMNS, curves)
    cells = [row for e in result.evaluations for row in fair_cell_rows(e)]
    write_rows_csv(out / "optscale_cells.csv", FAIR_CELL_COLUMNS, cells)
    written += [out / "curves.csv", out / "optscale_cells.csv"]
    kind = "SIMULATED pool" if loaded.simulated else "REAL pool"
    plot_fair(
        out / PLOT_FILE,
        title=f"{config.spec.upstream}, fair mode ({config.orders} orders): {kind}",
        points=result.points,
        oracle=result.oracle,
    )
    return [*written, out / PLOT_FILE]
