from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from optscale_predictor import math_splits, read_labels, read_problems, read_split, write_priors
from optscale_predictor._records import PUBLISHED_PRIORS, align


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_read_problems_takes_problem_or_question(tmp_path: Path) -> None:
    records = [{"problem": "a?", "question": "ignored"}, {"question": "b?"}, "c?"]
    assert read_problems(_write(tmp_path / "p.json", records)) == ["a?", "b?", "c?"]


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([{"problem": "a"}, {"problem": "  "}], "record 1: field 'problem': empty text"),
        ([{"problem": "a"}, {"answer": "3"}], "record 1: field 'problem': missing"),
        ([{"problem": 3}], "record 0: field 'problem': not a string"),
        ({"problem": "a"}, "expected a JSON list"),
    ],
)
def test_bad_problem_files_name_file_record_and_field(
    tmp_path: Path, records: object, message: str
) -> None:
    path = _write(tmp_path / "prompts.json", records)
    with pytest.raises(ValueError, match=message) as error:
        read_problems(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[0.5, NaN]]", "record 0: field 'sigma': nan is not finite"),
        ("[[0.5, 0.1], [Infinity, 0.1]]", "record 1: field 'mu': inf is not finite"),
        ('[[0.5, "x"]]', "record 0: field 'sigma': not a number"),
        ("[[0.5]]", "record 0: not a"),
        ("[[0.5, -0.1]]", "record 0: field 'sigma': negative"),
        ("[[0.5, 0.1", "not valid JSON"),
    ],
)
def test_bad_label_files_name_file_record_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "labels.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as error:
        read_labels(path)
    assert str(path) in str(error.value)


def test_split_files_of_different_lengths_are_refused(tmp_path: Path) -> None:
    problems = _write(tmp_path / "p.json", [{"problem": "a", "level": 1}, {"problem": "b"}])
    labels = _write(tmp_path / "l.json", [[0.5, 0.1]])
    with pytest.raises(ValueError, match=r"holds 1 records but .* holds 2"):
        read_split(problems, labels)


def test_split_reads_levels(tmp_path: Path) -> None:
    problems = _write(tmp_path / "p.json", [{"problem": "a", "level": 1}, {"problem": "b"}])
    labels = _write(tmp_path / "l.json", [[0.5, 0.1], [0.25, 0.0]])
    split = read_split(problems, labels)
    assert split.levels == [1, None]
    np.testing.assert_array_equal(split.labels, [[0.5, 0.1], [0.25, 0.0]])


@given(st.lists(st.text(min_size=1), min_size=1, max_size=20, unique=True), st.randoms())
def test_align_finds_each_reference_text(texts: list[str], random: object) -> None:
    reference = list(texts)
    random.shuffle(reference)  # type: ignore[attr-defined]
    index = align(texts, reference)
    assert [texts[i] for i in index] == reference


def test_align_refuses_missing_and_repeated_texts() -> None:
    with pytest.raises(ValueError, match="no record matches reference record 1"):
        align(["a", "b"], ["b", "c"], name="val.json")
    with pytest.raises(ValueError, match="record 2 repeats the problem of record 0"):
        align(["a", "b", "a"], ["a"])


def test_priors_round_trip_through_the_upstream_shape(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    priors = rng.uniform(0, 1, (7, 2))
    path = tmp_path / "MATH500_train_mu_sigma.json"
    write_priors(priors, path)
    np.testing.assert_array_equal(read_labels(path), priors)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_bad_priors_leave_no_file(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    with pytest.raises(ValueError, match="finite"):
        write_priors(np.array([[0.5, np.nan]]), path)
    with pytest.raises(ValueError, match="shape"):
        write_priors(np.zeros((3, 3)), path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(
    not os.environ.get("OPTSCALE_DATA_MIRROR"), reason="needs the upstream data mirror"
)
def test_math_splits_align_validation_to_prompt_order() -> None:
    from optscale_pools import data_file

    train, val = math_splits()
    assert len(train.problems) == 4501
    assert len(val.problems) == 500
    assert set(train.levels) == {1, 2, 3, 4, 5}
    published = read_labels(data_file(PUBLISHED_PRIORS), negative_sigma=True)
    # The published priors have mu MSE 0.19 against the labels, in prompt order.
    assert np.mean((published[:, 0] - val.labels[:, 0]) ** 2) == pytest.approx(0.19, abs=0.005)
