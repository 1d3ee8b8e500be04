"""The policy contract: what a replayable method sees of a pool and what it commits to.

Defined once here, in the leaf package, so that every package writing policies (this one,
optscale-baselines) and the package replaying them (optscale-pools) share one set of names
without importing each other. Correctness is absent from [`ViewLike`][optscale_math.ViewLike]:
a policy cannot peek at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

NO_ANSWER = -1
"""Answer id of a sample without an extractable answer."""

VerifyOrder = Literal["gold_pred", "pred_gold"]
"""Argument order of math-verify's ``verify`` a policy is graded with.

``"gold_pred"`` is the usual ``verify(gold, pred)``; ``"pred_gold"`` reproduces upstream's
bon.py, which swaps the arguments (math-verify is not symmetric).
"""


class ViewLike(Protocol):
    """What a policy may read of a pool: per-sample arrays ``[P, K]`` in sampling order.

    ``optscale_pools.PoolView`` satisfies it; so does any object with these attributes.
    """

    @property
    def scores(self) -> npt.NDArray[np.float64]:
        """Verifier score per sample (the mean PRM step reward), NaN where missing."""
        ...

    @property
    def last_scores(self) -> npt.NDArray[np.float64]:
        """Last-step PRM reward per sample, NaN where missing."""
        ...

    @property
    def answer_ids(self) -> npt.NDArray[np.int64]:
        """Answer id per sample, comparable within a row; ``NO_ANSWER`` (-1) for none."""
        ...

    @property
    def tokens(self) -> npt.NDArray[np.int64]:
        """Completion tokens per sample."""
        ...

    @property
    def empty(self) -> npt.NDArray[np.bool_]:
        """True where the completion text is the empty string."""
        ...

    @property
    def prior_mu(self) -> npt.NDArray[np.float64]:
        """Per-problem prior mean of the score law, shape ``[P]``; NaN when absent."""
        ...

    @property
    def prior_sigma(self) -> npt.NDArray[np.float64]:
        """Per-problem prior spread of the score law, shape ``[P]``; NaN when absent."""
        ...


@dataclass(frozen=True)
class Decisions:
    """What a policy commits to, per problem (one entry per row of the view).

    Attributes
    ----------
    n_used
        Samples paid for, in ``1..K``, shape ``[P]``: the first ``n_used`` in view order.
    pick
        Index (within the view's row) of the sample whose answer is committed to, shape
        ``[P]``; it must be ``< n_used``. ``-1`` means nothing is committed (counted wrong).
        Voting methods return the first sample carrying the winning answer.
    extra_tokens
        Tokens spent outside the samples (e.g. DSC's ranking overhead), in total over the view.
    """

    n_used: npt.NDArray[np.int64]
    pick: npt.NDArray[np.int64]
    extra_tokens: float = 0.0


@runtime_checkable
class Policy(Protocol):
    """A replayable method: reads a [`ViewLike`][optscale_math.ViewLike], returns Decisions.

    Every member is required; an evaluation harness reads them directly, never with a default.

    Attributes
    ----------
    name
        Display name of this configured policy (e.g. ``"bon@8"``).
    rows_independent
        True when the decisions for a row depend on that row (and its priors) alone, so the
        harness may stack many sample orders as extra rows of one view and call ``run`` once.
        False for methods that compare problems with each other (DSC ranks them).
    verify_order
        How the harness should grade the picked sample (see
        [`VerifyOrder`][optscale_math.VerifyOrder]).
    """

    @property
    def name(self) -> str:
        """Display name of this configured policy."""
        ...

    @property
    def rows_independent(self) -> bool:
        """Whether a row's decisions depend on that row alone."""
        ...

    @property
    def verify_order(self) -> VerifyOrder:
        """Argument order of math-verify to grade the picks with."""
        ...

    def run(self, view: ViewLike) -> Decisions:
        """Decide, for every row of ``view``, how many samples to pay for and which to pick."""
        ...

    @classmethod
    def grid(cls) -> list[dict[str, object]]:
        """Hyperparameter settings to select among, as constructor keyword arguments."""
        ...


@dataclass(frozen=True)
class PrefixDecisions:
    """A policy's decisions at every budget up to its own, from one run.

    Attributes
    ----------
    n_used
        Samples paid for at the policy's own budget ``M``, shape ``[P]``.
    picks
        ``picks[p, j]``: the sample the policy commits to when it has paid for the first
        ``j + 1`` samples, shape ``[P, M]`` (``-1`` for none; always ``<= j``).

    Notes
    -----
    At a budget ``N <= M`` the policy pays for ``n = min(n_used, N)`` samples and commits to
    ``picks[:, n - 1]``, with no extra tokens.
    """

    n_used: npt.NDArray[np.int64]
    picks: npt.NDArray[np.int64]


@runtime_checkable
class PrefixPolicy(Protocol):
    """Optional capability of a [`Policy`][optscale_math.Policy]: every smaller budget at once.

    A policy declares it (by defining ``run_prefixes``) when its decisions at any budget
    ``N`` below its own equal its decisions at its own budget cut to ``N``: a fixed-budget rule
    whose selection after ``N`` samples is its running selection (Best-of-N, majority vote), or
    a stop rule whose stop test never reads the cap (it pays ``min(stop, N)`` and commits to
    its running selection there). It spends no extra tokens. An evaluation harness then runs
    the policy once at the largest budget and reads every budget off the result; a test checks
    the claim against a run at each budget for every policy that makes it.
    """

    def run_prefixes(self, view: ViewLike) -> PrefixDecisions:
        """Decide every row of ``view`` at every budget up to the policy's own."""
        ...
