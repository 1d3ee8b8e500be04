"""The evaluation engine: every method, every setting, every budget, on one pool.

[`evaluate`][optscale_pools.evaluate] replays each [`Method`][optscale_pools.Method] at each budget
``N`` for every setting of its grid over the same sample orders, chooses the setting per budget
(cross-fitting by default, or the paper's rule on the test set, always labelled), and reports
accuracy, samples and tokens with bootstrap intervals that redo the choice, plus the oracle
bound and the oracle stops (see [`running_best`][optscale_pools.running_best]).

Budget semantics: a method at budget ``N`` may use at most ``N`` samples per problem: a
fixed-budget rule pays ``N``, a stopping rule has ``max_n = N``, OptScale has ``max_n = N``.

Token accounting: a policy's extra tokens (e.g. DSC's judging overhead) are added to the total
of the tokens paid, and the mean over problems is rounded once, as upstream computes it; a
setting applied to every problem (one setting, or the paper's choice on the test set) reports
exactly that mean.

Problems with different sample counts ``K_p`` (a ragged pool: shorter rows padded, see
[`EvalPool`][optscale_pools.EvalPool]) are evaluated in groups of equal ``K_p``; at a budget
``N > K_p`` a problem is evaluated at its own ``K_p`` (the policy is built with budget
``min(N, K_p)`` for that group). Policies that rank problems against each other (DSC) rank
within each group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from tqdm import tqdm

from optscale_pools.bootstrap import (
    N_RESAMPLES,
    bootstrap_means,
    draw_resampling,
    percentile_interval,
)
from optscale_pools.engine_oracle import oracle_rows
from optscale_pools.evaluation import (
    CurvePoint,
    EvalPool,
    Evaluation,
    Group,
    Setting,
    SettingPoint,
    groups_of,
    in_pool_order,
    setting_text,
)
from optscale_pools.protocol import Policy
from optscale_pools.replay import ReplayResult, SampleOrders, replay
from optscale_pools.selection import Selected, SelectionRule, select_setting
from optscale_pools.sweep import prefix_capable, sweep


@dataclass(frozen=True)
class Method:
    """A method to evaluate: how to build its policy at budget ``N`` for one setting of its grid.

    Attributes
    ----------
    name
        Name in every output (e.g. ``"BoN"``).
    make
        ``make(n, setting)`` returns the policy at budget ``n`` (at most ``n`` samples per
        problem) with the hyperparameters ``setting``.
    grid
        The settings to choose among (one empty setting when the method has none).
    uses_scores
        True when the method reads verifier scores; it is skipped on a pool without scores.
    """

    name: str
    make: Callable[[int, Setting], Policy]
    grid: Sequence[Setting] = ({},)
    uses_scores: bool = True


def check_budgets(budgets: Sequence[int] | None, max_k: int) -> tuple[int, ...]:
    """Sorted distinct budgets, each in ``1..max_k``; default every ``N`` in ``1..max_k``.

    Raises
    ------
    ValueError
        If a budget is not an integer in ``1..max_k`` or none is given.
    """
    if budgets is None:
        return tuple(range(1, max_k + 1))
    values = tuple(budgets)
    if not values:
        msg = "budgets must not be empty"
        raise ValueError(msg)
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            msg = f"budget {value!r} is not an integer"
            raise ValueError(msg)
        if not 1 <= value <= max_k:
            msg = f"budget {value} is outside 1..{max_k} (the pool's samples per problem)"
            raise ValueError(msg)
    return tuple(sorted({int(v) for v in values}))


def evaluate(
    pool: EvalPool,
    methods: Sequence[Method],
    *,
    budgets: Sequence[int] | None = None,
    orders: int | None = 100,
    seed: int = 0,
    selection: SelectionRule = "crossfit",
    n_resamples: int = N_RESAMPLES,
    progress: bool = False,
    keep_per_problem: bool = False,
) -> Evaluation:
    """Evaluate ``methods`` on ``pool`` at every budget; see the module docstring.

    Parameters
    ----------
    pool
        The pool: view, correctness, names (see [`EvalPool`][optscale_pools.EvalPool]).
    methods
        The methods with their grids.
    budgets
        Budgets ``N`` in ``1..K`` (``K`` the largest row); default all of them.
    orders
        ``R`` seeded random sample orders (each row's samples shuffled), or ``None`` for pool
        order (the paper's protocol).
    seed
        Seed of the orders, the cross-fitting halves and the bootstrap.
    selection
        ``"crossfit"`` (default) or ``"test-set"`` (the paper's rule, optimistic).
    n_resamples
        Bootstrap replicates ``B`` per interval. Every point resamples the problems with the
        same draws (kept in each point's [`Selected`][optscale_pools.Selected]), so
        statistics across curves can be bootstrapped replicate by replicate.
    progress
        Show a progress bar on stderr.
    keep_per_problem
        Also keep, for every setting (not only the chosen ones), the samples each problem paid
        (mean over orders) in
        [`SettingPoint.per_problem_samples`][optscale_pools.SettingPoint]. Off by default: it
        grows with problems x settings x budgets.

    Returns
    -------
    Evaluation

    Raises
    ------
    ValueError
        On budgets outside ``1..K``, ``orders < 1``, an unknown selection rule, or a policy
        returning invalid decisions.
    """
    if selection not in ("crossfit", "test-set"):
        msg = f"selection must be 'crossfit' or 'test-set', got {selection!r}"
        raise ValueError(msg)
    if orders is not None and (isinstance(orders, bool) or orders < 1):
        msg = f"orders must be None or an integer >= 1, got {orders!r}"
        raise ValueError(msg)
    chosen_budgets = check_budgets(budgets, pool.max_k)
    groups = groups_of(pool, orders, seed)
    runnable = [m for m in methods if pool.has_scores or not m.uses_scores]
    notices = [
        f"{m.name}: skipped, the pool has no scores (it ranks samples by score)"
        for m in methods
        if m not in runnable
    ]
    # one set of bootstrap draws (and cross-fitting halves) for every point: replicate b of
    # every method at every budget resamples the same problems
    draws = draw_resampling(
        pool.n_problems, seed=seed, n_resamples=n_resamples, halves=selection == "crossfit"
    )
    curves: list[CurvePoint] = []
    settings: list[SettingPoint] = []
    bar = tqdm(
        total=len(runnable) * len(chosen_budgets),
        desc=pool.name,
        unit="point",
        disable=not progress,
        leave=False,
    )
    for method in runnable:
        if prefix_capable(method, groups):
            points = sweep(pool, groups, method, chosen_budgets)
        else:
            points = (
                (
                    n,
                    [
                        _replay_groups(pool, groups, method, n, s, seed, n_resamples)
                        for s in method.grid
                    ],
                )
                for n in chosen_budgets
            )
        for n, results in points:
            settings += [
                SettingPoint(
                    method.name,
                    n,
                    index,
                    setting_text(setting),
                    r.accuracy,
                    r.mean_tokens,
                    float(r.n_used.mean()),
                    r.n_used.mean(axis=0) if keep_per_problem else None,
                )
                for index, (setting, r) in enumerate(zip(method.grid, results, strict=True))
            ]
            chosen = _replayed_tokens(select_setting(results, selection, draws=draws), results)
            texts = tuple(setting_text(method.grid[i]) for i in chosen.chosen)
            curves.append(CurvePoint(method.name, n, chosen, texts))
            bar.update()
    bar.close()
    curves += oracle_rows(pool, groups, chosen_budgets, draws)
    return Evaluation(
        pool=pool.name,
        simulated=pool.simulated,
        selection=selection,
        orders=orders,
        seed=seed,
        budgets=chosen_budgets,
        curves=curves,
        settings=settings,
        problem_ids=tuple(pool.problem_ids),
        notices=notices,
    )


def _replayed_tokens(selected: Selected, results: Sequence[ReplayResult]) -> Selected:
    """Report a setting applied to every problem with its replay's own mean tokens.

    With one setting for all problems (rules ``single`` and ``test-set``), the mean tokens are
    the replay's: the tokens paid plus the policy's extra tokens, summed, over the problems,
    rounded once, as upstream computes them. Averaging per-problem tokens (the extra tokens
    spread over the problems first) may differ in the last bit. Cross-fitting has no single
    replay to take it from.
    """
    if selected.rule not in ("single", "test-set"):
        return selected
    return replace(selected, mean_tokens=results[selected.chosen[0]].mean_tokens)


def _replay_groups(
    pool: EvalPool,
    groups: Sequence[Group],
    method: Method,
    n: int,
    setting: Setting,
    seed: int,
    n_resamples: int,
) -> ReplayResult:
    """Replay one setting at budget ``n`` on every group; one result over all problems."""
    parts = []
    for group in groups:
        policy = method.make(min(n, group.k), setting)
        correct = group.correct_swapped if policy.verify_order == "pred_gold" else group.correct
        prepared: SampleOrders | None = group.orders
        # replay's own intervals are not used: the selection computes every interval
        result = replay(policy, group.view, correct, orders=prepared, seed=seed, n_resamples=1)
        parts.append(result)
    if len(parts) == 1:
        return parts[0]
    return _combine(pool, groups, parts, seed, n_resamples)


def _combine(
    pool: EvalPool,
    groups: Sequence[Group],
    parts: Sequence[ReplayResult],
    seed: int,
    n_resamples: int,
) -> ReplayResult:
    """Put the groups' per-problem outcomes back in pool order, with fresh intervals."""
    correct, tokens, n_used = in_pool_order(
        pool, groups, [(part.correct, part.tokens, part.n_used) for part in parts]
    )
    replicates = bootstrap_means(
        np.stack([correct.astype(np.float64), tokens]), np.random.default_rng(seed), n_resamples
    )
    return ReplayResult(
        name=parts[0].name,
        accuracy=float(correct.mean()),
        mean_tokens=float(tokens.mean()),
        accuracy_ci=percentile_interval(replicates[0]),
        tokens_ci=percentile_interval(replicates[1]),
        correct=correct,
        tokens=tokens,
        n_used=n_used,
    )
