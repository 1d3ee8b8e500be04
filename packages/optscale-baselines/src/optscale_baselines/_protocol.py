"""What a baseline policy sees (structurally) and what it returns.

This package imports nothing from optscale-pools: :class:`ViewLike` names the attributes of
``optscale_pools.protocol.PoolView`` that the baselines read, and :class:`Decisions` has the
attributes that the replay harness reads (``n_used``, ``pick``, ``extra_tokens``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

import numpy as np
import numpy.typing as npt

Mode = Literal["paper", "fair"]
"""``"paper"`` reproduces upstream exactly; ``"fair"`` fixes what makes upstream's test unfair."""

VerifyOrder = Literal["gold_pred", "pred_gold"]
"""Argument order of math-verify's ``verify`` that the grader should use for a policy."""

NO_ANSWER = -1
"""Answer id of a sample without an extractable answer."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class ViewLike(Protocol):
    """The attributes of a pool view that the baselines read (arrays of shape ``[P, K]``).

    ``optscale_pools.PoolView`` satisfies it; so does any object with these attributes.
    """

    @property
    def scores(self) -> FloatArray:
        """Mean PRM step reward per sample."""
        ...

    @property
    def last_scores(self) -> FloatArray:
        """Last-step PRM reward per sample."""
        ...

    @property
    def answer_ids(self) -> IntArray:
        """Answer id per sample, comparable within a row; ``-1`` for no answer."""
        ...

    @property
    def tokens(self) -> IntArray:
        """Completion tokens per sample."""
        ...

    @property
    def empty(self) -> BoolArray:
        """True where the completion text is the empty string."""
        ...

    @property
    def prior_mu(self) -> FloatArray:
        """Per-problem prior mean of the score law, shape ``[P]``; NaN when absent."""
        ...

    @property
    def prior_sigma(self) -> FloatArray:
        """Per-problem prior spread of the score law, shape ``[P]``; NaN when absent."""
        ...


@dataclass(frozen=True)
class Decisions:
    """What a policy commits to, per problem.

    Attributes
    ----------
    n_used
        Samples paid for per problem (the first ``n_used`` in view order), shape ``[P]``.
    pick
        Index of the sample whose answer is committed to, ``< n_used``; ``-1`` when nothing is
        committed (counted wrong). Voting methods return the first sample carrying the winner.
    extra_tokens
        Tokens spent outside the samples, in total over the batch (DSC's ranking overhead).
    """

    n_used: IntArray
    pick: IntArray
    extra_tokens: float = 0.0


@dataclass(frozen=True)
class DSCDecisions(Decisions):
    """:class:`Decisions` plus what DSC reports about its partition.

    Attributes
    ----------
    easy
        True for problems the binary search marked easy, shape ``[P]``.
    stopped
        True for non-easy problems whose Beta stopping rule fired within the cap, shape ``[P]``
        (upstream's ``adaptive_stop_rate`` is its mean).
    easy_midpoints
        Binary-search midpoints judged easy (the count upstream's overhead formula uses).
    """

    easy: BoolArray = field(kw_only=True)
    stopped: BoolArray = field(kw_only=True)
    easy_midpoints: int = field(kw_only=True)


@dataclass(frozen=True)
class RowPolicy:
    """Base of the baselines: a display name, a grading order, and row independence.

    ``rows_independent``: each problem is decided from its own row alone, so replay may stack
    many sample orders into one call (DSC overrides it). Subclasses set ``name`` in
    ``__post_init__``; ``verify_order`` is how upstream grades the method.
    """

    name: str = field(init=False)
    verify_order: VerifyOrder = field(init=False, default="gold_pred")
    rows_independent: ClassVar[bool] = True


@dataclass(frozen=True)
class FixedBudgetPolicy(RowPolicy):
    """Base of the policies that pay for exactly ``n`` samples and have no other setting."""

    n: int
    mode: Mode = "paper"
    tag: ClassVar[str] = "fixed"
    """Prefix of the display name ``<tag>@<n>``."""

    def __post_init__(self) -> None:
        check_budget("n", self.n)
        check_mode(self.mode)
        object.__setattr__(self, "name", f"{self.tag}@{self.n}")

    @classmethod
    def grid(cls) -> list[dict[str, Any]]:
        """Hyperparameter settings for cross-fitting: none besides the budget."""
        return [{}]


def check_mode(mode: str) -> Mode:
    """Return ``mode`` if it is ``"paper"`` or ``"fair"``, else raise ``ValueError``."""
    if mode == "paper":
        return "paper"
    if mode == "fair":
        return "fair"
    raise ValueError(f"mode must be 'paper' or 'fair', got {mode!r}")


def check_budget(name: str, value: int) -> int:
    """Return ``value`` if it is a positive int, else raise ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def view_width(view: ViewLike, n: int, name: str = "n") -> int:
    """Check the view's per-sample arrays and that ``n`` samples exist; return ``K``.

    Raises
    ------
    ValueError
        If an array is not 2-D, the arrays' shapes differ, or ``n`` exceeds ``K``.
    """
    shape = np.shape(view.answer_ids)
    if len(shape) != 2:
        raise ValueError(f"view.answer_ids must have shape [P, K], got {shape}")
    for field_name in ("scores", "last_scores", "tokens", "empty"):
        other = np.shape(getattr(view, field_name))
        if other != shape:
            raise ValueError(f"view.{field_name} has shape {other}, view.answer_ids has {shape}")
    if n > shape[1]:
        raise ValueError(f"{name}={n} exceeds the view's {shape[1]} samples per problem")
    return int(shape[1])
