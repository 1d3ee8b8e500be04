"""Choose one hyperparameter setting of a method at one budget, and its intervals.

Two rules: cross-fitting (honest: the setting applied to a problem was chosen on the other half
of the problems) and the paper's rule on the test set (optimistic: chosen on the very problems
it is reported on). Either way the bootstrap intervals redo the choice in every replicate, so
the uncertainty of the selection is part of them. The replicates resample problems (each
problem's outcome is its mean over the replayed orders) with draws that one evaluation shares
across every method and budget (see [`Resampling`][optscale_pools.Resampling]); they are kept
in [`Selected`][optscale_pools.Selected] so that statistics of several curves (the headline
ratios of [`headline`][optscale_pools.headline]) can be bootstrapped replicate by replicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

from optscale_pools.bootstrap import (
    N_RESAMPLES,
    Resampling,
    draw_resampling,
    percentile_interval,
)
from optscale_pools.crossfit import best_cells, fold_replicates, select_cell
from optscale_pools.replay import ReplayResult

SelectionRule = Literal["crossfit", "test-set"]
"""``"crossfit"``: two-fold cross-fitting; ``"test-set"``: the paper's rule on the test set."""

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Selected:
    """One method at one budget after choosing its setting.

    Attributes
    ----------
    rule
        ``"single"`` (one setting, nothing chosen), ``"crossfit"`` or ``"test-set"``.
    chosen
        Indices into the grid: the one setting (single, test-set) or the setting chosen on
        each half (cross-fitting: applied to the other half).
    accuracy, mean_tokens, mean_samples
        Point estimates: fraction correct, tokens and samples paid per problem.
    accuracy_ci, tokens_ci, samples_ci
        95% bootstrap intervals (selection redone in every replicate).
    replicates
        The bootstrap replicates behind the intervals, ``[3, B]``: accuracy, mean tokens and
        mean samples in replicate ``b``, the selection redone in it. Points computed from the
        same [`Resampling`][optscale_pools.Resampling] share their draws replicate by replicate.
    per_problem_correct, per_problem_tokens, per_problem_samples
        Per problem, under the setting applied to it, mean over orders, shape ``[P]``.
    """

    rule: str
    chosen: tuple[int, ...]
    accuracy: float
    mean_tokens: float
    mean_samples: float
    accuracy_ci: tuple[float, float]
    tokens_ci: tuple[float, float]
    samples_ci: tuple[float, float]
    replicates: FloatArray
    per_problem_correct: FloatArray
    per_problem_tokens: FloatArray
    per_problem_samples: FloatArray


def select_setting(
    results: Sequence[ReplayResult],
    rule: SelectionRule = "crossfit",
    *,
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
    draws: Resampling | None = None,
) -> Selected:
    """Choose among replayed settings of one method at one budget by ``rule``.

    Parameters
    ----------
    results
        One replay per setting, all on the same problems and orders.
    rule
        ``"crossfit"`` (default) or ``"test-set"``; ignored when there is one setting.
    seed
        Seed of the halves (cross-fitting) and of the bootstrap, when ``draws`` is not given.
    n_resamples
        Bootstrap replicates, when ``draws`` is not given.
    draws
        The bootstrap draws (and, for cross-fitting, the halves) to use, shared with other
        points of the same evaluation (see [`draw_resampling`][optscale_pools.draw_resampling]);
        default: drawn here from ``seed``, halved when ``rule`` is ``"crossfit"``.

    Raises
    ------
    ValueError
        On an empty grid, an unknown rule, cross-fitting with fewer than 2 problems or with
        draws that are not split in two halves, or draws for another number of problems.
    """
    if not results:
        msg = "results must hold at least one replayed setting"
        raise ValueError(msg)
    if rule not in ("crossfit", "test-set"):
        msg = f"selection rule must be 'crossfit' or 'test-set', got {rule!r}"
        raise ValueError(msg)
    # [S, C, R, P]: correct, tokens, samples of every setting.
    metrics = np.stack(
        [
            np.stack([r.correct.astype(np.float64), r.tokens, r.n_used.astype(np.float64)])
            for r in results
        ],
        axis=1,
    )
    n_orders, n_problems = metrics.shape[2], metrics.shape[3]
    crossfit = rule == "crossfit" and len(results) > 1
    if crossfit and n_problems < 2:
        msg = f"cross-fitting needs at least 2 problems, got {n_problems}"
        raise ValueError(msg)
    if draws is None:
        draws = draw_resampling(
            n_problems, seed=seed, n_resamples=n_resamples, halves=rule == "crossfit"
        )
    if draws.n_problems != n_problems:
        msg = f"draws resample {draws.n_problems} problems, the results hold {n_problems}"
        raise ValueError(msg)
    if len(results) == 1:
        return replace(summarise(metrics[:, 0], "single", draws), chosen=(0,))
    totals = metrics.sum(axis=2).transpose(0, 2, 1)  # [S, P, C] summed over orders
    if not crossfit:
        chosen = select_cell(results)
        sums = sum(  # [S, B, C]: per replicate, sums over the drawn problems
            np.matmul(counts, totals[:, stratum])
            for stratum, counts in zip(draws.strata, draws.counts, strict=True)
        )
        picks = best_cells(sums[0], sums[1])
        replicates = sums[:, np.arange(draws.n_resamples), picks] / (n_problems * n_orders)
        return _selected("test-set", (chosen,), metrics[:, chosen].mean(axis=1), replicates)
    if len(draws.strata) != 2:
        msg = f"cross-fitting needs draws split in two halves, got {len(draws.strata)} strata"
        raise ValueError(msg)
    halves = (draws.strata[0], draws.strata[1])
    folds = (select_cell(results, halves[0]), select_cell(results, halves[1]))
    per_problem = np.empty((3, n_problems))
    for chosen_on, applied_to in ((0, 1), (1, 0)):
        half = halves[applied_to]
        per_problem[:, half] = metrics[:, folds[chosen_on]][:, :, half].mean(axis=1)
    replicates = fold_replicates(totals, draws, n_orders)
    return _selected("crossfit", folds, per_problem, replicates, halves)


def summarise(metrics: FloatArray, rule: str, draws: Resampling) -> Selected:
    """Summarise one fixed rule (nothing chosen) as a [`Selected`][optscale_pools.Selected].

    ``metrics`` holds correct (0/1), tokens and samples per order and problem, ``[3, R, P]``;
    the intervals resample problems by ``draws``, each problem's outcome its mean over orders.
    """
    per_problem = metrics.mean(axis=1)
    return _selected(rule, (), per_problem, draws.means(per_problem))


def _selected(
    rule: str,
    chosen: tuple[int, ...],
    per_problem: FloatArray,
    replicates: FloatArray,
    halves: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None,
) -> Selected:
    """Pack point estimates (per-problem means ``[3, P]``) and replicates ``[3, B]``."""
    if halves is None:
        point = per_problem.mean(axis=1)
    else:  # the cross-fitted estimate averages the two held-out halves
        point = (
            per_problem[:, halves[0]].mean(axis=1) + per_problem[:, halves[1]].mean(axis=1)
        ) / 2
    return Selected(
        rule=rule,
        chosen=chosen,
        accuracy=float(point[0]),
        mean_tokens=float(point[1]),
        mean_samples=float(point[2]),
        accuracy_ci=percentile_interval(replicates[0]),
        tokens_ci=percentile_interval(replicates[1]),
        samples_ci=percentile_interval(replicates[2]),
        replicates=replicates,
        per_problem_correct=per_problem[0],
        per_problem_tokens=per_problem[1],
        per_problem_samples=per_problem[2],
    )
