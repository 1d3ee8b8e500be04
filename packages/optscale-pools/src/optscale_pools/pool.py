"""The in-memory completion pool and the error raised for malformed pool input.

A pool holds, per problem, ``K`` sampled solutions with their verifier scores, token counts and
extracted answers, aligned with a prompts file (problem text, gold answer). Per-sample numbers are
``[P, K]`` numpy arrays; texts are nested lists. Completion texts are optional: a large pool can
be read without them, keeping only what grading and replay need (answers and emptiness).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt


class PoolFormatError(ValueError):
    """Malformed pool or prompts input.

    The message names the file, the record index (0-based position in the file) and the field, so
    that the offending value can be found without a debugger.
    """

    def __init__(self, source: str, record: int | None, field: str | None, detail: str) -> None:
        where = [source or "<memory>"]
        if record is not None:
            where.append(f"record {record}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{': '.join(where)}: {detail}")
        self.source = source
        self.record = record
        self.field = field


@dataclass(frozen=True, eq=False)
class Pool:
    r"""A completion pool: ``P`` problems with ``K`` samples each, in sampling order.

    Attributes
    ----------
    problems
        Problem text per problem (from the prompts file).
    golds
        Gold answer per problem, as written in the prompts file (GSM8K: the worked solution).
    ids
        The pool item's ``id`` per problem (upstream: 1-based position).
    scores
        Mean PRM step reward per sample, ``[P, K]`` float in ``[0, 1]``.
    last_scores
        Last-step PRM reward per sample, ``[P, K]`` float in ``[0, 1]``.
    tokens
        Completion tokens per sample, ``[P, K]`` int ``>= 0``.
    preds
        Extracted answer per sample (content of the last ``\boxed{}``, upstream's rule for
        nested boxes: [`extract_boxed`][optscale_pools.extract_boxed] with ``"paper"``),
        ``None`` when absent.
    empty
        ``[P, K]`` bool: the completion text is the empty string.
    completions
        Completion texts ``[P][K]``, or ``None`` when the pool was read without them.
    outputs, final_preds
        Upstream's per-item ``output`` and ``score["pred"][0]`` strings, kept verbatim for round
        trips (empty strings when not given); nothing in this package uses them.
    source
        File the pool was read from (``""`` when built in memory).
    sha256
        sha256 of that file's bytes (``""`` when built in memory); the grading cache key.
    simulated
        True for pools made by the simulator: every figure from them must say SIMULATED.
    sequential
        True for a sequential (MR-Thinking) pool: sample ``j`` saw sample ``j - 1``'s answer.
    """

    problems: list[str]
    golds: list[str]
    ids: list[int]
    scores: npt.NDArray[np.float64]
    last_scores: npt.NDArray[np.float64]
    tokens: npt.NDArray[np.int64]
    preds: list[list[str | None]]
    empty: npt.NDArray[np.bool_]
    completions: list[list[str]] | None = None
    outputs: list[str] = field(default_factory=list)
    final_preds: list[str] = field(default_factory=list)
    source: str = ""
    sha256: str = ""
    simulated: bool = False
    sequential: bool = False

    def __post_init__(self) -> None:
        n_problems = len(self.problems)
        if n_problems == 0:
            raise PoolFormatError(self.source, None, None, "empty pool: no problems")
        shape = self.scores.shape
        if len(shape) != 2 or shape[0] != n_problems or shape[1] == 0:
            detail = f"scores must have shape [P={n_problems}, K>=1], got {shape}"
            raise PoolFormatError(self.source, None, "scores", detail)
        for name, array in (
            ("last_scores", self.last_scores),
            ("tokens", self.tokens),
            ("empty", self.empty),
        ):
            if array.shape != shape:
                detail = f"shape {array.shape} differs from scores {shape}"
                raise PoolFormatError(self.source, None, name, detail)
        for name in ("outputs", "final_preds"):
            if not getattr(self, name):
                object.__setattr__(self, name, [""] * n_problems)
        per_problem: list[tuple[str, list[object] | None]] = [
            ("golds", list(self.golds)),
            ("ids", list(self.ids)),
            ("preds", list(self.preds)),
            ("completions", None if self.completions is None else list(self.completions)),
            ("outputs", list(self.outputs)),
            ("final_preds", list(self.final_preds)),
        ]
        for name, values in per_problem:
            if values is not None and len(values) != n_problems:
                detail = f"{len(values)} entries for {n_problems} problems"
                raise PoolFormatError(self.source, None, name, detail)
        self._check_rows(shape[1])
        check_scores(self.scores, self.source, "scores")
        check_scores(self.last_scores, self.source, "last_scores")
        bad = np.argwhere(self.tokens < 0)
        if bad.size:
            row, col = (int(v) for v in bad[0])
            detail = f"sample {col}: negative token count {int(self.tokens[row, col])}"
            raise PoolFormatError(self.source, row, "tokens", detail)

    def _check_rows(self, n_samples: int) -> None:
        """Check that every row of the nested lists holds K entries."""
        rows: list[tuple[str, Sequence[Sequence[object]]]] = [("preds", self.preds)]
        if self.completions is not None:
            rows.append(("completions", self.completions))
        for name, values in rows:
            for row, entries in enumerate(values):
                if len(entries) != n_samples:
                    detail = f"{len(entries)} entries for K={n_samples} samples"
                    raise PoolFormatError(self.source, row, name, detail)

    @property
    def n_problems(self) -> int:
        """Number of problems P."""
        return int(self.scores.shape[0])

    @property
    def n_samples(self) -> int:
        """Samples per problem K."""
        return int(self.scores.shape[1])


def check_scores(values: npt.NDArray[np.float64], source: str, name: str) -> None:
    """Raise `PoolFormatError` at the first score that is not finite or not in ``[0, 1]``.

    PRM rewards are softmax probabilities, so anything outside ``[0, 1]`` (or NaN/inf) is a
    corrupt file, not a score; the truncated-normal model of OptScale lives on ``[0, 1]``.
    """
    bad = np.argwhere(~np.isfinite(values) | (values < 0.0) | (values > 1.0))
    if bad.size:
        row, col = (int(v) for v in bad[0])
        detail = f"sample {col}: score {float(values[row, col])!r} is not a finite value in [0, 1]"
        raise PoolFormatError(source, row, name, detail)
