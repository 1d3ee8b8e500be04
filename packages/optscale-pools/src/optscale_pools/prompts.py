"""Prompts files (problem text and gold answer per problem) and the alignment check of a pool.

Upstream prompts files are JSON lists of dicts in pool order. The problem text is under
``problem`` (MATH500, AIME24, AMC23) or ``question`` (AIME25, GSM8K); the gold answer under
``answer`` (for GSM8K the whole worked solution ending in ``#### 18``; math-verify extracts the
number from it). Upstream never checks that pool item ``i`` belongs to prompt ``i``; we always do.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from optscale_pools.jsonread import iter_json_list
from optscale_pools.pool import PoolFormatError

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Prompts:
    """The problems of a dataset, in pool order.

    Attributes
    ----------
    problems
        Problem text per problem.
    golds
        Gold answer per problem (as a string).
    ids
        The prompt's own id (``id`` or ``unique_id``) when present, else ``None``.
    source
        File read.
    """

    problems: list[str]
    golds: list[str]
    ids: list[str | None]
    source: str = ""

    def __len__(self) -> int:
        return len(self.problems)


def normalise_text(text: str) -> str:
    """Collapse every run of whitespace to one space and strip the ends (alignment key)."""
    return _SPACE.sub(" ", text).strip()


def read_prompts(path: str | Path) -> Prompts:
    """Read a prompts file: a JSON list of dicts with ``problem`` or ``question``, and ``answer``.

    Raises
    ------
    PoolFormatError
        On invalid JSON, a non-list top level, an empty list, or a record without a text or with
        an empty or non-finite gold (naming the record index and the field). The file is read one
        record at a time.
    """
    source = str(path)
    problems: list[str] = []
    golds: list[str] = []
    ids: list[str | None] = []
    with Path(path).open("rb") as stream:
        for index, record in enumerate(iter_json_list(stream, source)):
            if not isinstance(record, dict):
                raise PoolFormatError(source, index, None, "expected a JSON object per problem")
            key = "problem" if "problem" in record else "question"
            text = record.get(key)
            if not isinstance(text, str):
                detail = "missing or not a string (expected 'problem' or 'question')"
                raise PoolFormatError(source, index, key, detail)
            raw_id = record.get("id", record.get("unique_id"))
            if isinstance(raw_id, list | dict):
                raise PoolFormatError(source, index, "id", "expected a string or a number")
            problems.append(text)
            golds.append(checked_gold(record.get("answer"), source, index))
            ids.append(None if raw_id is None else str(raw_id))
    if not problems:
        raise PoolFormatError(source, None, None, "empty prompts file")
    return Prompts(problems=problems, golds=golds, ids=ids, source=source)


def checked_gold(value: object, source: str, index: int) -> str:
    """Return the gold answer as a string: a non-empty string, or a finite number as one."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PoolFormatError(source, index, "answer", f"{value!r} is not a gold answer")
        return str(value)
    if not isinstance(value, str):
        raise PoolFormatError(source, index, "answer", "missing or not a string")
    if not value.strip():
        raise PoolFormatError(source, index, "answer", "empty gold answer")
    return value


def check_alignment(
    prompts: Prompts,
    texts: Sequence[str | None],
    item_ids: Sequence[int],
    source: str,
) -> None:
    """Check that pool item ``i`` belongs to prompt ``i``; raise at the first mismatch.

    Item ``i`` matches when its problem text equals the prompt's after
    [`normalise_text`][optscale_pools.normalise_text]; an item without a problem text must carry
    ``id == i + 1`` (upstream's 1-based position).

    Raises
    ------
    PoolFormatError
        Naming the pool file, the first mismatching index and what differs; or the two lengths
        when they differ.
    """
    for index, (text, item_id) in enumerate(zip(texts, item_ids, strict=False)):
        if index >= len(prompts):
            break
        if text is None:
            if item_id != index + 1:
                detail = f"item id {item_id} is not position {index + 1} in {prompts.source}"
                raise PoolFormatError(source, index, "id", detail)
        elif normalise_text(text) != normalise_text(prompts.problems[index]):
            detail = (
                f"problem text does not match prompt {index} of {prompts.source}: "
                f"{_preview(text)!r} vs {_preview(prompts.problems[index])!r}"
            )
            raise PoolFormatError(source, index, "score.problem", detail)
    if len(texts) != len(prompts):
        first = min(len(texts), len(prompts))
        detail = (
            f"pool has {len(texts)} problems but {prompts.source} has {len(prompts)}; "
            f"first unmatched index {first}"
        )
        raise PoolFormatError(source, first, None, detail)


def _preview(text: str, width: int = 60) -> str:
    """Return the start of a text, whitespace-normalised, for error messages."""
    flat = normalise_text(text)
    return flat if len(flat) <= width else flat[: width - 3] + "..."
