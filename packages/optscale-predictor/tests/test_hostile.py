"""Hostile prompts, labels, checkpoints and caches: a one-line error naming file, record, field."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from optscale_predictor import PriorPredictor, read_labels, read_problems
from optscale_predictor.cli import main

DEEP = "[" * 100_000 + "]" * 100_000
one_line = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=10,
)


@pytest.mark.parametrize("reader", [read_problems, read_labels])
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (DEEP.encode(), "not valid JSON (nested too deeply)"),
        (b'[{"problem": "\xff"}]', "not UTF-8 text (byte 14)"),
        (b"[1, 2", "not valid JSON"),
        (b'{"problem": "x"}', "expected a JSON list"),
    ],
)
def test_unreadable_files_are_one_line(
    tmp_path: Path, reader: object, content: bytes, message: str
) -> None:
    path = tmp_path / "input.json"
    path.write_bytes(content)
    assert callable(reader)
    with pytest.raises(ValueError, match="^" + str(path).replace(".", r"\.")) as error:
        reader(path)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[0.5, 1e400]]", "record 0: field 'sigma': inf is not finite"),
        ("[[0.1, 0.1], [" + "1" * 400 + ", 0.1]]", "record 1: field 'mu': 1111"),
        ("[[0.5, true]]", "record 0: field 'sigma': not a number"),
        ('[[0.5, 0.1], {"mu": 0.5}]', "record 1: not a [mu, sigma] pair"),
    ],
)
def test_bad_label_values_name_record_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "labels.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=r"labels\.json: ") as error:
        read_labels(path)
    assert message in str(error.value)


def _labels_are_sound(labels: np.ndarray) -> bool:
    finite = bool(np.all(np.isfinite(labels)))
    return labels.shape[1:] == (2,) and finite and bool(np.all(labels[:, 1] >= 0))


def _problems_are_sound(problems: list[str]) -> bool:
    return all(isinstance(p, str) and p.strip() for p in problems)


@pytest.mark.parametrize(
    ("reader", "sound"), [(read_labels, _labels_are_sound), (read_problems, _problems_are_sound)]
)
@one_line
@given(data=json_values)
def test_any_json_reads_or_fails_in_one_line(
    tmp_path: Path, reader: object, sound: object, data: object
) -> None:
    assert callable(reader)
    assert callable(sound)
    path = tmp_path / "input.json"
    path.write_text(json.dumps(data))
    message = ""
    try:
        result = reader(path)
    except ValueError as error:
        message = str(error)
    if message:
        assert message.startswith(f"{path}: ")
        assert "\n" not in message
    else:
        assert len(result) == len(data)  # type: ignore[arg-type]
        assert sound(result)


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (DEEP, "not valid JSON (nested too deeply)"),
        ("[]", "expected a JSON object"),
        ('{"variant": 3}', "field 'variant': unknown 3"),
        ('{"variant": "light", "config": {"backbone": "x", "max_length": "9"}}', "field 'config'"),
    ],
)
def test_a_damaged_checkpoint_manifest_is_one_line(
    tmp_path: Path, manifest: str, message: str
) -> None:
    (tmp_path / "predictor.json").write_text(manifest)
    with pytest.raises(ValueError, match=r"predictor\.json: ") as error:
        PriorPredictor(tmp_path)
    assert message in str(error.value)


def test_a_truncated_feature_cache_is_recomputed(tmp_path: Path, light_checkpoint: Path) -> None:
    cache = tmp_path / "cache"
    problems = ["find x?", "what is the area of a circle?"]
    expected = PriorPredictor(light_checkpoint, cache=cache).predict(problems)
    (stored,) = cache.glob("*.npz")
    stored.write_bytes(stored.read_bytes()[:50])
    got = PriorPredictor(light_checkpoint, cache=cache).predict(problems)
    np.testing.assert_array_equal(got, expected)
    with np.load(stored) as rewritten:
        assert len(rewritten["keys"]) == 2


def test_a_truncated_ridge_fit_is_one_line(tmp_path: Path, light_checkpoint: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(light_checkpoint, broken)
    (broken / "ridge.npz").write_bytes((broken / "ridge.npz").read_bytes()[:40])
    with pytest.raises(ValueError, match=r"ridge\.npz: not a ridge fit"):
        PriorPredictor(broken).predict(["find x?"])


def test_cli_errors_exit_1_and_usage_errors_exit_2(
    tmp_path: Path, light_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts = tmp_path / "prompts.json"
    prompts.write_text(DEEP)
    args = ["predict", "--prompts", str(prompts), "--out", str(tmp_path / "out.json")]
    assert main([*args, "--checkpoint", str(light_checkpoint)]) == 1
    error = capsys.readouterr().err
    assert error == f"optscale-predictor: error: {prompts}: not valid JSON (nested too deeply)\n"
    with pytest.raises(SystemExit) as usage:
        main(["predict", "--out", str(tmp_path / "out.json")])
    assert usage.value.code == 2


def test_cli_shows_a_truncation_warning_as_one_clean_line(
    tmp_path: Path, light_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts = tmp_path / "prompts.json"
    prompts.write_text(json.dumps(["find x?", " ".join(["find the value of x"] * 40)]))
    args = ["predict", "--prompts", str(prompts), "--out", str(tmp_path / "out.json")]
    assert main([*args, "--checkpoint", str(light_checkpoint), "--no-progress"]) == 0
    error = capsys.readouterr().err
    assert error.startswith("optscale-predictor: warning: 1 of 2 problems are longer than 60")
    assert error.count("\n") == 1
    assert "\r" not in error
    assert ".py" not in error
    assert "UserWarning" not in error
