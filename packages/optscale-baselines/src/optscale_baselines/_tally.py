"""Running score-weighted vote tallies, per row, updated one sample index at a time."""

from __future__ import annotations

import numpy as np

from optscale_baselines._protocol import BoolArray, FloatArray, IntArray

MAX_WEIGHT = 1e150
"""Largest weight a vote counts with: sums of squared weights stay finite for any sample count
a pool can hold (a finite score like 1e308 would overflow them to infinity, then NaN)."""


class Tally:
    """Per-row, per-label vote weight, vote count and sum of squared weights, and the leader.

    Labels are first-seen labels (the index of the first sample with the answer), so a row has
    at most ``width`` of them. The leader is the label with the largest weight, the smallest
    label (the answer seen first) among equals; only labels that received a vote compete.
    """

    def __init__(self, rows: int, width: int) -> None:
        self.weight = np.zeros((rows, width))
        self.count = np.zeros((rows, width))
        self.square = np.zeros((rows, width))
        self.total = np.zeros(rows)
        self.votes = np.zeros(rows)
        self.leader = np.full(rows, -1, dtype=np.int64)
        self.leader_weight = np.full(rows, -np.inf)

    def add(self, rows: IntArray, labels: IntArray, weights: FloatArray, voting: BoolArray) -> None:
        """Add a vote of ``weights`` for ``labels`` in the rows where ``voting`` holds.

        Weights must be ``>= 0``: then weights only grow, and the leader can only change to
        the label just voted for. Weights above ``MAX_WEIGHT`` count as ``MAX_WEIGHT``.
        """
        r, c, w = rows[voting], labels[voting], np.minimum(weights[voting], MAX_WEIGHT)
        self.weight[r, c] += w
        self.count[r, c] += 1.0
        self.square[r, c] += w * w
        self.total[r] += w
        self.votes[r] += 1.0
        new = self.weight[r, c]
        lead = self.leader[r]
        wins = (new > self.leader_weight[r]) | ((new == self.leader_weight[r]) & (c < lead))
        self.leader[r[wins]] = c[wins]
        self.leader_weight[r[wins]] = new[wins]

    def picks(self) -> IntArray:
        """Return the leader per row (the first sample carrying it), -1 where nobody voted."""
        return self.leader.copy()
