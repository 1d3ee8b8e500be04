"""Replay tables: a stop rule's statistic for every row after every sample count, cached.

A stop rule of the form "stop after the first ``n`` samples whose statistic passes a
threshold" computes the same statistic for every threshold of its grid, and the statistic of
a row after ``n`` samples does not depend on when that row stopped. The replay therefore
tabulates it once for all rows and sample counts (fed exactly as the live form is fed) and
each setting only thresholds the table. Tables are kept for a few recent views, keyed by
content, because an evaluation replays the same view for every setting of a grid.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from optscale_baselines._protocol import BoolArray, Decisions, IntArray

T = TypeVar("T")


def content_key(parts: tuple[npt.ArrayLike, ...], tag: str) -> bytes:
    """Digest of the arrays' bytes and shapes plus ``tag`` (the settings the table depends on)."""
    digest = hashlib.blake2b(digest_size=20)
    for part in parts:
        array = np.ascontiguousarray(part)
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(array.tobytes())
    digest.update(tag.encode())
    return digest.digest()


class TableCache(Generic[T]):
    """The ``size`` most recently used tables, by content key."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._tables: OrderedDict[bytes, T] = OrderedDict()

    def get(self, key: bytes, make: Callable[[], T]) -> T:
        """Return the table under ``key``, building it with ``make`` if it is not kept."""
        if key in self._tables:
            self._tables.move_to_end(key)
            return self._tables[key]
        table = make()
        self._tables[key] = table
        while len(self._tables) > self.size:
            self._tables.popitem(last=False)
        return table


def first_stops(stop: BoolArray, picks: IntArray) -> Decisions:
    """Decisions of a row-wise rule from its tables ``[P, max_n]``.

    ``stop[p, k]``: row ``p`` stops after ``k + 1`` samples if it gets there; ``picks[p, k]``:
    its selection then. A row uses the first such ``k`` plus one samples, or ``max_n``.
    """
    max_n = stop.shape[1]
    n_used = np.where(stop.any(axis=1), stop.argmax(axis=1) + 1, max_n).astype(np.int64)
    pick = np.take_along_axis(picks, (n_used - 1)[:, None], axis=1)[:, 0]
    return Decisions(n_used=n_used, pick=pick.astype(np.int64))
