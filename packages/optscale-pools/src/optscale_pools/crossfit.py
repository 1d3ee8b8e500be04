"""Hyperparameter selection: the paper's rule on the test set, and its cross-fitted honest form.

Upstream reports, per method, the grid cell with the highest accuracy on the very problems it is
evaluated on (ties to fewest tokens). Cross-fitting removes that optimism: choose the cell on one
half of the problems, report it on the other half, swap the halves, average.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optscale_pools.bootstrap import (
    N_RESAMPLES,
    Resampling,
    draw_resampling,
    percentile_interval,
)
from optscale_pools.replay import ReplayResult


@dataclass(frozen=True)
class CrossFitResult:
    """Cross-fitted accuracy and tokens of a grid of settings.

    Attributes
    ----------
    accuracy, mean_tokens
        Average over the two folds of the chosen cell's accuracy and mean tokens on the held-out
        half.
    chosen
        Index (into the grid) of the cell chosen on each fold's selection half.
    fold_accuracy, fold_tokens
        The held-out accuracy and mean tokens of each fold.
    accuracy_ci, tokens_ci
        95% bootstrap intervals of the cross-fitted accuracy and tokens with the selection
        inside the bootstrap (see [`cross_fit`][optscale_pools.cross_fit]).
    """

    accuracy: float
    mean_tokens: float
    chosen: tuple[int, int]
    fold_accuracy: tuple[float, float]
    fold_tokens: tuple[float, float]
    accuracy_ci: tuple[float, float]
    tokens_ci: tuple[float, float]


def select_cell(results: Sequence[ReplayResult], problems: npt.ArrayLike | None = None) -> int:
    """Index of the best grid cell on ``problems`` (all when ``None``), by the paper's rule.

    Highest accuracy wins; among equal accuracies, the fewest mean tokens; then the first cell.
    Accuracies are compared as counts of correct (order, problem) pairs, so ties are exact.
    """
    if not results:
        msg = "results must hold at least one replayed grid cell"
        raise ValueError(msg)
    shape = results[0].correct.shape
    for index, result in enumerate(results):
        if result.correct.shape != shape:
            msg = (
                f"results[{index}] covers {result.correct.shape} (orders, problems), "
                f"expected {shape}"
            )
            raise ValueError(msg)
    columns = np.arange(shape[1]) if problems is None else np.asarray(problems, dtype=np.int64)
    hits = np.array([int(r.correct[:, columns].sum()) for r in results])
    tokens = np.array([float(r.tokens[:, columns].mean()) for r in results])
    return best_setting(hits, tokens)


def best_setting(accuracy: npt.ArrayLike, tokens: npt.ArrayLike) -> int:
    """Index of the setting the paper's rule picks from summary numbers, one entry per setting.

    The highest ``accuracy`` wins; among equal accuracies, the fewest ``tokens``; then the
    first setting. [`select_cell`][optscale_pools.select_cell] applies it to replayed settings
    (accuracy as exact counts); given a grid's reported numbers (e.g. a paper's own grid
    cells), it picks the setting the paper reports.

    Raises
    ------
    ValueError
        If the two arrays are empty or of different lengths.
    """
    acc = np.asarray(accuracy, dtype=np.float64)
    cost = np.asarray(tokens, dtype=np.float64)
    if acc.ndim != 1 or acc.size == 0 or acc.shape != cost.shape:
        msg = (
            f"accuracy and tokens must be non-empty 1-D arrays of one length, "
            f"got shapes {acc.shape} and {cost.shape}"
        )
        raise ValueError(msg)
    # lexsort: last key is primary; stable, so equal keys keep grid order.
    return int(np.lexsort((cost, -acc))[0])


def cross_fit(
    results: Sequence[ReplayResult], *, seed: int = 0, n_resamples: int = N_RESAMPLES
) -> CrossFitResult:
    r"""Two-fold cross-fitted selection over a grid of replayed settings.

    Parameters
    ----------
    results
        One [`ReplayResult`][optscale_pools.ReplayResult] per grid cell, all replayed on the same
        problems and orders.
    seed
        Seed of the random split of the problems into two halves (sizes differ by at most one)
        and of the bootstrap that follows it.
    n_resamples
        Bootstrap replicates for the intervals.

    Returns
    -------
    CrossFitResult

    Notes
    -----
    With halves ``A`` and ``B``, ``c_A`` the cell chosen on ``A`` by
    [`select_cell`][optscale_pools.select_cell] and ``m_B(c)`` the mean of a metric over ``B``,

    $$\text{reported} = \tfrac12\big(m_B(c_A) + m_A(c_B)\big).$$

    The intervals redo the whole procedure on each bootstrap replicate: the problems of each
    half are resampled with replacement (within the half), the cell is chosen again on each
    half's resample and measured on the other's, so the spread of the selection itself is
    included. Each problem's outcome is its total over the replayed orders (orders are averaged,
    not resampled).
    """
    if not results:
        msg = "results must hold at least one replayed grid cell"
        raise ValueError(msg)
    n_problems = results[0].correct.shape[1]
    if n_problems < 2:
        msg = f"cross-fitting needs at least 2 problems, got {n_problems}"
        raise ValueError(msg)
    draws = draw_resampling(n_problems, seed=seed, n_resamples=n_resamples, halves=True)
    halves = (draws.strata[0], draws.strata[1])
    chosen = (select_cell(results, halves[0]), select_cell(results, halves[1]))
    held_out = (halves[1], halves[0])
    accuracy = tuple(
        float(results[c].correct[:, h].mean()) for c, h in zip(chosen, held_out, strict=True)
    )
    tokens = tuple(
        float(results[c].tokens[:, h].mean()) for c, h in zip(chosen, held_out, strict=True)
    )
    replicates = _cross_fit_replicates(results, draws)
    return CrossFitResult(
        accuracy=(accuracy[0] + accuracy[1]) / 2,
        mean_tokens=(tokens[0] + tokens[1]) / 2,
        chosen=chosen,
        fold_accuracy=(accuracy[0], accuracy[1]),
        fold_tokens=(tokens[0], tokens[1]),
        accuracy_ci=percentile_interval(replicates[0]),
        tokens_ci=percentile_interval(replicates[1]),
    )


def _cross_fit_replicates(
    results: Sequence[ReplayResult], draws: Resampling
) -> npt.NDArray[np.float64]:
    """Replicates ``[2, B]`` (accuracy, tokens) of the cross-fitted estimate, selection included."""
    # [P, C]: per problem and cell, correct (order, problem) pairs and tokens summed over orders.
    hits = np.stack([r.correct.sum(axis=0) for r in results], axis=1).astype(np.float64)
    spent = np.stack([r.tokens.sum(axis=0) for r in results], axis=1)
    n_orders = results[0].correct.shape[0]
    return fold_replicates(np.stack([hits, spent]), draws, n_orders)


def fold_replicates(
    totals: npt.NDArray[np.float64], draws: Resampling, n_orders: int
) -> npt.NDArray[np.float64]:
    """Bootstrap replicates ``[S, B]`` of cross-fitted means, the selection redone in each.

    Parameters
    ----------
    totals
        Per metric, problem and grid cell, the metric summed over the ``n_orders`` orders,
        shape ``[S, P, C]``. Metric 0 must be the correct count and metric 1 the tokens: the
        cell is chosen on them by the rule of [`select_cell`][optscale_pools.select_cell].
        Further metrics (e.g. samples paid) are reported for the same choices.
    draws
        The shared draws; its two strata are the cross-fitting halves. In replicate ``b`` the
        cell is chosen on half A's resample and measured on half B's, and vice versa, with the
        very problems every other estimate of replicate ``b`` sees.
    n_orders
        Orders behind each total.
    """
    if len(draws.strata) != 2:
        msg = f"cross-fitting needs draws stratified by two halves, got {len(draws.strata)} strata"
        raise ValueError(msg)
    # per half: [S, B, C] resampled sums, and the (order, problem) pairs behind each
    sums = [
        (np.matmul(counts, totals[:, half]), half.size * n_orders)
        for half, counts in zip(draws.strata, draws.counts, strict=True)
    ]
    replicates = np.zeros((totals.shape[0], draws.n_resamples))
    rows = np.arange(draws.n_resamples)
    for select, measure in ((0, 1), (1, 0)):
        chosen = best_cells(sums[select][0][0], sums[select][0][1])
        replicates += sums[measure][0][:, rows, chosen] / sums[measure][1] / 2
    return replicates


def best_cells(
    hits: npt.NDArray[np.float64], tokens: npt.NDArray[np.float64]
) -> npt.NDArray[np.intp]:
    """Per replicate (row), the rule of `select_cell`: most hits, fewest tokens, first."""
    top = hits == hits.max(axis=1, keepdims=True)
    cheapest = np.where(top, tokens, np.inf)
    winners = top & (cheapest == cheapest.min(axis=1, keepdims=True))
    best: npt.NDArray[np.intp] = np.argmax(winners, axis=1)
    return best
