"""Replay a policy over a pool: in pool order (paper mode) or over seeded random orders (fair mode).

The harness is the only place where correctness meets a policy's decisions: the policy sees a
[`PoolView`][optscale_pools.PoolView] (no correctness), returns ``n_used`` and ``pick`` per
problem, and the harness checks the decisions, looks up correctness and sums tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from optscale_pools.bootstrap import N_RESAMPLES, bootstrap_means, percentile_interval
from optscale_pools.protocol import Decisions, Policy, PoolView

_T = TypeVar("_T", bound=np.generic)


class GradesLike(Protocol):
    """The two correctness arrays of a graded pool (``optscale_pools.Grades`` has them)."""

    @property
    def correct(self) -> npt.NDArray[np.bool_]:
        """``verify(gold, pred)`` per sample, shape ``[P, K]``."""
        ...

    @property
    def correct_swapped(self) -> npt.NDArray[np.bool_]:
        """``verify(pred, gold)`` per sample (upstream bon.py's argument order), ``[P, K]``."""
        ...


@dataclass(frozen=True)
class ReplayResult:
    """Outcome of replaying one policy.

    Attributes
    ----------
    name
        The policy's name.
    accuracy
        Mean over orders and problems of the correctness of the picked sample.
    mean_tokens
        Mean over orders and problems of the tokens paid (see `replay`).
    accuracy_ci, tokens_ci
        95% bootstrap intervals, resampling problems and (in fair mode) orders.
    correct
        Correctness of the pick per order and problem, shape ``[R, P]`` (``R = 1`` in pool order).
    tokens
        Tokens per order and problem, ``[R, P]``, including each problem's share of
        ``extra_tokens``.
    n_used
        Samples paid for per order and problem, ``[R, P]``.
    """

    name: str
    accuracy: float
    mean_tokens: float
    accuracy_ci: tuple[float, float]
    tokens_ci: tuple[float, float]
    correct: npt.NDArray[np.bool_]
    tokens: npt.NDArray[np.float64]
    n_used: npt.NDArray[np.int64]

    @property
    def n_orders(self) -> int:
        """Number of sample orders replayed (1 in pool order)."""
        return int(self.correct.shape[0])


def correctness_for(policy: Policy, grades: GradesLike) -> npt.NDArray[np.bool_]:
    """Return the correctness array a policy is evaluated against.

    Upstream's bon.py calls math-verify with swapped arguments, and math-verify is not symmetric;
    a policy reproducing it declares ``verify_order = "pred_gold"`` and is scored against
    ``grades.correct_swapped``. Every other policy (``"gold_pred"``) gets ``grades.correct``.
    """
    order: str = policy.verify_order  # checked: a runtime object may break its declaration
    if order == "pred_gold":
        return grades.correct_swapped
    if order == "gold_pred":
        return grades.correct
    msg = f"verify_order must be 'gold_pred' or 'pred_gold', got {order!r}"
    raise ValueError(msg)


@dataclass(frozen=True)
class SampleOrders:
    """``R`` seeded random sample orders of one view, drawn once and replayed by many policies.

    A grid sweep replays dozens of settings over the same orders; preparing them once saves
    drawing the permutations, permuting every array and summing tokens again for each setting.
    Made by [`draw_orders`][optscale_pools.draw_orders]; results equal those of ``replay(...,
    orders=R, seed=seed)``.

    Attributes
    ----------
    source
        The view the orders were drawn for (replay checks it is given the same one).
    seed
        Seed of the permutations (and of the bootstrap that follows them).
    perms
        Permutations ``[R, P, K]``: position ``j`` of order ``r`` shows sample ``perms[r, p, j]``.
    stacked
        The view in every order, stacked as ``R * P`` rows (priors repeated).
    paid
        Cumulative tokens per order: ``paid[r, p, j]`` is the cost of the first ``j + 1``.
    rng_state
        State of the generator right after drawing the orders; the bootstrap continues from it.
    """

    source: PoolView
    seed: int
    perms: npt.NDArray[np.integer[Any]]
    stacked: PoolView
    paid: npt.NDArray[np.float64]
    rng_state: Mapping[str, Any]

    @property
    def n_orders(self) -> int:
        """Number of orders R."""
        return int(self.perms.shape[0])

    def order_view(self, r: int) -> PoolView:
        """Return the view in order ``r`` alone (``P`` rows)."""
        n = self.source.n_problems
        rows = slice(r * n, (r + 1) * n)
        return PoolView(**{f.name: getattr(self.stacked, f.name)[rows] for f in fields(PoolView)})


def draw_orders(view: PoolView, orders: int, seed: int = 0) -> SampleOrders:
    """Draw ``orders`` seeded random sample orders of ``view`` for `replay`.

    Raises
    ------
    ValueError
        If ``orders`` is not an integer >= 1.
    """
    check_orders(orders)
    rng = np.random.default_rng(seed)
    perms = random_orders(rng, orders, *view.scores.shape)
    stacked = permuted_view(view, perms)
    paid = np.cumsum(stacked.tokens, axis=-1, dtype=np.float64).reshape(perms.shape)
    return SampleOrders(view, seed, perms, stacked, paid, rng.bit_generator.state)


def check_orders(orders: int) -> int:
    """Return ``orders`` if it is an integer >= 1, else raise ``ValueError``."""
    if isinstance(orders, bool) or not isinstance(orders, int) or orders < 1:
        msg = f"orders must be None or an integer >= 1, got {orders!r}"
        raise ValueError(msg)
    return orders


def replay(
    policy: Policy,
    view: PoolView,
    correct: npt.ArrayLike,
    *,
    orders: int | SampleOrders | None = None,
    seed: int | None = None,
    stack_orders: bool | None = None,
    n_resamples: int = N_RESAMPLES,
) -> ReplayResult:
    r"""Run ``policy`` over ``view`` and score its decisions.

    Parameters
    ----------
    policy
        Any object satisfying the [`Policy`][optscale_math.Policy] contract.
    view
        What the policy sees, arrays ``[P, K]`` in pool order.
    correct
        Boolean ``[P, K]``: is sample ``k`` of problem ``p`` correct. Use
        [`correctness_for`][optscale_pools.correctness_for] to choose between ``grades.correct`` and
        ``grades.correct_swapped``.
    orders
        ``None``: pool order only (paper mode). An integer ``R >= 1``: ``R`` seeded random
        permutations of each row's samples (fair mode); every array of the view is permuted
        consistently and picks are mapped back to the pool's samples. Orders prepared by
        [`draw_orders`][optscale_pools.draw_orders] give the same result and are reused across
        calls.
    seed
        Seed of the permutations and of the bootstrap (default 0); with prepared orders it
        may be omitted and must otherwise equal theirs.
    stack_orders
        Run the policy once on all ``R`` orders stacked as ``R * P`` rows (fast) instead of once
        per order. Only valid for policies that decide each problem on its own; the default is the
        policy's declared ``rows_independent`` (False for policies such as DSC that rank
        problems against each other).
    n_resamples
        Bootstrap replicates for the intervals.

    Returns
    -------
    ReplayResult

    Raises
    ------
    ValueError
        If ``correct`` does not match the view, ``orders < 1``, prepared orders belong to
        another view or seed, or a decision is invalid:
        ``n_used`` outside ``1..K``, or ``pick`` outside ``-1..n_used-1``.

    Notes
    -----
    For one order, with decisions ``(n_p, k_p)`` and ``E`` extra tokens over the ``P`` problems,

    $$\text{accuracy} = \frac1P \sum_p c_{p, k_p}, \qquad
    \text{tokens} = \frac1P \sum_p \Big(\sum_{j < n_p} t_{p j} + \frac{E}{P}\Big),$$

    with ``c_{p,-1} = 0``. In fair mode both are averaged over the ``R`` orders. When orders are
    stacked, ``E`` is the total over ``R * P`` rows and is shared over all of them.
    """
    truth = np.asarray(correct)
    if truth.shape != view.scores.shape or truth.dtype != np.bool_:
        msg = (
            f"correct must be a bool array of shape {view.scores.shape}, "
            f"got {truth.dtype} {truth.shape}"
        )
        raise ValueError(msg)
    n_problems = truth.shape[0]
    if orders is None:
        rng = np.random.default_rng(0 if seed is None else seed)
        n_used, pick, extra_total = _decide(policy, view, 1)
        extra = np.full(n_used.size, extra_total / n_used.size)
        chosen = pick[np.newaxis]
        paid = np.cumsum(view.tokens, axis=-1, dtype=np.float64)[np.newaxis]
    else:
        prepared = _prepared(view, orders, seed)
        rng = np.random.default_rng()
        rng.bit_generator.state = prepared.rng_state
        stack = policy.rows_independent if stack_orders is None else stack_orders
        if stack:
            decided = [_decide(policy, prepared.stacked, prepared.n_orders)]
        else:
            decided = [_decide(policy, prepared.order_view(r), 1) for r in range(prepared.n_orders)]
        n_used = np.concatenate([d[0] for d in decided])
        pick = np.concatenate([d[1] for d in decided]).reshape(prepared.n_orders, n_problems)
        extra = np.concatenate([np.full(d[0].size, d[2] / d[0].size) for d in decided])
        extra_total = sum(d[2] for d in decided)
        # Map each pick back to the pool's sample index.
        back = np.take_along_axis(prepared.perms, np.maximum(pick, 0)[..., np.newaxis], axis=-1)
        chosen = back[..., 0].astype(np.int64)
        paid = prepared.paid
    n_orders = paid.shape[0]
    n_used = n_used.reshape(n_orders, n_problems)
    pick = pick.reshape(n_orders, n_problems)
    rows = np.arange(n_problems)[np.newaxis, :]
    hits = truth[rows, np.where(pick >= 0, chosen, 0)] & (pick >= 0)
    spent = np.take_along_axis(paid, (n_used - 1)[..., np.newaxis], axis=-1)[..., 0]
    # Upstream's mean: (sum of the samples' tokens + extra tokens) / problems, rounded once.
    mean_tokens = float((spent.sum() + extra_total) / spent.size)
    spent += extra.reshape(n_orders, n_problems)
    replicates = bootstrap_means(np.stack([hits.astype(np.float64), spent]), rng, n_resamples)
    return ReplayResult(
        name=str(policy.name),
        accuracy=float(hits.mean()),
        mean_tokens=mean_tokens,
        accuracy_ci=percentile_interval(replicates[0]),
        tokens_ci=percentile_interval(replicates[1]),
        correct=hits,
        tokens=spent,
        n_used=n_used,
    )


def random_orders(
    rng: np.random.Generator, n_orders: int, n_problems: int, n_samples: int
) -> npt.NDArray[np.integer[Any]]:
    """``R`` independent uniform permutations of ``0..K-1`` per problem, shape ``[R, P, K]``.

    Stored in the smallest integer type that holds ``K`` (less memory to shuffle and read).
    """
    dtype = np.int16 if n_samples <= np.iinfo(np.int16).max else np.int64
    base = np.broadcast_to(np.arange(n_samples, dtype=dtype), (n_orders, n_problems, n_samples))
    return rng.permuted(base, axis=-1)


def permute(values: npt.NDArray[_T], perms: npt.NDArray[np.integer[Any]]) -> npt.NDArray[_T]:
    """Reorder the rows of ``values`` ``[P, K]`` by each of ``perms`` ``[R, P, K]``."""
    return np.take_along_axis(values[np.newaxis], perms, axis=-1)


def permuted_view(view: PoolView, perms: npt.NDArray[np.integer[Any]]) -> PoolView:
    """Stack the view as seen in ``R`` sample orders into ``R * P`` rows (priors repeated)."""
    n_orders = perms.shape[0]

    def rows(values: npt.NDArray[_T]) -> npt.NDArray[_T]:
        return permute(values, perms).reshape(-1, values.shape[1])

    return PoolView(
        scores=rows(view.scores),
        last_scores=rows(view.last_scores),
        answer_ids=rows(view.answer_ids),
        tokens=rows(view.tokens),
        empty=rows(view.empty),
        prior_mu=np.tile(view.prior_mu, n_orders),
        prior_sigma=np.tile(view.prior_sigma, n_orders),
    )


def _prepared(view: PoolView, orders: int | SampleOrders, seed: int | None) -> SampleOrders:
    """Return the orders to replay: drawn now from an integer, or checked when prepared."""
    if not isinstance(orders, SampleOrders):
        return draw_orders(view, orders, 0 if seed is None else seed)
    if orders.source is not view:
        msg = "orders were drawn for another view; draw them with draw_orders(view, ...)"
        raise ValueError(msg)
    if seed is not None and seed != orders.seed:
        msg = f"seed={seed} differs from the seed of the prepared orders ({orders.seed})"
        raise ValueError(msg)
    return orders


def _decide(
    policy: Policy, view: PoolView, n_orders: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], float]:
    """Run the policy, check its decisions, return ``n_used``, ``pick`` and the extra tokens."""
    decisions: Decisions = policy.run(view)
    n_rows, n_samples = view.scores.shape
    n_used = _integer_field(policy, decisions, "n_used", n_rows)
    pick = _integer_field(policy, decisions, "pick", n_rows)
    bad = np.flatnonzero((n_used < 1) | (n_used > n_samples))
    if bad.size:
        row = int(bad[0])
        msg = (
            f"policy {policy.name!r}: problem {row % (n_rows // n_orders)}: "
            f"n_used={int(n_used[row])} outside 1..{n_samples}"
        )
        raise ValueError(msg)
    bad = np.flatnonzero((pick < -1) | (pick >= n_used))
    if bad.size:
        row = int(bad[0])
        msg = (
            f"policy {policy.name!r}: problem {row % (n_rows // n_orders)}: pick={int(pick[row])} "
            f"must be -1 or a sample index below n_used={int(n_used[row])}"
        )
        raise ValueError(msg)
    extra = float(decisions.extra_tokens)
    if not np.isfinite(extra) or extra < 0:
        msg = f"policy {policy.name!r}: extra_tokens={extra} must be finite and >= 0"
        raise ValueError(msg)
    return n_used, pick, extra


def _integer_field(
    policy: Policy, decisions: Decisions, field: str, n_rows: int
) -> npt.NDArray[np.int64]:
    """One decisions array, checked to be integer-valued of shape ``[rows]``."""
    values = np.asarray(getattr(decisions, field))
    if values.shape != (n_rows,) or not np.issubdtype(values.dtype, np.integer):
        msg = (
            f"policy {policy.name!r}: {field} must be an integer array of shape ({n_rows},), "
            f"got {values.dtype} {values.shape}"
        )
        raise ValueError(msg)
    return values.astype(np.int64, copy=False)
