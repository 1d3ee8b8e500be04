"""The policy's view of a graded pool ([`PoolView`][optscale_pools.PoolView])."""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from optscale_pools.grading import Grades
from optscale_pools.pool import Pool
from optscale_pools.protocol import PoolView

Mode = Literal["paper", "fair"]


def make_view(
    pool: Pool,
    grades: Grades,
    mode: Mode = "paper",
    prior_mu: npt.ArrayLike | None = None,
    prior_sigma: npt.ArrayLike | None = None,
) -> PoolView:
    """Build what a policy may see of ``pool``: scores, answer ids, tokens, emptiness, priors.

    Parameters
    ----------
    pool, grades
        The pool and its grades (correctness stays out of the view).
    mode
        ``"paper"``: answer ids of raw strings (upstream's votes); ``"fair"``: clusters of
        math-verify-equivalent answers.
    prior_mu, prior_sigma
        Per-problem prior of the score law, shape ``[P]`` (e.g. the predictor's output);
        NaN when not given.

    Raises
    ------
    ValueError
        On an unknown mode, grades of another shape, or priors that are not numbers, of the
        wrong length or infinite (NaN stands for "no prior"). What a prior's value means, e.g.
        a sigma <= 0 from a predictor, is the policy's to judge.
    """
    if mode not in ("paper", "fair"):
        msg = f"mode must be 'paper' or 'fair', got {mode!r}"
        raise ValueError(msg)
    if grades.raw_ids.shape != pool.scores.shape:
        msg = f"grades have shape {grades.raw_ids.shape}, the pool {pool.scores.shape}"
        raise ValueError(msg)
    ids = grades.raw_ids if mode == "paper" else grades.cluster_ids
    return PoolView(
        scores=pool.scores.copy(),
        last_scores=pool.last_scores.copy(),
        answer_ids=ids.copy(),
        tokens=pool.tokens.copy(),
        empty=pool.empty.copy(),
        prior_mu=_prior(prior_mu, pool.n_problems, "prior_mu"),
        prior_sigma=_prior(prior_sigma, pool.n_problems, "prior_sigma"),
    )


def _prior(values: npt.ArrayLike | None, n_problems: int, name: str) -> npt.NDArray[np.float64]:
    """Return a per-problem prior as a float array of shape ``[P]`` (NaN when absent)."""
    if values is None:
        return np.full(n_problems, np.nan)
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as error:
        msg = f"{name} must be numbers: {error}"
        raise ValueError(msg) from None
    if array.shape != (n_problems,):
        msg = f"{name} must have shape ({n_problems},), got {array.shape}"
        raise ValueError(msg)
    if np.isinf(array).any():
        row = int(np.argmax(np.isinf(array)))
        msg = f"{name}[{row}] = {array[row]!r} must be finite (or NaN: no prior)"
        raise ValueError(msg)
    return array
