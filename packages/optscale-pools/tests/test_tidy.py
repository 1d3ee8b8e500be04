"""The tidy format: CSV and JSONL read alike, checks name file, record and field, grading."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from optscale_math import NO_ANSWER
from optscale_pools import PoolFormatError, read_tidy, tidy_pool

COLUMNS = ("problem_id", "sample_index", "answer", "score", "tokens", "correct")
ROWS: list[dict[str, object]] = [
    dict(zip(COLUMNS, values, strict=True))
    for values in (
        ("b", 1, "2", 0.4, 20, "false"),
        ("b", 0, "3", 0.9, 10, "true"),
        ("a", 0, "", 0.1, 5, "0"),
        ("b", 2, "3", 0.7, 30, "1"),
    )
]


def without(field: str) -> list[dict[str, object]]:
    return [{k: v for k, v in row.items() if k != field} for row in ROWS]


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.mark.parametrize("writer", [write_csv, write_jsonl])
def test_csv_and_jsonl_read_to_the_same_padded_arrays(tmp_path: Path, writer: object) -> None:
    suffix = ".csv" if writer is write_csv else ".jsonl"
    samples = read_tidy(writer(tmp_path / f"pool{suffix}", ROWS))  # type: ignore[operator]
    assert samples.problem_ids == ["b", "a"]  # order of first appearance
    np.testing.assert_array_equal(samples.n_samples, [3, 1])
    assert samples.answers == [["3", "2", "3"], [None, None, None]]
    np.testing.assert_array_equal(samples.tokens, [[10, 20, 30], [5, 0, 0]])
    assert samples.correct is not None
    np.testing.assert_array_equal(samples.correct, [[True, False, True], [False, False, False]])
    pool = tidy_pool(samples, name="mine")
    assert pool.name == "mine"
    np.testing.assert_array_equal(pool.samples_per_problem, [3, 1])
    np.testing.assert_array_equal(pool.view.answer_ids[0], [0, 1, 0])
    assert pool.view.answer_ids[1, 0] == NO_ANSWER


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("score", "nan", "finite number"),
        ("tokens", "x", "integer >= 0"),
        ("sample_index", "-1", "integer >= 0"),
        ("correct", "yes please", "true or false"),
    ],
)
def test_a_bad_value_names_file_record_and_field(
    tmp_path: Path, field: str, value: str, message: str
) -> None:
    rows = [dict(row) for row in ROWS]
    rows[2][field] = value
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(PoolFormatError, match=message) as caught:
        read_tidy(path)
    assert str(caught.value).startswith(f"{path}: record 2: field '{field}'")


def test_structural_problems_are_named(tmp_path: Path) -> None:
    missing = write_csv(tmp_path / "gap.csv", [r for r in ROWS if r["sample_index"] != 1])
    with pytest.raises(PoolFormatError, match="has no sample 1"):
        read_tidy(missing)
    no_tokens = write_csv(
        tmp_path / "cols.csv", [{k: v for k, v in r.items() if k != "tokens"} for r in ROWS]
    )
    with pytest.raises(PoolFormatError, match="field 'tokens': required column missing"):
        read_tidy(no_tokens)
    with pytest.raises(PoolFormatError, match="unknown tidy format"):
        read_tidy(tmp_path / "pool.xlsx")


def test_without_correct_or_gold_the_error_says_how_to_fix_it(tmp_path: Path) -> None:
    samples = read_tidy(write_csv(tmp_path / "nogold.csv", without("correct")))
    with pytest.raises(PoolFormatError, match="'gold' column or --prompts"):
        tidy_pool(samples, name="x")
    with pytest.raises(PoolFormatError, match="1 gold answers for 2 problems"):
        tidy_pool(samples, name="x", golds=["3"])


def test_a_gold_column_is_graded_with_math_verify(tmp_path: Path) -> None:
    rows = [{**row, "gold": "3" if row["problem_id"] == "b" else "1"} for row in without("correct")]
    rows[3]["answer"] = "\\frac{6}{2}"
    samples = read_tidy(write_csv(tmp_path / "gold.csv", rows))
    pool = tidy_pool(samples, name="g", grade_cache=False)
    np.testing.assert_array_equal(pool.correct[0], [True, False, True])
    # math-verify clusters 3 and 6/2 together
    assert pool.view.answer_ids[0, 0] == pool.view.answer_ids[0, 2]


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is not None, reason="pyarrow installed")
def test_parquet_without_pyarrow_says_how_to_install_it(tmp_path: Path) -> None:
    path = tmp_path / "pool.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(PoolFormatError, match=r"pip install pyarrow"):
        read_tidy(path)
