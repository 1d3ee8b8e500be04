"""The oracle curves of an evaluation: the oracle bound and the oracle stops, with intervals.

Computed over the very sample orders the methods were replayed in, a few orders at a time. The
bound stops at the first correct sample (after one sample when none is within the budget); an
oracle stop draws samples until its selector's running choice is correct, else up to the budget
(see [`running_best`][optscale_pools.running_best] and
[`running_majority`][optscale_pools.running_majority]). The hindsight stop knows the scores but
not correctness: it stops at the sample Best-of-N ends up picking (see
[`hindsight_stop`][optscale_pools.hindsight_stop]), the bound of rules that use scores alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from optscale_pools.bootstrap import Resampling
from optscale_pools.evaluation import CurvePoint, EvalPool, Group
from optscale_pools.oracle_stop import first_correct_prefix, running_best, running_majority
from optscale_pools.selection import Selected, summarise
from optscale_pools.sweep import CHUNK_CELLS

BOUND = "oracle"
"""Name of the oracle bound's curve."""
STOP_BON = "oracle-stop BoN"
"""Name of the oracle stop of Best-of-N (running best-scored pick)."""
STOP_SC = "oracle-stop SC"
"""Name of the oracle stop of the majority vote."""
HINDSIGHT = "hindsight BoN"
"""Name of the hindsight stop's curve (knows every score, not correctness)."""
BOUNDS = (BOUND, STOP_BON, STOP_SC, HINDSIGHT)
"""Every curve that is a bound rather than a method."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def oracle_rows(
    pool: EvalPool, groups: Sequence[Group], budgets: Sequence[int], draws: Resampling
) -> list[CurvePoint]:
    """Return the oracle bound, oracle stops and hindsight stop (the last two need scores).

    Within the budget ``min(N, K_p)`` an oracle stops at its first correct prefix; otherwise the
    bound stops after one sample and an oracle stop pays the whole budget. The tokens paid are
    summed column by column as the budget grows, so no order is held whole.
    """
    kinds = [BOUND, *([STOP_BON] if pool.has_scores else []), STOP_SC]
    passes = [_first_pass(group, kinds) for group in groups]
    firsts = [first for first, _ in passes]  # [group][kind] -> [R, P_g]
    hindsight = [stop for _, stop in passes if stop is not None]
    n_orders = groups[0].n_orders
    paid = [np.zeros((n_orders, g.rows.size)) for g in groups]
    at_first = [[np.zeros((n_orders, g.rows.size)) for g in groups] for _ in kinds]
    at_one: list[FloatArray] = []
    selected: dict[tuple[str, int], Selected] = {}
    wanted = set(budgets)
    for n in range(1, max(budgets) + 1):
        for index, group in enumerate(groups):
            if n <= group.k:
                paid[index] += group.token_column(n - 1)
                for kind_index in range(len(kinds)):
                    hit = firsts[index][kind_index] == n - 1
                    at_first[kind_index][index][hit] = paid[index][hit]
            if n == 1:
                at_one.append(paid[index].copy())
            if hindsight and n <= group.k:
                hindsight[index].advance(n, paid[index])
        if n not in wanted:
            continue
        if hindsight:
            outcomes = [(stop.right, stop.spent, stop.used) for stop in hindsight]
            selected[HINDSIGHT, n] = _summary(pool, groups, outcomes, draws)
        for kind_index, kind in enumerate(kinds):
            outcomes = []
            for index, group in enumerate(groups):
                first = firsts[index][kind_index]
                reached = first < min(n, group.k)
                fallback = at_one[index] if kind == BOUND else paid[index]
                spent = np.where(reached, at_first[kind_index][index], fallback)
                used = np.where(reached, first + 1, 1 if kind == BOUND else min(n, group.k))
                outcomes.append((reached, spent, used))
            selected[kind, n] = _summary(pool, groups, outcomes, draws)
    kinds += [HINDSIGHT] if hindsight else []
    return [CurvePoint(kind, n, selected[kind, n], ()) for kind in kinds for n in budgets]


def _summary(
    pool: EvalPool,
    groups: Sequence[Group],
    outcomes: Sequence[tuple[npt.NDArray[np.bool_], FloatArray, IntArray]],
    draws: Resampling,
) -> Selected:
    """Summarise one oracle at one budget from each group's (correct, tokens, samples)."""
    metrics = np.zeros((3, groups[0].n_orders, pool.n_problems))
    for group, values in zip(groups, outcomes, strict=True):
        for metric, value in enumerate(values):
            metrics[metric][:, group.rows] = value
    return summarise(metrics, "oracle", draws)


class _HindsightStop:
    """The hindsight stop of one group, advanced one sample at a time as the budget grows.

    Best-of-N's running pick changes only to the sample just drawn (a new best), so two packed
    bits per order, problem and prefix describe it: whether that prefix's sample is a new best,
    and whether the pick is then correct. At budget ``n`` the stop has paid up to the last new
    best within ``n`` samples (one sample while none is usable), as
    [`hindsight_stop`][optscale_pools.hindsight_stop] says.
    """

    def __init__(self, records: npt.NDArray[np.uint8], right: npt.NDArray[np.uint8]) -> None:
        self._records, self._right = records, right  # [R, P_g, ceil(K / 8)]
        shape = records.shape[:2]
        self.right = np.zeros(shape, dtype=bool)
        self.spent = np.zeros(shape)
        self.used = np.ones(shape, dtype=np.int64)

    def advance(self, n: int, paid: FloatArray) -> None:
        """Take in sample ``n`` (1-based); ``paid`` is the tokens of the first ``n`` samples."""
        record = _bit(self._records, n - 1)
        if n == 1:
            record[:] = True  # one sample is paid even when it is not usable
        self.spent[record] = paid[record]
        self.used[record] = n
        self.right = _bit(self._right, n - 1)


def _bit(bits: npt.NDArray[np.uint8], j: int) -> npt.NDArray[np.bool_]:
    """Bit ``j`` of rows packed by ``np.packbits`` along the last axis."""
    return ((bits[:, :, j // 8] >> (7 - j % 8)) & 1).astype(bool)


def _first_pass(group: Group, kinds: Sequence[str]) -> tuple[list[IntArray], _HindsightStop | None]:
    """One pass over the orders of ``group``, a few at a time.

    Per oracle kind, the first prefix index whose running pick is correct, ``[R, P_g]``; and
    with scores, the hindsight stop's packed bits.
    """
    parts: list[list[IntArray]] = [[] for _ in kinds]
    records, right = [], []
    for chunk in group.order_chunks(CHUNK_CELLS):
        view, correct = chunk.view, chunk.correct
        rows, k = correct.shape
        for index, kind in enumerate(kinds):
            if kind == BOUND:
                picks = np.broadcast_to(np.arange(k), (rows, k))
            elif kind == STOP_BON:
                picks = running_best(view.scores, view.empty)
                hit = np.take_along_axis(correct, np.maximum(picks, 0), axis=1) & (picks >= 0)
                records.append(np.packbits(picks == np.arange(k), axis=1))
                right.append(np.packbits(hit, axis=1))
            else:
                picks = running_majority(view.answer_ids)
            parts[index].append(first_correct_prefix(picks, correct))
    shape = (group.n_orders, group.rows.size)
    firsts = [np.concatenate(part).reshape(shape) for part in parts]
    if not records:
        return firsts, None
    packed = [np.concatenate(bits).reshape(*shape, -1) for bits in (records, right)]
    return firsts, _HindsightStop(packed[0], packed[1])
