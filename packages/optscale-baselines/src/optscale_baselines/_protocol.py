"""The baselines' side of the policy contract, and the checks their constructors share.

The contract itself (``NO_ANSWER``, ``ViewLike``, ``Decisions``, ``VerifyOrder``, ``Policy``) is
defined once in optscale-math and re-exported here, so code importing it from this module keeps
working. This package imports nothing from optscale-pools.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt
from optscale_math import NO_ANSWER, Decisions, Policy, PrefixDecisions, VerifyOrder, ViewLike

__all__ = [
    "NO_ANSWER",
    "BoolArray",
    "DSCDecisions",
    "Decisions",
    "FixedBudgetPolicy",
    "FloatArray",
    "IntArray",
    "Mode",
    "Policy",
    "PrefixDecisions",
    "RowPolicy",
    "VerifyOrder",
    "ViewLike",
    "check_budget",
    "check_mode",
    "view_width",
]

Mode = Literal["paper", "fair"]
"""``"paper"`` reproduces upstream exactly; ``"fair"`` fixes what upstream gets wrong."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class DSCDecisions(Decisions):
    """[`Decisions`][optscale_math.Decisions] plus what DSC reports about its partition.

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
    """Base of the baselines: the display name, set by each subclass in ``__post_init__``.

    Each concrete policy declares ``rows_independent`` and ``verify_order`` itself (members of
    the [`Policy`][optscale_math.Policy] contract), so none inherits a default it did not choose.
    """

    name: str = field(init=False)


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


def check_level(name: str, value: float) -> float:
    """Return ``value`` if it is a number that is not NaN (infinities allowed: "never")."""
    if isinstance(value, bool) or not isinstance(value, float | int) or math.isnan(value):
        raise ValueError(f"{name} must be a number, got {value!r}")
    return float(value)


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
