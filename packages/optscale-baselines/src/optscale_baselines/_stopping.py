"""Early-stopping self-consistency (ESC) and adaptive self-consistency (ASC)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from optscale_math import running_vote_pick

from optscale_baselines._protocol import (
    Decisions,
    IntArray,
    Mode,
    PrefixDecisions,
    RowPolicy,
    VerifyOrder,
    ViewLike,
    check_budget,
    check_mode,
)
from optscale_baselines._votes import (
    NOT_VOTING,
    beta_stops,
    cumulative_counts,
    prefix_labels,
    prefix_majority,
)


def window_stop(labels: IntArray, window: int, max_n: int) -> IntArray:
    """ESC's prefix length: the end of the first window whose answers all agree, else ``max_n``.

    Windows are ``[0, w), [w, 2w), ...`` while a whole window fits in ``max_n``; when
    ``max_n < w`` every row uses ``max_n``. Non-voting samples (fair mode) never agree.
    """
    rows = labels.shape[0]
    n_windows = max_n // window
    if n_windows == 0:
        return np.full(rows, max_n, dtype=np.int64)
    blocks = labels[:, : n_windows * window].reshape(rows, n_windows, window)
    agree = (blocks == blocks[:, :, :1]).all(axis=2) & (blocks[:, :, 0] != NOT_VOTING)
    first = agree.argmax(axis=1)
    return np.where(agree.any(axis=1), (first + 1) * window, max_n).astype(np.int64)


@dataclass(frozen=True)
class EarlyStoppingSC(RowPolicy):
    """ESC: sample in windows of ``window``, stop after the first window that agrees.

    The answer is the majority (first-seen tie-break) of the samples used.

    Parameters
    ----------
    window
        Window size ``w`` (upstream default 5; its grid 3, 5, 7, 10).
    max_n
        Cap on samples per problem.
    mode
        ``"paper"``: raw-string answers, a window of identical "no answer"s agrees and "no
        answer" can win the vote. ``"fair"``: answer clusters; samples without an answer
        neither vote nor make a window agree.
    """

    window: int = 5
    max_n: int = 64
    mode: Mode = "paper"
    rows_independent: ClassVar[bool] = True
    """Each problem is decided from its own row alone: replay may stack sample orders."""
    verify_order: ClassVar[VerifyOrder] = "gold_pred"
    """Upstream grades this method ``verify(gold, pred)``."""

    def __post_init__(self) -> None:
        check_budget("window", self.window)
        check_budget("max_n", self.max_n)
        check_mode(self.mode)
        object.__setattr__(self, "name", f"esc-w{self.window}@{self.max_n}")

    @classmethod
    def grid(cls) -> list[dict[str, Any]]:
        """Upstream's window sizes, for cross-fitting."""
        return [{"window": w} for w in (3, 5, 7, 10)]

    def run(self, view: ViewLike) -> Decisions:
        """Stop each row at its first agreeing window and vote over the used prefix."""
        labels = prefix_labels(view, self.max_n, self.mode, "max_n")
        n_used = window_stop(labels, self.window, self.max_n)
        return Decisions(n_used=n_used, pick=prefix_majority(labels, n_used))

    def run_prefixes(self, view: ViewLike) -> PrefixDecisions:
        """Every cap at once: the windows that fit a smaller cap are the same first windows.

        Under a cap ``N`` a row stops at its first agreeing window if that ends by ``N``, else at
        ``N``: that is ``min(stop, N)`` with ``stop`` the row's stop under ``max_n``.
        """
        labels = prefix_labels(view, self.max_n, self.mode, "max_n")
        n_used = window_stop(labels, self.window, self.max_n)
        return PrefixDecisions(n_used=n_used, picks=running_vote_pick(labels))


@dataclass(frozen=True)
class AdaptiveSC(RowPolicy):
    r"""ASC: stop at the first prefix where the leading answer is confidently the majority.

    With ``a`` and ``b`` the counts of the two most common answers among the first ``i >= 2``
    samples, stop when $P(X > 1/2) \ge$ ``threshold`` for
    $X \sim \mathrm{Beta}(a + 1, b + 1)$; answer with the majority of the prefix.

    Parameters
    ----------
    threshold
        Confidence to stop (upstream default 0.95; its grid 0.90, 0.95, 0.99).
    max_n
        Cap on samples per problem.
    mode
        As for [`EarlyStoppingSC`][optscale_baselines.EarlyStoppingSC]: in fair mode samples without
        an answer do not count towards ``a`` or ``b``.

    Notes
    -----
    The tail is computed in closed form, $P(X > 1/2) = I_{1/2}(b + 1, a + 1)$
    (``scipy.special.betainc``), where upstream integrates numerically; the decisions agree.
    """

    threshold: float = 0.95
    max_n: int = 64
    mode: Mode = "paper"
    rows_independent: ClassVar[bool] = True
    """Each problem is decided from its own row alone: replay may stack sample orders."""
    verify_order: ClassVar[VerifyOrder] = "gold_pred"
    """Upstream grades this method ``verify(gold, pred)``."""

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must lie in (0, 1), got {self.threshold!r}")
        check_budget("max_n", self.max_n)
        check_mode(self.mode)
        object.__setattr__(self, "name", f"asc-t{self.threshold:g}@{self.max_n}")

    @classmethod
    def grid(cls) -> list[dict[str, Any]]:
        """Upstream's thresholds, for cross-fitting."""
        return [{"threshold": t} for t in (0.90, 0.95, 0.99)]

    def run(self, view: ViewLike) -> Decisions:
        """Stop each row by the Beta rule and vote over the used prefix."""
        labels = prefix_labels(view, self.max_n, self.mode, "max_n")
        cum = cumulative_counts(labels)
        n_used, _ = beta_stops(cum, self.threshold, self.max_n)
        return Decisions(n_used=n_used, pick=prefix_majority(labels, n_used))
