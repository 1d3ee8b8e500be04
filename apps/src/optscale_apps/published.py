"""The paper's published numbers, read from the upstream result files.

Every file is located through a ``locate`` callable (by default ``optscale_pools.data_file``, which
returns a fetched, checksum-verified copy), so nothing here knows where the data cache lives.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from optscale_apps.datasets import DatasetSpec
from optscale_apps.records import CurvePoint, OptScaleCell

Locate = Callable[[str], Path]
"""Maps a path relative to the upstream data root to a local file."""

TABLE_FILE = "results/results_table.csv"

_TABLE_LABELS = {
    "Best-of-N (BoN)": "BoN",
    "Self-Consistency": "SC",
    "MR-Thinking": "MR-Thinking",
    "Early-stopping SC (ESC)": "ESC",
    "Adaptive SC (ASC)": "ASC",
    "Difficulty-Adaptive SC (DSC)": "DSC",
    "OptScale$^0$ (MLE) (Ours)": "OptScale^0",
    "OptScale$^t$ (MAP) (Ours)": "OptScale^t",
}


def default_locate(relpath: str) -> Path:
    """Locate an upstream file through ``optscale_pools.data_file`` (fetched and verified)."""
    from optscale_pools import data_file

    return Path(data_file(relpath))


@dataclass(frozen=True)
class Published:
    """Everything the paper published for one dataset.

    Attributes
    ----------
    table
        ``(method, N) -> (accuracy as a fraction, mean tokens)`` from ``results_table.csv``
        (accuracy rounded to 0.1 points and tokens to integers there).
    curves
        Per-N curves of BoN, SC, ESC, ASC, DSC (its ``max_sample_size`` sweep) and MR-Thinking.
    cells
        Every OptScale grid cell of every panel, with upstream's per-problem N
        (``notebook_figures/<DS>.json``, ``allocations``; accuracy and tokens rounded there).
    priors
        Published predictor priors ``[P, 2]`` (mu, sigma) used by OptScale^t.
    """

    table: dict[tuple[str, int], tuple[float, float]]
    curves: list[CurvePoint]
    cells: list[OptScaleCell]
    priors: npt.NDArray[np.float64]
    dataset: str
    """Upstream's name of the dataset (``AIME24``): gives the grid when ``cells`` is empty."""

    @property
    def targets(self) -> tuple[float, ...]:
        """The dataset's target-score grid, as upstream evaluated it."""
        if not self.cells:
            from optscale_math import UPSTREAM_TARGETS

            return tuple(UPSTREAM_TARGETS[self.dataset])
        return tuple(sorted({cell.target for cell in self.cells}))

    @property
    def percentiles(self) -> tuple[float, ...]:
        """The dataset's percentile grid, as upstream evaluated it."""
        if not self.cells:
            from optscale_math import PERCENTILES

            return tuple(PERCENTILES)
        return tuple(sorted({cell.percentile for cell in self.cells}))

    @property
    def panels(self) -> tuple[tuple[int, int], ...]:
        """The ``(max_N, peek)`` pairs upstream evaluated (one peek per panel)."""
        if not self.cells:
            from optscale_math import PANELS, PEEKS

            return tuple(zip(PANELS, PEEKS, strict=True))
        return tuple(sorted({(cell.max_n, cell.peek) for cell in self.cells}))


def _read_json(locate: Locate, relpath: str) -> Any:
    path = locate(relpath)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error


def _field(path: str, index: int, record: dict[str, Any], key: str) -> float:
    try:
        return float(record[key])
    except (KeyError, TypeError, ValueError) as error:
        msg = f"{path}: record {index}: field {key!r} missing or not a number"
        raise ValueError(msg) from error


def read_table(locate: Locate, spec: DatasetSpec) -> dict[tuple[str, int], tuple[float, float]]:
    """Read the dataset's columns of ``results/results_table.csv`` (accuracy as a fraction)."""
    path = locate(TABLE_FILE)
    table: dict[tuple[str, int], tuple[float, float]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for index, row in enumerate(csv.DictReader(handle)):
            label = row["Baseline"].strip()
            if not label:
                continue
            name, _, n_text = label.rpartition(" ($N=")
            method = _TABLE_LABELS.get(name)
            if method is None:
                raise ValueError(f"{path}: record {index}: unknown method {label!r}")
            n = int(n_text.rstrip("$)"))
            accuracy = _field(str(path), index, row, f"{spec.upstream} acc.") / 100.0
            tokens = _field(str(path), index, row, f"{spec.upstream} token.")
            table[(method, n)] = (accuracy, tokens)
    return table


def _sweep(
    path: str, records: list[dict[str, Any]], method: str, setting: str, n_key: str, tok_key: str
) -> list[CurvePoint]:
    return [
        CurvePoint(
            method,
            setting,
            int(_field(path, index, record, n_key)),
            _field(path, index, record, "accuracy"),
            _field(path, index, record, tok_key),
        )
        for index, record in enumerate(records)
    ]


def read_curves(locate: Locate, spec: DatasetSpec) -> list[CurvePoint]:
    """Upstream's per-N curves of every baseline (N = 1..64)."""
    ds = spec.upstream
    bon_path = f"BoN_OptScale/{ds}_BoN_results.json"
    curves = _sweep(bon_path, _read_json(locate, bon_path), "BoN", "", "N", "token_count")
    vote_path = f"SC/{ds}_maj_vote_results.json"
    votes = _read_json(locate, vote_path)
    curves += [
        CurvePoint(
            "SC",
            "",
            index + 1,
            _field(vote_path, index, record, "accuracy"),
            _field(vote_path, index, record, "average_token_count"),
        )
        for index, record in enumerate(votes)
    ]
    esc_path = f"SC/{ds}_esc_asc_results.json"
    esc = _read_json(locate, esc_path)
    tok = "average_token_count"
    curves += _sweep(esc_path, esc["esc_max_n_sweep"], "ESC", "window=5", "max_n", tok)
    curves += _sweep(esc_path, esc["asc_max_n_sweep"], "ASC", "threshold=0.95", "max_n", tok)
    dsc_path = f"SC/{ds}_dsc_results.json"
    dsc = _read_json(locate, dsc_path)["dsc_max_sample_size_sweep"]
    curves += _sweep(dsc_path, dsc, "DSC", "", "max_sample_size", tok)
    mr_path = f"Seq/{ds}_MR-Thinking.json"
    curves += _sweep(mr_path, _read_json(locate, mr_path), "MR-Thinking", "", "max_N", "avg_tokens")
    return curves


def read_cells(locate: Locate, spec: DatasetSpec) -> list[OptScaleCell]:
    """Every OptScale grid cell upstream evaluated, from ``notebook_figures/<DS>.json``.

    That file has no public URL (numbers printed by the notebooks); without a mirror holding it
    (``optscale_pools.NoSourceError``) there are no published cells: an empty list, said on
    stderr. Any other failure to read it is an error.
    """
    from optscale_pools import NoSourceError

    path = f"notebook_figures/{spec.upstream}.json"
    try:
        records = _read_json(locate, path)["allocations"]
    except NoSourceError as error:
        print(f"no published OptScale grid cells: {error}", file=sys.stderr)
        return []
    cells = []
    for index, record in enumerate(records):
        cells.append(
            OptScaleCell(
                variant=str(record["variant"]),
                max_n=int(_field(path, index, record, "max_n")),
                peek=int(_field(path, index, record, "peek")),
                target=_field(path, index, record, "target_score"),
                percentile=_field(path, index, record, "percentile"),
                accuracy=_field(path, index, record, "accuracy"),
                mean_tokens=_field(path, index, record, "average_token_count"),
                n_per_problem=tuple(int(n) for n in record["n_per_problem"]),
            )
        )
    return cells


def read_published_priors(locate: Locate, spec: DatasetSpec) -> npt.NDArray[np.float64]:
    """Read the paper's predictor priors ``[P, 2]`` (``BoN_OptScale/<DS>_train_mu_sigma.json``)."""
    path = f"BoN_OptScale/{spec.upstream}_train_mu_sigma.json"
    priors = np.asarray(_read_json(locate, path), dtype=np.float64)
    if priors.ndim != 2 or priors.shape[1] != 2 or not np.all(np.isfinite(priors)):
        raise ValueError(f"{path}: expected a list of finite [mu, sigma] pairs")
    return priors


def load_published(spec: DatasetSpec, locate: Locate = default_locate) -> Published:
    """Everything the paper published for ``spec``."""
    return Published(
        table=read_table(locate, spec),
        curves=read_curves(locate, spec),
        cells=read_cells(locate, spec),
        priors=read_published_priors(locate, spec),
        dataset=spec.upstream,
    )
