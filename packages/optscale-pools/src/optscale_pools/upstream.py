"""The upstream parallel and sequential pool format: one JSON list, one item per problem.

An item is ``{"id": int, "output": str, "n": int, "score": {"problem": [str], "completions":
[[str] * K], "scores": [[float] * K], "last_scores": [[float] * K], "pred": [str],
"completion_tokens": [[int] * K]}}``; note the extra list level around the K samples. Sequential
(MR-Thinking) pools have the same shape. Real pools are hundreds of megabytes, so reading streams
the top-level list one item at a time (hashing the bytes on the way for the grading cache) and
can drop the completion texts once their answers are extracted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from optscale_pools.answers import extract_boxed
from optscale_pools.atomic import atomic_output
from optscale_pools.jsonread import iter_json_list
from optscale_pools.pool import Pool, PoolFormatError
from optscale_pools.prompts import Prompts, check_alignment, read_prompts

SAMPLE_FIELDS = ("completions", "scores", "last_scores", "completion_tokens")
"""The per-sample lists of ``item["score"]``, each ``[[value] * K]``."""

MAX_TOKENS = 1 << 40
"""Largest token count accepted for one sample: far above any completion, far below the point
where sums over a pool could overflow 64-bit integers."""


def upstream_record(
    item_id: int,
    problem: str,
    completions: list[str],
    scores: Iterable[float],
    last_scores: Iterable[float],
    tokens: Iterable[int],
    *,
    output: str = "",
    pred: str = "",
    simulated: bool = False,
) -> dict[str, Any]:
    """Build one upstream pool item (the dict written per problem).

    Parameters
    ----------
    item_id
        Upstream's 1-based position of the problem.
    problem, completions, scores, last_scores, tokens
        The problem text and its K samples.
    output, pred
        Upstream's free ``output`` and ``score["pred"]`` strings (unused here).
    simulated
        Adds ``"simulated": true`` to the item (an extra key upstream readers ignore), so a
        simulated pool stays marked as such wherever its file goes.

    Raises
    ------
    ValueError
        When a number cannot be converted (a score of ``10**400``, a token count of NaN).
    """
    try:
        numbers = (
            int(item_id),
            [float(s) for s in scores],
            [float(s) for s in last_scores],
            [int(t) for t in tokens],
        )
    except (TypeError, ValueError, OverflowError) as error:
        msg = f"upstream record {item_id!r}: {error}"
        raise ValueError(msg) from None
    record: dict[str, Any] = {
        "id": numbers[0],
        "output": output,
        "n": len(completions),
        "score": {
            "problem": [problem],
            "completions": [list(completions)],
            "scores": [numbers[1]],
            "last_scores": [numbers[2]],
            "pred": [pred],
            "completion_tokens": [numbers[3]],
        },
    }
    if simulated:
        record["simulated"] = True
    return record


class PoolBuilder:
    """Accumulate validated upstream items into the arrays of a [`Pool`][optscale_pools.Pool]."""

    def __init__(self, source: str, *, keep_completions: bool = True) -> None:
        self.source = source
        self.keep_completions = keep_completions
        self.texts: list[str | None] = []
        self.ids: list[int] = []
        self.outputs: list[str] = []
        self.final_preds: list[str] = []
        self.scores: list[list[float]] = []
        self.last_scores: list[list[float]] = []
        self.tokens: list[list[int]] = []
        self.preds: list[list[str | None]] = []
        self.empty: list[list[bool]] = []
        self.completions: list[list[str]] = []
        self.simulated = False

    def add(self, record: Any) -> None:
        """Validate one item and append it (raises `PoolFormatError` naming the field)."""
        index = len(self.ids)
        if not isinstance(record, dict):
            detail = f"wrong nesting level: expected an object per problem, got {_kind(record)}"
            raise PoolFormatError(self.source, index, None, detail)
        item_id = record.get("id")
        if not isinstance(item_id, int) or isinstance(item_id, bool):
            raise PoolFormatError(self.source, index, "id", "missing or not an integer")
        score = record.get("score")
        if not isinstance(score, dict):
            raise PoolFormatError(self.source, index, "score", "missing or not an object")
        samples = {name: self._samples(score, name, index) for name in SAMPLE_FIELDS}
        lengths = {name: len(values) for name, values in samples.items()}
        if len(set(lengths.values())) != 1:
            raise PoolFormatError(self.source, index, "score", f"unequal list lengths {lengths}")
        width = lengths["completions"]
        if width == 0 or (self.scores and width != len(self.scores[0])):
            expected = len(self.scores[0]) if self.scores else ">= 1"
            detail = f"{width} samples, expected K={expected} like the first item"
            raise PoolFormatError(self.source, index, "score.completions", detail)
        self._check_n(record, index, width)
        completions = [self._text(v, index, "score.completions") for v in samples["completions"]]
        self.texts.append(self._problem(score, index))
        self.ids.append(item_id)
        self.outputs.append(self._free_text(record.get("output", ""), index, "output"))
        pred = score.get("pred", [""])
        pred = pred[0] if isinstance(pred, list) and pred else ""
        self.final_preds.append(self._free_text(pred, index, "score.pred"))
        self.scores.append([self._score(v, index, "score.scores") for v in samples["scores"]])
        self.last_scores.append(
            [self._score(v, index, "score.last_scores") for v in samples["last_scores"]]
        )
        self.tokens.append([self._count(v, index) for v in samples["completion_tokens"]])
        self.preds.append([extract_boxed(text, "paper") for text in completions])
        self.empty.append([text == "" for text in completions])
        if self.keep_completions:
            self.completions.append(completions)
        self.simulated = self.simulated or record.get("simulated") is True

    def build(self, prompts: Prompts, *, sha256: str = "", sequential: bool = False) -> Pool:
        """Check alignment with ``prompts`` and return the [`Pool`][optscale_pools.Pool]."""
        if not self.ids:
            raise PoolFormatError(self.source, None, None, "empty pool: no items")
        check_alignment(prompts, self.texts, self.ids, self.source)
        return Pool(
            problems=list(prompts.problems),
            golds=list(prompts.golds),
            ids=self.ids,
            scores=np.asarray(self.scores, dtype=np.float64),
            last_scores=np.asarray(self.last_scores, dtype=np.float64),
            tokens=np.asarray(self.tokens, dtype=np.int64),
            preds=self.preds,
            empty=np.asarray(self.empty, dtype=np.bool_),
            completions=self.completions if self.keep_completions else None,
            outputs=self.outputs,
            final_preds=self.final_preds,
            source=self.source,
            sha256=sha256,
            simulated=self.simulated,
            sequential=sequential,
        )

    def _samples(self, score: dict[str, Any], name: str, index: int) -> list[Any]:
        value = score.get(name)
        field = f"score.{name}"
        if value is None:
            raise PoolFormatError(self.source, index, field, "missing")
        if not (isinstance(value, list) and len(value) == 1 and isinstance(value[0], list)):
            detail = (
                "wrong nesting level: expected [[v_1, ..., v_K]] (a list holding one list "
                f"of the K samples), got {_kind(value)}"
            )
            raise PoolFormatError(self.source, index, field, detail)
        return value[0]

    def _problem(self, score: dict[str, Any], index: int) -> str | None:
        value = score.get("problem")
        if value is None or value == []:
            return None
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
            return value[0]
        detail = f"expected [text] (a list holding one string), got {_kind(value)}"
        raise PoolFormatError(self.source, index, "score.problem", detail)

    def _free_text(self, value: Any, index: int, field: str) -> str:
        """Upstream's free strings (``output``, ``pred``): a string, or a number written as one."""
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise PoolFormatError(self.source, index, field, f"expected a string, got {_kind(value)}")

    def _text(self, value: Any, index: int, field: str) -> str:
        if not isinstance(value, str):
            detail = f"expected a string, got {_kind(value)}"
            raise PoolFormatError(self.source, index, field, detail)
        return value

    def _score(self, value: Any, index: int, field: str) -> float:
        # Comparing first keeps huge integers (10**400) away from float(): no OverflowError;
        # NaN fails both comparisons.
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not 0 <= value <= 1:
            detail = f"score {_short(value)} is not a finite number in [0, 1]"
            raise PoolFormatError(self.source, index, field, detail)
        return float(value)

    def _count(self, value: Any, index: int) -> int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        if not ok or not 0 <= value <= MAX_TOKENS:
            detail = f"token count {_short(value)} is not an integer in [0, 2**40]"
            raise PoolFormatError(self.source, index, "score.completion_tokens", detail)
        return int(value)

    def _check_n(self, record: dict[str, Any], index: int, width: int) -> None:
        """Upstream's ``n``, when present, must be the item's number of samples."""
        if "n" not in record:
            return
        value = record["n"]
        if not isinstance(value, int) or isinstance(value, bool) or value != width:
            detail = f"{_short(value)} is not the item's number of samples ({width})"
            raise PoolFormatError(self.source, index, "n", detail)


def read_upstream_pool(
    path: str | Path,
    prompts: Prompts | str | Path,
    *,
    keep_completions: bool = True,
    sequential: bool | None = None,
) -> Pool:
    """Read an upstream parallel or sequential pool file, streaming, checked against its prompts.

    Parameters
    ----------
    path
        The pool JSON file.
    prompts
        A [`Prompts`][optscale_pools.Prompts] or the path of a prompts file; item ``i`` must match
        prompt ``i``.
    keep_completions
        Keep the completion texts (False saves memory on large pools: answers, emptiness and
        numbers are kept).
    sequential
        Whether the pool is sequential; ``None`` infers it from ``_seq_`` in the file name.

    Raises
    ------
    PoolFormatError
        On any malformed item or misalignment, naming file, record index and field.
    """
    source = str(path)
    loaded = prompts if isinstance(prompts, Prompts) else read_prompts(prompts)
    builder = PoolBuilder(source, keep_completions=keep_completions)
    hasher = hashlib.sha256()
    with Path(path).open("rb") as stream:
        for record in iter_json_list(stream, source, hasher):
            builder.add(record)
    is_sequential = "_seq_" in Path(path).name if sequential is None else sequential
    return builder.build(loaded, sha256=hasher.hexdigest(), sequential=is_sequential)


def pool_records(pool: Pool) -> Iterator[dict[str, Any]]:
    """Yield the upstream items of ``pool``, one per problem (needs the completion texts)."""
    if pool.completions is None:
        detail = "pool has no completion texts (read it with keep_completions=True to write it)"
        raise PoolFormatError(pool.source, None, "completions", detail)
    for row in range(pool.n_problems):
        yield upstream_record(
            pool.ids[row],
            pool.problems[row],
            pool.completions[row],
            pool.scores[row].tolist(),
            pool.last_scores[row].tolist(),
            pool.tokens[row].tolist(),
            output=pool.outputs[row],
            pred=pool.final_preds[row],
            simulated=pool.simulated,
        )


def write_upstream_pool(pool: Pool, path: str | Path) -> Path:
    """Write ``pool`` in the upstream format, atomically (temp file + ``os.replace``).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    target = Path(path)
    records = pool_records(pool)
    with atomic_output(target) as out:
        out.write("[")
        for index, record in enumerate(records):
            out.write(",\n" if index else "\n")
            json.dump(record, out, ensure_ascii=False, allow_nan=False)
        out.write("\n]\n")
    return target


def _kind(value: Any, depth: int = 3) -> str:
    """Short description of a JSON value's type and nesting (``depth`` levels), for errors."""
    if isinstance(value, list):
        if depth == 0:
            return "more lists"
        inner = _kind(value[0], depth - 1) if value else "nothing"
        return f"a list of {len(value)} holding {inner}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _short(value: Any, width: int = 40) -> str:
    """``repr`` of a value cut to ``width`` characters (a 400-digit number stays readable)."""
    if isinstance(value, list | dict):
        return _kind(value)
    text = repr(value)
    return text if len(text) <= width else f"{text[: width - 3]}..."
