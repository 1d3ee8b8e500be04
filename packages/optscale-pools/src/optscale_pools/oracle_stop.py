r"""Oracle stop: a selector that stops at the first sample where its running choice is correct.

A selector (Best-of-N by score, or the majority vote) defines, for every prefix of a row, the
sample it would commit to. The oracle stop knows correctness: it draws samples one at a time and
stops as soon as that running choice is correct, or at the budget ``N``. It bounds what any
stopping rule built on the same selector can reach at each budget, and with how few tokens,
which is why every evaluation reports it beside the methods.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from optscale_math import NO_ANSWER, running_best_pick, running_vote_pick

Selector = Literal["score", "vote"]
"""``"score"``: the best-scored usable sample so far; ``"vote"``: the running majority."""


def running_best(
    scores: npt.NDArray[np.float64], empty: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int64]:
    """Best-of-n pick for every prefix: ``out[p, j]`` is the choice among samples ``0..j``.

    The first sample with the highest score among non-empty, scored samples (the fair Best-of-N
    rule); ``-1`` while no usable sample has been seen.
    """
    return running_best_pick(scores, empty)


def running_majority(answer_ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Majority-vote pick for every prefix: ``out[p, j]`` is the choice among samples ``0..j``.

    Samples without an answer do not vote; ties go to the answer seen first; the pick is the
    first sample carrying the winning answer, ``-1`` while nobody has voted. One pass over the
    columns, so memory stays ``O(P K)``.
    """
    ids = np.asarray(answer_ids, dtype=np.int64)
    k = ids.shape[1]
    # Answer ids are per-row labels; map each to the first sample carrying it (its "label").
    order = np.argsort(ids, axis=1, kind="stable")
    sorted_ids = np.take_along_axis(ids, order, axis=1)
    starts = np.ones_like(sorted_ids, dtype=bool)
    starts[:, 1:] = sorted_ids[:, 1:] != sorted_ids[:, :-1]
    first_of_group = np.maximum.accumulate(np.where(starts, np.arange(k), 0), axis=1)
    label_sorted = np.take_along_axis(order, first_of_group, axis=1)
    labels = np.empty_like(ids)
    np.put_along_axis(labels, order, label_sorted, axis=1)
    labels[ids == NO_ANSWER] = -1
    return running_vote_pick(labels)


def first_correct_prefix(
    picks: npt.NDArray[np.int64], correct: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int64]:
    """Per row, the first prefix index ``j`` whose running pick is correct (``K`` if none)."""
    k = picks.shape[1]
    hit = (picks >= 0) & np.take_along_axis(correct, np.maximum(picks, 0), axis=1)
    first: npt.NDArray[np.int64] = np.where(hit.any(axis=1), hit.argmax(axis=1), k).astype(np.int64)
    return first


def hindsight_stop(picks: npt.NDArray[np.int64], n: int) -> npt.NDArray[np.int64]:
    """Return the samples the hindsight stop pays at budget ``n``: up to Best-of-``n``'s pick.

    The hindsight stop knows every score of the first ``n`` samples but no correctness: it stops
    at the first prefix whose running best-scored pick is already the pick of all ``n``, which
    is that sample itself (``picks[:, n - 1] + 1`` samples; 1 when no sample is usable). It
    answers exactly as Best-of-``n`` does, with the fewest samples any rule that commits to the
    best-scored sample it has seen can pay and still give Best-of-``n``'s answer on every row.
    """
    used: npt.NDArray[np.int64] = np.maximum(picks[:, n - 1], 0).astype(np.int64) + 1
    return used
