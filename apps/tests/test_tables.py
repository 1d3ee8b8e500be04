from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np
import pytest
from optscale_apps.tables import (
    Table,
    latex_escape,
    to_csv,
    to_latex,
    to_markdown,
    write_rows_csv,
    write_table,
)

TABLE = Table(
    caption="SIMULATED pool: AIME24, paper mode; 50% of it",
    pool_kind="SIMULATED",
    columns=("method", "N", "accuracy (%)", "setting"),
    rows=(("BoN", 8, "70.0", None), ("OptScale^0", 64, 83.25, "a|b_c & {d}")),
)


def test_csv_round_trips_cells_and_labels_the_pool() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(TABLE))))
    assert rows[0] == ["method", "N", "accuracy (%)", "setting", "pool"]
    assert rows[1] == ["BoN", "8", "70.0", "", "SIMULATED"]
    assert rows[2] == ["OptScale^0", "64", "83.25", "a|b_c & {d}", "SIMULATED"]


def test_csv_floats_read_back_exactly() -> None:
    values = [0.1 + 0.2, 1 / 3, 23462.198464000001, 2.5e-17, 1e22, float(np.float64(0.7) * 3)]
    rows = [["x", value] for value in values]
    table = Table("REAL pool: x", "REAL", ("name", "value"), rows)
    read = [float(row[1]) for row in list(csv.reader(io.StringIO(to_csv(table))))[1:]]
    assert read == values


def test_markdown_has_caption_and_one_cell_per_column() -> None:
    lines = to_markdown(TABLE).splitlines()
    assert lines[0] == f"**{TABLE.caption}**"
    table_lines = lines[2:]
    assert len(table_lines) == 2 + len(TABLE.rows)
    for line in table_lines:
        cells = line.replace("\\|", "").strip("|").split("|")
        assert len(cells) == len(TABLE.columns)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("50%", r"50\%"),
        ("a_b", r"a\_b"),
        ("x^0", r"x$^{0}$"),
        ("a ^ b", r"a \^{} b"),
        ("{&}", r"\{\&\}"),
        ("$#", r"\$\#"),
    ],
)
def test_latex_escape(text: str, escaped: str) -> None:
    assert latex_escape(text) == escaped


def test_latex_holds_caption_and_rows() -> None:
    tex = to_latex(TABLE)
    assert r"\caption{SIMULATED pool: AIME24, paper mode; 50\% of it}" in tex
    assert r"OptScale$^{0}$ & 64 & 83.25 & a|b\_c \& \{d\} \\" in tex
    assert tex.count(r"\\") == 1 + len(TABLE.rows)


def test_write_table_writes_three_files_and_no_temporaries(tmp_path: Path) -> None:
    paths = write_table(TABLE, tmp_path / "paper")
    assert sorted(p.name for p in paths) == ["table.csv", "table.md", "table.tex"]
    assert sorted(p.name for p in (tmp_path / "paper").iterdir()) == sorted(p.name for p in paths)


def test_failed_write_leaves_previous_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "curves.csv"
    write_rows_csv(path, ("a",), [[1]])

    def broken_replace(src: str, dst: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("optscale_pools.atomic.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_rows_csv(path, ("a",), [[2]])
    assert path.read_text() == "a\n1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["curves.csv"]


def test_outputs_get_the_usual_permissions(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    write_rows_csv(path, ("a",), [[1]])
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
