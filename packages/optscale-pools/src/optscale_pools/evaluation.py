"""What the evaluation engine takes (a pool with correctness) and what it returns.

[`EvalPool`][optscale_pools.EvalPool] joins what a policy may see (a
[`PoolView`][optscale_pools.PoolView]) with what only the engine may know (correctness), a name
for captions and whether the pool is simulated. [`Evaluation`][optscale_pools.Evaluation] holds
the engine's results.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from optscale_pools.grading import Grades
from optscale_pools.pool import Pool
from optscale_pools.protocol import PoolView
from optscale_pools.replay import (
    SampleOrders,
    check_orders,
    permute,
    permuted_view,
    random_orders,
)
from optscale_pools.selection import Selected, SelectionRule
from optscale_pools.view import Mode, make_view

BoolArray = npt.NDArray[np.bool_]
Setting = Mapping[str, object]
"""Hyperparameters of one policy, as constructor keywords."""


@dataclass(frozen=True, eq=False)
class EvalPool:
    """A pool ready for evaluation.

    Attributes
    ----------
    name
        The pool's name: the only name in captions and outputs.
    view
        What policies see, ``[P, K]`` (``K`` the largest row; see ``n_samples``).
    correct
        ``verify(gold, pred)`` per sample, ``[P, K]``.
    correct_swapped
        ``verify(pred, gold)`` per sample, for policies declaring ``verify_order="pred_gold"``;
        ``None``: same as ``correct``.
    problem_ids
        One id per problem (default ``"0"``, ``"1"``, ...).
    n_samples
        Samples of each problem ``K_p``, shape ``[P]``; ``None``: every row has ``K``. Entries
        of a row beyond ``K_p`` are padding that no policy ever sees.
    simulated
        True for a simulated pool (labelled SIMULATED everywhere).
    has_scores
        False when the pool carries no verifier scores: score-based methods are skipped.
    """

    name: str
    view: PoolView
    correct: BoolArray
    correct_swapped: BoolArray | None = None
    problem_ids: Sequence[str] = ()
    n_samples: npt.NDArray[np.int64] | None = None
    simulated: bool = False
    has_scores: bool = True

    def __post_init__(self) -> None:
        shape = self.view.scores.shape
        if len(shape) != 2 or shape[0] < 1 or shape[1] < 1:
            msg = f"pool {self.name!r}: the view must hold at least one problem and sample"
            raise ValueError(msg)
        for label, array in (("correct", self.correct), ("correct_swapped", self.correct_swapped)):
            if array is not None and (array.shape != shape or array.dtype != np.bool_):
                msg = f"pool {self.name!r}: {label} must be a bool array of shape {shape}"
                raise ValueError(msg)
        if not self.problem_ids:
            object.__setattr__(self, "problem_ids", tuple(str(i) for i in range(shape[0])))
        if len(self.problem_ids) != shape[0]:
            msg = f"pool {self.name!r}: {len(self.problem_ids)} problem ids for {shape[0]} rows"
            raise ValueError(msg)
        if self.n_samples is not None:
            counts = np.asarray(self.n_samples)
            if counts.shape != (shape[0],) or counts.min() < 1 or counts.max() > shape[1]:
                msg = f"pool {self.name!r}: n_samples must be [P] counts in 1..{shape[1]}"
                raise ValueError(msg)

    @classmethod
    def from_pool(
        cls,
        pool: Pool,
        grades: Grades,
        *,
        name: str,
        mode: Mode = "fair",
        prior_mu: npt.ArrayLike | None = None,
        prior_sigma: npt.ArrayLike | None = None,
    ) -> EvalPool:
        """Build from a graded [`Pool`][optscale_pools.Pool] (upstream JSON/JSONL, S&L readers)."""
        view = make_view(pool, grades, mode, prior_mu=prior_mu, prior_sigma=prior_sigma)
        return cls(
            name=name,
            view=view,
            correct=np.asarray(grades.correct, dtype=bool),
            correct_swapped=np.asarray(grades.correct_swapped, dtype=bool),
            problem_ids=tuple(str(i) for i in pool.ids),
            simulated=pool.simulated,
        )

    @property
    def n_problems(self) -> int:
        """Number of problems P."""
        return int(self.view.scores.shape[0])

    @property
    def max_k(self) -> int:
        """Samples of the largest row."""
        return int(self.view.scores.shape[1])

    @property
    def sample_mask(self) -> BoolArray:
        """True for real samples, False for the padding of shorter rows, ``[P, K]``."""
        columns = np.arange(self.max_k)[np.newaxis, :]
        mask: BoolArray = columns < self.samples_per_problem[:, np.newaxis]
        return mask

    @property
    def samples_per_problem(self) -> npt.NDArray[np.int64]:
        """``K_p`` per problem."""
        if self.n_samples is None:
            return np.full(self.n_problems, self.max_k, dtype=np.int64)
        return np.asarray(self.n_samples, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class Group:
    """Problems of equal sample count ``k``: their view, correctness and sample orders.

    Only the permutations are kept (``[R, P, k]``, small integers); the view in every order is
    built on demand, a few orders at a time (``order_chunks``), or whole (``orders``) for a
    policy replayed budget by budget.
    """

    k: int
    rows: npt.NDArray[np.int64]
    view: PoolView
    correct: BoolArray
    correct_swapped: BoolArray
    seed: int
    perms: npt.NDArray[np.integer[Any]] | None
    """``None``: pool order (one order, the identity)."""
    rng_state: Mapping[str, Any] | None

    @property
    def n_orders(self) -> int:
        """Orders replayed (1 in pool order)."""
        return 1 if self.perms is None else int(self.perms.shape[0])

    @cached_property
    def orders(self) -> SampleOrders | None:
        """Every order stacked at once, as [`replay`][optscale_pools.replay] takes them."""
        if self.perms is None or self.rng_state is None:
            return None
        stacked = permuted_view(self.view, self.perms)
        paid = np.cumsum(stacked.tokens, axis=-1, dtype=np.float64).reshape(self.perms.shape)
        return SampleOrders(self.view, self.seed, self.perms, stacked, paid, self.rng_state)

    def token_column(self, j: int) -> npt.NDArray[np.float64]:
        """Tokens of the sample in position ``j`` of every order, ``[R, P_g]``."""
        tokens = np.asarray(self.view.tokens, dtype=np.float64)
        if self.perms is None:
            return tokens[np.newaxis, :, j]
        column: npt.NDArray[np.float64] = tokens[np.arange(self.rows.size), self.perms[:, :, j]]
        return column

    def order_chunks(self, max_cells: int, *, one: bool = False) -> Iterator[OrderChunk]:
        """Yield the orders a few at a time (``max_cells`` samples; one order when ``one``)."""
        if self.perms is None:
            yield OrderChunk(self, self.view, None, 0)
            return
        size = 1 if one else max(1, max_cells // (self.rows.size * self.k))
        for start in range(0, self.n_orders, size):
            perms = self.perms[start : start + size]
            yield OrderChunk(self, permuted_view(self.view, perms), perms, start)


@dataclass(frozen=True, eq=False)
class OrderChunk:
    """Some consecutive orders of a group, stacked as rows (order-major), ``[r * P, k]``."""

    group: Group
    view: PoolView
    perms: npt.NDArray[np.integer[Any]] | None
    first_order: int

    @cached_property
    def correct(self) -> BoolArray:
        """``verify(gold, pred)`` per sample, in these orders."""
        return self._ordered(self.group.correct)

    @cached_property
    def correct_swapped(self) -> BoolArray:
        """``verify(pred, gold)`` per sample, in these orders."""
        return self._ordered(self.group.correct_swapped)

    def _ordered(self, values: BoolArray) -> BoolArray:
        if self.perms is None:
            return values
        return permute(values, self.perms).reshape(-1, self.group.k)


Outcomes = tuple[BoolArray, npt.NDArray[np.float64], npt.NDArray[np.int64]]
"""Correct, tokens and samples paid per order and problem, ``[R, P]`` each."""


def in_pool_order(pool: EvalPool, groups: Sequence[Group], parts: Sequence[Outcomes]) -> Outcomes:
    """Put each group's outcomes (``[R, P_g]``) back in the pool's problem order."""
    n_orders = parts[0][0].shape[0]
    correct = np.zeros((n_orders, pool.n_problems), dtype=bool)
    tokens = np.zeros((n_orders, pool.n_problems))
    n_used = np.zeros((n_orders, pool.n_problems), dtype=np.int64)
    for group, (hits, spent, used) in zip(groups, parts, strict=True):
        correct[:, group.rows] = hits
        tokens[:, group.rows] = spent
        n_used[:, group.rows] = used
    return correct, tokens, n_used


def groups_of(pool: EvalPool, orders: int | None, seed: int) -> list[Group]:
    """Split ``pool`` into groups of equal ``K_p``, each cut to its own samples, orders drawn.

    The orders of a group are those [`draw_orders`][optscale_pools.draw_orders] draws for its view.
    """
    counts = pool.samples_per_problem
    swapped = pool.correct if pool.correct_swapped is None else pool.correct_swapped
    groups = []
    for k in np.unique(counts):
        rows = np.flatnonzero(counts == k)
        whole = bool(rows.size == pool.n_problems and k == pool.max_k)
        view = pool.view if whole else _cut(pool.view, rows, int(k))
        perms, state = None, None
        if orders is not None:
            check_orders(orders)
            rng = np.random.default_rng(seed)
            perms = random_orders(rng, orders, rows.size, int(k))
            state = rng.bit_generator.state
        groups.append(
            Group(
                k=int(k),
                rows=rows,
                view=view,
                correct=pool.correct[rows, :k],
                correct_swapped=swapped[rows, :k],
                seed=seed,
                perms=perms,
                rng_state=state,
            )
        )
    return groups


def _cut(view: PoolView, rows: npt.NDArray[np.int64], k: int) -> PoolView:
    """Cut ``view`` to the rows ``rows`` and their first ``k`` samples."""
    return PoolView(
        scores=view.scores[rows, :k],
        last_scores=view.last_scores[rows, :k],
        answer_ids=view.answer_ids[rows, :k],
        tokens=view.tokens[rows, :k],
        empty=view.empty[rows, :k],
        prior_mu=view.prior_mu[rows],
        prior_sigma=view.prior_sigma[rows],
    )


@dataclass(frozen=True)
class CurvePoint:
    """One method (or oracle) at one budget, after the choice of its setting.

    Attributes
    ----------
    method, n
        Method name and budget ``N``.
    selected
        Accuracy, tokens, samples with intervals, and per-problem outcomes.
    settings
        Text of the chosen setting(s) (one per fold under cross-fitting).
    """

    method: str
    n: int
    selected: Selected
    settings: tuple[str, ...]


@dataclass(frozen=True)
class SettingPoint:
    """One setting of one method at one budget, as replayed (before any choice).

    ``per_problem_samples``: samples paid per problem (mean over orders), ``[P]`` in pool
    order, kept only when [`evaluate`][optscale_pools.evaluate] is asked to
    (``keep_per_problem=True``); ``None`` otherwise.
    """

    method: str
    n: int
    index: int
    setting: str
    accuracy: float
    mean_tokens: float
    mean_samples: float
    per_problem_samples: npt.NDArray[np.float64] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Evaluation:
    """Everything [`evaluate`][optscale_pools.evaluate] computed on one pool.

    Attributes
    ----------
    pool, simulated
        The pool's name and whether it is simulated.
    selection
        The selection rule used for methods with more than one setting.
    orders, seed
        Sample orders replayed (``None``: pool order) and the seed.
    budgets
        The budgets ``N`` evaluated.
    curves
        One point per method and budget, then the oracle bound (``"oracle"``) and the oracle
        stops (``"oracle-stop BoN"``, ``"oracle-stop SC"``).
    settings
        Every setting of every method at every budget.
    problem_ids
        Problem ids, in the order of the per-problem arrays.
    notices
        One line per method skipped, and why.
    """

    pool: str
    simulated: bool
    selection: SelectionRule
    orders: int | None
    seed: int
    budgets: tuple[int, ...]
    curves: list[CurvePoint]
    settings: list[SettingPoint]
    problem_ids: tuple[str, ...]
    notices: list[str] = field(default_factory=list)


def setting_text(setting: Setting) -> str:
    """``key=value`` pairs of a setting, comma-separated (empty for no hyperparameter)."""
    return ", ".join(f"{key}={value}" for key, value in setting.items())
