from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from optscale_gen import Journal, JournalError, SampleRecord


def records(n: int, problem: int = 0) -> list[SampleRecord]:
    rng = np.random.default_rng(n + problem)
    return [
        SampleRecord(problem, j, f"text {j}\n\n\\boxed{{{j}}} é", j + 3, *rng.uniform(0, 1, 2))
        for j in range(n)
    ]


def test_appended_records_load_back(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.append(records(3))
    journal.append(records(2, problem=1))
    journal.append([])
    loaded = Journal(tmp_path).load()
    assert sorted(loaded) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]
    assert [loaded[(0, j)] for j in range(3)] == records(3)


@pytest.mark.parametrize("cut", [1, 17, -1])
def test_a_torn_last_line_is_cut_and_never_loaded(tmp_path: Path, cut: int) -> None:
    journal = Journal(tmp_path)
    journal.append(records(2))
    full = journal.path.read_bytes()
    line = json.dumps(asdict(records(3)[2]), ensure_ascii=False).encode()
    journal.path.write_bytes(full + line[:cut])
    assert sorted(Journal(tmp_path).load()) == [(0, 0), (0, 1)]  # reading alone ignores it
    reopened = Journal(tmp_path)  # a writer cuts it off before appending
    assert reopened.path.read_bytes() == full
    reopened.append(records(3)[2:])
    assert Journal(tmp_path).load()[(0, 2)] == records(3)[2]


def test_shard_journals_are_read_together(tmp_path: Path) -> None:
    Journal(tmp_path, "samples-shard0of2.jsonl").append(records(2, problem=0))
    Journal(tmp_path, "samples-shard1of2.jsonl").append(records(1, problem=1))
    assert sorted(Journal(tmp_path).load()) == [(0, 0), (0, 1), (1, 0)]


def test_two_different_copies_of_a_sample_are_refused(tmp_path: Path) -> None:
    first, second = records(1)[0], SampleRecord(0, 0, "other", 1, 0.5, 0.5)
    Journal(tmp_path).append([first, second])
    with pytest.raises(JournalError, match=r"line 2: sample \(0, 0\) differs from .* line 1"):
        Journal(tmp_path).load()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2: invalid JSON"),
        ("[1, 2]", "line 2: expected a JSON object"),
        ('{"problem": 0, "sample": 1, "completion": "x", "tokens": 1, "score": 0.5}', "last_score"),
        (
            '{"problem": 0, "sample": "1", "completion": "x", "tokens": 1, "score": 0.5,'
            ' "last_score": 0.5}',
            "'sample'",
        ),
        (
            '{"problem": 0, "sample": 1, "completion": "x", "tokens": -1, "score": 0.5,'
            ' "last_score": 0.5}',
            "negative",
        ),
        (
            '{"problem": 0, "sample": 1, "completion": "x", "tokens": 1, "score": 1.5,'
            ' "last_score": 0.5}',
            "'score' is not in",
        ),
    ],
)
def test_a_bad_line_names_file_line_and_field(tmp_path: Path, line: str, message: str) -> None:
    journal = Journal(tmp_path)
    journal.append(records(1))
    with journal.path.open("a") as handle:
        handle.write(line + "\n")
    with pytest.raises(JournalError, match=message) as error:
        journal.load()
    assert str(journal.path) in str(error.value)


def test_settings_are_recorded_then_enforced(tmp_path: Path) -> None:
    Journal(tmp_path).check_settings({"seed": 0, "n": 4})
    journal = Journal(tmp_path)
    journal.check_settings({"n": 4, "seed": 0})
    journal.append(records(1))
    with pytest.raises(JournalError, match="field 'seed' is 0 in the existing run but 1 now"):
        Journal(tmp_path).check_settings({"seed": 1, "n": 4})
    (tmp_path / "run.json").write_text("{oops")
    with pytest.raises(JournalError, match=r"run\.json: invalid JSON"):
        Journal(tmp_path).check_settings({"seed": 0, "n": 4})
