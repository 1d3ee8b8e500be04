"""Answer extraction, math-verify grading in worker processes, the grades cache, views, CLI."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optscale_pools import (
    NO_ANSWER,
    Grades,
    Pool,
    extract_boxed,
    grade_pool,
    make_view,
    upstream_record,
)
from optscale_pools import grading as grading_module
from optscale_pools.cli import main
from optscale_pools.grading import grade_answers, raw_answer_ids
from optscale_pools.workers import run_tasks

balanced = st.recursive(
    st.text(alphabet="ab1+ \\", max_size=5),
    lambda inner: st.builds(lambda a, b: a + "{" + b + "}", inner, inner),
    max_leaves=6,
)


@settings(max_examples=60, deadline=None)
@given(
    before=st.text(alphabet="xy{}\\ ", max_size=10),
    content=balanced,
    after=st.text(alphabet="xy{} ", max_size=10),
)
def test_extract_boxed_takes_the_last_balanced_box(before: str, content: str, after: str) -> None:
    text = before + "\\boxed{" + content + "}" + after
    assert extract_boxed(text) == content


def test_docstring_examples_run() -> None:
    from optscale_pools import answers, jsonl

    for module in (answers, jsonl):
        assert doctest.testmod(module).failed == 0


def test_extract_boxed_cases() -> None:
    assert extract_boxed("no box") is None
    assert extract_boxed("\\boxed{1} then \\boxed{2") == "1"
    assert extract_boxed("\\boxed{\\frac{1}{2}}") == "\\frac{1}{2}"
    assert extract_boxed("\\boxed{}") == ""
    assert extract_boxed("\\boxed{") is None


def slow_raw_ids(preds: list[list[str | None]]) -> list[list[int]]:
    rows = []
    for answers in preds:
        order: list[str] = []
        for answer in answers:
            if answer is not None and answer not in order:
                order.append(answer)
        rows.append([NO_ANSWER if a is None else order.index(a) for a in answers])
    return rows


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(["1", "2", "x", None]), min_size=3, max_size=3), min_size=1)
)
def test_raw_ids_match_the_obvious_implementation(preds: list[list[str | None]]) -> None:
    assert raw_answer_ids(preds).tolist() == slow_raw_ids(preds)


def test_grade_answers_both_orders_and_clusters() -> None:
    correct, swapped, clusters, timeouts = grade_answers(
        "2", ["2", "2.0", "3", "\\frac{4}{2}", "x+"], 5
    )
    assert timeouts == 0
    assert correct == [True, True, False, True, False]
    assert swapped == correct
    assert clusters == [0, 0, 1, 0, 2]
    correct, _, clusters, _ = grade_answers("\\frac{1}{2}", ["0.5", "\\frac12", "1/2", "2"], 5)
    assert correct == [True, True, True, False]
    assert clusters == [0, 0, 0, 1]


def test_gsm8k_gold_is_a_worked_solution() -> None:
    gold = "She sells 16 - 3 - 4 = <<16-3-4=9>>9 eggs.\n#### 18"
    assert grade_answers(gold, ["18", "9"], 5)[0] == [True, False]


def test_hard_deadline_kills_a_stuck_task() -> None:
    tasks = [(range(5),), (range(10**18),), (["not", "numbers"],), (range(3),)]
    run = run_tasks(sum, tasks, workers=2, deadlines=[120, 1, 120, 120], progress=False)
    assert run.results == [10, None, None, 3]
    assert run.timed_out == (1,)
    assert run.expired == ()


def make_pool(tmp_path: Path) -> tuple[Pool, Path, Path]:
    rng = np.random.default_rng(1)
    golds = ["2", "\\frac{1}{2}", "Total: 9 + 9 = 18.\n#### 18"]
    answers = [["2", "2.0", "3", None], ["0.5", "\\frac12", "1", None], ["18", "17", "018", None]]
    prompts = [{"problem": f"problem {i}", "answer": gold} for i, gold in enumerate(golds)]
    records = []
    for row, options in enumerate(answers):
        picks = rng.integers(0, len(options), 6)
        texts = [
            ""
            if options[p] is None and k % 2
            else f"x \\boxed{{{options[p]}}}"
            if options[p] is not None
            else "cut"
            for k, p in enumerate(picks)
        ]
        records.append(
            upstream_record(
                row + 1,
                f"problem {row}",
                texts,
                rng.random(6),
                rng.random(6),
                rng.integers(1, 50, 6),
            )
        )
    pool_path = tmp_path / "pool.json"
    pool_path.write_text(json.dumps(records))
    prompts_path = tmp_path / "prompts.json"
    prompts_path.write_text(json.dumps(prompts))
    from optscale_pools import read_upstream_pool

    return read_upstream_pool(pool_path, prompts_path), pool_path, prompts_path


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Pool, Grades, Path, Path, Path]:
    folder = tmp_path_factory.mktemp("graded")
    pool, pool_path, prompts_path = make_pool(folder)
    cache = folder / "cache"
    grades = grade_pool(pool, cache=cache, workers=2, progress=False)
    return pool, grades, cache, pool_path, prompts_path


def test_grades_match_in_process_grading(graded: tuple[Pool, Grades, Path, Path, Path]) -> None:
    pool, grades, *_ = graded
    assert grades.failed == ()
    np.testing.assert_array_equal(grades.raw_ids, raw_answer_ids(pool.preds))
    for row in range(pool.n_problems):
        uniques = list(dict.fromkeys(a for a in pool.preds[row] if a is not None))
        correct, swapped, clusters, _ = grade_answers(pool.golds[row], uniques, 5)
        for col, answer in enumerate(pool.preds[row]):
            if answer is None:
                assert not grades.correct[row, col]
                assert not grades.correct_swapped[row, col]
                assert grades.cluster_ids[row, col] == NO_ANSWER
            else:
                index = uniques.index(answer)
                assert grades.correct[row, col] == correct[index]
                assert grades.correct_swapped[row, col] == swapped[index]
                assert grades.cluster_ids[row, col] == clusters[index]


def test_second_run_grades_nothing(
    graded: tuple[Pool, Grades, Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool, grades, cache, *_ = graded
    assert sorted(p.suffix for p in cache.iterdir()) == [".json", ".npz"]

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("graded again")

    monkeypatch.setattr(grading_module, "run_tasks", refuse)
    again = grade_pool(pool, cache=cache, progress=False)
    for name in ("correct", "correct_swapped", "raw_ids", "cluster_ids"):
        np.testing.assert_array_equal(getattr(again, name), getattr(grades, name))


def test_views_by_mode(graded: tuple[Pool, Grades, Path, Path, Path]) -> None:
    pool, grades, *_ = graded
    paper = make_view(pool, grades, "paper")
    fair = make_view(pool, grades, "fair", prior_mu=[0.1, 0.2, 0.3], prior_sigma=[1, 2, 3])
    np.testing.assert_array_equal(paper.answer_ids, grades.raw_ids)
    np.testing.assert_array_equal(fair.answer_ids, grades.cluster_ids)
    np.testing.assert_array_equal(paper.empty, pool.empty)
    assert np.isnan(paper.prior_mu).all()
    assert fair.prior_sigma.tolist() == [1, 2, 3]
    assert not hasattr(paper, "correct")
    with pytest.raises(ValueError, match="prior_mu must have shape"):
        make_view(pool, grades, "fair", prior_mu=[0.1])
    with pytest.raises(ValueError, match="mode must be"):
        make_view(pool, grades, "best")  # type: ignore[arg-type]


def test_cli_grade_summary_from_the_cache(
    graded: tuple[Pool, Grades, Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pool, grades, cache, pool_path, prompts_path = graded
    monkeypatch.setattr(grading_module, "run_tasks", None)
    argv = ["grade", str(pool_path), "--prompts", str(prompts_path), "--cache-dir", str(cache)]
    assert main([*argv, "--mode", "fair"]) == 0
    out = capsys.readouterr().out
    assert "problems: 3" in out
    assert "samples per problem K: 6" in out
    assert f"first-sample accuracy: {grades.correct[:, 0].mean():.4f}" in out
    assert f"mean tokens per sample: {pool.tokens.mean():.1f}" in out


def test_cli_grade_bad_input_leaves_no_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, pool_path, prompts_path = make_pool(tmp_path)
    prompts = json.loads(prompts_path.read_text())
    prompts_path.write_text(json.dumps(prompts[::-1]))
    cache = tmp_path / "cache"
    argv = ["grade", str(pool_path), "--prompts", str(prompts_path), "--cache-dir", str(cache)]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "record 0" in err[0]
    assert "score.problem" in err[0]
    assert "pool.json" in err[0]
    assert not cache.exists()
