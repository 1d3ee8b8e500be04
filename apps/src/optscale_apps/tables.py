"""Table writers: one table, three forms (CSV, Markdown, LaTeX), written atomically.

Every table carries a caption that says whether its numbers come from a REAL or a SIMULATED pool;
the CSV form, which has no caption, carries it in a ``pool`` column instead.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from optscale_pools import write_text_atomic

Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    """A captioned table of already-formatted or numeric cells.

    Attributes
    ----------
    caption
        One sentence naming the dataset, the mode and the pool kind (REAL or SIMULATED).
    pool_kind
        ``"REAL"`` or ``"SIMULATED"``; written as a column of the CSV form.
    columns
        Column headers.
    rows
        Rows of cells; None prints as empty (e.g. no published number).
    """

    caption: str
    pool_kind: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]]


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float):
        return repr(float(cell))  # the shortest text that reads back as the same float
    return str(cell)


def to_csv(table: Table) -> str:
    """CSV form: a header row, then one row per table row, with a trailing ``pool`` column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*table.columns, "pool"])
    for row in table.rows:
        writer.writerow([*(_text(cell) for cell in row), table.pool_kind])
    return buffer.getvalue()


def to_markdown(table: Table) -> str:
    """Markdown form: the caption in bold, then a pipe table."""
    lines = [f"**{table.caption}**", ""]
    lines.append("| " + " | ".join(table.columns) + " |")
    lines.append("| " + " | ".join("---" for _ in table.columns) + " |")
    for row in table.rows:
        cells = (_text(cell).replace("|", "\\|") for cell in row)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\^{}",
}
_SUPERSCRIPT = re.compile(r"\^([A-Za-z0-9]+)")
"""A caret followed by letters or digits, as in ``OptScale^0``: a superscript, not a caret."""


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters so any cell text prints as written.

    ``name^x`` (letters or digits after the caret) becomes a math superscript, so the method
    names ``OptScale^0`` and ``OptScale^t`` print as in the paper; any other caret prints as one.
    """
    pieces = _SUPERSCRIPT.split(text)
    escaped = ["".join(_LATEX_SPECIAL.get(char, char) for char in piece) for piece in pieces[::2]]
    out = escaped[0]
    for superscript, rest in zip(pieces[1::2], escaped[1:], strict=True):
        out += rf"$^{{{superscript}}}$" + rest
    return out


def to_latex(table: Table) -> str:
    """LaTeX form: a ``table`` float with a ``tabular`` (booktabs rules) and the caption.

    The tabular is scaled to the column width (``resizebox``, from graphicx), so the table fits
    a two-column paper whatever its number of columns.
    """
    spec = "l" * len(table.columns)
    lines = [
        "% needs \\usepackage{booktabs,graphicx}",
        r"\begin{table}[t]",
        r"\centering",
        rf"\caption{{{latex_escape(table.caption)}}}",
        r"\resizebox{\columnwidth}{!}{%",
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        " & ".join(latex_escape(column) for column in table.columns) + r" \\",
        r"\midrule",
    ]
    lines += [" & ".join(latex_escape(_text(cell)) for cell in row) + r" \\" for row in table.rows]
    lines += [r"\bottomrule", r"\end{tabular}%", "}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def write_table(table: Table, out_dir: Path, stem: str = "table") -> list[Path]:
    """Write ``stem.csv``, ``stem.md`` and ``stem.tex`` under ``out_dir``; return their paths."""
    paths = []
    for suffix, render in ((".csv", to_csv), (".md", to_markdown), (".tex", to_latex)):
        path = out_dir / f"{stem}{suffix}"
        write_text_atomic(path, render(table))
        paths.append(path)
    return paths


def write_rows_csv(path: Path, columns: Sequence[str], rows: Sequence[Sequence[Cell]]) -> None:
    """Write a plain CSV (no caption) atomically, e.g. ``curves.csv`` and ``optscale_cells.csv``.

    Floats are written with ``repr``, the shortest text that reads back to the same float.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([[_text(cell) for cell in row] for row in rows])
    write_text_atomic(path, buffer.getvalue())
