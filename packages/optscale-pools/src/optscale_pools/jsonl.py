"""JSON-lines pools: appended to while a pool is generated, and the search-and-learn shape.

One upstream item (see [`upstream_record`][optscale_pools.upstream_record]) per line. Each line is
flushed and fsynced before [`PoolJsonlWriter.write`][optscale_pools.PoolJsonlWriter.write] returns,
so after a crash the file holds every finished problem plus at most one torn last line, which a
resumed writer cuts off.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from optscale_pools import jsonread
from optscale_pools.pool import Pool, PoolFormatError
from optscale_pools.prompts import Prompts, checked_gold, read_prompts
from optscale_pools.upstream import PoolBuilder, upstream_record


class PoolJsonlWriter:
    """Append-only, resumable writer of a JSONL pool.

    Opening an existing file keeps its complete lines (a torn last line, from a crash mid-write,
    is truncated away) and reports them in `done`, so generation resumes at the next
    problem with nothing lost or duplicated.

    Parameters
    ----------
    path
        The JSONL file (created if absent).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "pool.jsonl"
    ...     with PoolJsonlWriter(path) as writer:
    ...         writer.write({"id": 1, "score": {}})
    ...     with PoolJsonlWriter(path) as resumed:
    ...         print(resumed.done)
    1
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.done = 0
        if self.path.exists():
            self.done = _truncate_torn_tail(self.path)
        self._file = self.path.open("ab")

    def write(self, record: dict[str, Any]) -> None:
        """Append one record as a line, then flush and fsync it."""
        line = json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n"
        self._file.write(line.encode("utf-8"))
        self._file.flush()
        os.fsync(self._file.fileno())
        self.done += 1

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def __enter__(self) -> PoolJsonlWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _truncate_torn_tail(path: Path) -> int:
    """Cut an incomplete last line off ``path``; return the number of complete lines kept.

    The file is read in blocks, so a large pool is never held in memory whole.
    """
    lines = end = offset = 0
    with path.open("r+b") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            count = block.count(b"\n")
            if count:
                lines += count
                end = offset + block.rfind(b"\n") + 1
            offset += len(block)
        if end < offset:
            handle.truncate(end)
            handle.flush()
            os.fsync(handle.fileno())
    return lines


def read_pool_jsonl(
    path: str | Path,
    prompts: Prompts | str | Path,
    *,
    keep_completions: bool = True,
    sequential: bool = False,
) -> Pool:
    """Read a JSONL pool written by `PoolJsonlWriter`, checked against its prompts.

    A torn last line is an error here (the pool is unfinished); resume it with the writer.

    Raises
    ------
    PoolFormatError
        On a malformed line or item, naming the file, the record (line) index and the field.
    """
    source = str(path)
    loaded = prompts if isinstance(prompts, Prompts) else read_prompts(prompts)
    builder = PoolBuilder(source, keep_completions=keep_completions)
    hasher = hashlib.sha256()
    for _, record in _iter_lines(path, hasher):
        builder.add(record)
    return builder.build(loaded, sha256=hasher.hexdigest(), sequential=sequential)


def read_search_and_learn(
    path: str | Path, *, keep_completions: bool = True, item_scores: str = "mean"
) -> Pool:
    """Read the Hugging Face search-and-learn JSONL shape into a [`Pool`][optscale_pools.Pool].

    Each line holds ``problem``, ``answer``, ``completions`` (K strings), ``scores`` (K lists of
    per-step PRM rewards, or K numbers) and ``completion_tokens`` (K integers). Problems and golds
    come from the file itself, so no prompts file is needed.

    Parameters
    ----------
    path
        The JSONL file.
    keep_completions
        Keep the completion texts.
    item_scores
        How a list of step rewards becomes a sample's score: ``"mean"`` (upstream's ``scores``)
        or ``"last"``; ``last_scores`` is always the last step's reward (0 without steps).

    Raises
    ------
    PoolFormatError
        On a malformed line, naming the file, the line index and the field.
    """
    if item_scores not in {"mean", "last"}:
        msg = f"item_scores must be 'mean' or 'last', got {item_scores!r}"
        raise ValueError(msg)
    source = str(path)
    builder = PoolBuilder(source, keep_completions=keep_completions)
    hasher = hashlib.sha256()
    problems: list[str] = []
    golds: list[str] = []
    for index, record in _iter_lines(path, hasher):
        if not isinstance(record, dict):
            raise PoolFormatError(source, index, None, "expected a JSON object per line")
        if not isinstance(record.get("problem"), str):
            raise PoolFormatError(source, index, "problem", "missing or not a string")
        gold = checked_gold(record.get("answer"), source, index)
        steps = record.get("scores")
        if not isinstance(steps, list):
            raise PoolFormatError(source, index, "scores", "missing or not a list")
        if not steps:
            raise PoolFormatError(source, index, "scores", "no samples")
        means, lasts = zip(*(_step_scores(s, source, index) for s in steps), strict=True)
        completions = record.get("completions")
        tokens = record.get("completion_tokens")
        if not isinstance(completions, list) or not isinstance(tokens, list):
            raise PoolFormatError(
                source, index, "completions", "completions and completion_tokens must be lists"
            )
        builder.add(
            upstream_record(
                index + 1,
                record["problem"],
                completions,
                means if item_scores == "mean" else lasts,
                lasts,
                tokens,
            )
        )
        problems.append(record["problem"])
        golds.append(gold)
    prompts = Prompts(problems=problems, golds=golds, ids=[None] * len(problems), source=source)
    return builder.build(prompts, sha256=hasher.hexdigest())


def _step_scores(value: Any, source: str, index: int) -> tuple[float, float]:
    """(mean, last) of one sample's step rewards; a plain number is its own mean and last.

    The values are checked to lie in ``[0, 1]`` before any arithmetic, so a huge integer
    (``10**400``) is an error naming the field, not an ``OverflowError``.
    """
    steps = value if isinstance(value, list) else [value]
    for step in steps:
        number = isinstance(step, int | float) and not isinstance(step, bool)
        if not number or not 0 <= step <= 1:
            text = repr(step) if len(repr(step)) <= 40 else repr(step)[:37] + "..."
            detail = f"step reward {text} is not a number in [0, 1]"
            raise PoolFormatError(source, index, "scores", detail)
    if not steps:
        return 0.0, 0.0
    return sum(steps) / len(steps), float(steps[-1])


def _iter_lines(path: str | Path, hasher: Any) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, record)`` per line, reading one line at a time and hashing every byte.

    A blank line is an error (the writer never leaves one); so is a last line without its
    newline only when it is not valid JSON (a hand-written file may lack the final newline).
    """
    source = str(path)
    offset = 0
    with Path(path).open("rb") as stream:
        for index, line in enumerate(stream):
            hasher.update(line)
            content = line.rstrip(b"\r\n")
            if not content.strip():
                raise PoolFormatError(source, index, None, "blank line (expected one JSON item)")
            yield index, jsonread.loads(content, source, index, start=offset)
            offset += len(line)
