"""``optscale-eval`` and ``optscale-reproduce`` on hostile inputs: exit 1, one line, no output.

Each command runs in-process through its ``main(argv)``; the pool is random bytes, JSON nested
100,000 deep, an empty file, a folder, or a valid pool with a ``--prompts`` that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from optscale_apps import eval_cli, reproduce

Main = Callable[[Sequence[str]], int]


def _random_bytes(tmp_path: Path) -> Path:
    path = tmp_path / "random.json"
    path.write_bytes(np.random.default_rng(12).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return path


def _deep(tmp_path: Path) -> Path:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    return path


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.json"
    path.write_bytes(b"")
    return path


def _folder(tmp_path: Path) -> Path:
    path = tmp_path / "a-folder.json"
    path.mkdir()
    return path


POOLS = {"random-bytes": _random_bytes, "deep-json": _deep, "empty": _empty, "folder": _folder}


def _eval_args(pool: Path, out: Path, cache: Path) -> list[str]:
    return [str(pool), "--out", str(out), "--orders", "2", "--no-progress", "--cache-dir",
            str(cache)]  # fmt: skip


def _reproduce_args(pool: Path, out: Path, cache: Path) -> list[str]:
    return ["--dataset", "aime24", "--mode", "fair", "--orders", "2", "--out", str(out),
            "--pool", str(pool), "--cache-dir", str(cache)]  # fmt: skip


COMMANDS: dict[str, tuple[Main, Callable[[Path, Path, Path], list[str]]]] = {
    "optscale-eval": (eval_cli.main, _eval_args),
    "optscale-reproduce": (reproduce.main, _reproduce_args),
}


def _assert_refused(
    capsys: pytest.CaptureFixture[str], status: int, command: str, out: Path, *fragments: str
) -> None:
    err = capsys.readouterr().err
    assert status == 1, err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"{command}: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("kind", sorted(POOLS))
def test_a_hostile_pool_is_one_line_and_exit_1(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    hand_pool: tuple[Path, ...],
    command: str,
    kind: str,
) -> None:
    main, args = COMMANDS[command]
    pool = POOLS[kind](tmp_path)
    out = tmp_path / "out"
    # valid prompts, so that reproduce reads the pool without upstream's default prompts
    prompts = ["--prompts", str(hand_pool[2])] if command == "optscale-reproduce" else []
    status = main([*args(pool, out, tmp_path / "cache"), *prompts])
    _assert_refused(capsys, status, command, out, str(pool))


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_missing_prompts_file_is_one_line_and_exit_1(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    hand_pool: tuple[Path, ...],
    command: str,
) -> None:
    main, args = COMMANDS[command]
    missing = tmp_path / "no-such-prompts.json"
    out = tmp_path / "out"
    status = main([*args(hand_pool[0], out, tmp_path / "cache"), "--prompts", str(missing)])
    _assert_refused(capsys, status, command, out, str(missing))
