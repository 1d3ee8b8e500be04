"""Every budget from one run, for the policies that declare it (``PrefixPolicy``).

A policy declaring [`PrefixPolicy`][optscale_math.PrefixPolicy] decides at budget ``N`` what it
decides at the largest budget cut to ``N``. The engine then runs it once per setting and group,
a few sample orders at a time, and keeps per order and problem only where it stops and, packed
as bits, whether its running pick is correct after each sample. The budgets are then read off in
increasing order, the tokens paid summed column by column as the budget grows. The outcomes
equal a replay at each budget exactly (they are counts and sums of integer tokens), so the
selection that follows sees the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from optscale_math import Policy, PrefixDecisions, PrefixPolicy

from optscale_pools.evaluation import EvalPool, Group, in_pool_order
from optscale_pools.replay import ReplayResult, correctness_for

if TYPE_CHECKING:
    from optscale_pools.engine import Method

CHUNK_CELLS = 1 << 22
"""Samples (rows x samples) of the view built for one run: bounds the memory of a chunk."""

NO_INTERVAL = (float("nan"), float("nan"))
"""Intervals of the per-setting results: not computed here, the selection computes them."""


def prefix_capable(method: Method, groups: Sequence[Group]) -> bool:
    """Return whether every setting of ``method`` declares the capability at every group's ``k``."""
    return all(
        isinstance(method.make(group.k, setting), PrefixPolicy)
        for group in groups
        for setting in method.grid
    )


@dataclass(frozen=True, eq=False)
class _Outcome:
    """One setting on one group: stop per order and problem, running correctness as bits."""

    stop: npt.NDArray[np.int64]
    """``[R, P_g]``: samples paid at the group's ``k``."""
    hits: npt.NDArray[np.uint8]
    """``[ceil(k / 8), R, P_g]``: bit ``j``: the pick after ``j + 1`` samples is correct."""


@dataclass(eq=False)
class _State:
    """One setting on one group at the current budget ``n`` (capped at the group's ``k``)."""

    outcome: _Outcome
    correct: npt.NDArray[np.bool_]
    tokens: npt.NDArray[np.float64]

    def advance(self, n: int, paid: npt.NDArray[np.float64]) -> None:
        """Move to budget ``n``: rows that have not stopped pay sample ``n`` and move on."""
        running = self.outcome.stop >= n
        position = n - 1
        column = (self.outcome.hits[position // 8] >> (7 - position % 8)) & 1 == 1
        np.copyto(self.correct, column, where=running)
        np.copyto(self.tokens, paid, where=running)


def sweep(
    pool: EvalPool, groups: Sequence[Group], method: Method, budgets: Sequence[int]
) -> Iterator[tuple[int, list[ReplayResult]]]:
    """Yield, for each budget in increasing order, one result per setting of ``method``.

    Raises
    ------
    ValueError
        If a policy returns invalid prefix decisions.
    """
    n_orders = groups[0].n_orders
    outcomes = [_outcomes(g, [method.make(g.k, s) for s in method.grid]) for g in groups]
    states = [
        [
            _State(
                outcomes[index][setting],
                np.zeros((n_orders, g.rows.size), dtype=bool),
                np.zeros((n_orders, g.rows.size)),
            )
            for index, g in enumerate(groups)
        ]
        for setting in range(len(method.grid))
    ]
    paid = [np.zeros((n_orders, g.rows.size)) for g in groups]
    wanted = set(budgets)
    for n in range(1, max(budgets) + 1):
        for index, group in enumerate(groups):
            if n <= group.k:
                paid[index] += group.token_column(n - 1)
                for by_group in states:
                    by_group[index].advance(n, paid[index])
        if n in wanted:
            results = []
            for setting, by_group in zip(method.grid, states, strict=True):
                name = method.make(min(n, groups[0].k), setting).name
                results.append(_result(pool, groups, n, name, by_group))
            yield n, results


def _result(
    pool: EvalPool, groups: Sequence[Group], n: int, name: str, states: Sequence[_State]
) -> ReplayResult:
    """One setting at budget ``n``, per order and problem in pool order."""
    correct, tokens, n_used = in_pool_order(
        pool,
        groups,
        [
            (s.correct, s.tokens, np.minimum(s.outcome.stop, min(n, g.k)))
            for g, s in zip(groups, states, strict=True)
        ],
    )
    return ReplayResult(
        name=name,
        accuracy=float(correct.mean()),
        mean_tokens=float(tokens.sum() / tokens.size),
        accuracy_ci=NO_INTERVAL,
        tokens_ci=NO_INTERVAL,
        correct=correct,
        tokens=tokens,
        n_used=n_used,
    )


def _outcomes(group: Group, policies: Sequence[Policy]) -> list[_Outcome]:
    """Run each policy (built at the group's ``k``) over every order of ``group``, in chunks.

    Each chunk of orders is built once and shared by all the policies (a method's settings).
    """
    runners: list[PrefixPolicy] = []
    for policy in policies:
        if not isinstance(policy, PrefixPolicy):
            msg = f"policy {policy.name!r} does not declare PrefixPolicy"
            raise TypeError(msg)
        correctness_for(policy, group)  # a clear error now for a bad verify_order
        runners.append(policy)
    problems = group.rows.size
    stops = [np.empty((group.n_orders, problems), dtype=np.int64) for _ in policies]
    hits = [
        np.empty(((group.k + 7) // 8, group.n_orders, problems), dtype=np.uint8) for _ in policies
    ]
    one = not all(policy.rows_independent for policy in policies)
    for chunk in group.order_chunks(CHUNK_CELLS, one=one):
        for policy, runner, stop, hit in zip(policies, runners, stops, hits, strict=True):
            decided = _checked(policy.name, runner.run_prefixes(chunk.view), group.k, problems)
            correct = correctness_for(policy, chunk)
            picks = decided.picks
            running = (picks >= 0) & np.take_along_axis(correct, np.maximum(picks, 0), axis=1)
            span = slice(chunk.first_order, chunk.first_order + picks.shape[0] // problems)
            stop[span] = decided.n_used.reshape(-1, problems)
            packed = np.packbits(running, axis=1).reshape(-1, problems, hit.shape[0])
            hit[:, span] = packed.transpose(2, 0, 1)
    return [_Outcome(stop, hit) for stop, hit in zip(stops, hits, strict=True)]


def _checked(name: str, decided: PrefixDecisions, k: int, problems: int) -> PrefixDecisions:
    """Check prefix decisions: ``n_used`` in ``1..k``, ``picks[:, j]`` in ``-1..j``."""
    n_used = np.asarray(decided.n_used)
    picks = np.asarray(decided.picks)
    rows = n_used.shape[0] if n_used.ndim == 1 else -1
    if (
        rows < 0
        or picks.shape != (rows, k)
        or not np.issubdtype(n_used.dtype, np.integer)
        or not np.issubdtype(picks.dtype, np.integer)
    ):
        msg = (
            f"policy {name!r}: prefix decisions must be integer n_used [rows] and picks "
            f"[rows, {k}], got {n_used.dtype} {n_used.shape} and {picks.dtype} {picks.shape}"
        )
        raise ValueError(msg)
    bad = np.flatnonzero((n_used < 1) | (n_used > k))
    if bad.size:
        row = int(bad[0])
        msg = f"policy {name!r}: problem {row % problems}: n_used={int(n_used[row])} outside 1..{k}"
        raise ValueError(msg)
    bad_cells = np.argwhere((picks < -1) | (picks > np.arange(k)))
    if bad_cells.size:
        row, j = (int(v) for v in bad_cells[0])
        msg = (
            f"policy {name!r}: problem {row % problems}: pick after {j + 1} samples is "
            f"{int(picks[row, j])}, not -1 or a sample index below {j + 1}"
        )
        raise ValueError(msg)
    return PrefixDecisions(n_used=n_used.astype(np.int64), picks=picks.astype(np.int64))
