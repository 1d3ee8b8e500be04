"""A small process pool with a hard deadline per task: a hung task is killed, not waited for.

``concurrent.futures`` cannot kill one stuck worker, and math-verify's own timeout relies on
``SIGALRM`` (main thread only, and powerless inside a long C call). Here every worker is a
process of its own fed one task at a time through a pipe, so the parent knows which task each
worker runs and since when; past the task's deadline the worker is killed and replaced, and the
task's result is ``None``. Tasks run in the worker's main thread, where the signal-based timeouts
of math-verify work.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from tqdm import tqdm


def _serve(conn: Connection, function: Callable[..., Any]) -> None:
    """Worker loop: receive an argument tuple, send back ``function(*args)`` (None on error)."""
    while True:
        task = conn.recv()
        if task is None:
            return
        try:
            result = function(*task)
        except Exception:
            result = None
        conn.send(result)


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
    description: str = "tasks",
    progress: bool = True,
) -> list[Any]:
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
    description
        Label of the progress bar.
    progress
        Show a tqdm progress bar.

    Returns
    -------
    list
        Results in task order; ``None`` for a task that raised, crashed its worker or ran past
        its deadline.
    """
    if workers < 1:
        msg = f"workers must be >= 1, got {workers}"
        raise ValueError(msg)
    context = multiprocessing.get_context("spawn")
    results: list[Any] = [None] * len(tasks)
    queue = deque(range(len(tasks)))

    def start() -> _Slot:
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(child, function), daemon=True)
        process.start()
        child.close()
        return _Slot(process, parent)

    slots = [start() for _ in range(min(workers, len(tasks)))]
    bar = tqdm(total=len(tasks), desc=description, unit="task", disable=not progress)
    try:
        while True:
            for slot in slots:
                if slot.task is None and queue:
                    slot.task = queue.popleft()
                    slot.deadline = time.monotonic() + deadlines[slot.task]
                    slot.conn.send(tasks[slot.task])
            busy = [slot for slot in slots if slot.task is not None]
            if not busy:
                break
            timeout = max(0.0, min(slot.deadline for slot in busy) - time.monotonic())
            ready = wait([slot.conn for slot in busy], timeout=timeout)
            for index, slot in enumerate(slots):
                state = _poll(slot, slot.conn in ready, results)
                if state in ("idle", "busy"):
                    continue
                if state == "lost":
                    slots[index] = _replace(slot, start)
                slot.task = None
                bar.update()
    finally:
        bar.close()
        for slot in slots:
            _stop(slot)
    return results


def _poll(slot: _Slot, ready: bool, results: list[Any]) -> str:
    """Collect a finished task's result: ``"idle"``, ``"busy"``, ``"done"`` or ``"lost"``.

    ``"lost"`` means the worker died or ran past the deadline: it must be replaced.
    """
    if slot.task is None:
        return "idle"
    if ready:
        try:
            results[slot.task] = slot.conn.recv()
        except EOFError:
            return "lost"
        return "done"
    return "busy" if time.monotonic() < slot.deadline else "lost"


def _replace(slot: _Slot, start: Callable[[], _Slot]) -> _Slot:
    """Kill a stuck or dead worker and start a fresh one in its place."""
    slot.process.kill()
    slot.process.join()
    slot.conn.close()
    return start()


def _stop(slot: _Slot) -> None:
    """Ask a worker to exit; kill it if it does not."""
    with contextlib.suppress(OSError):
        slot.conn.send(None)
    slot.process.join(timeout=5)
    if slot.process.is_alive():
        slot.process.kill()
        slot.process.join()
    slot.conn.close()
