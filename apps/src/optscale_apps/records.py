"""Plain records shared by the published numbers, this run's numbers, the tables and the plots."""

from __future__ import annotations

from dataclasses import dataclass, field

METHODS = ("BoN", "SC", "MR-Thinking", "ESC", "ASC", "DSC", "OptScale^0", "OptScale^t")
"""Every method of the paper's table, in the paper's row order (keys used everywhere here)."""

OPTSCALE_VARIANTS = {"OptScale^0": "MLE", "OptScale^t": "MAP"}
"""Upstream's variant label of each OptScale row."""


@dataclass(frozen=True)
class CurvePoint:
    """Accuracy and mean tokens per problem of one method at one budget.

    ``n`` is the sample budget N (``max_sample_size`` for DSC, ``max_n`` for ESC and ASC).
    """

    method: str
    setting: str
    n: int
    accuracy: float
    mean_tokens: float


@dataclass(frozen=True)
class OptScaleCell:
    """One grid cell of one OptScale panel, with the per-problem sample counts it chose."""

    variant: str
    max_n: int
    peek: int
    target: float
    percentile: float
    accuracy: float
    mean_tokens: float
    n_per_problem: tuple[int, ...] = field(default=())


@dataclass(frozen=True)
class Interval:
    """A point estimate with its 95% interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class FairPoint:
    """Fair-mode result of one method at one budget, over random sample orders."""

    method: str
    n: int
    accuracy: Interval
    mean_tokens: Interval
    setting: str
