"""The contract between pools and policies: what a policy sees and what it returns.

Policies live in other packages (optscale-baselines, optscale-math) that never import
optscale-pools: they rely on the attribute names below only (structural typing). Correctness is
deliberately absent from :class:`PoolView`, so a policy cannot peek at it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

NO_ANSWER = -1
"""Answer id of a sample with no extractable answer (no ``\\boxed{}``)."""


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


@dataclass(frozen=True)
class Decisions:
    """What a policy commits to, per problem.

    Attributes
    ----------
    n_used
        Samples paid for, in ``1..K``, shape ``[P]``. Tokens are the sum of the first ``n_used``.
    pick
        Index (within the view's row) of the sample whose answer is committed to, shape ``[P]``;
        it must be ``< n_used``. ``-1`` means no answer is committed (counted wrong). Voting methods
        return the first sample carrying the winning answer id.
    extra_tokens
        Tokens spent outside the samples (e.g. DSC's ranking overhead), in total over the batch.
    """

    n_used: npt.NDArray[np.int64]
    pick: npt.NDArray[np.int64]
    extra_tokens: float = field(default=0.0)


class DecisionsLike(Protocol):
    """Structural form of :class:`Decisions`, for policies defined outside this package."""

    @property
    def n_used(self) -> npt.NDArray[np.int64]:
        """Samples paid for per problem."""
        ...

    @property
    def pick(self) -> npt.NDArray[np.int64]:
        """Committed sample index per problem, -1 for none."""
        ...

    @property
    def extra_tokens(self) -> float:
        """Tokens spent outside the samples, in total."""
        ...


@runtime_checkable
class Policy(Protocol):
    """A replayable method: sees a :class:`PoolView`, returns :class:`Decisions`-shaped output.

    The returned object needs the attributes ``n_used``, ``pick`` and ``extra_tokens`` only.
    Policies may also define ``verify_order`` (``"gold_pred"``, the default, or ``"pred_gold"``
    for upstream's bon.py, which calls math-verify with swapped arguments) and
    ``grid() -> list[dict]`` listing hyperparameter settings for cross-fitting.
    """

    name: str

    def run(self, view: PoolView) -> DecisionsLike:
        """Decide, for every problem in ``view``, how many samples to pay for and which to pick."""
        ...
