"""The oracle curves of an evaluation: the oracle bound and the oracle stops, with intervals.

Computed over the very sample orders the methods were replayed in. The bound stops at the first
correct sample (after one sample when none is within the budget); an oracle stop draws samples
until its selector's running choice is correct, else up to the budget (see
[`running_best`][optscale_pools.running_best] and
[`running_majority`][optscale_pools.running_majority]).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from optscale_pools.bootstrap import Resampling
from optscale_pools.evaluation import CurvePoint, EvalPool, Group
from optscale_pools.oracle_stop import first_correct_prefix, running_best, running_majority
from optscale_pools.protocol import PoolView
from optscale_pools.replay import permute
from optscale_pools.selection import summarise

BOUND = "oracle"
"""Name of the oracle bound's curve."""
STOP_BON = "oracle-stop BoN"
"""Name of the oracle stop of Best-of-N (running best-scored pick)."""
STOP_SC = "oracle-stop SC"
"""Name of the oracle stop of the majority vote."""


def oracle_rows(
    pool: EvalPool, groups: Sequence[Group], budgets: Sequence[int], draws: Resampling
) -> list[CurvePoint]:
    """Return the oracle bound and oracle stops at every budget (BoN's only with scores).

    Their intervals resample problems with ``draws``, the evaluation's shared draws.
    """
    kinds = [BOUND, *([STOP_BON] if pool.has_scores else []), STOP_SC]
    firsts: dict[str, list[npt.NDArray[np.int64]]] = {kind: [] for kind in kinds}
    paid_parts = []
    for group in groups:
        correct, view, paid = _ordered(group)
        rows, k = correct.shape
        firsts[BOUND].append(
            first_correct_prefix(np.broadcast_to(np.arange(k), (rows, k)), correct)
        )
        if pool.has_scores:
            picks = running_best(view.scores, view.empty)
            firsts[STOP_BON].append(first_correct_prefix(picks, correct))
        firsts[STOP_SC].append(first_correct_prefix(running_majority(view.answer_ids), correct))
        paid_parts.append(paid)
    points = []
    for kind in kinds:
        for n in budgets:
            metrics = _at_budget(
                pool, groups, firsts[kind], paid_parts, n, stop_early=kind == BOUND
            )
            selected = summarise(metrics, "oracle", draws)
            points.append(CurvePoint(kind, n, selected, ()))
    return points


def _ordered(group: Group) -> tuple[npt.NDArray[np.bool_], PoolView, npt.NDArray[np.float64]]:
    """Correctness, view and cumulative tokens of a group in its orders, as ``R * P`` rows."""
    if group.orders is None:
        paid = np.cumsum(group.view.tokens, axis=-1, dtype=np.float64)
        return group.correct, group.view, paid
    perms = group.orders.perms
    correct = permute(group.correct, perms).reshape(-1, group.k)
    return correct, group.orders.stacked, group.orders.paid.reshape(-1, group.k)


def _at_budget(
    pool: EvalPool,
    groups: Sequence[Group],
    firsts: Sequence[npt.NDArray[np.int64]],
    paid_parts: Sequence[npt.NDArray[np.float64]],
    n: int,
    *,
    stop_early: bool,
) -> npt.NDArray[np.float64]:
    """Metrics ``[3, R, P]`` (correct, tokens, samples) of one oracle at budget ``n``.

    Within the budget ``min(n, K_p)`` the oracle stops at its first correct prefix; otherwise
    the bound stops after one sample (``stop_early``) and an oracle stop pays the whole budget.
    """
    n_orders = firsts[0].size // groups[0].rows.size
    metrics = np.zeros((3, n_orders, pool.n_problems))
    for group, first, paid in zip(groups, firsts, paid_parts, strict=True):
        budget = min(n, group.k)
        reached = first < budget
        used = np.where(reached, first + 1, 1 if stop_early else budget)
        spent = np.take_along_axis(paid, (used - 1)[:, np.newaxis], axis=1)[:, 0]
        for index, values in enumerate((reached, spent, used)):
            metrics[index][:, group.rows] = values.reshape(n_orders, group.rows.size)
    return metrics
