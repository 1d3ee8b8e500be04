"""Difficulty-adaptive self-consistency (DSC) as upstream runs it, and a fair variant."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from optscale_baselines._protocol import (
    BoolArray,
    DSCDecisions,
    FloatArray,
    IntArray,
    Mode,
    RowPolicy,
    VerifyOrder,
    ViewLike,
    check_budget,
    check_mode,
    view_width,
)
from optscale_baselines._votes import (
    NOT_VOTING,
    beta_stop_table,
    beta_stops,
    cumulative_counts,
    first_seen_labels,
    prefix_majority,
    top_two,
)

JUDGE_WINDOW = 3
"""Upstream's judge window: it judges the midpoint and the problem before it."""
SAMPLE_WINDOW = 5
"""Answers per judged problem; a problem is easy when they pass the Beta rule."""
THRESHOLD = 0.95
"""Beta-tail confidence of the easy judge and of the adaptive stop."""
PAPER_SEED = 42
"""Seed of upstream's ``random.seed`` before the default run and the sweep."""

Difficulty = Literal["first_score", "prior"]
Stream = Literal["fresh", "sweep"]
"""Paper mode's random stream: a fresh ``random.Random(42)``, or upstream's sweep stream."""


def _window_agrees(labels: IntArray, table: BoolArray) -> bool:
    counts = np.bincount(labels[labels != NOT_VOTING], minlength=2).astype(np.int32)
    a, b = top_two(counts)
    return bool(table[a, b])


def _binary_search(
    judge: Callable[[int], bool], n_problems: int
) -> tuple[BoolArray, int, list[int]]:
    """Upstream's easy-boundary search over problems sorted from easy to hard.

    ``judge(j)`` says whether sorted problem ``j`` looks easy; it is called for ``idx - 1`` and
    ``idx`` at every midpoint ``idx`` (upstream's window ``[idx - J//2, idx + J//2)``), in that
    order. Flags stick once set. When both judged problems are flagged, every problem up to
    ``idx`` is easy and the search moves right; otherwise it moves left.

    Returns the easy mask (sorted order), the count of midpoints judged easy, and every
    problem judged (with repeats).
    """
    flags = np.zeros(n_problems, dtype=bool)
    easy = np.zeros(n_problems, dtype=bool)
    easy_midpoints = 0
    judged: list[int] = []
    left, right = 0, n_problems
    while left < right:
        idx = (left + right) // 2
        lo, hi = max(0, idx - JUDGE_WINDOW // 2), min(idx + JUDGE_WINDOW // 2, n_problems)
        for j in range(lo, hi):
            judged.append(j)
            if judge(j):
                flags[j] = True
                easy_midpoints += j == idx
        if flags[lo:hi].all():
            easy[left : idx + 1] = True
            left = idx + 1
        else:
            right = idx
    return easy, easy_midpoints, judged


def _paper_judge(
    labels: IntArray, order: IntArray, rng: random.Random, k: int, m: int
) -> Callable[[int], bool]:
    """Upstream's easy judge of sorted problem ``j`` at size ``m``: a draw, then the Beta rule.

    Every judgement draws ``m`` of the ``k`` answers from ``rng``, whatever its outcome.
    """
    table = beta_stop_table(THRESHOLD, SAMPLE_WINDOW)

    def judge(j: int) -> bool:
        drawn = rng.sample(range(k), m)
        if m <= SAMPLE_WINDOW:
            return m == SAMPLE_WINDOW
        return _window_agrees(labels[order[j], drawn[:SAMPLE_WINDOW]], table)

    return judge


@dataclass(frozen=True)
class DifficultyAdaptiveSC(RowPolicy):
    r"""DSC: rank problems by difficulty, give easy ones 1 sample and the rest ASC's stop.

    Parameters
    ----------
    max_sample_size
        Cap ``M`` on samples per problem.
    mode
        ``"paper"``: exactly upstream's dsc.py (see Notes). ``"fair"``: difficulty from
        information the method paid for, judged samples paid and usable, no-answer excluded
        from votes, no token formula.
    overhead_prefix
        Paper mode only: upstream's overhead averages the first ``overhead_prefix`` token
        counts of every problem, 5 in its default run and 4 in its ``max_sample_size`` sweep.
    difficulty
        Fair mode only: ``"first_score"`` ranks by the score of each problem's first sample
        (paid for by every problem); ``"prior"`` ranks by ``view.prior_mu`` (no samples spent).
    problems
        Paper mode only: the problem texts, one per view row (a view carries no text). Upstream
        sorts ``(difficulty, problem text, ...)`` tuples, so problems of equal difficulty are
        ranked by their text; this reproduces it. Without texts, ties keep the view's row order.
    stream
        Paper mode only: where the judges' random draws come from. ``"fresh"``: a fresh
        ``random.Random(42)``, as upstream's default run (first on its stream). ``"sweep"``: the
        stream as upstream's dsc.py leaves it when its ``max_sample_size`` sweep reaches ``M``:
        seeded 42, then the default run (``M = K``, the view's width, ``overhead_prefix=5``),
        then the sweep's sizes ``1, ..., M - 1``. ``run`` replays the earlier runs' judges to
        get there, so each budget is a pure function of the view and the engine may evaluate
        the sweep one budget at a time (see `paper_sweep` for the whole run in one pass).

    Notes
    -----
    Paper mode, step by step:

    1. Difficulty $1 - \bar s_p$ from the mean of ALL ``K`` PRM scores, sorted ascending;
       equal difficulties by problem text (``problems``), then by row.
    2. Binary search for the easy boundary (`_binary_search`). Judging problem ``j``
       draws ``random.sample`` of ``M`` of its ``K`` answers (Python's ``random``, seeded 42
       once per upstream run) and calls it easy when ``M == 5``, or when ``M > 5`` and the
       first 5 drawn answers pass the Beta rule (``M < 5``: never easy). The draw happens on
       every judgement, so the random stream depends on the call order.
    3. Upstream's second search, for "hard" problems, needs 3 flagged problems in a window
       holding at most 2 and never marks one; it is omitted.
    4. Easy problems: 1 sample, answer of sample 0. Others: ASC (threshold 0.95, cap ``M``),
       majority of the prefix; ``stopped`` records whether the rule fired (even at ``M``).
    5. Overhead: $m \cdot 3 \cdot 4 \cdot \operatorname{mean}_p
       \operatorname{mean}(t_{p,1..q})$ tokens with ``m`` the easy midpoints and
       ``q = overhead_prefix``, added to the total.

    Fair mode keeps steps 2 and 4 but judges problem ``j`` on its own first 5 samples, which
    it then pays for (``n_used >= 5``) and votes with; it skips the search when ``M < 5``.
    """

    max_sample_size: int = 64
    mode: Mode = "paper"
    overhead_prefix: int = 4
    difficulty: Difficulty = "first_score"
    problems: tuple[str, ...] | None = field(default=None, repr=False)
    stream: Stream = "fresh"
    rows_independent: ClassVar[bool] = False
    """Problems are ranked against each other, so replay runs one sample order at a time."""
    verify_order: ClassVar[VerifyOrder] = "gold_pred"
    """Upstream grades DSC ``verify(gold, pred)``."""

    def __post_init__(self) -> None:
        check_budget("max_sample_size", self.max_sample_size)
        check_budget("overhead_prefix", self.overhead_prefix)
        check_mode(self.mode)
        if self.difficulty not in ("first_score", "prior"):
            raise ValueError(
                f"difficulty must be 'first_score' or 'prior', got {self.difficulty!r}"
            )
        if self.stream not in ("fresh", "sweep"):
            raise ValueError(f"stream must be 'fresh' or 'sweep', got {self.stream!r}")
        if self.problems is not None:
            object.__setattr__(self, "problems", tuple(str(text) for text in self.problems))
        object.__setattr__(self, "name", f"dsc@{self.max_sample_size}")

    @classmethod
    def grid(cls) -> list[dict[str, Any]]:
        """Hyperparameter settings for cross-fitting (fair mode's difficulty source)."""
        return [{"difficulty": "first_score"}, {"difficulty": "prior"}]

    def run(self, view: ViewLike) -> DSCDecisions:
        """Run on the random stream named by ``stream`` (both start at ``random.Random(42)``)."""
        rng = random.Random(PAPER_SEED)
        if self.mode == "paper" and self.stream == "sweep":
            self._advance_to_sweep(view, rng)
        return self.run_with_rng(view, rng)

    def _advance_to_sweep(self, view: ViewLike, rng: random.Random) -> None:
        """Draw what upstream's runs before this sweep size draw: the default run, sizes < M.

        The draws of a run depend only on its size and on the judges' outcomes, so the earlier
        runs' binary searches are replayed without deciding anything else.
        """
        k = view_width(view, self.max_sample_size, "max_sample_size")
        labels = first_seen_labels(np.asarray(view.answer_ids), "paper")
        order = self._paper_order(view)
        for m in (k, *range(1, self.max_sample_size)):
            _binary_search(_paper_judge(labels, order, rng, k, m), len(order))

    def run_with_rng(self, view: ViewLike, rng: random.Random) -> DSCDecisions:
        """Run with a caller-held random stream (paper mode draws from it; fair mode does not)."""
        k = view_width(view, self.max_sample_size, "max_sample_size")
        if self.mode == "paper":
            return self._paper(view, rng, k)
        return self._fair(view)

    @classmethod
    def paper_sweep(
        cls,
        view: ViewLike,
        sizes: Iterable[int] = range(1, 65),
        default_size: int = 64,
        problems: Sequence[str] | None = None,
    ) -> tuple[DSCDecisions, list[DSCDecisions]]:
        """Upstream's whole dsc.py run: the default evaluation, then the ``sizes`` sweep.

        One ``random.Random(42)`` is shared in upstream's call order, so every entry matches
        the corresponding one of upstream's ``*_dsc_results.json`` (``dsc_default`` and
        ``dsc_max_sample_size_sweep``). ``problems``: the texts that break difficulty ties.
        """
        texts = None if problems is None else tuple(problems)
        rng = random.Random(PAPER_SEED)
        default = cls(
            default_size, "paper", overhead_prefix=SAMPLE_WINDOW, problems=texts
        ).run_with_rng(view, rng)
        return default, [cls(m, "paper", problems=texts).run_with_rng(view, rng) for m in sizes]

    def _paper_order(self, view: ViewLike) -> IntArray:
        """Rows from easy to hard: by difficulty, then problem text, then row (upstream's sort)."""
        scores = np.ascontiguousarray(view.scores, dtype=np.float64)  # row sums as np.mean's
        with np.errstate(over="ignore", invalid="ignore"):
            means = scores.mean(axis=1)
        if not np.isfinite(means).all():  # a non-finite score, or a sum past the float range
            raise ValueError(
                "view.scores must have finite row means in paper mode (DSC ranks by them)"
            )
        difficulty = (1.0 - means).tolist()
        rows = len(difficulty)
        texts = self.problems if self.problems is not None else ("",) * rows
        if len(texts) != rows:
            raise ValueError(f"problems holds {len(texts)} texts for a view of {rows} rows")
        ranked = sorted(range(rows), key=lambda row: (difficulty[row], texts[row], row))
        return np.asarray(ranked, dtype=np.int64)

    def _paper(self, view: ViewLike, rng: random.Random, k: int) -> DSCDecisions:
        m = self.max_sample_size
        labels = first_seen_labels(np.asarray(view.answer_ids), "paper")
        order = self._paper_order(view)
        judge = _paper_judge(labels, order, rng, k, m)
        easy_sorted, easy_midpoints, _ = _binary_search(judge, len(order))
        easy = np.empty_like(easy_sorted)
        easy[order] = easy_sorted
        overhead = 0.0  # no easy midpoint (e.g. a view of no problems): nothing to average
        if easy_midpoints:
            per_problem = np.asarray(view.tokens)[:, : self.overhead_prefix].mean(axis=1)
            overhead = easy_midpoints * JUDGE_WINDOW * 4 * float(np.mean(per_problem))
        paid = np.ones_like(order)
        return self._decide(labels[:, :m], easy, paid, overhead, easy_midpoints)

    def _fair(self, view: ViewLike) -> DSCDecisions:
        m = self.max_sample_size
        labels = first_seen_labels(np.asarray(view.answer_ids)[:, :m], "fair")
        difficulty = self._fair_difficulty(view)
        order = np.argsort(difficulty, kind="stable")
        paid = np.ones(len(order), dtype=np.int64)
        if m < SAMPLE_WINDOW:
            easy = np.zeros(len(order), dtype=bool)
            return self._decide(labels, easy, paid, 0.0, 0)
        table = beta_stop_table(THRESHOLD, SAMPLE_WINDOW)

        def judge(j: int) -> bool:
            return _window_agrees(labels[order[j], :SAMPLE_WINDOW], table)

        easy_sorted, easy_midpoints, judged = _binary_search(judge, len(order))
        easy = np.empty_like(easy_sorted)
        easy[order] = easy_sorted
        paid[order[judged]] = SAMPLE_WINDOW
        return self._decide(labels, easy, paid, 0.0, easy_midpoints)

    def _fair_difficulty(self, view: ViewLike) -> FloatArray:
        if self.difficulty == "prior":
            prior = np.asarray(view.prior_mu, dtype=np.float64)
            if not np.isfinite(prior).all():
                raise ValueError(
                    "view.prior_mu has NaN or infinite entries; difficulty='prior' needs all"
                )
            return 1.0 - prior
        first = np.asarray(view.scores, dtype=np.float64)[:, 0]
        return np.where(np.isnan(first), np.inf, 1.0 - first)

    def _decide(
        self, labels: IntArray, easy: BoolArray, paid: IntArray, overhead: float, midpoints: int
    ) -> DSCDecisions:
        """Easy rows use ``paid`` samples (1 unless judged); others ASC, at least ``paid``."""
        cum = cumulative_counts(labels)
        asc_n, fired = beta_stops(cum, THRESHOLD, labels.shape[1])
        n_used = np.maximum(np.where(easy, 1, asc_n), paid)
        pick = prefix_majority(labels, n_used)
        if self.mode == "paper":
            pick = np.where(easy, 0, pick)
        return DSCDecisions(
            n_used=n_used,
            pick=pick,
            extra_tokens=overhead,
            easy=easy,
            stopped=fired & ~easy,
            easy_midpoints=midpoints,
        )
