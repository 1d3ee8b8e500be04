"""What a policy sees of a pool: [`PoolView`][optscale_pools.PoolView].

The policy contract itself (``Policy``, ``ViewLike``, ``Decisions``, ``NO_ANSWER``) is defined
once in optscale-math and re-exported here; ``PoolView`` is this package's implementation of
``ViewLike``. Correctness is deliberately absent from the view, so a policy cannot peek at it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from optscale_math import NO_ANSWER, Decisions, Policy, VerifyOrder, ViewLike

__all__ = ["NO_ANSWER", "Decisions", "Policy", "PoolView", "VerifyOrder", "ViewLike"]


@dataclass(frozen=True)
class PoolView:
    """What a policy may see of a pool: per-sample arrays of shape ``[P, K]`` in sampling order.

    Attributes
    ----------
    scores
        Mean PRM step reward per sample (float, NaN where missing).
    last_scores
        Last-step PRM reward per sample (float, NaN where missing).
    answer_ids
        Answer cluster id per sample; ``NO_ANSWER`` (-1) when no answer was extracted. Ids are
        comparable within a row only. Raw-string ids in paper mode, math-verify-equivalence
        clusters in fair mode.
    tokens
        Completion tokens per sample (int).
    empty
        True where the completion text is the empty string.
    prior_mu, prior_sigma
        Per-problem prior of the score law, shape ``[P]``; NaN when absent.
    """

    scores: npt.NDArray[np.float64]
    last_scores: npt.NDArray[np.float64]
    answer_ids: npt.NDArray[np.int64]
    tokens: npt.NDArray[np.int64]
    empty: npt.NDArray[np.bool_]
    prior_mu: npt.NDArray[np.float64]
    prior_sigma: npt.NDArray[np.float64]

    @property
    def n_problems(self) -> int:
        """Number of problems P."""
        return int(self.scores.shape[0])

    @property
    def n_samples(self) -> int:
        """Samples per problem K."""
        return int(self.scores.shape[1])
