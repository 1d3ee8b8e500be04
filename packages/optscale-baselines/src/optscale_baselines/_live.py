"""One implementation, two drivers: a stop rule's per-sample core, replayed or run live.

A stop rule is written once as a *core*: state for a number of rows, fed sample ``k`` of some
of them at a time (``StepCore``). The replay driver (``replay_core``) feeds a whole
view column by column, vectorised over the rows still running; the live driver
([`SteppedRule`][optscale_baselines.SteppedRule]) feeds one row as samples arrive. Both call
the same ``step``, so they agree sample for sample, and neither can read a sample before it is
paid for.

Inputs are normalised the same way on both paths: a score that is not finite (and, in replay,
the score of an empty completion) becomes NaN, meaning "no usable score"; answers become
*labels*, the index of the first sample of the row with the same answer (``NOT_VOTING`` for
``NO_ANSWER``).
"""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

import numpy as np

from optscale_baselines._protocol import (
    NO_ANSWER,
    BoolArray,
    Decisions,
    FloatArray,
    IntArray,
    PrefixDecisions,
    ViewLike,
    view_width,
)
from optscale_baselines._votes import NOT_VOTING, first_seen_labels


@runtime_checkable
class LiveRule(Protocol):
    """A stop rule for one problem, fed one sample at a time.

    The caller draws a sample, calls ``observe`` with its score and answer id, and draws the
    next one only while ``stop`` is False. An empty completion, or one the verifier could not
    score, is observed with score NaN.
    """

    def observe(self, score: float, answer_id: int) -> None:
        """Record the next sample: its score and its answer id.

        ``answer_id`` is ``NO_ANSWER`` (-1) or a caller-assigned
        id, equal for equivalent answers (0, 1, 2... in first-seen order, for instance).
        """
        ...

    @property
    def stop(self) -> bool:
        """True when no more samples should be drawn."""
        ...

    @property
    def n_seen(self) -> int:
        """Samples observed so far."""
        ...

    @property
    def planned_n(self) -> int | None:
        """The rule's current planned total of samples, if it has one."""
        ...

    def choice(self) -> int:
        """Index (in observation order) of the sample selected so far; -1 for none."""
        ...


class StepCore(Protocol):
    """A stop rule's state for a number of rows, advanced one sample index at a time."""

    def step(self, rows: IntArray, k: int, scores: FloatArray, labels: IntArray) -> BoolArray:
        """Feed sample ``k`` of each row in ``rows``; return which of them stop after it.

        ``scores`` are NaN where unusable; ``labels`` are first-seen labels (``NOT_VOTING``
        for no answer). Rows in ``rows`` have been fed samples ``0..k-1`` and have not stopped.
        """
        ...

    def picks(self) -> IntArray:
        """Return the selected sample per row (``-1`` for none), among the samples fed so far."""
        ...


class CoreFactory(Protocol):
    """What a replay policy built on a core provides: its cap and a fresh core."""

    @property
    def max_n(self) -> int:
        """Most samples per problem."""
        ...

    def core(self, prior_mu: FloatArray, prior_sigma: FloatArray) -> StepCore:
        """Return a fresh core with one row per entry of the priors (NaN where absent)."""
        ...


def usable_scores(scores: FloatArray, empty: BoolArray) -> FloatArray:
    """Scores with NaN where the sample is empty or its score is not finite."""
    out: FloatArray = np.where(~empty & np.isfinite(scores), scores, np.nan)
    return out


def replay_inputs(view: ViewLike, max_n: int) -> tuple[FloatArray, IntArray]:
    """Check ``view`` and return its first ``max_n`` usable scores and first-seen labels.

    The inputs a core is fed in replay: NaN for unusable scores, ``NOT_VOTING`` for samples
    without an answer.
    """
    view_width(view, max_n, "max_n")
    scores = usable_scores(
        np.asarray(view.scores, dtype=np.float64)[:, :max_n],
        np.asarray(view.empty, dtype=bool)[:, :max_n],
    )
    labels = first_seen_labels(np.asarray(view.answer_ids)[:, :max_n], "fair")
    return scores, labels


def replay_core(factory: CoreFactory, view: ViewLike) -> Decisions:
    """Run a core over every row of ``view``, column by column, stopping rows as they decide.

    Row ``p`` pays for samples ``0..n_used[p]-1``: the first index at which the core said stop,
    plus one, or ``max_n``. The loop runs over sample indices only; each step is vectorised
    over the rows still running.
    """
    n_used, core, _ = _drive(factory, view, record=False)
    return Decisions(n_used=n_used, pick=core.picks())


def replay_core_prefixes(factory: CoreFactory, view: ViewLike) -> PrefixDecisions:
    """`replay_core` with the core's selection recorded after every sample.

    Valid as a [`PrefixPolicy`][optscale_math.PrefixPolicy] only for a core whose stop test
    does not read ``max_n``: under a smaller cap ``N`` it would stop at ``min(stop, N)``.
    """
    n_used, _, picks = _drive(factory, view, record=True)
    return PrefixDecisions(n_used=n_used, picks=picks)


def _drive(
    factory: CoreFactory, view: ViewLike, *, record: bool
) -> tuple[IntArray, StepCore, IntArray]:
    """Feed the view to a fresh core; return ``n_used``, the core and (if ``record``) picks."""
    max_n = factory.max_n
    scores, labels = replay_inputs(view, max_n)
    rows = scores.shape[0]
    core = factory.core(
        np.asarray(view.prior_mu, dtype=np.float64), np.asarray(view.prior_sigma, dtype=np.float64)
    )
    n_used = np.full(rows, max_n, dtype=np.int64)
    picks = np.empty((rows, max_n if record else 0), dtype=np.int64)
    active = np.arange(rows)
    for k in range(max_n):
        if active.size:
            stop = core.step(active, k, scores[active, k], labels[active, k])
            n_used[active[stop]] = k + 1
            active = active[~stop]
        elif not record:
            break
        if record:
            picks[:, k] = core.picks()
    return n_used, core, picks


class SteppedRule:
    """The live form of a core-based policy: one problem, fed one sample at a time.

    Parameters
    ----------
    factory
        The policy (any object with ``max_n`` and ``core``), e.g.
        [`BestScoreThreshold`][optscale_baselines.BestScoreThreshold].
    prior_mu, prior_sigma
        The problem's prior of the score law (used by rules fitted with a prior); None if absent.
    planned_n
        What ``planned_n`` reports (a fixed-budget rule knows its total; others None).

    Notes
    -----
    ``observe`` turns the answer id into the same first-seen label the replay computes for the
    whole row and calls the core's ``step`` on a single row, so the decisions equal the replay's
    on any sequence of samples. Observing after ``stop`` raises ``RuntimeError``.
    """

    def __init__(
        self,
        factory: CoreFactory,
        prior_mu: float | None = None,
        prior_sigma: float | None = None,
        planned_n: int | None = None,
    ) -> None:
        self._max_n = factory.max_n
        mu = np.nan if prior_mu is None else float(prior_mu)
        sigma = np.nan if prior_sigma is None else float(prior_sigma)
        self._core = factory.core(np.array([mu]), np.array([sigma]))
        self._first_seen: dict[int, int] = {}
        self._n = 0
        self._stopped = False
        self._planned = planned_n
        self._row = np.zeros(1, dtype=np.int64)

    def observe(self, score: float, answer_id: int) -> None:
        """Feed the next sample (score NaN for an empty or unscored completion)."""
        if self.stop:
            raise RuntimeError(f"the rule has stopped after {self._n} samples")
        value = float(score)
        label = NOT_VOTING
        if int(answer_id) != NO_ANSWER:
            label = self._first_seen.setdefault(int(answer_id), self._n)
        stop = self._core.step(
            self._row,
            self._n,
            np.array([value if math.isfinite(value) else np.nan]),
            np.array([label], dtype=np.int64),
        )
        self._n += 1
        self._stopped = bool(stop[0]) or self._n >= self._max_n

    @property
    def stop(self) -> bool:
        """True once the rule has decided, or ``max_n`` samples were observed."""
        return self._stopped

    @property
    def n_seen(self) -> int:
        """Samples observed so far."""
        return self._n

    @property
    def planned_n(self) -> int | None:
        """The fixed total for fixed-budget rules; None for rules that decide as they go."""
        return self._planned

    def choice(self) -> int:
        """Index of the selected sample so far, -1 for none."""
        return int(self._core.picks()[0])
