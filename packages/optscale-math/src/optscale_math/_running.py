"""Running selections: what Best-of-n and the majority vote pick after every prefix of a row.

A [`PrefixPolicy`][optscale_math.PrefixPolicy] commits, after ``j + 1`` samples, to its running
selection; these two are shared by the policies that declare the capability and by the oracle
stops of an evaluation, so both read the very same picks.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


def running_best_pick(scores: npt.NDArray[np.float64], empty: npt.NDArray[np.bool_]) -> IntArray:
    """``[P, K]``: the first best-scored usable sample among samples ``0..j``, at ``[p, j]``.

    Usable: non-empty with a finite score; ``-1`` while none has been seen.
    """
    usable = ~empty & np.isfinite(scores)
    masked = np.where(usable, scores, -np.inf)
    before = np.maximum.accumulate(masked, axis=1)
    before = np.concatenate([np.full((masked.shape[0], 1), -np.inf), before[:, :-1]], axis=1)
    improves = usable & (masked > before)  # strictly better: the first argmax stays on ties
    columns = np.arange(masked.shape[1])
    best: IntArray = np.maximum.accumulate(np.where(improves, columns, -1), axis=1).astype(np.int64)
    return best


def running_vote_pick(labels: IntArray) -> IntArray:
    """``[P, K]``: the majority among samples ``0..j`` by first-seen label, at ``[p, j]``.

    ``labels[p, j]`` is the index of the first sample of row ``p`` with the same answer, or
    ``-1`` for a sample that does not vote. Ties go to the answer seen first; the pick is the
    label of the winner (its first sample), ``-1`` while nobody has voted. One pass over the
    samples: a new vote for ``c`` can only make ``c`` the winner, so nothing is recounted.
    """
    problems, k = labels.shape
    counts = np.zeros((problems, k), dtype=np.int64)
    winner = np.full(problems, -1, dtype=np.int64)
    top = np.zeros(problems, dtype=np.int64)
    picks = np.empty((problems, k), dtype=np.int64)
    rows = np.arange(problems)
    for j in range(k):
        label = labels[:, j]
        voting = rows[label >= 0]
        cast = label[voting]
        counts[voting, cast] += 1
        votes = counts[voting, cast]
        wins = (votes > top[voting]) | ((votes == top[voting]) & (cast < winner[voting]))
        winner[voting[wins]] = cast[wins]
        top[voting[wins]] = votes[wins]
        picks[:, j] = winner
    return picks
