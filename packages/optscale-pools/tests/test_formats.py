"""Upstream JSON, JSONL and prompts: round trips, streaming, and one test per bad-input class."""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optscale_pools import (
    Pool,
    PoolFormatError,
    PoolJsonlWriter,
    extract_boxed,
    jsonread,
    read_pool_jsonl,
    read_prompts,
    read_search_and_learn,
    read_upstream_pool,
    upstream_record,
    write_upstream_pool,
)
from optscale_pools import upstream as upstream_module

PROBLEMS = ["What is  1+1?", "Half of one?\n", "Name 18."]
GOLDS = ["2", "\\frac{1}{2}", "Janet sells 16 - 3 - 4 = 9 eggs.\n#### 18"]


def make_records(rng: np.random.Generator, n_samples: int = 4) -> list[dict[str, Any]]:
    answers = ["2", "3", "\\frac{1}{2}", "0.5", "18", "{a}{b}"]
    records = []
    for index, problem in enumerate(PROBLEMS):
        completions = []
        for _ in range(n_samples):
            kind = rng.integers(4)
            answer = answers[rng.integers(len(answers))]
            text = [
                "",
                "cut at the limit",
                f"so \\boxed{{{answer}}}.",
                f"\\boxed{{1}} \\boxed{{{answer}}}",
            ][kind]
            completions.append(text)
        records.append(
            upstream_record(
                index + 1,
                problem,
                completions,
                rng.random(n_samples).tolist(),
                rng.random(n_samples).tolist(),
                rng.integers(0, 10_000, n_samples).tolist(),
                output=f"out {index}",
                pred=f"pred {index}",
            )
        )
    return records


@pytest.fixture
def prompts_path(tmp_path: Path) -> Path:
    items = [
        {"problem": PROBLEMS[0], "answer": GOLDS[0], "id": "a"},
        {"question": PROBLEMS[1], "answer": GOLDS[1]},
        {"question": PROBLEMS[2], "answer": GOLDS[2]},
    ]
    path = tmp_path / "prompts.json"
    path.write_text(json.dumps(items))
    return path


@pytest.fixture
def records() -> list[dict[str, Any]]:
    return make_records(np.random.default_rng(0))


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value))
    return path


def assert_pools_equal(left: Pool, right: Pool) -> None:
    for name in ("problems", "golds", "ids", "preds", "completions", "outputs", "final_preds"):
        assert getattr(left, name) == getattr(right, name), name
    for name in ("scores", "last_scores", "tokens", "empty"):
        np.testing.assert_array_equal(getattr(left, name), getattr(right, name), err_msg=name)
    assert (left.simulated, left.sequential) == (right.simulated, right.sequential)


def test_read_prompts_keys_and_golds(prompts_path: Path) -> None:
    prompts = read_prompts(prompts_path)
    assert prompts.problems == PROBLEMS
    assert prompts.golds == GOLDS
    assert prompts.ids == ["a", None, None]


def test_read_matches_the_records(
    tmp_path: Path, prompts_path: Path, records: list[dict[str, Any]]
) -> None:
    path = write_json(tmp_path / "scored_par_x_4.json", records)
    pool = read_upstream_pool(path, prompts_path)
    assert pool.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert not pool.sequential
    assert pool.golds == GOLDS
    for row, record in enumerate(records):
        score = record["score"]
        assert pool.completions is not None
        assert pool.completions[row] == score["completions"][0]
        assert pool.scores[row].tolist() == score["scores"][0]
        assert pool.last_scores[row].tolist() == score["last_scores"][0]
        assert pool.tokens[row].tolist() == score["completion_tokens"][0]
        assert pool.preds[row] == [extract_boxed(t) for t in score["completions"][0]]
        assert pool.empty[row].tolist() == [t == "" for t in score["completions"][0]]


def test_round_trip_keeps_every_field_and_the_upstream_shape(
    tmp_path: Path, prompts_path: Path, records: list[dict[str, Any]]
) -> None:
    original = read_upstream_pool(write_json(tmp_path / "in.json", records), prompts_path)
    out = write_upstream_pool(original, tmp_path / "scored_qwen7b_seq_x_4.json")
    again = read_upstream_pool(out, prompts_path, sequential=False)
    assert_pools_equal(original, again)
    written = json.loads(out.read_text())
    assert written == records
    assert read_upstream_pool(out, prompts_path).sequential
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_simulated_flag_survives_the_file(
    tmp_path: Path, prompts_path: Path, records: list[dict[str, Any]]
) -> None:
    for record in records:
        record["simulated"] = True
    pool = read_upstream_pool(write_json(tmp_path / "in.json", records), prompts_path)
    assert pool.simulated
    again = read_upstream_pool(write_upstream_pool(pool, tmp_path / "out.json"), prompts_path)
    assert again.simulated


def test_reading_without_texts_keeps_answers(
    tmp_path: Path, prompts_path: Path, records: list[dict[str, Any]]
) -> None:
    path = write_json(tmp_path / "in.json", records)
    full = read_upstream_pool(path, prompts_path)
    light = read_upstream_pool(path, prompts_path, keep_completions=False)
    assert light.completions is None
    assert light.preds == full.preds
    np.testing.assert_array_equal(light.empty, full.empty)
    with pytest.raises(PoolFormatError, match="no completion texts"):
        write_upstream_pool(light, tmp_path / "out.json")


@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_streaming_reader_matches_json_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, records: list[dict[str, Any]], chunk: int
) -> None:
    path = tmp_path / "pool.json"
    path.write_text(json.dumps(records, indent=2, ensure_ascii=False) + "\n\n")
    monkeypatch.setattr(jsonread, "_CHUNK", chunk)
    with path.open("rb") as stream:
        items = list(jsonread.iter_json_list(stream, str(path)))
    assert items == json.loads(path.read_text())


@settings(max_examples=25, deadline=None)
@given(
    texts=st.lists(
        st.lists(st.text(alphabet="ab{}\\ xé\n", max_size=20), min_size=2, max_size=2),
        min_size=1,
        max_size=3,
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_round_trip_of_arbitrary_texts(texts: list[list[str]], seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_problems = len(texts)
    pool = Pool(
        problems=[f"problem {i}" for i in range(n_problems)],
        golds=["1"] * n_problems,
        ids=list(range(1, n_problems + 1)),
        scores=rng.random((n_problems, 2)),
        last_scores=rng.random((n_problems, 2)),
        tokens=rng.integers(0, 100, (n_problems, 2)),
        preds=[[extract_boxed(t) for t in row] for row in texts],
        empty=np.array([[t == "" for t in row] for row in texts]),
        completions=texts,
    )
    with tempfile.TemporaryDirectory() as folder:
        prompts = write_json(
            Path(folder) / "p.json", [{"problem": p, "answer": "1"} for p in pool.problems]
        )
        path = write_upstream_pool(pool, Path(folder) / "pool.json")
        assert_pools_equal(pool, read_upstream_pool(path, prompts))


def test_jsonl_writer_resumes_after_a_torn_line(
    tmp_path: Path, prompts_path: Path, records: list[dict[str, Any]]
) -> None:
    path = tmp_path / "pool.jsonl"
    with PoolJsonlWriter(path) as writer:
        writer.write(records[0])
        writer.write(records[1])
    with path.open("ab") as handle:
        handle.write(json.dumps(records[2]).encode()[:25])
    with pytest.raises(PoolFormatError, match="record 2"):
        read_pool_jsonl(path, prompts_path)
    with PoolJsonlWriter(path) as writer:
        assert writer.done == 2
        writer.write(records[2])
    pool = read_pool_jsonl(path, prompts_path)
    expected = read_upstream_pool(write_json(tmp_path / "all.json", records), prompts_path)
    assert_pools_equal(pool, expected)


def test_search_and_learn_shape(tmp_path: Path) -> None:
    lines = [
        {
            "problem": "p",
            "answer": "4",
            "completions": ["\\boxed{4}", "none"],
            "scores": [[0.2, 0.6], [0.5]],
            "completion_tokens": [12, 30],
        }
    ]
    path = tmp_path / "sal.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    pool = read_search_and_learn(path)
    np.testing.assert_allclose(pool.scores, [[0.4, 0.5]])
    np.testing.assert_allclose(pool.last_scores, [[0.6, 0.5]])
    assert pool.golds == ["4"]
    assert pool.preds == [["4", None]]
    last = read_search_and_learn(path, item_scores="last")
    np.testing.assert_allclose(last.scores, [[0.6, 0.5]])


def _set(record: dict[str, Any], field: str, value: Any) -> None:
    record["score"][field] = value


BAD_RECORDS = {
    "missing key": (lambda r: r[1]["score"].pop("scores"), 1, "score.scores", "missing"),
    "wrong nesting": (
        lambda r: _set(r[2], "scores", r[2]["score"]["scores"][0]),
        2,
        "score.scores",
        "wrong nesting level",
    ),
    "item not an object": (lambda r: r.__setitem__(1, [r[1]]), 1, None, "wrong nesting level"),
    "unequal lengths": (
        lambda r: r[0]["score"]["last_scores"][0].pop(),
        0,
        "score",
        "unequal list lengths",
    ),
    "nan score": (
        lambda r: r[1]["score"]["scores"][0].__setitem__(2, float("nan")),
        1,
        "score.scores",
        "nan",
    ),
    "inf score": (
        lambda r: r[2]["score"]["last_scores"][0].__setitem__(0, float("inf")),
        2,
        "score.last_scores",
        "inf",
    ),
    "negative score": (
        lambda r: r[0]["score"]["scores"][0].__setitem__(1, -0.25),
        0,
        "score.scores",
        "-0.25",
    ),
    "negative tokens": (
        lambda r: r[1]["score"]["completion_tokens"][0].__setitem__(3, -5),
        1,
        "score.completion_tokens",
        "-5",
    ),
    "different K": (
        lambda r: [r[2]["score"][f][0].pop() for f in upstream_module.SAMPLE_FIELDS],
        2,
        "score.completions",
        "expected K=4",
    ),
    "order differs from prompts": (
        lambda r: r.insert(0, r.pop(1)),
        0,
        "score.problem",
        "does not match prompt 0",
    ),
    "pool shorter than prompts": (lambda r: r.pop(), 2, None, "pool has 2 problems"),
    "pool longer than prompts": (lambda r: r.append(r[0]), 3, None, "pool has 4 problems"),
}


@pytest.mark.parametrize("case", sorted(BAD_RECORDS))
def test_bad_records_are_rejected_naming_record_and_field(
    tmp_path: Path, prompts_path: Path, records: list[dict[str, Any]], case: str
) -> None:
    mutate, index, field, detail = BAD_RECORDS[case]
    mutate(records)
    path = write_json(tmp_path / "bad.json", records)
    before = sorted(tmp_path.iterdir())
    for reader, target in (
        (read_upstream_pool, path),
        (read_pool_jsonl, _as_jsonl(records, tmp_path / "bad.jsonl")),
    ):
        with pytest.raises(PoolFormatError) as raised:
            reader(target, prompts_path)
        message = str(raised.value)
        assert str(target) in message
        assert f"record {index}" in message
        assert detail in message
        if field is not None:
            assert f"field {field!r}" in message
    assert sorted(tmp_path.iterdir()) == sorted([*before, tmp_path / "bad.jsonl"])


def _as_jsonl(records: list[Any], path: Path) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def test_alignment_ignores_whitespace(
    tmp_path: Path, prompts_path: Path, records: list[dict[str, Any]]
) -> None:
    for record in records:
        record["score"]["problem"] = ["  " + " \n ".join(record["score"]["problem"][0].split())]
    pool = read_upstream_pool(write_json(tmp_path / "ws.json", records), prompts_path)
    assert pool.problems == PROBLEMS


def test_id_alignment_without_problem_text(
    tmp_path: Path, prompts_path: Path, records: list[dict[str, Any]]
) -> None:
    for record in records:
        record["score"]["problem"] = []
    assert read_upstream_pool(write_json(tmp_path / "ok.json", records), prompts_path).ids == [
        1,
        2,
        3,
    ]
    records[1]["id"] = 7
    with pytest.raises(PoolFormatError, match=r"record 1: field 'id': item id 7"):
        read_upstream_pool(write_json(tmp_path / "bad.json", records), prompts_path)


@pytest.mark.parametrize("cut", [1, 40, -2])
def test_truncated_json(
    tmp_path: Path, prompts_path: Path, records: list[dict[str, Any]], cut: int
) -> None:
    text = json.dumps(records)
    path = tmp_path / "cut.json"
    path.write_text(text[:cut])
    with pytest.raises(PoolFormatError, match=r"cut\.json: record \d: truncated"):
        read_upstream_pool(path, prompts_path)


def test_empty_pool(tmp_path: Path, prompts_path: Path) -> None:
    with pytest.raises(PoolFormatError, match=r"empty\.json: empty pool"):
        read_upstream_pool(write_json(tmp_path / "empty.json", []), prompts_path)
    with pytest.raises(PoolFormatError, match="empty pool"):
        read_pool_jsonl(_as_jsonl([], tmp_path / "empty.jsonl"), prompts_path)


def test_top_level_not_a_list(tmp_path: Path, prompts_path: Path) -> None:
    with pytest.raises(PoolFormatError, match="top level must be a JSON list"):
        read_upstream_pool(write_json(tmp_path / "obj.json", {"a": 1}), prompts_path)


def test_bad_prompts(tmp_path: Path) -> None:
    with pytest.raises(PoolFormatError, match=r"p\.json: record 1: field 'answer'"):
        read_prompts(
            write_json(tmp_path / "p.json", [{"problem": "a", "answer": "1"}, {"problem": "b"}])
        )
    with pytest.raises(PoolFormatError, match=r"q\.json: record 0: field 'question'"):
        read_prompts(write_json(tmp_path / "q.json", [{"answer": "1"}]))


def test_upstream_prompt_files_load(tmp_path: Path) -> None:
    mirror = _mirror()
    counts = {"aime24.json": 30, "aime25.json": 30, "amc23.json": 40, "gsm8k_test.json": 1319}
    for name, count in counts.items():
        prompts = read_prompts(mirror / "data/test_prompts" / name)
        assert len(prompts) == count
        assert all(prompts.problems)
        assert all(prompts.golds)


def _mirror() -> Path:
    import os

    folder = os.environ.get("OPTSCALE_DATA_MIRROR")
    if not folder or not Path(folder).is_dir():
        pytest.skip("OPTSCALE_DATA_MIRROR does not name the upstream mirror folder")
    return Path(folder)
