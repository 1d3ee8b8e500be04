from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from optscale_predictor import (
    PriorPredictor,
    Split,
    predict_priors,
    read_labels,
)
from optscale_predictor.cli import main

pytest.importorskip("torch")


def test_light_training_writes_a_checkpoint_that_predicts(
    light_checkpoint: Path, tiny_splits: tuple[Split, Split]
) -> None:
    manifest = json.loads((light_checkpoint / "predictor.json").read_text())
    assert manifest["variant"] == "light"
    assert manifest["alpha"] in (1.0, 10.0)
    problems = tiny_splits[1].problems
    priors = predict_priors(problems, light_checkpoint)
    assert priors.shape == (len(problems), 2)
    assert (priors[:, 1] > 0).all()
    assert manifest["val_mse"] == pytest.approx(np.mean((priors - tiny_splits[1].labels) ** 2))


def test_bad_problems_are_refused_by_index(light_checkpoint: Path) -> None:
    predictor = PriorPredictor(light_checkpoint)
    with pytest.raises(ValueError, match="problem 1 is empty"):
        predictor.predict(["find x?", " \n"])
    with pytest.raises(ValueError, match="problem 0 is a int"):
        predictor.predict([3])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="not one string"):
        predictor.predict("find x?")  # type: ignore[arg-type]
    assert predictor.predict([]).shape == (0, 2)


def test_long_problems_are_truncated_with_a_warning(light_checkpoint: Path) -> None:
    long = " ".join(["find the value of x"] * 40)
    with pytest.warns(UserWarning, match=r"1 of 2 problems are longer than 60 tokens .* problem 1"):
        priors = PriorPredictor(light_checkpoint).predict(["find x?", long])
    assert np.isfinite(priors).all()


def test_a_directory_without_a_checkpoint_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a predictor checkpoint"):
        PriorPredictor(tmp_path)


def test_cli_predict_writes_upstream_priors_in_prompt_order(
    tmp_path: Path, light_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts = tmp_path / "aime25.json"
    prompts.write_text(json.dumps([{"question": "find x 1?"}, {"question": "circle area 2?"}]))
    out = tmp_path / "priors"
    args = ["predict", "--prompts", str(prompts), "--out", str(out), "--no-progress"]
    assert main([*args, "--checkpoint", str(light_checkpoint)]) == 0
    expected = PriorPredictor(light_checkpoint).predict(["find x 1?", "circle area 2?"])
    np.testing.assert_array_equal(read_labels(out / "priors.json"), expected)
    assert "wrote 2 priors" in capsys.readouterr().out


def test_cli_reports_bad_prompts_in_one_line_and_writes_nothing(
    tmp_path: Path, light_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts = tmp_path / "prompts.json"
    prompts.write_text(json.dumps([{"question": "find x?"}, {"answer": "2"}]))
    out = tmp_path / "priors"
    args = ["predict", "--prompts", str(prompts), "--out", str(out)]
    assert main([*args, "--checkpoint", str(light_checkpoint)]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert f"{prompts}: record 1: field 'problem': missing (nor 'question')" in error
    assert not (out / "priors.json").exists()


def test_the_shipped_predictor_loads_and_predicts() -> None:
    priors = predict_priors(["What is $1+1$?", "Find all real $x$ with $x^3 = x$."])
    assert priors.shape == (2, 2)
    assert ((priors[:, 0] > 0) & (priors[:, 0] <= 1) & (priors[:, 1] > 0)).all()
