"""Grading ends: bounded deadlines per problem and per run, workers that die with their parent,
and a grade cache that is graded again when it does not verify."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from optscale_pools import Pool, grade_pool
from optscale_pools import grading as grading_module
from optscale_pools.grading import CALL_TIMEOUT, PROBLEM_DEADLINE, grade_answers
from optscale_pools.workers import TaskRun, run_tasks


def pool_with_answers(answers: list[list[str]], golds: list[str]) -> Pool:
    """An in-memory pool whose samples are ``\\boxed{answer}``."""
    rows, width = len(answers), len(answers[0])
    return Pool(
        problems=[f"problem {row}" for row in range(rows)],
        golds=golds,
        ids=list(range(1, rows + 1)),
        scores=np.full((rows, width), 0.5),
        last_scores=np.full((rows, width), 0.5),
        tokens=np.ones((rows, width), dtype=np.int64),
        preds=[list(row) for row in answers],
        empty=np.zeros((rows, width), dtype=np.bool_),
        source="hostile-pool.json",
        sha256="0" * 64,
    )


def test_the_run_deadline_gives_up_every_unfinished_task() -> None:
    tasks = [(30,), (30,), (30,)]
    run = run_tasks(time.sleep, tasks, workers=2, deadlines=[60] * 3, run_deadline=1.0)
    assert run.results == [None, None, None]
    assert run.expired == (0, 1, 2)
    assert run.timed_out == ()


def test_unbounded_task_deadlines_do_not_overflow() -> None:
    run = run_tasks(abs, [(-2,), (3,)], workers=1, deadlines=[1e300, float("inf")])
    assert run.results == [2, 3]


def test_many_distinct_answers_get_a_bounded_deadline(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, object] = {}

    def record(*args: object, **kwargs: object) -> object:
        seen.update(kwargs)
        return TaskRun([None, None])

    monkeypatch.setattr(grading_module, "run_tasks", record)
    answers = [[str(k) for k in range(700)], ["1"] * 700]  # u = 700: the old formula overflowed
    grade_pool(pool_with_answers(answers, ["1", "1"]), cache=False, progress=False)
    deadlines = seen["deadlines"]
    assert deadlines == [PROBLEM_DEADLINE, min(PROBLEM_DEADLINE, CALL_TIMEOUT * (2 + 3 + 1))]
    assert seen["run_deadline"] == grading_module.RUN_DEADLINE


def test_a_problem_past_its_deadline_counts_wrong_with_a_notice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = [[f"\\int_0^{{{k}}} x^{{{k}}} \\sin(x)^{{{k}}} dx" for k in range(40)], ["2"] * 40]
    pool = pool_with_answers(answers, ["7", "2"])
    grades = grade_pool(pool, cache=tmp_path, workers=1, problem_deadline=0.01, progress=False)
    assert 0 in grades.failed
    assert not grades.correct[0].any()
    err = capsys.readouterr().err.splitlines()
    notices = [line for line in err if "problem deadline" in line]
    assert len(notices) == 1
    assert "hostile-pool.json" in notices[0]
    assert "count as wrong" in notices[0]
    assert "not cached" in notices[0]
    assert list(tmp_path.iterdir()) == []  # an idle machine may grade it in time: grade again


def test_a_run_past_its_deadline_is_not_cached(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = pool_with_answers([["1", "2"], ["3", "3"]], ["1", "3"])
    grades = grade_pool(pool, cache=tmp_path, workers=1, run_deadline=1e-9, progress=False)
    assert grades.failed == (0, 1)
    assert not grades.correct.any()
    assert "not cached" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_math_verify_timeouts_are_counted_and_kept_off_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import math_verify

    calls: list[int] = []

    def slow_verify(*args: object, **kwargs: object) -> bool:
        calls.append(1)
        logging.getLogger("math_verify.grader").warning("Timeout during comparison")
        return False

    monkeypatch.setattr(math_verify, "verify", slow_verify)
    correct, swapped, clusters, timeouts = grade_answers("1", ["1", "2", "3"], 5)
    assert correct == swapped == [False, False, False]
    assert clusters == [0, 1, 2]
    assert timeouts == len(calls) > 6
    assert capsys.readouterr().err == ""
    assert not logging.getLogger("math_verify").handlers


def calls_time_out(monkeypatch: pytest.MonkeyPatch, per_problem: int) -> None:
    """Stand in for the workers: every answer graded wrong, ``per_problem`` calls timed out."""

    def timing_out(function: Any, tasks: list[tuple[Any, ...]], **_: object) -> TaskRun:
        return TaskRun(
            [
                ([False] * len(t[1]), [False] * len(t[1]), [0] * len(t[1]), per_problem)
                for t in tasks
            ]
        )

    monkeypatch.setattr(grading_module, "run_tasks", timing_out)


def test_grade_pool_says_how_many_calls_timed_out(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls_time_out(monkeypatch, 2)
    pool = pool_with_answers([["1", "2"], ["3", "3"]], ["1", "3"])
    grades = grade_pool(pool, cache=False, progress=False)
    assert grades.failed == ()
    assert capsys.readouterr().err == (
        "grading hostile-pool.json: 4 math-verify calls past the 5 s call timeout "
        "(counted not equal)\n"
    )


@pytest.mark.parametrize("bad", [0, -1, float("nan")])
def test_limits_must_be_positive(bad: float) -> None:
    pool = pool_with_answers([["1"]], ["1"])
    with pytest.raises(ValueError, match="run_deadline must be a positive number"):
        grade_pool(pool, cache=False, run_deadline=bad)


def in_process(function: Any, tasks: list[tuple[Any, ...]], **_: object) -> TaskRun:
    """Stand-in for the worker pool: the cache tests need the results, not the processes."""
    return TaskRun([function(*task) for task in tasks])


@pytest.fixture
def cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Pool, Path]:
    monkeypatch.setattr(grading_module, "run_tasks", in_process)
    pool = pool_with_answers([["1", "2", "1"], ["x", "3", "3"]], ["1", "3"])
    grade_pool(pool, cache=tmp_path, progress=False)
    return pool, tmp_path


def regrades(pool: Pool, cache: Path, monkeypatch: pytest.MonkeyPatch) -> bool:
    calls: list[int] = []

    def counting(*args: Any, **kwargs: Any) -> TaskRun:
        calls.append(1)
        return in_process(*args, **kwargs)

    monkeypatch.setattr(grading_module, "run_tasks", counting)
    grades = grade_pool(pool, cache=cache, progress=False)
    assert grades.correct.tolist() == [[True, False, True], [False, True, True]]
    return bool(calls)


def only(folder: Path, suffix: str) -> Path:
    (path,) = folder.glob(f"*{suffix}")
    return path


def test_an_intact_cache_is_used(
    cached: tuple[Pool, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not regrades(*cached, monkeypatch)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "damage",
    [
        "truncate-npz",
        "empty-npz",
        "tamper-npz",
        "garbage-sidecar",
        "deep-sidecar",
        "other-key",
        "bad-failed",
    ],
)
def test_a_cache_that_does_not_verify_is_graded_again(
    cached: tuple[Pool, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    damage: str,
) -> None:
    pool, cache = cached
    arrays, sidecar = only(cache, ".npz"), only(cache, ".json")
    meta = json.loads(sidecar.read_text())
    if damage == "truncate-npz":
        arrays.write_bytes(arrays.read_bytes()[:50])
    elif damage == "empty-npz":
        arrays.write_bytes(b"")
    elif damage == "tamper-npz":
        with np.load(arrays) as stored:
            values = {name: np.asarray(stored[name]) for name in stored.files}
        values["correct"] = ~values["correct"]
        with arrays.open("wb") as out:
            np.savez_compressed(out, **values)
    elif damage == "garbage-sidecar":
        sidecar.write_bytes(b"\xff\xfe{not json")
    elif damage == "deep-sidecar":
        sidecar.write_text("[" * 100_000 + "]" * 100_000)
    elif damage == "other-key":
        sidecar.write_text(json.dumps({**meta, "key": "0" * 64}))
    else:
        sidecar.write_text(json.dumps({**meta, "failed": [10**30]}))
    capsys.readouterr()
    assert regrades(pool, cache, monkeypatch)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"grade cache {arrays} does not verify (")
    assert err[0].endswith("grading again")
    assert not regrades(pool, cache, monkeypatch)  # the regraded entry replaced the bad one


PARENT = """
import sys, time
from optscale_pools.workers import TaskRun, run_tasks

if __name__ == "__main__":
    run_tasks(time.sleep, [(600,), (600,)], workers=2, deadlines=[900, 900], progress=False)
"""


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux only)")
def test_workers_die_when_the_parent_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen([sys.executable, str(script)])
    try:
        guard = time.monotonic() + 120
        workers: list[int] = []
        while len(workers) < 2:  # both workers started and busy sleeping
            assert time.monotonic() < guard, "workers did not start within the guard"
            assert parent.poll() is None
            workers = [p for p in children(parent.pid) if alive(p)]
            time.sleep(0.2)
        time.sleep(2.0)  # let the workers reach their task
    finally:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
    guard = time.monotonic() + 60
    while any(alive(pid) for pid in workers):
        assert time.monotonic() < guard, f"workers {workers} outlived their parent"
        time.sleep(0.1)


WATCHED = """
import os, sys, time
sys.platform = "elsewhere"  # no prctl: only the watchdog thread can end this process
from optscale_pools.workers import _die_with
_die_with(os.getppid())
print("ready", flush=True)
time.sleep(600)
"""

MIDDLE = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdout=subprocess.PIPE, text=True)
assert child.stdout is not None and child.stdout.readline() == "ready\\n"
print(child.pid, flush=True)
child.wait()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux only)")
def test_the_watchdog_ends_a_worker_whose_parent_died_without_prctl() -> None:
    command = [sys.executable, "-c", MIDDLE, WATCHED]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as middle:
        try:
            assert middle.stdout is not None
            worker = int(middle.stdout.readline())
            assert alive(worker)
        finally:
            os.kill(middle.pid, signal.SIGKILL)
    guard = time.monotonic() + 60
    while alive(worker):
        assert time.monotonic() < guard, "the worker outlived its parent"
        time.sleep(0.1)


def test_grades_with_calls_past_the_timeout_are_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls_time_out(monkeypatch, 1)
    pool = pool_with_answers([["1", "2"], ["3", "3"]], ["1", "3"])
    grade_pool(pool, cache=tmp_path, progress=False)
    assert "not cached (a later run grades again)" in capsys.readouterr().err
    assert list(tmp_path.rglob("*.npz")) == []
