"""The command line: `simulate` hands dataset, seed, prompts and folder to the simulator."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from pathlib import Path

import pytest
from optscale_pools import simulate as simulate_module
from optscale_pools.cli import build_parser, main

PROMPTS = b'[{"problem": "p", "answer": "1"}]'


def test_simulate_wiring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    relpath = simulate_module.DATASETS["aime24"][1]
    mirror = tmp_path / "mirror"
    (mirror / relpath).parent.mkdir(parents=True)
    (mirror / relpath).write_bytes(PROMPTS)
    entry = {"path": relpath, "url": None, "bytes": len(PROMPTS)}
    entry["sha256"] = hashlib.sha256(PROMPTS).hexdigest()
    (tmp_path / "manifest.json").write_text(json.dumps({"files": [entry]}))
    monkeypatch.setenv("OPTSCALE_MANIFEST", str(tmp_path / "manifest.json"))
    monkeypatch.setenv("OPTSCALE_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("OPTSCALE_CACHE", str(tmp_path / "cache"))
    calls = []

    def fake(dataset: str, *, seed: int, out_dir: Path, prompts: Path) -> tuple[Path, Path]:
        calls.append((dataset, seed, out_dir, prompts.read_bytes()))
        return out_dir / "par.json", out_dir / "seq.json"

    monkeypatch.setattr(simulate_module, "simulate_dataset", fake)
    assert main(["simulate", "--dataset", "aime24", "--seed", "3"]) == 0
    assert calls == [("aime24", 3, tmp_path / "cache/simulated/seed3", PROMPTS)]
    assert "SIMULATED pool written" in capsys.readouterr().out


def test_help_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert all(command in out for command in ("fetch", "grade", "simulate"))


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == (
        f"optscale-pools {importlib.metadata.version('optscale-pools')}\n"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["grade", "pool.json"],
        ["grade", "pool.json", "--prompts", "p.json", "--workers", "0"],
        ["grade", "pool.json", "--prompts", "p.json", "--run-deadline", "inf"],
        ["fetch", "--deadline", "-1"],
        ["nothing"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_an_error_message_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "two\nlines"
    folder.mkdir()
    (folder / "pool.json").write_text("[")
    assert main(["grade", str(folder / "pool.json"), "--prompts", str(folder / "none")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("optscale-pools grade: error: ")
