"""The in-memory Pool checks its own arrays; the search-and-learn reader rejects bad lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from optscale_pools import Pool, PoolFormatError, read_search_and_learn


def pool_fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "problems": ["a", "b"],
        "golds": ["1", "2"],
        "ids": [1, 2],
        "scores": np.full((2, 3), 0.5),
        "last_scores": np.full((2, 3), 0.5),
        "tokens": np.ones((2, 3), dtype=np.int64),
        "preds": [["1", None, "2"], ["2", "2", None]],
        "empty": np.zeros((2, 3), dtype=np.bool_),
        "source": "mem.json",
    }
    fields.update(changes)
    return fields


def test_valid_pool_fills_upstream_strings() -> None:
    pool = Pool(**pool_fields())
    assert (pool.n_problems, pool.n_samples) == (2, 3)
    assert pool.outputs == ["", ""]
    assert pool.final_preds == ["", ""]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"problems": [], "golds": [], "ids": [], "preds": []}, "empty pool"),
        ({"last_scores": np.full((2, 2), 0.5)}, "field 'last_scores': shape"),
        ({"golds": ["1"]}, "field 'golds': 1 entries for 2 problems"),
        ({"preds": [["1"], ["2", "2", None]]}, "record 0: field 'preds'"),
        ({"completions": [["", "", ""], [""]]}, "record 1: field 'completions'"),
        ({"scores": np.array([[0.5, np.nan, 0.5], [0.5] * 3])}, "record 0: field 'scores'"),
        ({"last_scores": np.array([[0.5] * 3, [0.5, 0.5, 1.5]])}, "record 1: field 'last_scores'"),
        ({"tokens": np.array([[1, 1, 1], [1, -3, 1]])}, "record 1: field 'tokens'"),
    ],
)
def test_bad_in_memory_pool(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(PoolFormatError, match=message):
        Pool(**pool_fields(**changes))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"answer": "1", "completions": [], "scores": [], "completion_tokens": []}, "'problem'"),
        ({"problem": "p", "answer": "1", "completions": ["x"], "scores": "high"}, "'scores'"),
        (
            {"problem": "p", "answer": "1", "completions": ["x"], "scores": [["a"]]},
            "'scores': step reward 'a' is not a number in \\[0, 1\\]",
        ),
        (
            {"problem": "p", "answer": "1", "completions": ["x"], "scores": []},
            "'scores': no samples",
        ),
    ],
)
def test_bad_search_and_learn_lines(tmp_path: Path, line: dict[str, Any], message: str) -> None:
    path = tmp_path / "sal.jsonl"
    path.write_text(json.dumps(line) + "\n")
    with pytest.raises(PoolFormatError, match=rf"sal\.jsonl: record 0: field {message}"):
        read_search_and_learn(path)
