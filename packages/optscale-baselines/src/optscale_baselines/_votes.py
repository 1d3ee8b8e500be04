"""Vectorised vote counting shared by the self-consistency family.

Every sample gets a *label*: the index of the first sample in its row that carries the same
answer id. Counting labels over a prefix gives the vote counts; the smallest label among the
most-voted is the answer seen first, and the label itself is the sample to pick.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import betainc

from optscale_baselines._protocol import (
    NO_ANSWER,
    BoolArray,
    FloatArray,
    IntArray,
    Mode,
    ViewLike,
    view_width,
)

CountArray = npt.NDArray[np.int32]

NOT_VOTING = -1
"""Label of a sample that casts no vote (a missing answer in fair mode)."""


def prefix_labels(view: ViewLike, n: int, mode: Mode, name: str = "n") -> IntArray:
    """`first_seen_labels` of the first ``n`` answers of every row of ``view``.

    Raises
    ------
    ValueError
        If the view is malformed or has fewer than ``n`` samples (the error names ``name``).
    """
    view_width(view, n, name)
    return first_seen_labels(np.asarray(view.answer_ids)[:, :n], mode)


def first_seen_labels(answer_ids: IntArray, mode: Mode) -> IntArray:
    """Label each sample with the index of the first sample in its row with the same answer.

    Parameters
    ----------
    answer_ids
        Answer ids ``[P, K]``; ``-1`` for no answer.
    mode
        ``"paper"``: no answer is a candidate like any other (upstream compares raw strings
        and ``None`` equals ``None``). ``"fair"``: samples without an answer get
        `NOT_VOTING`.

    Returns
    -------
    numpy.ndarray
        Labels ``[P, K]`` in ``0..K-1``, or ``NOT_VOTING``.
    """
    ids = np.asarray(answer_ids)
    k = ids.shape[1]
    if ids.size and ids.min() >= NO_ANSWER and ids.max() < k:
        labels = _first_positions(ids)
    else:
        labels = _sorted_labels(ids)
    if mode == "fair":
        labels[ids == NO_ANSWER] = NOT_VOTING
    return labels


def _first_positions(ids: IntArray) -> IntArray:
    """`first_seen_labels` (paper rule) for ids in ``-1..K-1``: one pass from the last sample."""
    problems, k = ids.shape
    slots = np.where(ids == NO_ANSWER, k, ids)  # "no answer" gets a slot of its own
    slots += (k + 1) * np.arange(problems)[:, np.newaxis]
    by_position = np.ascontiguousarray(slots.T)
    first = np.empty(problems * (k + 1), dtype=np.int64)
    for j in range(k - 1, -1, -1):
        first[by_position[j]] = j
    labels: IntArray = first[slots]
    return labels


def _sorted_labels(ids: IntArray) -> IntArray:
    """`first_seen_labels` (paper rule) for any ids: sort each row, label runs of equal ids."""
    problems, k = ids.shape
    order = np.argsort(ids, axis=1, kind="stable")
    ranked = np.take_along_axis(ids, order, axis=1)
    starts = np.ones((problems, k), dtype=bool)
    starts[:, 1:] = ranked[:, 1:] != ranked[:, :-1]
    run_start = np.maximum.accumulate(np.where(starts, np.arange(k), 0), axis=1)
    labels = np.empty((problems, k), dtype=np.int64)
    np.put_along_axis(labels, order, np.take_along_axis(order, run_start, axis=1), axis=1)
    return labels


def vote_counts(labels: IntArray, weights: FloatArray | None = None) -> FloatArray:
    """``[P, K]`` votes (or summed ``weights``) per label; non-voting samples are skipped."""
    problems, k = labels.shape
    flat = labels + k * np.arange(problems)[:, None]
    voting = labels != NOT_VOTING
    w = None if weights is None else weights[voting]
    counts = np.bincount(flat[voting], weights=w, minlength=problems * k)
    return np.asarray(counts, dtype=np.float64).reshape(problems, k)


def one_hot(labels: IntArray) -> BoolArray:
    """``[P, K, K]`` indicator of ``labels[p, j] == c``; non-voting samples are all-false."""
    k = labels.shape[1]
    return np.asarray(labels[:, :, None] == np.arange(k), dtype=np.bool_)


def majority_pick(counts: FloatArray | CountArray) -> IntArray:
    """Winner per row of vote ``counts[P, K]`` indexed by label; first-seen wins ties.

    Returns the label of the winner (the first sample carrying it), or ``-1`` where no label
    has a positive count (no sample voted).
    """
    votes = np.asarray(counts, dtype=np.float64)
    winner = np.asarray(np.argmax(votes, axis=1), dtype=np.int64)
    has_vote = np.take_along_axis(votes, winner[:, None], axis=1)[:, 0] > 0
    return np.where(has_vote, winner, -1)


def prefix_majority(labels: IntArray, n_used: int | IntArray) -> IntArray:
    """Majority (first-seen tie-break) over the first ``n_used`` samples of every row.

    ``n_used`` is one length for all rows or one per row.
    """
    used = np.arange(labels.shape[1]) < np.reshape(n_used, (-1, 1))
    return majority_pick(vote_counts(np.where(used, labels, NOT_VOTING)))


def cumulative_counts(labels: IntArray) -> CountArray:
    """``[P, K, K]``: votes for label ``c`` among the first ``i + 1`` samples, at ``[p, i, c]``."""
    return np.cumsum(one_hot(labels), axis=1, dtype=np.int32)


def beta_stop_table(threshold: float, size: int) -> BoolArray:
    r"""``table[a, b]``: whether ``P(X > 1/2) >= threshold`` for ``X ~ Beta(a + 1, b + 1)``.

    Notes
    -----
    The tail is the regularized incomplete beta function (closed form, no integration):

    $$P(X > 1/2) = I_{1/2}(b + 1, a + 1).$$

    For integer counts it equals $P(\mathrm{Bin}(a + b + 1, 1/2) \ge b + 1)$, a dyadic
    rational, so it never equals a threshold such as 0.95 and upstream's numerical
    integration (``scipy.integrate.quad``) takes the same decisions.
    """
    a = np.arange(size + 1, dtype=np.float64)[:, None]
    b = np.arange(size + 1, dtype=np.float64)[None, :]
    return np.asarray(betainc(b + 1.0, a + 1.0, 0.5) >= threshold)


def top_two(counts: CountArray) -> tuple[CountArray, CountArray]:
    """Largest and second-largest count along the last axis (0 where fewer than two)."""
    k = counts.shape[-1]
    if k == 1:
        return counts[..., 0], np.zeros_like(counts[..., 0])
    part = np.partition(counts, k - 2, axis=-1)
    return part[..., k - 1], part[..., k - 2]


def beta_stops(cum: CountArray, threshold: float, max_n: int) -> tuple[IntArray, BoolArray]:
    """ASC's stopping rule on prefixes of length ``2..max_n``.

    Parameters
    ----------
    cum
        Cumulative counts from `cumulative_counts`.
    threshold
        Stop at the first prefix whose Beta tail reaches it (see `beta_stop_table`).
    max_n
        Longest prefix considered.

    Returns
    -------
    tuple of numpy.ndarray
        Prefix length used per row (the first stopping length, else ``max_n``) and whether
        the rule fired.
    """
    a, b = top_two(cum[:, :max_n])
    table = beta_stop_table(threshold, max_n)
    stop = np.asarray(table[a, b], dtype=np.bool_)
    stop[:, :1] = False
    fired = np.asarray(stop.any(axis=1), dtype=np.bool_)
    n_used = np.where(fired, stop.argmax(axis=1) + 1, max_n).astype(np.int64)
    return n_used, fired
