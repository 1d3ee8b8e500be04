from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from optscale_pools import (
    atomic_folder,
    atomic_output,
    atomic_path,
    write_bytes_atomic,
    write_text_atomic,
)


def test_writes_create_folders_and_ordinary_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        text = write_text_atomic(tmp_path / "a" / "b.txt", "x\r\ny\n")
        data = write_bytes_atomic(tmp_path / "c.bin", b"\x00\x01")
    finally:
        os.umask(old)
    assert text.read_bytes() == b"x\r\ny\n"  # written as given, no newline translation
    assert data.read_bytes() == b"\x00\x01"
    assert stat.S_IMODE(text.stat().st_mode) == 0o644  # not mkstemp's owner-only 0o600
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b.txt", "c.bin"]


def _write_then_fail(target: Path) -> None:
    with atomic_output(target) as out:
        out.write("half of the new cont")
        raise RuntimeError("boom")


def _fill_then_fail(target: Path) -> None:
    with atomic_path(target) as temp:
        temp.write_bytes(b"partial")
        raise RuntimeError("boom")


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = write_text_atomic(tmp_path / "out.json", "old")
    with pytest.raises(RuntimeError, match="boom"):
        _write_then_fail(target)
    assert target.read_text() == "old"
    with pytest.raises(RuntimeError, match="boom"):
        _fill_then_fail(tmp_path / "new.bin")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_named_temporary_for_writers_that_need_a_path(tmp_path: Path) -> None:
    with atomic_path(tmp_path / "w.safetensors") as temp:
        assert temp.parent == tmp_path
        assert not (tmp_path / "w.safetensors").exists()
        temp.write_bytes(b"weights")
    assert (tmp_path / "w.safetensors").read_bytes() == b"weights"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_a_folder_is_replaced_as_a_whole(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.csv").write_text("old")
    with atomic_folder(target) as staging:
        assert staging.parent == tmp_path
        (staging / "new.csv").write_text("new")
        assert _snapshot(target) == {"old.csv": b"old"}  # nothing visible before the swap
    assert _snapshot(target) == {"new.csv": b"new"}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def _stage_then_fail(target: Path) -> None:
    with atomic_folder(target) as staging:
        (staging / "a.csv").write_text("half of the new set")
        raise RuntimeError("boom")


def test_a_failed_folder_write_leaves_the_old_set_and_no_staging(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "a.csv").write_text("a")
    (target / "plot.png").write_bytes(b"\x89PNG")
    before = _snapshot(target)
    with pytest.raises(RuntimeError, match="boom"):
        _stage_then_fail(target)
    assert _snapshot(target) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    with pytest.raises(RuntimeError, match="boom"), atomic_folder(tmp_path / "fresh"):
        raise RuntimeError("boom")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_folder_target_that_is_a_file_is_refused_before_writing(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_text("a file")
    with pytest.raises(NotADirectoryError, match="not a folder"), atomic_folder(target):
        pass
    assert target.read_text() == "a file"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
