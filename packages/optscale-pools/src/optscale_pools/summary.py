"""The summary headline of an evaluation: what each method costs, and buys, against Best-of-N.

For every method (oracle rows included), against the reference (Best-of-N at the largest
budget ``K``, or majority voting on a pool without scores):

- the fewest mean tokens at which the method's curve reaches the reference's accuracy, and the
  majority vote's accuracy at ``K``, each as a ratio to the reference's mean tokens at ``K``;
- at every budget ``N``, the method's best accuracy among its budgets whose mean tokens do not
  exceed the reference's at ``N``.

The intervals are 95% bootstrap intervals computed replicate by replicate: replicate ``b`` of the
ratio uses replicate ``b`` of every curve involved, and in each of these the evaluation redid the
choice of setting on the same resampled problems (see [`Selected`][optscale_pools.Selected]). So
the intervals include the uncertainty of the choice of setting, of the reference's accuracy and
tokens, and of which budget first reaches the target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optscale_pools.bootstrap import CONFIDENCE, percentile_interval
from optscale_pools.evaluation import Evaluation
from optscale_pools.selection import Selected

FloatArray = npt.NDArray[np.float64]

_TOLERANCE = 1e-9
"""Relative slack of "reaches" and "does not exceed": equal means computed by different sums."""


@dataclass(frozen=True)
class Estimate:
    """A point estimate and its 95% bootstrap interval ``[low, high]``.

    A ratio is ``inf`` where the target is not reached (a bound is ``inf`` when more than 2.5%
    of the replicates do not reach it); an accuracy is ``nan`` where no budget is affordable.
    """

    point: float
    low: float
    high: float


@dataclass(frozen=True)
class HeadlineRow:
    """One method's headline.

    Attributes
    ----------
    method
        The method's (or oracle's) name.
    match_reference
        Fewest mean tokens reaching the reference's accuracy, over the reference's tokens.
    match_majority
        The same for majority@K's accuracy; ``None`` when no majority curve was evaluated.
    accuracy_at
        Per budget ``N`` of the evaluation (same order), the best accuracy (fraction) among the
        method's budgets whose mean tokens do not exceed the reference's at ``N``.
    """

    method: str
    match_reference: Estimate
    match_majority: Estimate | None
    accuracy_at: tuple[Estimate, ...]


@dataclass(frozen=True)
class Headline:
    """The headline of one evaluation (see [`headline`][optscale_pools.headline]).

    Attributes
    ----------
    reference, majority
        Names of the reference curve (``"BoN"``, or ``"SC"`` without scores) and of the
        majority-vote curve (``None`` when it was not evaluated).
    k
        The largest budget: the reference and the majority vote are taken at ``K``.
    budgets
        The budgets ``N`` of ``accuracy_at`` and ``reference_tokens_at``.
    reference_accuracy, reference_tokens
        The reference's accuracy (fraction) and mean tokens at ``K``.
    majority_accuracy
        The majority vote's accuracy at ``K`` (``None``: not evaluated).
    reference_tokens_at
        The reference's mean tokens at every budget ``N``.
    rows
        One row per method, in the evaluation's order, oracle rows last.
    """

    reference: str
    majority: str | None
    k: int
    budgets: tuple[int, ...]
    reference_accuracy: Estimate
    reference_tokens: Estimate
    majority_accuracy: Estimate | None
    reference_tokens_at: tuple[Estimate, ...]
    rows: tuple[HeadlineRow, ...]


@dataclass(frozen=True)
class _Curve:
    """A method's accuracy and tokens per budget ``[2, N]``, and their replicates ``[2, N, B]``."""

    point: FloatArray
    replicates: FloatArray


def headline(
    evaluation: Evaluation, *, reference: str | None = None, majority: str = "SC"
) -> Headline | None:
    """Compute the headline of ``evaluation`` (see the module docstring).

    Parameters
    ----------
    evaluation
        The result of [`evaluate`][optscale_pools.evaluate]; every point carries its bootstrap
        replicates, drawn once for the whole evaluation.
    reference
        Name of the reference curve; default ``"BoN"`` when evaluated, else ``majority``.
    majority
        Name of the majority-vote curve.

    Returns
    -------
    Headline or None
        ``None`` when the reference curve was not evaluated.

    Raises
    ------
    ValueError
        If the curves do not all cover the evaluation's budgets or do not share one number of
        bootstrap replicates.
    """
    points = _points(evaluation)
    name = reference if reference is not None else ("BoN" if "BoN" in points else majority)
    if name not in points:
        return None
    ref = _curve(points[name])
    base, base_replicates = ref.point[1, -1], ref.replicates[1, -1]
    target = (ref.point[0, -1], ref.replicates[0, -1])
    vote = _curve(points[majority]) if majority in points else None
    vote_target = None if vote is None else (vote.point[0, -1], vote.replicates[0, -1])
    budgets = range(len(evaluation.budgets))
    rows = []
    for method, selected in points.items():  # one curve at a time: [2, N, B] each
        curve = _curve(selected)
        rows.append(
            HeadlineRow(
                method=method,
                match_reference=_ratio(curve, target, base, base_replicates),
                match_majority=None
                if vote_target is None
                else _ratio(curve, vote_target, base, base_replicates),
                accuracy_at=_accuracy_at(curve, ref),
            )
        )
    return Headline(
        reference=name,
        majority=None if vote is None else majority,
        k=max(evaluation.budgets),
        budgets=evaluation.budgets,
        reference_accuracy=_estimate(*target),
        reference_tokens=_estimate(base, base_replicates),
        majority_accuracy=None if vote_target is None else _estimate(*vote_target),
        reference_tokens_at=tuple(
            _estimate(ref.point[1, n], ref.replicates[1, n]) for n in budgets
        ),
        rows=tuple(rows),
    )


def _points(evaluation: Evaluation) -> dict[str, list[Selected]]:
    """Every method's points in budget order, in the evaluation's order of methods."""
    by_method: dict[str, dict[int, Selected]] = {}
    for point in evaluation.curves:
        by_method.setdefault(point.method, {})[point.n] = point.selected
    shapes = {p.selected.replicates.shape for p in evaluation.curves}
    if len(shapes) > 1:
        msg = f"curve points hold replicates of different shapes {sorted(shapes)}"
        raise ValueError(msg)
    for method, by_n in by_method.items():
        if tuple(sorted(by_n)) != evaluation.budgets:
            msg = f"curve {method!r} covers budgets {sorted(by_n)}, not {list(evaluation.budgets)}"
            raise ValueError(msg)
    return {m: [by_n[n] for n in evaluation.budgets] for m, by_n in by_method.items()}


def _curve(points: list[Selected]) -> _Curve:
    """Accuracy and tokens of one method's points, with their replicates."""
    return _Curve(
        point=np.array([[s.accuracy for s in points], [s.mean_tokens for s in points]]),
        replicates=np.stack([s.replicates[:2] for s in points], axis=1),
    )


def _fewest_tokens(
    accuracy: FloatArray, tokens: FloatArray, target: FloatArray | float, base: FloatArray | float
) -> FloatArray:
    """Over the first axis (budgets): fewest tokens reaching target, over base (inf: never)."""
    reached = accuracy >= np.asarray(target) * (1 - _TOLERANCE)
    cost = np.where(reached, tokens, np.inf).min(axis=0)
    ratio: FloatArray = cost / base
    return ratio


def _ratio(
    curve: _Curve, target: tuple[float, FloatArray], base: float, base_replicates: FloatArray
) -> Estimate:
    """Fewest tokens of ``curve`` reaching ``target`` accuracy, as a ratio to ``base`` tokens."""
    point = _fewest_tokens(curve.point[0], curve.point[1], target[0], base)
    replicates = _fewest_tokens(
        curve.replicates[0], curve.replicates[1], target[1], base_replicates
    )
    return _estimate(float(point), replicates)


def _best_affordable(accuracy: FloatArray, tokens: FloatArray, limits: FloatArray) -> FloatArray:
    """Best accuracy with mean tokens within each limit, per column (replicate).

    ``accuracy`` and ``tokens`` are ``[N, B]`` (budgets by replicates), ``limits`` ``[L, B]``;
    returns ``[L, B]``, ``-inf`` where no budget is affordable. Sorting each column by tokens
    once makes every limit a binary search: ``O(N log N + L log N)`` per replicate.
    """
    order = np.argsort(tokens, axis=0, kind="stable")
    cheapest = np.take_along_axis(tokens, order, axis=0)
    best_so_far = np.maximum.accumulate(np.take_along_axis(accuracy, order, axis=0), axis=0)
    padded = np.vstack([np.full((1, tokens.shape[1]), -np.inf), best_so_far])
    best = np.empty(limits.shape)
    for column in range(tokens.shape[1]):
        within = limits[:, column] * (1 + _TOLERANCE)
        best[:, column] = padded[np.searchsorted(cheapest[:, column], within, "right"), column]
    return best


def _accuracy_at(curve: _Curve, reference: _Curve) -> tuple[Estimate, ...]:
    """Per budget, best accuracy of ``curve`` within the reference's tokens (``nan``: none)."""
    point = _best_affordable(curve.point[:1].T, curve.point[1:].T, reference.point[1:].T)[:, 0]
    replicates = _best_affordable(curve.replicates[0], curve.replicates[1], reference.replicates[1])
    estimates = (_estimate(p, r) for p, r in zip(point, replicates, strict=True))
    return tuple(
        Estimate(*(v if np.isfinite(v) else float("nan") for v in (e.point, e.low, e.high)))
        for e in estimates
    )


def _estimate(point: float, replicates: FloatArray) -> Estimate:
    """``point`` with the equal-tailed percentile interval of ``replicates``."""
    low, high = tail_interval(replicates)
    return Estimate(float(point), low, high)


def tail_interval(replicates: FloatArray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Equal-tailed percentile interval of replicates that may hold infinities.

    On finite replicates, the engine's usual equal-tailed percentile interval (linear);
    otherwise linear between order statistics, and a bound next to an infinite replicate is
    that infinity (e.g. ``inf`` when more than 2.5% of the replicates never reach a target).
    """
    if np.isfinite(replicates).all():
        return percentile_interval(replicates, confidence)
    ordered = np.sort(np.asarray(replicates, dtype=np.float64))
    tail = 100.0 * (1.0 - confidence) / 2.0
    bounds = []
    for percent in (tail, 100.0 - tail):
        position = percent / 100.0 * (ordered.size - 1)  # as numpy's linear method
        if abs(position - round(position)) < 1e-9:  # on an order statistic, up to rounding
            position = float(round(position))
        below, above = int(np.floor(position)), int(np.ceil(position))
        low_value, high_value = ordered[below], ordered[above]
        if low_value == high_value or position == below or np.isinf(low_value):
            bounds.append(float(low_value))
        elif np.isinf(high_value):
            bounds.append(float(high_value))
        else:
            bounds.append(float(low_value + (position - below) * (high_value - low_value)))
    return bounds[0], bounds[1]
