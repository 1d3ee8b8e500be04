r"""Oracle bound: the best any policy could do on a pool under the replay protocol.

A policy pays for a prefix of each row (``n_used`` samples) and commits to one sample in it. An
oracle that knows correctness and may use at most the first ``N`` samples solves a problem exactly
when one of them is correct, and pays least by stopping at the first correct one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optscale_pools.replay import permute, random_orders


@dataclass(frozen=True)
class OracleCurve:
    """Oracle accuracy and mean tokens per problem for each budget ``N``.

    Attributes
    ----------
    n
        The budgets ``N`` (samples), increasing.
    accuracy
        Fraction of problems with a correct sample among the first ``N`` (pass@N of the pool
        order), averaged over orders.
    mean_tokens
        Mean over problems (and orders) of the oracle's tokens at budget ``N``.
    """

    n: npt.NDArray[np.int64]
    accuracy: npt.NDArray[np.float64]
    mean_tokens: npt.NDArray[np.float64]


def oracle_bound(
    correct: npt.ArrayLike,
    tokens: npt.ArrayLike,
    n_values: Sequence[int] | None = None,
    *,
    orders: int | None = None,
    seed: int = 0,
) -> OracleCurve:
    r"""Fewest tokens to reach the best achievable answer within the first ``N`` samples.

    Parameters
    ----------
    correct
        Boolean ``[P, K]`` correctness per sample.
    tokens
        Tokens per sample, ``[P, K]``.
    n_values
        Budgets ``N`` in ``1..K``; default all of them.
    orders
        ``None`` for pool order; ``R`` for the mean over ``R`` seeded random sample orders (drawn
        as in `replay` with the same seed).
    seed
        Seed of the orders.

    Returns
    -------
    OracleCurve

    Notes
    -----
    With ``f_p`` the index of the first correct sample of problem ``p`` (``\infty`` if none) and
    ``t_{pj}`` its tokens, the oracle at budget ``N`` uses ``n_p = f_p + 1`` samples and picks
    sample ``f_p`` when ``f_p < N``; otherwise no answer is reachable and it stops after one
    sample, the least any policy pays. Hence

    $$\text{acc}(N) = \frac1P \sum_p [f_p < N], \qquad
    \text{tokens}(N) = \frac1P \sum_p \sum_{j \le J_p(N)} t_{pj},\quad
    J_p(N) = f_p \text{ if } f_p < N \text{ else } 0.$$

    No policy obeying the protocol is more accurate at budget ``N``, and none reaches that accuracy
    with fewer tokens on any problem.
    """
    truth = np.asarray(correct)
    spent = np.asarray(tokens)
    if truth.ndim != 2 or truth.dtype != np.bool_ or spent.shape != truth.shape:
        msg = (
            "correct must be a bool [P, K] array and tokens an array of the same shape, "
            f"got {truth.dtype} {truth.shape} and {spent.shape}"
        )
        raise ValueError(msg)
    n_problems, n_samples = truth.shape
    budgets = np.arange(1, n_samples + 1) if n_values is None else np.asarray(n_values, np.int64)
    if budgets.ndim != 1 or budgets.size == 0 or budgets.min() < 1 or budgets.max() > n_samples:
        msg = f"n_values must be budgets in 1..{n_samples}, got {n_values!r}"
        raise ValueError(msg)
    if orders is None:
        truth_r, spent_r = truth[np.newaxis], spent[np.newaxis]
    else:
        perms = random_orders(np.random.default_rng(seed), orders, n_problems, n_samples)
        truth_r, spent_r = permute(truth, perms), permute(spent, perms)
    first = np.where(truth_r.any(axis=-1), truth_r.argmax(axis=-1), n_samples)  # [R, P]
    paid = np.cumsum(spent_r, axis=-1, dtype=np.float64)  # [R, P, K]
    reached = first[..., np.newaxis] < budgets  # [R, P, B]
    last = np.where(reached, np.minimum(first, n_samples - 1)[..., np.newaxis], 0)
    cost = np.take_along_axis(paid, last, axis=-1)
    return OracleCurve(
        n=budgets,
        accuracy=reached.mean(axis=(0, 1)),
        mean_tokens=cost.mean(axis=(0, 1)),
    )
