from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from optscale_gen import PrmScorer, TransformersBackend, cli, question_prompt, sample_seed
from optscale_gen.cli import main


class BestOfN:
    """The simplest policy: pay for every sample, pick the best score (first on ties)."""

    name = "bon-test"
    rows_independent = True
    verify_order = "gold_pred"

    @classmethod
    def grid(cls) -> list[dict[str, object]]:
        return [{}]

    def run(self, view: object) -> object:
        from optscale_math import Decisions

        scores = view.scores  # type: ignore[attr-defined]
        n_used = np.full(scores.shape[0], scores.shape[1], dtype=np.int64)
        return Decisions(n_used=n_used, pick=np.argmax(scores, axis=1).astype(np.int64))


def test_prompts_to_pool_to_grades_to_replay(
    tiny: Any,
    generate_args: Callable[..., list[str]],
    tmp_path: Path,
    generator: TransformersBackend,
    scorer: PrmScorer,
) -> None:
    from optscale_pools import grade_pool, make_view, read_prompts, read_upstream_pool, replay

    out = tmp_path / "pool.json"
    assert main(generate_args(tmp_path, "--n", "3", "--seed", "5", "--chunk-size", "4")) == 0
    prompts = read_prompts(tiny.prompts)
    pool = read_upstream_pool(out, prompts)
    assert pool.scores.shape == (4, 3)
    assert pool.completions is not None
    for i, problem in enumerate(prompts.problems):
        seeds = [sample_seed(5, i, j) for j in range(3)]
        expected = [generator.generate([question_prompt(problem)], [s])[0] for s in seeds]
        assert pool.completions[i] == expected
        assert pool.tokens[i].tolist() == generator.count_tokens(expected)
        scores, last = scorer.score([problem] * 3, expected)
        np.testing.assert_allclose(pool.scores[i], scores, rtol=1e-5)
        np.testing.assert_allclose(pool.last_scores[i], last, rtol=1e-5)
    items = json.loads(out.read_text())
    best = [int(np.argmax(pool.scores[i])) for i in range(4)]
    assert [item["output"] for item in items] == [pool.completions[i][best[i]] for i in range(4)]

    grades = grade_pool(pool, cache=False, workers=1, progress=False)
    result = replay(BestOfN(), make_view(pool, grades), grades.correct)
    assert result.accuracy == pytest.approx(grades.correct[np.arange(4), best].mean())
    assert result.mean_tokens == pytest.approx(pool.tokens.sum(axis=1).mean())


def test_sigkill_mid_run_then_resume_equals_an_uninterrupted_run(
    generate_args: Callable[..., list[str]], tmp_path: Path
) -> None:
    settings = ["--n", "4", "--seed", "3", "--chunk-size", "1"]
    reference = tmp_path / "reference" / "pool.json"
    assert main(generate_args(reference.parent, *settings[:4], "--chunk-size", "3")) == 0

    out = tmp_path / "killed" / "pool.json"
    journal = tmp_path / "killed" / "run" / "samples.jsonl"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "optscale_gen.cli", *generate_args(out.parent, *settings)]
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    while process.poll() is None:
        if journal.exists() and journal.read_bytes().count(b"\n") >= 3:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    assert process.wait() == -signal.SIGKILL, "the run ended before it could be killed"
    assert not out.exists()
    assert journal.read_bytes().count(b"\n") < 1 + 16  # the settings header, then samples

    assert main(generate_args(out.parent, *settings)) == 0
    got, expected = json.loads(out.read_text()), json.loads(reference.read_text())
    for item, ref in zip(got, expected, strict=True):
        assert item["score"]["completions"] == ref["score"]["completions"]
        assert item["score"]["completion_tokens"] == ref["score"]["completion_tokens"]
        np.testing.assert_allclose(item["score"]["scores"], ref["score"]["scores"], rtol=1e-5)
    header, *lines = (json.loads(line) for line in journal.read_text().splitlines())
    assert header["settings"]["seed"] == 3
    assert sorted((r["problem"], r["sample"]) for r in lines) == [
        (i, j) for i in range(4) for j in range(4)
    ]  # every sample journaled exactly once: none lost, none duplicated


def test_score_rescores_an_existing_pool(
    tiny: Any, generate_args: Callable[..., list[str]], tmp_path: Path
) -> None:
    from optscale_pools import read_upstream_pool

    pool_path = tmp_path / "pool.json"
    assert main(generate_args(tmp_path, "--n", "2")) == 0
    rescored = tmp_path / "rescored" / "pool.json"
    args = ["score", str(pool_path), "--prompts", str(tiny.prompts), "--prm", str(tiny.prm)]
    args += ["--out", str(rescored.parent), "--prm-batch-size", "5"]
    assert main([*args, "--no-progress"]) == 0
    assert (rescored.parent / "run" / "samples.jsonl").exists()
    before = read_upstream_pool(pool_path, tiny.prompts)
    after = read_upstream_pool(rescored, tiny.prompts)
    assert after.completions == before.completions
    np.testing.assert_array_equal(after.tokens, before.tokens)
    np.testing.assert_allclose(after.scores, before.scores, rtol=1e-5)


def test_sharded_runs_then_one_assembling_run_that_loads_no_model(
    generate_args: Callable[..., list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "pool.json"
    for shard in ("0", "1"):
        args = generate_args(tmp_path, "--n", "2", "--num-shards", "2", "--shard-index", shard)
        assert main(args) == 0
        assert not out.exists()

    def no_model(*_: object) -> None:
        raise AssertionError("a model was loaded although every sample is journaled")

    monkeypatch.setattr(cli, "_make_backend", no_model)
    monkeypatch.setattr(cli, "_make_scorer", no_model)
    assert main(generate_args(tmp_path, "--n", "2")) == 0
    assert [item["n"] for item in json.loads(out.read_text())] == [2, 2, 2, 2]
    run_dir = tmp_path / "run"
    assert sorted(p.name for p in run_dir.glob("*.jsonl")) == [
        "samples-shard0of2.jsonl",
        "samples-shard1of2.jsonl",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a, t: a, "No such file"),
        (lambda a, t: (t / "bad.json").write_text("{") and a, "invalid JSON"),
        (lambda a, t: (t / "bad.json").write_text('[{"problem": 1}]') and a, "record 0"),
    ],
)
def test_bad_prompts_exit_with_one_line(
    generate_args: Callable[..., list[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: object,
    message: str,
) -> None:
    args = generate_args(tmp_path / "gen")
    args[args.index("--prompts") + 1] = str(tmp_path / "bad.json")
    assert main(change(args, tmp_path)) == 1  # type: ignore[operator]
    error = capsys.readouterr().err
    assert message in error
    assert error.count("\n") == 1


def test_other_settings_in_an_existing_run_dir_are_refused(
    generate_args: Callable[..., list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(generate_args(tmp_path, "--n", "1")) == 0
    assert main(generate_args(tmp_path, "--n", "1", "--seed", "2")) == 1
    assert "field 'seed' is 0 in the existing run but 2 now" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--num-shards", "2", "--shard-index", "2"], "--shard-index"),
        (["--temperature", "0"], "temperature"),
        (["--n", "0"], "n_samples"),
    ],
)
def test_bad_options_exit_with_one_line(
    generate_args: Callable[..., list[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    assert main(generate_args(tmp_path / "gen", *extra)) == 1
    assert message in capsys.readouterr().err


def test_help_documents_the_scale_out_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    text = capsys.readouterr().out
    for flag in ("--tensor-parallel-size", "--pipeline-parallel-size", "--adaptive", "--shard"):
        assert flag in text


def test_missing_vllm_is_one_line(
    generate_args: Callable[..., list[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm -> ImportError
    args = generate_args(tmp_path / "gen", "--n", "1")
    args[args.index("--backend") + 1] = "vllm"
    assert main(args) == 1
    error = capsys.readouterr().err
    assert "pip install vllm" in error
    assert error.count("\n") == 1


def test_out_naming_a_file_is_refused_before_any_work(
    generate_args: Callable[..., list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "pool.json"
    out.write_text("[]\n")
    assert main(generate_args(out, "--n", "1")) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"optscale-gen: error: {out}: --out names a folder")
    assert error.count("\n") == 1
    assert out.read_text() == "[]\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pool.json"]
