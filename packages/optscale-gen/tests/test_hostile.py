"""Hostile journals, settings and option files: a one-line error naming the place, never a mix."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from optscale_gen import Journal, JournalError, SampleRecord
from optscale_gen.cli import main

DEEP = "[" * 100_000 + "]" * 100_000
SETTINGS = {"seed": 0, "model": "m", "sampling": [0.7, 0.95, 100]}


def sample(problem: int, index: int, text: str = "x") -> SampleRecord:
    return SampleRecord(problem, index, text, 3, 0.5, 0.25)


def line(record: SampleRecord) -> str:
    return json.dumps(asdict(record)) + "\n"


def shard(tmp_path: Path, index: int, of: int) -> Journal:
    journal = Journal(tmp_path, f"samples-shard{index}of{of}.jsonl")
    journal.check_settings(SETTINGS)
    return journal


def test_a_conflicting_line_in_a_shard_journal_is_refused(tmp_path: Path) -> None:
    journal = shard(tmp_path, 0, 2)
    journal.append([sample(0, 0), sample(2, 0)])
    with journal.path.open("a") as handle:
        handle.write(line(sample(2, 0, "forged")))
    with pytest.raises(JournalError, match=r"samples-shard0of2\.jsonl: line 4: sample \(2, 0\)"):
        Journal(tmp_path).load()


def test_a_forged_copy_in_another_shard_is_refused(tmp_path: Path) -> None:
    shard(tmp_path, 0, 2).append([sample(0, 0)])
    forged = shard(tmp_path, 1, 2)
    forged.append([sample(1, 0)])
    with forged.path.open("a") as handle:
        handle.write(line(sample(0, 0, "forged")))
    with pytest.raises(JournalError, match=r"shard1of2\.jsonl: line 3: field 'problem': 0 does"):
        Journal(tmp_path).load()


def test_an_identical_repeated_line_is_read_once(tmp_path: Path) -> None:
    journal = shard(tmp_path, 0, 1)
    journal.append([sample(0, 0), sample(0, 1)])
    journal.append([sample(0, 1)])
    assert Journal(tmp_path).load() == {(0, 0): sample(0, 0), (0, 1): sample(0, 1)}


def test_the_journal_keeps_its_settings_when_run_json_is_deleted(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.check_settings(SETTINGS)
    journal.append([sample(0, 0)])
    (tmp_path / "run.json").unlink()
    with pytest.raises(JournalError, match=r"samples\.jsonl: line 1: field 'seed' is 0 .* 1 now"):
        Journal(tmp_path).check_settings({**SETTINGS, "seed": 1})
    Journal(tmp_path).check_settings(SETTINGS)  # the same settings resume, run.json comes back
    assert json.loads((tmp_path / "run.json").read_text()) == SETTINGS


def test_a_journal_without_settings_is_not_resumed(tmp_path: Path) -> None:
    Journal(tmp_path).append([sample(0, 0)])
    with pytest.raises(JournalError, match="line 1: no settings header"):
        Journal(tmp_path).check_settings(SETTINGS)


def test_settings_bind_only_once_a_sample_is_journaled(tmp_path: Path) -> None:
    Journal(tmp_path).check_settings(SETTINGS)  # e.g. then the model failed to load
    journal = Journal(tmp_path)
    journal.check_settings({**SETTINGS, "model": "other"})
    journal.append([sample(0, 0)])
    with pytest.raises(JournalError, match="field 'model' is 'other'"):
        Journal(tmp_path).check_settings(SETTINGS)


@pytest.mark.parametrize("where", ["journal", "run.json"])
def test_json_nested_100000_deep_is_one_line(tmp_path: Path, where: str) -> None:
    journal = Journal(tmp_path)
    journal.check_settings(SETTINGS)
    journal.append([sample(0, 0)])
    if where == "journal":
        with journal.path.open("a") as handle:
            handle.write(DEEP + "\n")
        call: Callable[[], object] = Journal(tmp_path).load
    else:
        (tmp_path / "run.json").write_text(DEEP)
        call = lambda: Journal(tmp_path).check_settings(SETTINGS)  # noqa: E731
    with pytest.raises(JournalError, match="nested too deeply") as error:
        call()
    assert "\n" not in str(error.value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
record_like = st.fixed_dictionaries(
    {},
    optional={
        name: json_values | st.integers(-2, 3) | st.floats(-1, 2)
        for name in ("problem", "sample", "completion", "tokens", "score", "last_score")
    },
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.one_of(
        st.binary(max_size=40).map(lambda b: b.decode("utf-8", "replace")),
        json_values.map(json.dumps),
        record_like.map(json.dumps),
    )
)
def test_any_line_loads_or_fails_with_one_line(tmp_path: Path, text: str) -> None:
    journal = Journal(tmp_path, "hostile.jsonl")
    one = text.replace("\n", " ").replace("\r", " ")  # a journal line never holds either
    journal.path.write_text(line(sample(0, 0)) + one + "\n", encoding="utf-8")
    message = ""
    try:
        loaded = Journal(tmp_path, "hostile.jsonl").load()
    except JournalError as error:
        message = str(error)
    if message:
        assert message.startswith(f"{journal.path}: line 2: ")
        assert "\n" not in message
    else:
        assert all(0.0 <= r.score <= 1.0 and r.tokens >= 0 for r in loaded.values())


def test_deep_prompts_are_one_line_and_write_nothing(
    generate_args: Callable[..., list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts = tmp_path / "prompts.json"
    prompts.write_text(DEEP)
    args = generate_args(tmp_path / "gen")
    args[args.index("--prompts") + 1] = str(prompts)
    assert main(args) == 1
    error = capsys.readouterr().err
    assert error.startswith("optscale-gen: error: ")
    assert error.count("\n") == 1
    assert not (tmp_path / "gen").exists()


def test_a_deep_priors_file_is_one_line_and_writes_nothing(
    generate_args: Callable[..., list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    priors = tmp_path / "priors.json"
    priors.write_text(DEEP)
    out = tmp_path / "gen"
    assert main(generate_args(out, "--adaptive", "--priors", str(priors))) == 1
    error = capsys.readouterr().err
    assert f"{priors}: invalid JSON (nested too deeply)" in error
    assert error.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--peek", "0"], "adaptive options: peek must be >= 1"),
        (["--peek", "5"], "adaptive options: max_n (4) must be >= peek (5)"),
        (["--target", "1.5"], "target"),
        (["--priors", "PRIORS"], "record 1: expected [mu, sigma] numbers"),
        (["--priors", "NAN_PRIORS"], "record 2: prior_mu must be finite"),
    ],
)
def test_rejected_adaptive_options_write_nothing(
    generate_args: Callable[..., list[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    priors = tmp_path / "priors.json"
    priors.write_text(json.dumps([[0.5, 0.1], ["a", 0.1], [0.5, 0.1], [0.5, 0.1]]))
    nan_priors = tmp_path / "nan.json"
    nan_priors.write_text("[[0.5, 0.1], [0.5, 0.1], [NaN, 0.1], [0.5, 0.1]]")
    out = tmp_path / "gen"
    files = {"PRIORS": str(priors), "NAN_PRIORS": str(nan_priors)}
    bad = [files.get(arg, arg) for arg in extra]
    assert main(generate_args(out, "--n", "4", "--adaptive", *bad)) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()
