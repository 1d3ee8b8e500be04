"""The oracle curves of an evaluation: the oracle bound and the oracle stops, with intervals.

Computed over the very sample orders the methods were replayed in, a few orders at a time. The
bound stops at the first correct sample (after one sample when none is within the budget); an
oracle stop draws samples until its selector's running choice is correct, else up to the budget
(see [`running_best`][optscale_pools.running_best] and
[`running_majority`][optscale_pools.running_majority]).
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

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def oracle_rows(
    pool: EvalPool, groups: Sequence[Group], budgets: Sequence[int], draws: Resampling
) -> list[CurvePoint]:
    """Return the oracle bound and oracle stops at every budget (BoN's only with scores).

    Within the budget ``min(N, K_p)`` an oracle stops at its first correct prefix; otherwise the
    bound stops after one sample and an oracle stop pays the whole budget. The tokens paid are
    summed column by column as the budget grows, so no order is held whole.
    """
    kinds = [BOUND, *([STOP_BON] if pool.has_scores else []), STOP_SC]
    firsts = [_firsts(group, kinds) for group in groups]  # [group][kind] -> [R, P_g]
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
        if n not in wanted:
            continue
        for kind_index, kind in enumerate(kinds):
            metrics = np.zeros((3, n_orders, pool.n_problems))
            for index, group in enumerate(groups):
                budget = min(n, group.k)
                first = firsts[index][kind_index]
                reached = first < budget
                fallback = at_one[index] if kind == BOUND else paid[index]
                spent = np.where(reached, at_first[kind_index][index], fallback)
                used = np.where(reached, first + 1, 1 if kind == BOUND else budget)
                for metric, values in enumerate((reached, spent, used)):
                    metrics[metric][:, group.rows] = values
            selected[kind, n] = summarise(metrics, "oracle", draws)
    return [CurvePoint(kind, n, selected[kind, n], ()) for kind in kinds for n in budgets]


def _firsts(group: Group, kinds: Sequence[str]) -> list[IntArray]:
    """Per oracle kind, the first prefix index whose running pick is correct, ``[R, P_g]``."""
    parts: list[list[IntArray]] = [[] for _ in kinds]
    for chunk in group.order_chunks(CHUNK_CELLS):
        view, correct = chunk.view, chunk.correct
        rows, k = correct.shape
        for index, kind in enumerate(kinds):
            if kind == BOUND:
                picks = np.broadcast_to(np.arange(k), (rows, k))
            elif kind == STOP_BON:
                picks = running_best(view.scores, view.empty)
            else:
                picks = running_majority(view.answer_ids)
            parts[index].append(first_correct_prefix(picks, correct))
    return [np.concatenate(part).reshape(group.n_orders, group.rows.size) for part in parts]
