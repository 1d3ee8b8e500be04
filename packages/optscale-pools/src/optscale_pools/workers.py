"""A small process pool with a hard deadline per task: a hung task is killed, not waited for.

``concurrent.futures`` cannot kill one stuck worker, and math-verify's own timeout relies on
``SIGALRM`` (main thread only, and powerless inside a long C call). Here every worker is a
process of its own fed one task at a time through a pipe, so the parent knows which task each
worker runs and since when; past the task's deadline the worker is killed and replaced, and the
task's result is ``None``. Tasks run in the worker's main thread, where the signal-based timeouts
of math-verify work. A whole run can have a deadline too: past it every unfinished task is
given up.

Workers never outlive the parent: on Linux each asks the kernel to kill it when its parent dies
(``prctl(PR_SET_PDEATHSIG, SIGKILL)``), and everywhere a watchdog thread exits the worker once
its parent process is gone, so killing the parent (even with SIGKILL) leaves no worker spinning.
Workers ignore SIGINT, so Ctrl-C reaches the parent alone, which then stops them.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from tqdm import tqdm

_PR_SET_PDEATHSIG = 1
_WATCH_INTERVAL = 0.5
_MAX_WAIT = 60.0
"""Longest single wait for results, so a huge deadline never reaches ``select`` as such."""


def _serve(conn: Connection, function: Callable[..., Any], parent: int) -> None:
    """Worker loop: receive an argument tuple, send back ``function(*args)`` (None on error)."""
    _die_with(parent)
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        try:
            result = function(*task)
        except Exception:
            result = None
        conn.send(result)


def _die_with(parent: int) -> None:
    """Make this worker end when process ``parent`` ends (see the module docstring)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request above took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), daemon=True, name="watch-parent").start()


def _watch(parent: int) -> None:
    """Exit the process as soon as it has been handed to another parent."""
    while os.getppid() == parent:
        time.sleep(_WATCH_INTERVAL)
    os._exit(1)


@dataclass(frozen=True)
class TaskRun:
    """What became of the tasks of ``run_tasks``.

    Attributes
    ----------
    results
        Per task, ``function(*task)``, or ``None`` where it raised, crashed its worker, ran past
        its deadline or was given up.
    timed_out
        Tasks killed at their own deadline.
    expired
        Tasks unfinished or not started when the whole run's deadline passed.
    """

    results: list[Any]
    timed_out: tuple[int, ...] = ()
    expired: tuple[int, ...] = ()


@dataclass
class _Slot:
    process: BaseProcess
    conn: Connection
    task: int | None = None
    deadline: float = 0.0


def run_tasks(
    function: Callable[..., Any],
    tasks: Sequence[tuple[Any, ...]],
    *,
    workers: int,
    deadlines: Sequence[float],
    run_deadline: float = math.inf,
    description: str = "tasks",
    progress: bool = True,
) -> TaskRun:
    """Run ``function(*task)`` for every task in ``workers`` processes; ``None`` where it failed.

    Parameters
    ----------
    function
        A module-level (picklable) callable.
    tasks
        Argument tuples.
    workers
        Number of worker processes (at least 1).
    deadlines
        Seconds each task may run before its worker is killed.
    run_deadline
        Seconds the whole run may take; then every unfinished task is given up.
    description
        Label of the progress bar.
    progress
        Show a tqdm progress bar.

    Returns
    -------
    TaskRun
        Results in task order, and which tasks timed out or were given up.
    """
    if workers < 1:
        msg = f"workers must be >= 1, got {workers}"
        raise ValueError(msg)
    context = multiprocessing.get_context("spawn")
    results: list[Any] = [None] * len(tasks)
    timed_out: list[int] = []
    queue = deque(range(len(tasks)))
    stop = time.monotonic() + run_deadline

    def start() -> _Slot:
        parent, child = context.Pipe()
        args = (child, function, os.getpid())
        process = context.Process(target=_serve, args=args, daemon=True)
        process.start()
        child.close()
        return _Slot(process, parent)

    slots = [start() for _ in range(min(workers, len(tasks)))]
    bar = tqdm(total=len(tasks), desc=description, unit="task", disable=not progress)
    try:
        while time.monotonic() < stop:
            for index, slot in enumerate(slots):
                if slot.task is None and queue:
                    if not slot.process.is_alive():  # killed earlier: start its successor now
                        slot = slots[index] = start()
                    slot.task = queue.popleft()
                    slot.deadline = time.monotonic() + deadlines[slot.task]
                    slot.conn.send(tasks[slot.task])
            busy = [slot for slot in slots if slot.task is not None]
            if not busy:
                break
            until = min(stop, *(slot.deadline for slot in busy)) - time.monotonic()
            ready = wait([slot.conn for slot in busy], timeout=min(max(0.0, until), _MAX_WAIT))
            bar.update(_collect(slots, ready, results, timed_out))
        expired = sorted([*queue, *(slot.task for slot in slots if slot.task is not None)])
    finally:
        bar.close()
        for slot in slots:
            _stop(slot)
    return TaskRun(results, tuple(timed_out), tuple(expired))


def _collect(slots: list[_Slot], ready: list[Any], results: list[Any], timed_out: list[int]) -> int:
    """Take the results of finished tasks, kill workers past their deadline; return the count."""
    finished = 0
    for slot in slots:
        state = _poll(slot, slot.conn in ready, results)
        if state in ("idle", "busy"):
            continue
        if state == "timeout" and slot.task is not None:
            timed_out.append(slot.task)
        if state != "done":
            _kill(slot)
        slot.task = None
        finished += 1
    return finished


def _poll(slot: _Slot, ready: bool, results: list[Any]) -> str:
    """Collect a finished task's result: ``"idle"``, ``"busy"``, ``"done"``, ``"lost"``, ...

    ``"lost"`` (the worker died) and ``"timeout"`` (it ran past the task's deadline) mean the
    worker must be replaced.
    """
    if slot.task is None:
        return "idle"
    if ready:
        try:
            results[slot.task] = slot.conn.recv()
        except EOFError:
            return "lost"
        return "done"
    return "busy" if time.monotonic() < slot.deadline else "timeout"


def _kill(slot: _Slot) -> None:
    """Kill a stuck or dead worker; a fresh one takes its slot when there is a next task."""
    slot.process.kill()
    slot.process.join()
    slot.conn.close()


def _stop(slot: _Slot) -> None:
    """Ask an idle worker to exit, kill a busy one (or one that does not exit)."""
    if slot.task is None and slot.process.is_alive():
        with contextlib.suppress(OSError):
            slot.conn.send(None)
        slot.process.join(timeout=5)
    if slot.process.is_alive():
        slot.process.kill()
        slot.process.join()
    slot.conn.close()
